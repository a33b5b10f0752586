package main

// Privileged end-to-end tests of the netwatch binary with the ebpf backend.
// Every test runs the binary inside a fresh namespace pair of netnstest and
// only ever looks at (and sends traffic over) that pair's veth.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"

	"github.com/netwatch-dev/netwatch/internal/backend/ebpf/attach"
	"github.com/netwatch-dev/netwatch/internal/stats"
	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
	"github.com/netwatch-dev/netwatch/internal/testutil/privileged"
)

// Bounds of every wait on a child; no test may hang.
const (
	lineTimeout = 10 * time.Second // for the next output line
	exitTimeout = 10 * time.Second // for the exit after a signal or --count
)

// nobody is the unprivileged uid and gid of the privilege tests.
const nobody = "65534"

// child is a netwatch process started inside a test namespace. Its stdout
// arrives line by line on lines; stderr can be read once it has exited.
type child struct {
	cmd    *exec.Cmd
	lines  chan []byte // closed at EOF
	stderr bytes.Buffer
	done   chan struct{} // closed when the process has exited
	err    error         // of Wait, valid after done
}

// startIn starts name args inside ns: the child is forked from a thread in
// ns. It is killed when t ends if it is still running.
func startIn(t *testing.T, ns *netnstest.NS, name string, args ...string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(name, args...), lines: make(chan []byte, 1024), done: make(chan struct{})}
	c.cmd.Env = cleanEnv()
	c.cmd.Stderr = &c.stderr
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	c.cmd.Stdout = w
	err = ns.Do(c.cmd.Start)
	w.Close()
	if err != nil {
		r.Close()
		t.Fatalf("start %v in %s: %v", c.cmd.Args, ns.Name, err)
	}
	go func() {
		defer close(c.lines)
		defer r.Close()
		br := bufio.NewReader(r)
		for {
			line, err := br.ReadBytes('\n')
			if len(line) > 0 {
				c.lines <- line
			}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			c.cmd.Process.Kill()
			<-c.done
		}
	})
	return c
}

// startNetwatch starts the netwatch binary inside ns.
func startNetwatch(t *testing.T, ns *netnstest.NS, args ...string) *child {
	t.Helper()
	return startIn(t, ns, binary, args...)
}

// startAsNobody starts the binary inside ns as uid/gid 65534 without
// supplementary groups and with the given ambient capabilities (setpriv
// syntax, e.g. "+bpf,+net_admin"; "" for none).
func startAsNobody(t *testing.T, ns *netnstest.NS, caps string, args ...string) *child {
	t.Helper()
	privileged.NeedTool(t, "setpriv")
	priv := []string{"--reuid=" + nobody, "--regid=" + nobody, "--clear-groups"}
	if caps != "" {
		priv = append(priv, "--inh-caps", caps, "--ambient-caps", caps)
	}
	return startIn(t, ns, "setpriv", append(append(priv, binary), args...)...)
}

// next returns the next stdout line, or false at EOF. It fails t if none
// arrives within lineTimeout.
func (c *child) next(t *testing.T) ([]byte, bool) {
	t.Helper()
	select {
	case l, ok := <-c.lines:
		return l, ok
	case <-time.After(lineTimeout):
		t.Fatalf("%v: no output line for %v; stderr: %s", c.cmd.Args, lineTimeout, c.stderrIfDone())
	}
	return nil, false
}

func (c *child) stderrIfDone() string {
	select {
	case <-c.done:
		return c.stderr.String()
	default:
		return "(still running)"
	}
}

func (c *child) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := c.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
}

// wait waits for the exit and returns the exit status, -1 for a death by
// signal. It kills the child and fails t after exitTimeout.
func (c *child) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(exitTimeout):
		c.cmd.Process.Kill()
		<-c.done
		t.Fatalf("%v did not exit within %v; stderr: %s", c.cmd.Args, exitTimeout, c.stderr.String())
	}
	var exit *exec.ExitError
	if c.err != nil && !errors.As(c.err, &exit) {
		t.Fatalf("%v: %v", c.cmd.Args, c.err)
	}
	return c.cmd.ProcessState.ExitCode()
}

// rest returns the stdout lines still to come, up to EOF.
func (c *child) rest(t *testing.T) [][]byte {
	t.Helper()
	var out [][]byte
	for {
		l, ok := c.next(t)
		if !ok {
			return out
		}
		out = append(out, l)
	}
}

// run waits for a short-lived child and returns all it printed.
func (c *child) run(t *testing.T) result {
	t.Helper()
	out := bytes.Join(c.rest(t), nil)
	code := c.wait(t)
	return result{code, string(out), c.stderr.String()}
}

// ebpfSample is the part of a contract sample the counting tests check.
type ebpfSample struct {
	Backend    string `json:"backend"`
	Attach     string `json:"attach"`
	Interfaces []struct {
		Name      string `json:"name"`
		RxBytes   uint64 `json:"rx_bytes"`
		RxPackets uint64 `json:"rx_packets"`
		TxBytes   uint64 `json:"tx_bytes"`
		TxPackets uint64 `json:"tx_packets"`
	} `json:"interfaces"`
}

// parseEBPF checks line against the contract (backend ebpf, the given
// attach) and returns the counters of ifname.
func parseEBPF(t *testing.T, line []byte, attachMode, ifname string) stats.Counters {
	t.Helper()
	checkSample(t, line, "ebpf")
	var s ebpfSample
	if err := json.Unmarshal(line, &s); err != nil {
		t.Fatalf("invalid JSON %q: %v", line, err)
	}
	if s.Attach != attachMode {
		t.Errorf("attach = %q, want %q: %s", s.Attach, attachMode, line)
	}
	for _, i := range s.Interfaces {
		if i.Name == ifname {
			return stats.Counters{RxBytes: i.RxBytes, RxPackets: i.RxPackets, TxBytes: i.TxBytes, TxPackets: i.TxPackets}
		}
	}
	t.Fatalf("sample lacks interface %s: %s", ifname, line)
	return stats.Counters{}
}

func sub(cur, base stats.Counters) stats.Counters {
	return stats.Counters{
		RxBytes: cur.RxBytes - base.RxBytes, RxPackets: cur.RxPackets - base.RxPackets,
		TxBytes: cur.TxBytes - base.TxBytes, TxPackets: cur.TxPackets - base.TxPackets,
	}
}

// udpCounters is what n datagrams sent and m received of payload bytes
// each add to an interface's counters.
func udpCounters(n, m, payload int) stats.Counters {
	f := uint64(netnstest.UDPFrameLen(payload))
	return stats.Counters{TxBytes: uint64(n) * f, TxPackets: uint64(n), RxBytes: uint64(m) * f, RxPackets: uint64(m)}
}

func covers(got, want stats.Counters) bool {
	return got.RxBytes >= want.RxBytes && got.RxPackets >= want.RxPackets &&
		got.TxBytes >= want.TxBytes && got.TxPackets >= want.TxPackets
}

// oneLineStderr fails t unless stderr is exactly one line.
func oneLineStderr(t *testing.T, stderr string) {
	t.Helper()
	if !strings.HasSuffix(stderr, "\n") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("stderr is not exactly one line: %q", stderr)
	}
}

// TestEBPFWatchCountsTraffic streams NDJSON from the ebpf backend on side A
// of a pair, sends n datagrams A->B and m B->A, and checks that the stream
// counts them exactly, in every attach mode, and ends cleanly on SIGINT.
func TestEBPFWatchCountsTraffic(t *testing.T) {
	const n, m, payload = 40, 25, 1000
	tests := []struct {
		name, attach, xdpMode string
	}{
		{"tcx", "tcx", ""},
		{"tc", "tc", ""},
		{"xdp generic", "xdp", "generic"},
		{"xdp driver", "xdp", "driver"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := netnstest.NewPair(t)
			args := []string{"watch", "--backend", "ebpf", "--attach", tt.attach, "-i", p.IfA,
				"-f", "ndjson", "-n", "100ms", "--resolution", "1ms"}
			if tt.xdpMode != "" {
				args = append(args, "--xdp-mode", tt.xdpMode)
			}
			c := startNetwatch(t, p.A, args...)
			first, ok := c.next(t)
			if !ok {
				t.Fatalf("no sample; exit %d: %s", c.wait(t), c.stderr.String())
			}
			lines := [][]byte{first}
			base := parseEBPF(t, first, tt.attach, p.IfA)

			p.SendUDP(t, netnstest.A, n, payload)
			p.SendUDP(t, netnstest.B, m, payload)
			want := udpCounters(n, m, payload)
			for last := first; !covers(sub(parseEBPF(t, last, tt.attach, p.IfA), base), want); {
				if last, ok = c.next(t); !ok {
					t.Fatalf("netwatch ended before counting the traffic; exit %d: %s", c.wait(t), c.stderr.String())
				}
				lines = append(lines, last)
			}

			c.signal(t, syscall.SIGINT)
			lines = append(lines, c.rest(t)...)
			if code := c.wait(t); code != 0 {
				t.Fatalf("exit %d after SIGINT: %s", code, c.stderr.String())
			}
			if c.stderr.Len() != 0 {
				t.Errorf("stderr: %s", c.stderr.String())
			}
			var got stats.Counters
			for _, l := range lines {
				if !bytes.HasSuffix(l, []byte("\n")) {
					t.Errorf("unterminated line %q", l)
				}
				got = sub(parseEBPF(t, l, tt.attach, p.IfA), base)
			}
			if got != want {
				t.Errorf("counted over the run %+v, want %+v (%d datagrams out, %d in, %d-byte frames)",
					got, want, n, m, netnstest.UDPFrameLen(payload))
			}
		})
	}
}

// hookState is what is attached to one interface of a test namespace.
type hookState struct {
	tcx     []string // names of TCX programs, "ingress:name" and "egress:name"
	filters []string // cls_bpf filters on clsact, "ingress:name"
	clsact  bool
	xdpProg uint32 // id of the attached XDP program, 0 if none
}

// hooks reads what is attached to ifname in ns.
func hooks(t *testing.T, ns *netnstest.NS, ifname string) hookState {
	t.Helper()
	h := ns.Netlink()
	l, err := h.LinkByName(ifname)
	if err != nil {
		t.Fatal(err)
	}
	var s hookState
	if x := l.Attrs().Xdp; x != nil && x.Attached {
		s.xdpProg = x.ProgId
	}
	dirs := []struct {
		name   string
		at     ebpf.AttachType
		parent uint32
	}{
		{"ingress", ebpf.AttachTCXIngress, netlink.HANDLE_MIN_INGRESS},
		{"egress", ebpf.AttachTCXEgress, netlink.HANDLE_MIN_EGRESS},
	}
	err = ns.Do(func() error {
		for _, d := range dirs {
			res, err := link.QueryPrograms(link.QueryOptions{Target: l.Attrs().Index, Attach: d.at})
			if err != nil {
				return err
			}
			for _, prog := range res.Programs {
				s.tcx = append(s.tcx, d.name+":"+progName(prog.ID))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("query TCX programs of %s: %v", ifname, err)
	}
	qdiscs, err := h.QdiscList(l)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qdiscs {
		if q.Type() != "clsact" {
			continue
		}
		s.clsact = true
		for _, d := range dirs {
			filters, err := h.FilterList(l, d.parent)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range filters {
				if bf, ok := f.(*netlink.BpfFilter); ok && bf.Handle != 0 {
					s.filters = append(s.filters, d.name+":"+bf.Name)
				} else if !ok {
					s.filters = append(s.filters, d.name+":"+f.Type())
				}
			}
		}
	}
	return s
}

func progName(id ebpf.ProgramID) string {
	p, err := ebpf.NewProgramFromID(id)
	if err != nil {
		return "?"
	}
	defer p.Close()
	info, err := p.Info()
	if err != nil {
		return "?"
	}
	return info.Name
}

// ours returns the entries naming a netwatch program.
func ours(entries []string) []string {
	var out []string
	for _, e := range entries {
		if _, name, _ := strings.Cut(e, ":"); strings.HasPrefix(name, attach.DefaultNamePrefix) {
			out = append(out, e)
		}
	}
	return out
}

// attachedBoth reports whether entries hold a netwatch program at ingress
// and at egress.
func attachedBoth(entries []string) bool {
	var in, eg bool
	for _, e := range ours(entries) {
		in = in || strings.HasPrefix(e, "ingress:")
		eg = eg || strings.HasPrefix(e, "egress:")
	}
	return in && eg
}

// TestEBPFLeavesNothingAttached ends netwatch in every way and checks what
// stays on the device: nothing, except a legacy tc filter and the clsact
// qdisc after SIGKILL, which the next start removes.
func TestEBPFLeavesNothingAttached(t *testing.T) {
	ends := []struct {
		name string
		sig  syscall.Signal // 0: the end of --count
	}{
		{"count", 0},
		{"SIGINT", syscall.SIGINT},
		{"SIGTERM", syscall.SIGTERM},
		{"SIGKILL", syscall.SIGKILL},
	}
	for _, mode := range []string{"tcx", "tc"} {
		for _, end := range ends {
			t.Run(mode+"/"+end.name, func(t *testing.T) {
				p := netnstest.NewPair(t)
				if before := hooks(t, p.A, p.IfA); before.tcx != nil || before.clsact || before.xdpProg != 0 {
					t.Fatalf("fresh veth has hooks: %+v", before)
				}
				args := []string{"watch", "-b", "ebpf", "--attach", mode, "-i", p.IfA, "-f", "ndjson", "-n", "20ms"}
				if end.sig == 0 {
					args = append(args, "-c", "50")
				}
				c := startNetwatch(t, p.A, args...)
				first, ok := c.next(t)
				if !ok {
					t.Fatalf("no sample; exit %d: %s", c.wait(t), c.stderr.String())
				}
				lines := [][]byte{first}

				running := hooks(t, p.A, p.IfA)
				attachedWhileRunning := attachedBoth(running.tcx)
				if mode == "tc" {
					attachedWhileRunning = attachedBoth(running.filters) && running.clsact
				}
				if !attachedWhileRunning {
					t.Fatalf("while running, netwatch is not attached at ingress and egress with %s: %+v", mode, running)
				}

				if end.sig != 0 {
					c.signal(t, end.sig)
				}
				lines = append(lines, c.rest(t)...)
				code := c.wait(t)
				if end.sig == syscall.SIGKILL {
					if code != -1 {
						t.Fatalf("exit %d after SIGKILL, want death by signal", code)
					}
				} else {
					if code != 0 {
						t.Fatalf("exit %d: %s", code, c.stderr.String())
					}
					for _, l := range lines {
						parseEBPF(t, l, mode, p.IfA)
					}
					if end.sig == 0 && len(lines) != 50 {
						t.Errorf("%d samples, want 50 (--count)", len(lines))
					}
				}

				after := hooks(t, p.A, p.IfA)
				if ours(after.tcx) != nil {
					t.Errorf("TCX programs left after %s: %v", end.name, after.tcx)
				}
				if mode == "tcx" && (after.clsact || after.filters != nil) {
					t.Errorf("tc state after a tcx run: %+v", after)
				}
				if mode == "tc" && end.sig == syscall.SIGKILL {
					leftoverCleanedByNextStart(t, p, after)
					return
				}
				if ours(after.filters) != nil || after.clsact {
					t.Errorf("after %s: filters %v, clsact qdisc %v; want neither (netwatch created the qdisc)",
						end.name, after.filters, after.clsact)
				}
			})
		}
	}
}

// leftoverCleanedByNextStart checks that a netwatch killed with SIGKILL left
// its legacy tc filters, and that the next start removes them and leaves
// no filter after its own exit.
func leftoverCleanedByNextStart(t *testing.T, p *netnstest.Pair, after hookState) {
	t.Helper()
	if !attachedBoth(after.filters) || !after.clsact {
		t.Fatalf("after SIGKILL with --attach tc, want netwatch filters left at ingress and egress: %+v", after)
	}
	r := startNetwatch(t, p.A, "snapshot", "-b", "ebpf", "--attach", "tc", "-i", p.IfA, "-w", "50ms", "--json").run(t)
	if r.code != 0 {
		t.Fatalf("next start: exit %d: %s", r.code, r.stderr)
	}
	parseEBPF(t, []byte(r.stdout), "tc", p.IfA)
	final := hooks(t, p.A, p.IfA)
	if final.filters != nil || final.tcx != nil {
		t.Errorf("after the next start ended: filters %v, TCX %v; want none", final.filters, final.tcx)
	}
	// The killed netwatch recorded the qdisc it created (under
	// /run/netwatch/clsact): the next start removed it too.
	if final.clsact {
		t.Error("the clsact qdisc the killed netwatch created is still there after the next start")
	}
}

// foreignXDP loads a pass-everything XDP program that is not netwatch's.
func foreignXDP(t *testing.T) *ebpf.Program {
	t.Helper()
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:         "foreign_xdp",
		Type:         ebpf.XDP,
		License:      "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 2 /* XDP_PASS */), asm.Return()},
	})
	if err != nil {
		t.Fatalf("load foreign XDP program: %v", err)
	}
	t.Cleanup(func() { prog.Close() })
	return prog
}

// TestEBPFBusyXDPHook: with someone else's XDP program on the veth,
// --attach xdp fails with one clear line and leaves that program (and
// nothing of netwatch's) attached.
func TestEBPFBusyXDPHook(t *testing.T) {
	modes := map[string]link.XDPAttachFlags{"driver": link.XDPDriverMode, "generic": link.XDPGenericMode}
	for _, foreign := range []string{"driver", "generic"} {
		for _, mode := range []string{"driver", "generic"} {
			t.Run("foreign "+foreign+"/netwatch "+mode, func(t *testing.T) {
				p := netnstest.NewPair(t)
				prog := foreignXDP(t)
				var l link.Link
				err := p.A.Do(func() (err error) {
					l, err = link.AttachXDP(link.XDPOptions{Program: prog, Interface: p.IndexA, Flags: modes[foreign]})
					return err
				})
				if err != nil {
					t.Fatalf("attach foreign XDP (%s): %v", foreign, err)
				}
				defer l.Close()
				info, err := prog.Info()
				if err != nil {
					t.Fatal(err)
				}
				id, _ := info.ID()

				r := startNetwatch(t, p.A, "snapshot", "--backend", "ebpf", "--attach", "xdp", "--xdp-mode", mode,
					"-i", p.IfA, "-w", "50ms", "--json").run(t)
				if r.code != 1 {
					t.Errorf("exit %d, want 1 (stdout %q, stderr %q)", r.code, r.stdout, r.stderr)
				}
				oneLineStderr(t, r.stderr)
				for _, want := range []string{"netwatch: ", "XDP hook in use", p.IfA, "foreign_xdp"} {
					if !strings.Contains(r.stderr, want) {
						t.Errorf("error %q does not mention %q", r.stderr, want)
					}
				}
				if r.stdout != "" {
					t.Errorf("stdout %q, want nothing", r.stdout)
				}

				after := hooks(t, p.A, p.IfA)
				if after.xdpProg != uint32(id) {
					t.Errorf("XDP program after netwatch: id %d, want the foreign %d", after.xdpProg, id)
				}
				if ours(after.tcx) != nil || ours(after.filters) != nil {
					t.Errorf("netwatch left programs after failing: %+v", after)
				}
				p.SendUDP(t, netnstest.B, 5, 100) // the foreign program still passes traffic
			})
		}
	}
}

// TestUnprivileged runs netwatch as nobody without capabilities: auto
// falls back to netlink (which needs no privilege) with a one-line notice,
// ebpf fails clearly.
func TestUnprivileged(t *testing.T) {
	p := netnstest.NewPair(t) // a namespace of our own: even lo is the test's
	t.Run("auto falls back", func(t *testing.T) {
		r := startAsNobody(t, p.A, "", "snapshot", "--json", "-w", "50ms", "-i", "lo").run(t)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		s := checkSample(t, []byte(r.stdout), "netlink")
		if ifs, _ := s["interfaces"].([]any); len(ifs) != 1 || ifs[0].(map[string]any)["name"] != "lo" {
			t.Errorf("interfaces = %v, want lo only", s["interfaces"])
		}
		oneLineStderr(t, r.stderr)
		if !strings.HasPrefix(r.stderr, "netwatch: notice: ebpf unavailable: ") || !strings.HasSuffix(r.stderr, "; using netlink\n") {
			t.Errorf("notice %q, want \"netwatch: notice: ebpf unavailable: <reason>; using netlink\"", r.stderr)
		}
		if !strings.Contains(r.stderr, "CAP_BPF") {
			t.Errorf("notice %q does not name the missing privilege (CAP_BPF)", r.stderr)
		}
	})
	t.Run("ebpf fails", func(t *testing.T) {
		r := startAsNobody(t, p.A, "", "snapshot", "--backend", "ebpf", "--json", "-w", "50ms", "-i", "lo").run(t)
		if r.code != 1 {
			t.Fatalf("exit %d, want 1 (stdout %q, stderr %q)", r.code, r.stdout, r.stderr)
		}
		if r.stdout != "" {
			t.Errorf("stdout %q, want nothing", r.stdout)
		}
		oneLineStderr(t, r.stderr)
		if !strings.HasPrefix(r.stderr, "netwatch: ebpf backend: ") || !strings.Contains(r.stderr, "CAP_BPF") {
			t.Errorf("error %q: want \"netwatch: ebpf backend: ...\" naming the missing CAP_BPF", r.stderr)
		}
	})
}

// TestCapabilitiesOnly runs the ebpf backend as nobody with only ambient
// capabilities: CAP_BPF and CAP_NET_ADMIN suffice (and count exactly), and
// without either one it fails with an error naming the missing one.
func TestCapabilitiesOnly(t *testing.T) {
	const n, m, payload = 30, 20, 500
	tests := []struct {
		name    string
		caps    string
		missing string // "" when the set suffices
	}{
		{"CAP_BPF and CAP_NET_ADMIN", "+bpf,+net_admin", ""},
		{"without CAP_NET_ADMIN", "+bpf", "CAP_NET_ADMIN"},
		{"without CAP_BPF", "+net_admin", "CAP_BPF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := netnstest.NewPair(t)
			// A stream: its first sample is out once every hook is
			// attached and counting (attached programs count only
			// once the interface is published to them).
			c := startAsNobody(t, p.A, tt.caps, "watch", "--backend", "ebpf", "--attach", "tcx", "-f", "ndjson",
				"-i", p.IfA, "-n", "50ms")
			if tt.missing != "" {
				r := c.run(t)
				if r.code != 1 {
					t.Fatalf("exit %d, want 1 (stdout %q, stderr %q)", r.code, r.stdout, r.stderr)
				}
				oneLineStderr(t, r.stderr)
				if !strings.Contains(r.stderr, tt.missing) {
					t.Errorf("error %q does not name the missing %s", r.stderr, tt.missing)
				}
				if after := hooks(t, p.A, p.IfA); after.tcx != nil || after.filters != nil {
					t.Errorf("left attached: %+v", after)
				}
				return
			}

			col := collect(c)
			col.waitFor(t, c, p.IndexA, lineTimeout, "a first sample", func(streamIface) bool { return true })
			p.SendUDP(t, netnstest.A, n, payload)
			p.SendUDP(t, netnstest.B, m, payload)
			want := udpCounters(n, m, payload)
			col.waitFor(t, c, p.IndexA, lineTimeout, fmt.Sprintf("the traffic %+v", want), func(r streamIface) bool {
				return r.counters() == want
			})
			c.signal(t, syscall.SIGINT)
			if code := c.wait(t); code != 0 {
				t.Fatalf("exit %d: %s", code, c.stderr.String())
			}
			if c.stderr.Len() != 0 {
				t.Errorf("stderr: %s", c.stderr.String())
			}
			if after := hooks(t, p.A, p.IfA); after.tcx != nil {
				t.Errorf("TCX programs left: %v", after.tcx)
			}
		})
	}
}
