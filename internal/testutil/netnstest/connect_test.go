//go:build linux

package netnstest

import (
	"fmt"
	"os/exec"
	"syscall"
	"testing"

	"github.com/netwatch-dev/netwatch/internal/stats"
	"github.com/netwatch-dev/netwatch/internal/testutil/privileged"
)

// TestConnectAdopted joins a Pair's A to the namespace of a process (a
// container's, as a runtime wires it: a host veth, eth0 inside) and checks
// that the second veth counts exactly what is sent over it, leaves the
// first pair alone, and goes away with cleanup while the process's
// namespace stays.
func TestConnectAdopted(t *testing.T) {
	privileged.Need(t)
	sleeper := exec.Command("sleep", "600")
	// No Pdeathsig: the forking thread may end mid-test (see containertest).
	sleeper.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sleeper.Process.Kill(); sleeper.Wait() })
	path := fmt.Sprintf("/proc/%d/ns/net", sleeper.Process.Pid)

	p := NewPair(t)
	var ctr *NS
	t.Run("connect", func(t *testing.T) {
		ctr = Adopt(t, path)
		c := Connect(t, p.A, ctr, "nw-host0", "eth0")
		if c.A != p.A || c.B != ctr || c.AddrA.As4()[1] != 19 || c.AddrA == p.AddrA {
			t.Fatalf("connected pair %+v: want A=%s, B=%s, a 198.19 subnet of its own", c, p.A.Name, path)
		}
		pairA0, _ := linkStats(t, p)
		a0, b0 := linkStats(t, c)
		const n, payload = 30, 200
		c.SendUDP(t, A, n, payload)
		c.SendUDP(t, B, n+1, payload)
		a1, b1 := linkStats(t, c)
		f := uint64(UDPFrameLen(payload))
		want := stats.Counters{TxPackets: n, TxBytes: n * f, RxPackets: n + 1, RxBytes: (n + 1) * f}
		if got := delta(t, a0, a1); got != want {
			t.Errorf("host end counted %+v, want %+v", got, want)
		}
		want = stats.Counters{RxPackets: n, RxBytes: n * f, TxPackets: n + 1, TxBytes: (n + 1) * f}
		if got := delta(t, b0, b1); got != want {
			t.Errorf("eth0 counted %+v, want %+v", got, want)
		}
		if pairA1, _ := linkStats(t, p); pairA1 != pairA0 {
			t.Errorf("the pair's own veth moved: %+v -> %+v", pairA0, pairA1)
		}
	})
	// After the subtest's cleanup: the veth is gone, both namespaces are
	// still there (the adopted one is not ours to delete).
	if _, err := p.A.Netlink().LinkByName("nw-host0"); err == nil {
		t.Error("nw-host0 still exists after cleanup")
	}
	if _, err := p.A.LinkStats(p.IfA); err != nil {
		t.Errorf("the pair lost its veth: %v", err)
	}
	if ctr == nil || !ctr.deleted {
		t.Error("adopted namespace not let go of in cleanup")
	}
	if out, err := exec.Command("nsenter", "--net="+path, "ip", "-o", "link").CombinedOutput(); err != nil {
		t.Errorf("adopted namespace unusable after cleanup: %v: %s", err, out)
	}
}
