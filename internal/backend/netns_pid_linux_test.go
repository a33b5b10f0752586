package backend

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/netwatch-dev/netwatch/internal/stats"
	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
)

// procfsPlan is the plan Decide makes for --backend procfs.
var procfsPlan = Plan{Source: stats.Source{Backend: Procfs}}

// With pid:PID, procfs reads PROC/PID/net/dev (openOne: Open would first
// look the namespace's identity up in the real /proc) and takes indexes from
// PROC/PID/net/dev_snmp6 only: an interface without a file there has index
// 0 (known by its name), never an index of netwatch's own namespace.
func TestProcfsPIDFixture(t *testing.T) {
	root := t.TempDir()
	net := filepath.Join(root, "4242", "net")
	if err := os.MkdirAll(filepath.Join(net, "dev_snmp6"), 0o755); err != nil {
		t.Fatal(err)
	}
	dev, err := os.ReadFile("procfs/testdata/basic/net/dev")
	if err != nil {
		t.Fatal(err)
	}
	for path, s := range map[string]string{
		filepath.Join(net, "dev"):               string(dev),
		filepath.Join(net, "dev_snmp6", "eth0"): "ifIndex                         \t7\nIp6InReceives \t0\n",
		filepath.Join(net, "dev_snmp6", "lo"):   "ifIndex                         \t1\n",
	} {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ns, err := ParseNetns("pid:4242")
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Name: Procfs, ProcRoot: root, Netns: ns}
	b, err := openOne(context.Background(), procfsPlan, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	snap, err := b.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, ic := range snap.Interfaces {
		got[ic.Name] = ic.Index
	}
	want := map[string]int{"lo": 1, "eth0": 7, "wlp2s0": 0}
	if len(got) != len(want) {
		t.Fatalf("interfaces %v, want %v", got, want)
	}
	for name, ix := range want {
		if got[name] != ix {
			t.Errorf("%s: index %d, want %d", name, got[name], ix)
		}
	}
	names, err := InterfaceNames(procfsPlan, opts)
	if err != nil || len(names) != 3 || names[0] != "lo" || names[2] != "wlp2s0" {
		t.Errorf("InterfaceNames: %q, %v", names, err)
	}
	infos, err := ListPlanned(procfsPlan, opts)
	if err != nil || len(infos) != 3 || infos[1].Name != "eth0" || infos[1].Index != 7 || infos[1].State != "unknown" {
		t.Errorf("ListPlanned: %+v, %v", infos, err)
	}

	// Without dev_snmp6 (a kernel without IPv6): every index unknown.
	if err := os.RemoveAll(filepath.Join(net, "dev_snmp6")); err != nil {
		t.Fatal(err)
	}
	b2, err := openOne(context.Background(), procfsPlan, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	snap, err = b2.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, ic := range snap.Interfaces {
		if ic.Index != 0 {
			t.Errorf("%s: index %d without dev_snmp6, want 0", ic.Name, ic.Index)
		}
	}

	ns, _ = ParseNetns("pid:4243")
	if _, err := openOne(context.Background(), procfsPlan, Options{Name: Procfs, ProcRoot: root, Netns: ns}); err == nil || err.Error() != "procfs backend: netns pid:4243: no such process" {
		t.Errorf("a missing process: %v", err)
	}
}

// pid:PID of a process in a test namespace: procfs reads that namespace's
// counters, equal to the kernel's, under its indexes, and keeps reading
// them after the process has exited.
func TestProcfsPIDNamespace(t *testing.T) {
	p := netnstest.NewPair(t)
	var sleeper *os.Process
	if err := p.A.Do(func() (err error) {
		sleeper, err = os.StartProcess("/bin/sleep", []string{"sleep", "600"}, &os.ProcAttr{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer func() { sleeper.Kill(); sleeper.Wait() }()
	ns, err := ParseNetns("pid:" + strconv.Itoa(sleeper.Pid))
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Name: Procfs, Netns: ns}
	plan, err := Decide(opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(context.Background(), plan, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	check := func(when string) {
		t.Helper()
		want, err := p.A.LinkStats(p.IfA)
		if err != nil {
			t.Fatal(err)
		}
		snap, err := b.Read(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		for _, ic := range snap.Interfaces {
			if ic.Name == p.IfA {
				if ic.Index != p.IndexA || ic.Counters != want {
					t.Errorf("%s: %s index %d %+v, kernel: index %d %+v", when, ic.Name, ic.Index, ic.Counters, p.IndexA, want)
				}
				return
			}
		}
		t.Errorf("%s: %s not read: %+v", when, p.IfA, snap.Interfaces)
	}
	p.SendUDP(t, netnstest.A, 30, 400)
	check("with the process")
	sleeper.Kill()
	sleeper.Wait()
	if _, err := os.Stat("/proc/" + strconv.Itoa(sleeper.Pid)); err == nil {
		t.Fatal("the process is still there")
	}
	// Past the procfs backend's index refresh (1 s): indexes are looked
	// up again, in the namespace, with its process gone.
	time.Sleep(1100 * time.Millisecond)
	p.SendUDP(t, netnstest.B, 20, 300)
	check("after it exited")
}
