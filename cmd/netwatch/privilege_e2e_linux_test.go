package main

// The per-command capability table of README ("Privileges per command"),
// proven: every row runs the built binary as nobody (uid/gid 65534, no
// supplementary groups) with exactly the documented capabilities as ambient
// capabilities, and works; then once without each of them, and fails with
// exit 1 and one line naming the missing capability (or, for auto, falls
// back with its notice naming it).

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
	"github.com/netwatch-dev/netwatch/internal/testutil/privileged"
)

// privEnv is what the rows run against: a veth pair (the process runs in
// A, or in B sampling A with --netns), a root-owned process in A for
// pid:PID, a directory nobody may write to and a recording nobody may read.
type privEnv struct {
	p   *netnstest.Pair
	pid int
	dir string
	rec string
}

// A privilege row: a command line, the capabilities README documents for
// it (setpriv names), how it runs and what success looks like.
type privRow struct {
	name string
	caps []string
	// netns: the process runs in B and samples A through --netns.
	netns bool
	args  func(e *privEnv) []string
	// kind: "" runs to its exit; "serve" is scraped once and stopped;
	// "top" runs in a terminal (tmux) and is quit with q.
	kind string
	// fallback: without a documented capability auto falls back (exit 0,
	// a notice naming it) instead of failing.
	fallback string
	// notice: a successful run prints this one-line notice (auto's
	// fallback); otherwise nothing on stderr.
	notice string
	// check inspects a successful run's stdout ("" kind only).
	check func(t *testing.T, e *privEnv, stdout string)
}

// snapJSON is the part of a snapshot the rows check.
type snapJSON struct {
	Backend    string `json:"backend"`
	Attach     string `json:"attach"`
	Interfaces []struct {
		Name      string `json:"name"`
		Index     int    `json:"index"`
		Netns     string `json:"netns"`
		RxBytes   uint64 `json:"rx_bytes"`
		RxPackets uint64 `json:"rx_packets"`
		TxBytes   uint64 `json:"tx_bytes"`
		TxPackets uint64 `json:"tx_packets"`
	} `json:"interfaces"`
}

// counted checks a snapshot: backend (and attach), p.IfA alone, under its
// index in A, with the namespace label when given, and counters: exactly
// the kernel's for netlink and procfs, some traffic for ebpf (it counts
// from its attach, during the window, while the test sends).
func counted(backend, attachMode, netns string) func(*testing.T, *privEnv, string) {
	return func(t *testing.T, e *privEnv, stdout string) {
		t.Helper()
		var s snapJSON
		if err := json.Unmarshal([]byte(stdout), &s); err != nil {
			t.Fatalf("%v: %q", err, stdout)
		}
		if s.Backend != backend || s.Attach != attachMode {
			t.Errorf("backend %s/%s, want %s/%s", s.Backend, s.Attach, backend, attachMode)
		}
		if len(s.Interfaces) != 1 {
			t.Fatalf("interfaces %+v, want %s only", s.Interfaces, e.p.IfA)
		}
		got := s.Interfaces[0]
		want := netns
		if netns == "pid" {
			want = fmt.Sprintf("pid:%d", e.pid)
		} else if netns != "" {
			want = e.p.A.Name
		}
		if got.Name != e.p.IfA || got.Index != e.p.IndexA || got.Netns != want {
			t.Errorf("%s index %d netns %q, want %s index %d netns %q", got.Name, got.Index, got.Netns, e.p.IfA, e.p.IndexA, want)
		}
		if backend == "ebpf" {
			if got.TxPackets == 0 || got.TxBytes == 0 { // the test sends A -> B
				t.Errorf("ebpf counted nothing: %+v", got)
			}
			return
		}
		k, err := e.p.A.LinkStats(e.p.IfA)
		if err != nil {
			t.Fatal(err)
		}
		if got.RxBytes != k.RxBytes || got.RxPackets != k.RxPackets || got.TxBytes != k.TxBytes || got.TxPackets != k.TxPackets {
			t.Errorf("counters %+v, kernel %+v", got, k)
		}
	}
}

// contains checks that stdout contains every one of want.
func contains(want ...string) func(*testing.T, *privEnv, string) {
	return func(t *testing.T, _ *privEnv, stdout string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(stdout, w) {
				t.Errorf("output lacks %q:\n%s", w, stdout)
			}
		}
	}
}

func snap(e *privEnv, extra ...string) []string {
	return append([]string{"snapshot", "--json", "-w", "500ms", "-i", e.p.IfA}, extra...)
}

// netnsArgs names A as --netns: by name, or (pid) by the pid of a process
// in it.
func netnsArgs(e *privEnv, pid bool) []string {
	if pid {
		return []string{"--netns", fmt.Sprintf("pid:%d", e.pid)}
	}
	return []string{"--netns", e.p.A.Name}
}

var privRows = []privRow{
	// Own namespace.
	{name: "snapshot ebpf tcx", caps: []string{"bpf", "net_admin"},
		args:  func(e *privEnv) []string { return snap(e, "-b", "ebpf", "--attach", "tcx") },
		check: counted("ebpf", "tcx", "")},
	{name: "snapshot ebpf tc", caps: []string{"bpf", "net_admin"},
		args:  func(e *privEnv) []string { return snap(e, "-b", "ebpf", "--attach", "tc") },
		check: counted("ebpf", "tc", "")},
	{name: "snapshot ebpf xdp", caps: []string{"bpf", "net_admin"},
		args:  func(e *privEnv) []string { return snap(e, "-b", "ebpf", "--attach", "xdp") },
		check: counted("ebpf", "xdp", "")},
	{name: "snapshot auto", caps: []string{"bpf", "net_admin"}, fallback: "netlink",
		args:  func(e *privEnv) []string { return snap(e) },
		check: counted("ebpf", "tcx", "")},
	{name: "snapshot netlink", args: func(e *privEnv) []string { return snap(e, "-b", "netlink") },
		check: counted("netlink", "", "")},
	{name: "snapshot procfs", args: func(e *privEnv) []string { return snap(e, "-b", "procfs") },
		check: counted("procfs", "", "")},
	{name: "watch ebpf", caps: []string{"bpf", "net_admin"},
		args: func(e *privEnv) []string {
			return []string{"watch", "-b", "ebpf", "-f", "ndjson", "-n", "300ms", "-c", "2", "-i", e.p.IfA}
		},
		check: contains(`"backend":"ebpf"`, `"attach":"tcx"`)},
	{name: "watch netlink", args: func(e *privEnv) []string {
		return []string{"watch", "-b", "netlink", "-f", "ndjson", "-n", "200ms", "-c", "2", "-i", "lo"}
	}, check: contains(`"backend":"netlink"`, `"name":"lo"`)},
	{name: "list ebpf", caps: []string{"bpf", "net_admin"},
		args:  func(e *privEnv) []string { return []string{"list", "-b", "ebpf", "-i", e.p.IfA} },
		check: contains("ebpf (tcx)")},
	{name: "list procfs", args: func(e *privEnv) []string { return []string{"list", "-b", "procfs", "-i", e.p.IfA} },
		check: contains(" procfs")},
	{name: "record ebpf", caps: []string{"bpf", "net_admin"},
		args: func(e *privEnv) []string {
			return []string{"record", "-b", "ebpf", "-i", e.p.IfA, "-d", "1s", "-o", filepath.Join(e.dir, "nobody.ndjson")}
		},
		check: func(t *testing.T, e *privEnv, _ string) {
			b, err := os.ReadFile(filepath.Join(e.dir, "nobody.ndjson"))
			if err != nil || !strings.Contains(string(b), `"`+e.p.IfA+`"`) {
				t.Errorf("recording: %v: %.300s", err, b)
			}
		}},
	{name: "report", args: func(e *privEnv) []string { return []string{"report", e.rec} },
		check: func(t *testing.T, e *privEnv, stdout string) { contains(e.p.IfA)(t, e, stdout) }},
	{name: "plot", args: func(e *privEnv) []string { return []string{"plot", "-o", filepath.Join(e.dir, "nobody.svg"), e.rec} },
		check: func(t *testing.T, e *privEnv, _ string) {
			if b, err := os.ReadFile(filepath.Join(e.dir, "nobody.svg")); err != nil || !strings.Contains(string(b), "<svg") {
				t.Errorf("chart: %v", err)
			}
		}},
	{name: "completion", args: func(*privEnv) []string { return []string{"completion", "bash"} },
		check: contains("netwatch")},
	{name: "serve ebpf", caps: []string{"bpf", "net_admin"}, kind: "serve",
		args: func(e *privEnv) []string { return []string{"serve", "-b", "ebpf", "-i", e.p.IfA, "-n", "200ms"} }},
	{name: "serve procfs", kind: "serve",
		args: func(e *privEnv) []string { return []string{"serve", "-b", "procfs", "-i", e.p.IfA, "-n", "200ms"} }},
	{name: "top ebpf", caps: []string{"bpf", "net_admin"}, kind: "top",
		args: func(e *privEnv) []string { return []string{"top", "-b", "ebpf", "-i", e.p.IfA, "-n", "500ms"} }},
	{name: "top netlink", kind: "top",
		args: func(e *privEnv) []string { return []string{"top", "-b", "netlink", "-i", e.p.IfA, "-n", "500ms"} }},

	// --netns NAME: entering needs CAP_SYS_ADMIN, which the kernel also
	// accepts for CAP_BPF and CAP_NET_ADMIN.
	{name: "snapshot ebpf netns NAME", caps: []string{"sys_admin"}, netns: true,
		args:  func(e *privEnv) []string { return snap(e, append(netnsArgs(e, false), "-b", "ebpf")...) },
		check: counted("ebpf", "tcx", "name")},
	{name: "snapshot netlink netns NAME", caps: []string{"sys_admin"}, netns: true,
		args:  func(e *privEnv) []string { return snap(e, append(netnsArgs(e, false), "-b", "netlink")...) },
		check: counted("netlink", "", "name")},
	{name: "snapshot procfs netns NAME", caps: []string{"sys_admin"}, netns: true,
		args:  func(e *privEnv) []string { return snap(e, append(netnsArgs(e, false), "-b", "procfs")...) },
		check: counted("procfs", "", "name")},
	{name: "list netlink netns NAME", caps: []string{"sys_admin"}, netns: true,
		args: func(e *privEnv) []string {
			return append([]string{"list", "-b", "netlink", "-i", e.p.IfA}, netnsArgs(e, false)...)
		},
		check: func(t *testing.T, e *privEnv, stdout string) { contains(e.p.A.Name, " netlink")(t, e, stdout) }},
	{name: "serve netlink netns NAME", caps: []string{"sys_admin"}, netns: true, kind: "serve",
		args: func(e *privEnv) []string {
			return append([]string{"serve", "-b", "netlink", "-i", e.p.IfA, "-n", "200ms"}, netnsArgs(e, false)...)
		}},

	// --netns pid:PID of a root process: procfs reads /proc/PID/net/dev
	// (nothing needed); entering needs CAP_SYS_ADMIN, and opening another
	// user's /proc/PID/ns/net CAP_SYS_PTRACE.
	{name: "snapshot procfs netns pid", netns: true,
		args:  func(e *privEnv) []string { return snap(e, append(netnsArgs(e, true), "-b", "procfs")...) },
		check: counted("procfs", "", "pid")},
	{name: "snapshot procfs netns pid twice", netns: true, // one namespace, read once
		args: func(e *privEnv) []string {
			return snap(e, "-b", "procfs", "--netns", fmt.Sprintf("pid:%d,pid:%d", e.pid, e.pid))
		},
		check: counted("procfs", "", "pid")},
	{name: "snapshot auto netns pid", netns: true, notice: "needs CAP_SYS_PTRACE); using procfs",
		args:  func(e *privEnv) []string { return snap(e, netnsArgs(e, true)...) },
		check: counted("procfs", "", "pid")},
	{name: "snapshot netlink netns pid", caps: []string{"sys_admin", "sys_ptrace"}, netns: true,
		args:  func(e *privEnv) []string { return snap(e, append(netnsArgs(e, true), "-b", "netlink")...) },
		check: counted("netlink", "", "pid")},
	{name: "snapshot ebpf netns pid", caps: []string{"sys_admin", "sys_ptrace"}, netns: true,
		args:  func(e *privEnv) []string { return snap(e, append(netnsArgs(e, true), "-b", "ebpf")...) },
		check: counted("ebpf", "tcx", "pid")},
	{name: "list procfs netns pid", netns: true,
		args: func(e *privEnv) []string {
			return append([]string{"list", "-b", "procfs", "--json", "-i", e.p.IfA}, netnsArgs(e, true)...)
		},
		check: func(t *testing.T, e *privEnv, stdout string) {
			var l listJSON
			if err := json.Unmarshal([]byte(stdout), &l); err != nil {
				t.Fatal(err)
			}
			if len(l.Interfaces) != 1 || l.Interfaces[0].Index != e.p.IndexA || l.Interfaces[0].Name != e.p.IfA {
				t.Errorf("list %+v, want %s (%d)", l.Interfaces, e.p.IfA, e.p.IndexA)
			}
		}},
	{name: "serve procfs netns pid", netns: true, kind: "serve",
		args: func(e *privEnv) []string {
			return append([]string{"serve", "-b", "procfs", "-i", e.p.IfA, "-n", "200ms"}, netnsArgs(e, true)...)
		}},
}

// TestPrivilegesPerCommand runs every row of privRows as nobody with its
// documented capabilities, then without each one.
func TestPrivilegesPerCommand(t *testing.T) {
	privileged.NeedTool(t, "setpriv")
	p := netnstest.NewPair(t)
	// A directory nobody can write to (t.TempDir's parent is root's only).
	dir, err := os.MkdirTemp("", "netwatch-priv-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	e := &privEnv{p: p, dir: dir}
	var sleeper *os.Process
	if err := p.A.Do(func() error {
		pr, err := os.StartProcess("/bin/sleep", []string{"sleep", "600"}, &os.ProcAttr{})
		sleeper = pr
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sleeper.Kill(); sleeper.Wait() })
	e.pid = sleeper.Pid
	p.SendUDP(t, netnstest.A, 20, 200)
	e.rec = filepath.Join(e.dir, "root.ndjson")
	if r := startNetwatch(t, p.A, "record", "-b", "procfs", "-i", p.IfA, "-n", "100ms", "-d", "1s", "-o", e.rec).run(t); r.code != 0 {
		t.Fatalf("record: exit %d: %s", r.code, r.stderr)
	}

	for _, row := range privRows {
		t.Run(row.name, func(t *testing.T) {
			row.works(t, e)
			for _, c := range row.caps {
				t.Run("without "+capName(c), func(t *testing.T) {
					row.without(t, e, c)
				})
			}
		})
	}
}

// capName is the kernel's name of a setpriv capability name.
func capName(c string) string { return "CAP_" + strings.ToUpper(c) }

// ambient is setpriv's list of caps ("" for none).
func ambient(caps []string) string {
	var s []string
	for _, c := range caps {
		s = append(s, "+"+c)
	}
	return strings.Join(s, ",")
}

func (row privRow) ns(e *privEnv) *netnstest.NS {
	if row.netns {
		return e.p.B
	}
	return e.p.A
}

// traffic sends datagrams A -> B every 50 ms until the returned stop is
// called, so that ebpf, counting from its attach, sees some.
func traffic(t *testing.T, p *netnstest.Pair) (stop func()) {
	done, sent := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sent)
		for {
			select {
			case <-done:
				return
			case <-time.After(50 * time.Millisecond):
				p.SendUDP(t, netnstest.A, 2, 100)
			}
		}
	}()
	return func() { close(done); <-sent }
}

// works runs row with exactly its documented capabilities.
func (row privRow) works(t *testing.T, e *privEnv) {
	t.Helper()
	caps := ambient(row.caps)
	switch row.kind {
	case "serve":
		row.serve(t, e, caps, "")
	case "top":
		row.top(t, e, caps, "")
	default:
		stop := traffic(t, e.p)
		r := startAsNobody(t, row.ns(e), caps, row.args(e)...).run(t)
		stop()
		if r.code != 0 {
			t.Fatalf("exit %d, want 0: %s", r.code, r.stderr)
		}
		if row.notice == "" && r.stderr != "" {
			t.Errorf("stderr %q, want nothing", r.stderr)
		}
		if row.notice != "" {
			oneLineStderr(t, r.stderr)
			if !strings.HasPrefix(r.stderr, "netwatch: notice: ") || !strings.Contains(r.stderr, row.notice) {
				t.Errorf("stderr %q, want a notice with %q", r.stderr, row.notice)
			}
		}
		row.check(t, e, r.stdout)
	}
}

// without runs row with its documented capabilities but missing: exit 1
// and one line naming missing (or, with fallback, auto's notice naming it
// and the backend it falls back to).
func (row privRow) without(t *testing.T, e *privEnv, missing string) {
	t.Helper()
	caps := ambient(slices.DeleteFunc(slices.Clone(row.caps), func(c string) bool { return c == missing }))
	name := capName(missing)
	switch row.kind {
	case "serve":
		row.serve(t, e, caps, name)
		return
	case "top":
		row.top(t, e, caps, name)
		return
	}
	r := startAsNobody(t, row.ns(e), caps, row.args(e)...).run(t)
	oneLineStderr(t, r.stderr)
	namesMissing(t, r.stderr, name, row.caps)
	if row.fallback != "" {
		want := "netwatch: notice: ebpf unavailable: "
		if r.code != 0 || !strings.HasPrefix(r.stderr, want) || !strings.HasSuffix(r.stderr, "; using "+row.fallback+"\n") {
			t.Errorf("exit %d, stderr %q: want 0 and %q...\"; using %s\"", r.code, r.stderr, want, row.fallback)
		}
		return
	}
	if r.code != 1 || r.stdout != "" || !strings.HasPrefix(r.stderr, "netwatch: ") {
		t.Errorf("exit %d, stdout %q, stderr %q: want 1, nothing, \"netwatch: ...\"", r.code, r.stdout, r.stderr)
	}
}

// namesMissing checks that msg names missing, and names none of the other
// documented capabilities (still granted) as missing or needed.
func namesMissing(t *testing.T, msg, missing string, documented []string) {
	t.Helper()
	if !strings.Contains(msg, missing) {
		t.Errorf("%q does not name the missing %s", msg, missing)
	}
	for _, c := range documented {
		if c := capName(c); c != missing && (strings.Contains(msg, "missing "+c) || strings.Contains(msg, "needs "+c)) {
			t.Errorf("%q says %s is missing: it is not", msg, c)
		}
	}
}

// serve starts the row's serve as nobody with caps. With missing == "" it
// scrapes /metrics until p.IfA's transmit counter is there and non-zero,
// then stops it with SIGTERM (exit 0); otherwise it expects exit 1 and one
// line naming missing.
func (row privRow) serve(t *testing.T, e *privEnv, caps, missing string) {
	t.Helper()
	ns := row.ns(e)
	c := startAsNobody(t, ns, caps, row.args(e)...)
	if missing != "" {
		r := c.run(t)
		oneLineStderr(t, r.stderr)
		namesMissing(t, r.stderr, missing, row.caps)
		if r.code != 1 {
			t.Errorf("exit %d, want 1", r.code)
		}
		return
	}
	stop := traffic(t, e.p)
	defer stop()
	hc := nsClient(ns)
	waitFor(t, "transmit bytes of "+e.p.IfA, func() string {
		if _, err := hc.Get("http://127.0.0.1:9977/"); err != nil {
			return err.Error() + "; stderr: " + c.stderrIfDone()
		}
		mfs, _ := scrape(t, hc, "")
		if v := num(series(mfs, "netwatch_network_transmit_bytes_total", e.p.IfA)); !(v > 0) {
			return fmt.Sprintf("netwatch_network_transmit_bytes_total{device=%q} = %v", e.p.IfA, v)
		}
		return ""
	})
	c.signal(t, syscall.SIGTERM)
	if code := c.wait(t); code != 0 {
		t.Errorf("exit %d: %s", code, c.stderr.String())
	}
}

// top runs the row's top as nobody with caps in a terminal (tmux). With
// missing == "" the interface must show up under the backend, and q ends
// it with status 0; otherwise it must end with status 1 and an error naming
// missing.
func (row privRow) top(t *testing.T, e *privEnv, caps, missing string) {
	t.Helper()
	tm := newTmux(t)
	tm.waitFor("the shell prompt", func(s string) bool { return strings.Contains(s, "shell$") })
	priv := "--reuid=" + nobody + " --regid=" + nobody + " --clear-groups"
	if caps != "" {
		priv += " --inh-caps " + caps + " --ambient-caps " + caps
	}
	tm.keys(fmt.Sprintf("ip netns exec %s setpriv %s %s %s; echo EXIT=$?",
		row.ns(e).Name, priv, binary, strings.Join(row.args(e), " ")), "Enter")
	if missing != "" {
		tm.waitFor("the exit", func(s string) bool { return exitLine.MatchString(s) })
		screen := tm.run("capture-pane", "-p", "-J") // wrapped lines joined
		if m := exitLine.FindStringSubmatch(screen); m[1] != "1" || !strings.Contains(screen, "netwatch: ") {
			t.Errorf("want exit 1 and an error:\n%s", screen)
		}
		namesMissing(t, screen, missing, row.caps)
		return
	}
	stop := traffic(t, e.p)
	defer stop()
	backend := row.args(e)[2] // top -b NAME ...
	tm.waitFor(e.p.IfA+" under "+backend+" in top's screen", func(s string) bool {
		// The alternate screen: not the command line, which names both.
		return tm.altScreen() && strings.Contains(s, e.p.IfA+" ") && strings.Contains(s, backend)
	})
	tm.keys("q")
	after := tm.waitFor("the shell after q", func(s string) bool { return exitLine.MatchString(s) })
	if m := exitLine.FindStringSubmatch(after); m[1] != "0" {
		t.Errorf("exit status: want 0:\n%s", after)
	}
}
