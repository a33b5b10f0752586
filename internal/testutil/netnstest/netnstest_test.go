//go:build linux

package netnstest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/netwatch-dev/netwatch/internal/stats"
	"github.com/netwatch-dev/netwatch/internal/testutil/privileged"
)

func linkStats(t *testing.T, p *Pair) (a, b stats.Counters) {
	t.Helper()
	a, err := p.A.LinkStats(p.IfA)
	if err != nil {
		t.Fatal(err)
	}
	b, err = p.B.LinkStats(p.IfB)
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

func delta(t *testing.T, prev, cur stats.Counters) stats.Counters {
	t.Helper()
	d, ok := stats.Delta(prev, cur)
	if !ok {
		t.Fatalf("counters went backwards: %+v -> %+v", prev, cur)
	}
	return d
}

func TestPairIsQuiet(t *testing.T) {
	p := NewPair(t)
	a0, b0 := linkStats(t, p)
	time.Sleep(time.Second)
	a1, b1 := linkStats(t, p)
	if a0 != a1 || b0 != b1 {
		t.Errorf("idle link not quiet over 1 s: A %+v -> %+v, B %+v -> %+v", a0, a1, b0, b1)
	}
	for _, s := range []Side{A, B} {
		ifname, _ := p.If(s)
		var v6 []netlink.Addr
		var err error
		l, err := p.NS(s).Netlink().LinkByName(ifname)
		if err == nil {
			v6, err = p.NS(s).Netlink().AddrList(l, netlink.FAMILY_V6)
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(v6) != 0 {
			t.Errorf("side %s: IPv6 addresses on %s: %v", s, ifname, v6)
		}
	}
}

func TestPairSetup(t *testing.T) {
	p := NewPair(t)
	if p.A.Name == p.B.Name {
		t.Fatalf("both sides in namespace %s", p.A.Name)
	}
	for _, s := range []Side{A, B} {
		ifname, index := p.If(s)
		var links []netlink.Link
		err := p.NS(s).Do(func() (err error) {
			// Package-level netlink works in the calling thread's namespace.
			links, err = netlink.LinkList()
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, l := range links {
			names = append(names, l.Attrs().Name)
			if l.Attrs().Name == ifname && l.Attrs().Index != index {
				t.Errorf("side %s: %s has index %d, Pair says %d", s, ifname, l.Attrs().Index, index)
			}
		}
		if want := []string{"lo", ifname}; strings.Join(names, ",") != strings.Join(want, ",") {
			t.Errorf("side %s: links %v, want %v", s, names, want)
		}
	}
	if !p.AddrA.Is4() || !strings.HasPrefix(p.AddrA.String(), "198.18.") || p.AddrA.Next() != p.AddrB {
		t.Errorf("addresses %s, %s: want 198.18.x.1 and .2", p.AddrA, p.AddrB)
	}
}

func TestCleanupDeletesNamespaces(t *testing.T) {
	// NewPair in the subtest would skip it, leaving nothing to check.
	privileged.Need(t)
	var names []string
	t.Run("pair", func(t *testing.T) {
		p := NewPair(t)
		names = []string{p.A.Name, p.B.Name}
	})
	if len(names) == 0 {
		t.Fatal("subtest created no pair")
	}
	for _, name := range names {
		if _, err := os.Stat(filepath.Join("/var/run/netns", name)); !os.IsNotExist(err) {
			t.Errorf("namespace %s still exists after cleanup (stat: %v)", name, err)
		}
	}
}

func TestSendUDP(t *testing.T) {
	p := NewPair(t)
	tests := []struct {
		name       string
		from       Side
		n, payload int
	}{
		{"A to B one empty", A, 1, 0},
		{"A to B many small", A, 500, 1},
		{"B to A full MTU", B, 100, p.MaxUDPPayload()},
		{"none", A, 0, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a0, b0 := linkStats(t, p)
			p.SendUDP(t, tt.from, tt.n, tt.payload)
			a1, b1 := linkStats(t, p)
			da, db := delta(t, a0, a1), delta(t, b0, b1)
			if tt.from == B {
				da, db = db, da
			}
			// da: sender's counters, db: receiver's.
			wantPkts := uint64(tt.n)
			wantBytes := uint64(tt.n * UDPFrameLen(tt.payload))
			want := stats.Counters{TxPackets: wantPkts, TxBytes: wantBytes}
			if da != want {
				t.Errorf("sender counters moved by %+v, want %+v", da, want)
			}
			want = stats.Counters{RxPackets: wantPkts, RxBytes: wantBytes}
			if db != want {
				t.Errorf("receiver counters moved by %+v, want %+v", db, want)
			}
		})
	}
}

func TestSendUDPRejectsOversizedPayload(t *testing.T) {
	p := NewPair(t)
	for _, tc := range []struct{ n, payload int }{{1, p.MaxUDPPayload() + 1}, {-1, 10}, {1, -1}} {
		if err := p.sendUDP(A, tc.n, tc.payload); err == nil {
			t.Errorf("sendUDP(n=%d, payload=%d) succeeded", tc.n, tc.payload)
		}
	}
}

func TestTCPTransfer(t *testing.T) {
	privileged.NeedTool(t, "ethtool")
	p := NewPair(t)
	if err := p.SetOffloads(false); err != nil {
		t.Fatal(err)
	}
	const nbytes = 1 << 20
	for _, from := range []Side{A, B} {
		t.Run("from "+from.String(), func(t *testing.T) {
			a0, b0 := linkStats(t, p)
			p.TCPTransfer(t, from, nbytes)
			a1, b1 := linkStats(t, p)
			send, recv := delta(t, a0, a1), delta(t, b0, b1)
			if from == B {
				send, recv = recv, send
			}
			mss := p.MTU - 40 - 12 // IPv4 + TCP headers with timestamps
			if minPkts := uint64(nbytes / mss); send.TxPackets < minPkts || send.TxBytes < nbytes {
				t.Errorf("sender sent %d packets, %d bytes; want >= %d packets of at most one MTU, >= %d bytes",
					send.TxPackets, send.TxBytes, minPkts, nbytes)
			}
			if recv.RxPackets != send.TxPackets || send.RxPackets != recv.TxPackets {
				t.Errorf("veth ends disagree: sender %+v, receiver %+v", send, recv)
			}
			// The connection is closed on both ends: nothing more is sent.
			time.Sleep(200 * time.Millisecond)
			a2, b2 := linkStats(t, p)
			if a2 != a1 || b2 != b1 {
				t.Errorf("traffic after TCPTransfer returned: A %+v -> %+v, B %+v -> %+v", a1, a2, b1, b2)
			}
		})
	}
}

func TestSetOffloads(t *testing.T) {
	privileged.NeedTool(t, "ethtool")
	p := NewPair(t)
	for _, on := range []bool{false, true} {
		if err := p.SetOffloads(on); err != nil {
			t.Fatal(err)
		}
		want := "tcp-segmentation-offload: off"
		if on {
			want = "tcp-segmentation-offload: on"
		}
		for _, s := range []Side{A, B} {
			ifname, _ := p.If(s)
			out, err := p.NS(s).Exec("ethtool", "-k", ifname)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(out), want) {
				t.Errorf("side %s after SetOffloads(%v): ethtool -k lacks %q:\n%s", s, on, want, out)
			}
		}
	}
}

func TestExecRunsInNamespace(t *testing.T) {
	p := NewPair(t)
	// /proc/self/net/dev of the child lists its namespace's interfaces.
	out, err := p.B.Exec("cat", "/proc/self/net/dev")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), p.IfB+":") || strings.Contains(string(out), p.IfA+":") {
		t.Errorf("Exec in B sees:\n%s\nwant %s and not %s", out, p.IfB, p.IfA)
	}
	if _, err := p.A.Exec("false"); err == nil {
		t.Error("Exec(false) returned no error")
	}
}
