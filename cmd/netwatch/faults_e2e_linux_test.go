package main

// Privileged fault tests of the netwatch binary: killed with SIGKILL at any
// point of attaching or detaching many interfaces, the next start leaves
// nothing behind; a reader that goes away early ends every command quietly
// and detached.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/vishvananda/netlink"

	"github.com/netwatch-dev/netwatch/internal/backend/ebpf/attach"
	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
)

// pipedChild is a netwatch whose stdout is a pipe the test reads (or not)
// and closes early.
type pipedChild struct {
	cmd    *exec.Cmd
	out    *os.File // the read end
	stderr bytes.Buffer
	done   chan struct{}
}

func startPiped(t *testing.T, ns *netnstest.NS, args ...string) *pipedChild {
	t.Helper()
	c := &pipedChild{cmd: exec.Command(binary, args...), done: make(chan struct{})}
	c.cmd.Env = cleanEnv()
	c.cmd.Stderr = &c.stderr
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	c.cmd.Stdout = w
	start := c.cmd.Start
	if ns != nil {
		err = ns.Do(start)
	} else {
		err = start()
	}
	w.Close()
	if err != nil {
		r.Close()
		t.Fatalf("start %v: %v", c.cmd.Args, err)
	}
	c.out = r
	go func() {
		c.cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		r.Close()
		select {
		case <-c.done:
		default:
			c.cmd.Process.Kill()
			<-c.done
		}
	})
	return c
}

// waitLine waits for the first line from line, calling poke every
// burstPause meanwhile, for up to lineTimeout.
func waitLine(t *testing.T, c *pipedChild, line <-chan string, poke func()) {
	t.Helper()
	deadline := time.After(lineTimeout)
	for {
		poke()
		select {
		case l := <-line:
			if l == "" {
				t.Fatalf("%v: no output; stderr: %s", c.cmd.Args, c.stderr.String())
			}
			return
		case <-time.After(burstPause):
		case <-deadline:
			t.Fatalf("%v: no output line for %v", c.cmd.Args, lineTimeout)
		}
	}
}

// exit waits (up to 3*exitTimeout) and returns the exit status, -1 for a
// death by signal.
func (c *pipedChild) exit(t *testing.T) int {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(3 * exitTimeout):
		t.Fatalf("%v still runs %v after its reader went away; stderr: %s", c.cmd.Args, 3*exitTimeout, c.stderr.String())
	}
	return c.cmd.ProcessState.ExitCode()
}

// TestClosedPipe closes the reader of every command's stdout early, as
// `netwatch ... | head -1` does: netwatch must exit 0, print nothing on
// stderr and leave nothing attached.
func TestClosedPipe(t *testing.T) {
	p := netnstest.NewPair(t)
	dir := t.TempDir()
	recording := filepath.Join(dir, "rec.ndjson")
	if r := startNetwatch(t, p.A, "record", "-b", "procfs", "-i", p.IfA, "-n", "50ms", "-d", "300ms", "-o", recording).run(t); r.code != 0 {
		t.Fatalf("making a recording: exit %d: %s", r.code, r.stderr)
	}
	ebpfArgs := func(mode string) []string { return []string{"-b", "ebpf", "--attach", mode, "-i", p.IfA} }
	for _, tt := range []struct {
		name string
		args []string
		// stream: read one line before closing; otherwise the reader
		// is closed before netwatch writes anything.
		stream bool
		bursts bool // needs bursts on the veth to write
	}{
		{"watch table, tc", append([]string{"watch", "-n", "100ms"}, ebpfArgs("tc")...), true, false},
		{"watch ndjson, tcx", append([]string{"watch", "-n", "100ms", "-f", "ndjson"}, ebpfArgs("tcx")...), true, false},
		{"watch csv, xdp", append([]string{"watch", "-n", "100ms", "-f", "csv"}, ebpfArgs("xdp")...), true, false},
		{"watch --events, tc", append(append([]string{"watch", "--events", "-n", "100ms"}, burstFlags...), ebpfArgs("tc")...), true, true},
		{"top without a terminal, tc", append([]string{"top", "-n", "100ms"}, ebpfArgs("tc")...), true, false},
		{"snapshot, tc", append([]string{"snapshot", "-w", "200ms"}, ebpfArgs("tc")...), false, false},
		{"snapshot --json, tcx", append([]string{"snapshot", "-w", "200ms", "--json"}, ebpfArgs("tcx")...), false, false},
		{"record status lines, tc", append([]string{"record", "-n", "50ms", "-d", "500ms", "-o", filepath.Join(dir, "out.ndjson")}, ebpfArgs("tc")...), false, false},
		{"list", []string{"list"}, false, false},
		{"list --json", []string{"list", "--json"}, false, false},
		{"report", []string{"report", recording}, false, false},
		{"report --json", []string{"report", "--json", recording}, false, false},
		{"plot status line", []string{"plot", "-o", filepath.Join(dir, "chart.svg"), recording}, false, false},
		{"completion bash", []string{"completion", "bash"}, false, false},
		{"completion zsh", []string{"completion", "zsh"}, false, false},
		{"completion fish", []string{"completion", "fish"}, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := hooks(t, p.A, p.IfA)
			c := startPiped(t, p.A, tt.args...)
			if tt.stream {
				line := make(chan string, 1)
				go func() {
					l, _ := bufio.NewReader(c.out).ReadString('\n')
					line <- l
				}()
				// watch --events writes only when a burst ends: send
				// bursts until it does.
				waitLine(t, c, line, func() {
					if tt.bursts {
						p.SendUDP(t, netnstest.A, 100, 1400)
					}
				})
			}
			c.out.Close()
			for i := 0; tt.bursts && i < 30; i++ {
				select {
				case <-c.done:
				case <-time.After(burstPause):
					p.SendUDP(t, netnstest.A, 100, 1400) // the next write fails
					continue
				}
				break
			}
			code := c.exit(t)
			if code != 0 || c.stderr.Len() != 0 {
				t.Errorf("after the reader went away: exit %d, stderr %q; want 0 and nothing", code, c.stderr.String())
			}
			if after := hooks(t, p.A, p.IfA); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("left attached: %+v, want %+v", after, before)
			}
		})
	}
}

// vethPairs is the number of veth pairs (twice as many interfaces) of the
// SIGKILL test.
const vethPairs = 50

// addVeths creates vethPairs pairs fk<i>/fkp<i> in ns, plus someone else's
// clsact qdiscs: one with a cls_bpf filter on fk0 and an empty one on fk1.
func addVeths(t *testing.T, ns *netnstest.NS) {
	t.Helper()
	var batch strings.Builder
	for i := range vethPairs {
		fmt.Fprintf(&batch, "link add fk%d type veth peer name fkp%d\n", i, i)
	}
	file := filepath.Join(t.TempDir(), "veths")
	if err := os.WriteFile(file, []byte(batch.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := ns.Exec("ip", "-batch", file); err != nil {
		t.Fatalf("ip -batch: %v\n%s", err, out)
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:         "foreign_tc",
		Type:         ebpf.SchedCLS,
		License:      "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, -1 /* TC_ACT_UNSPEC */), asm.Return()},
	})
	if err != nil {
		t.Fatalf("load foreign tc program: %v", err)
	}
	defer prog.Close() // the filter keeps it
	h := ns.Netlink()
	for _, name := range []string{"fk0", "fk1"} {
		l, err := h.LinkByName(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.QdiscAdd(&netlink.Clsact{QdiscAttrs: netlink.QdiscAttrs{
			LinkIndex: l.Attrs().Index, Handle: netlink.MakeHandle(0xffff, 0), Parent: netlink.HANDLE_CLSACT,
		}}); err != nil {
			t.Fatalf("foreign clsact on %s: %v", name, err)
		}
		if name != "fk0" {
			continue
		}
		if err := h.FilterAdd(&netlink.BpfFilter{
			FilterAttrs: netlink.FilterAttrs{LinkIndex: l.Attrs().Index, Parent: netlink.HANDLE_MIN_INGRESS,
				Handle: 1, Priority: 10, Protocol: syscall.ETH_P_ALL},
			Fd: prog.FD(), Name: "foreign_tc", DirectAction: true,
		}); err != nil {
			t.Fatalf("foreign filter on fk0: %v", err)
		}
	}
}

// bpfObjects returns the ids of the BPF programs, maps and links pid holds
// ("prog 12", "map 7", "link 3"), from /proc/pid/fdinfo.
func bpfObjects(pid int) []string {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	fds, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join(dir, fd.Name()))
		if err != nil || !strings.HasPrefix(target, "anon_inode:bpf") {
			continue
		}
		info, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%s", pid, fd.Name()))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(info), "\n") {
			for _, kind := range []string{"prog", "map", "link"} {
				if v, ok := strings.CutPrefix(line, kind+"_id:"); ok {
					out = append(out, kind+" "+strings.TrimSpace(v))
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// stillLoaded returns the objects of bpfObjects that still exist.
func stillLoaded(objs []string) []string {
	var out []string
	for _, o := range objs {
		kind, v, _ := strings.Cut(o, " ")
		id, _ := strconv.ParseUint(v, 10, 32)
		var err error
		switch kind {
		case "prog":
			var p *ebpf.Program
			if p, err = ebpf.NewProgramFromID(ebpf.ProgramID(id)); err == nil {
				p.Close()
			}
		case "map":
			var m *ebpf.Map
			if m, err = ebpf.NewMapFromID(ebpf.MapID(id)); err == nil {
				m.Close()
			}
		case "link":
			// A link that exists keeps its program: checked with it.
			continue
		}
		if err == nil {
			out = append(out, o)
		}
	}
	return out
}

// vethState counts what netwatch has on the fk* interfaces of ns, and
// reports anything else that differs from the start (foreign qdiscs and
// filter on fk0 and fk1 only).
func vethState(t *testing.T, ns *netnstest.NS) (netwatchHooks int, problems []string) {
	t.Helper()
	links, err := ns.Netlink().LinkList()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		name := l.Attrs().Name
		if !strings.HasPrefix(name, "fk") {
			continue
		}
		h := hooks(t, ns, name)
		n := len(ours(h.tcx)) + len(ours(h.filters))
		if h.xdpProg != 0 {
			n++
		}
		netwatchHooks += n
		if n > 0 {
			problems = append(problems, fmt.Sprintf("%s: %+v", name, h))
		}
		wantClsact := name == "fk0" || name == "fk1"
		if h.clsact != wantClsact {
			problems = append(problems, fmt.Sprintf("%s: clsact qdisc %v, want %v", name, h.clsact, wantClsact))
		}
		var foreign []string
		for _, f := range h.filters {
			if ours([]string{f}) == nil {
				foreign = append(foreign, f)
			}
		}
		if want := map[bool]string{true: "[ingress:foreign_tc]", false: "[]"}[name == "fk0"]; fmt.Sprint(foreign) != want {
			problems = append(problems, fmt.Sprintf("%s: foreign filters %v, want %s", name, foreign, want))
		}
	}
	return netwatchHooks, problems
}

// recordsOf lists the clsact records netwatch keeps for namespace ns.
func recordsOf(t *testing.T, ns *netnstest.NS) []string {
	t.Helper()
	var ino uint64
	if err := ns.Do(func() error {
		fi, err := os.Stat("/proc/thread-self/ns/net")
		if err != nil {
			return err
		}
		ino = fi.Sys().(*syscall.Stat_t).Ino
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(attach.StateDir, "clsact"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), strconv.FormatUint(ino, 10)+"-") {
			out = append(out, e.Name())
		}
	}
	return out
}

// slowTimeout bounds the waits on netwatch attaching to or detaching from
// 2*vethPairs interfaces: TCX costs an RCU grace period per hook, and the
// machine may be busy.
const slowTimeout = 90 * time.Second

// runKilledAfter runs cmd (its stderr into a new buffer) and returns its stdout;
// it kills cmd after d.
func runKilledAfter(cmd *exec.Cmd, d time.Duration) ([]byte, error) {
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &bytes.Buffer{}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	timer := time.AfterFunc(d, func() { cmd.Process.Kill() })
	defer timer.Stop()
	err := cmd.Wait()
	return stdout.Bytes(), err
}

// TestKilledLeavesNothing kills netwatch with SIGKILL while it attaches to
// 2*vethPairs interfaces (at several delays after exec) and while it
// detaches from them (SIGTERM, then SIGKILL shortly after), with every
// attach mode. Then netwatch runs once more (snapshot) and, once it has
// exited, nothing of netwatch's may be left: no TCX program, tc filter or
// XDP program on any interface, no clsact qdisc it created (the foreign
// ones on fk0 and fk1 stay, with the foreign filter), no record of one,
// and no BPF program or map the killed process held still loaded. (TCX and
// XDP links are released by the kernel as the process exits, so a netwatch
// may have called exit before the SIGKILL arrives; the cleanup is checked
// all the same.)
func TestKilledLeavesNothing(t *testing.T) {
	type kill struct {
		name   string
		after  time.Duration // after exec (attach) or after SIGTERM (detach)
		detach bool
	}
	kills := []kill{
		{"attach+50ms", 50 * time.Millisecond, false},
		{"attach+250ms", 250 * time.Millisecond, false},
		{"attach+1s", time.Second, false},
		{"detach+5ms", 5 * time.Millisecond, true},
		{"detach+50ms", 50 * time.Millisecond, true},
	}
	for _, mode := range []string{"tc", "tcx", "xdp"} {
		for _, k := range kills {
			t.Run(mode+"/"+k.name, func(t *testing.T) {
				p := netnstest.NewPair(t)
				ns := p.A
				addVeths(t, ns)
				args := []string{"watch", "-b", "ebpf", "--attach", mode, "-i", "fk*", "-f", "ndjson", "-n", "200ms"}
				c := startNetwatch(t, ns, args...)
				var objs []string
				if k.detach {
					select {
					case _, ok := <-c.lines:
						if !ok {
							t.Fatalf("no sample; exit %d: %s", c.wait(t), c.stderr.String())
						}
					case <-time.After(slowTimeout):
						t.Fatalf("no sample within %v", slowTimeout)
					}
					objs = bpfObjects(c.cmd.Process.Pid)
					c.signal(t, syscall.SIGTERM)
					time.Sleep(k.after)
				} else {
					// Poll the objects until the kill: the programs are
					// loaded early, the links come one by one.
					for deadline := time.Now().Add(k.after); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
						if o := bpfObjects(c.cmd.Process.Pid); len(o) >= len(objs) {
							objs = o
						}
					}
				}
				if o := bpfObjects(c.cmd.Process.Pid); !k.detach && len(o) > len(objs) {
					objs = o
				}
				// It may have finished detaching already: then there is
				// nothing to kill, and the run checks a clean exit.
				if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
					t.Fatal(err)
				}
				select {
				case <-c.done:
				case <-time.After(slowTimeout):
					t.Fatalf("still running %v after SIGKILL", slowTimeout)
				}
				if code := c.cmd.ProcessState.ExitCode(); code != -1 {
					t.Logf("exited %d before SIGKILL", code)
				}
				atKill, _ := vethState(t, ns)
				t.Logf("killed holding %d BPF objects, %d netwatch hooks left on %d interfaces", len(objs), atKill, 2*vethPairs)

				next := exec.Command(binary, "snapshot", "-b", "ebpf", "--attach", mode, "-i", "fk*", "-w", "100ms", "--json")
				next.Env = cleanEnv()
				var r result
				if err := ns.Do(func() error {
					out, err := runKilledAfter(next, slowTimeout)
					r.stdout, r.stderr = string(out), next.Stderr.(*bytes.Buffer).String()
					return err
				}); err != nil {
					t.Fatalf("next start: %v: %s", err, r.stderr)
				}
				if n, problems := vethState(t, ns); len(problems) > 0 {
					t.Errorf("after the next start: %d netwatch hooks; %d problems:\n%s\nnext start's stderr: %s",
						n, len(problems), strings.Join(problems, "\n"), r.stderr)
				}
				if recs := recordsOf(t, ns); recs != nil {
					t.Errorf("clsact records left: %v", recs)
				}
				// The kernel frees programs and maps after a grace
				// period: wait for it.
				var left []string
				for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
					if left = stillLoaded(objs); left == nil {
						break
					}
				}
				if left != nil {
					t.Errorf("BPF objects of the killed netwatch still loaded: %v; held by: %s", left, holders(left))
				}
			})
		}
	}
}

// holders names the processes that hold any of objs (as bpfObjects lists
// them), for a failure message: "pid 123 (netwatch watch ...)".
func holders(objs []string) string {
	want := make(map[string]bool, len(objs))
	for _, o := range objs {
		want[o] = true
	}
	procs, _ := os.ReadDir("/proc")
	var out []string
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		for _, o := range bpfObjects(pid) {
			if want[o] {
				cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
				out = append(out, fmt.Sprintf("pid %d (%s) holds %s", pid, strings.ReplaceAll(strings.TrimSpace(string(cmd)), "\x00", " "), o))
			}
		}
	}
	if len(out) == 0 {
		return "no process (a kernel reference: a filter or link somewhere)"
	}
	return strings.Join(out, "; ")
}
