package ebpf

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/netwatch-dev/netwatch/internal/backend/ebpf/attach"
	"github.com/netwatch-dev/netwatch/internal/ifsel"
	"github.com/netwatch-dev/netwatch/internal/stats"
	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
	"github.com/netwatch-dev/netwatch/internal/testutil/privileged"
)

// openIn opens the backend inside ns on the interfaces matching include and
// closes it at the end of the test.
func openIn(t *testing.T, ns *netnstest.NS, include string, cfg Config) *Backend {
	t.Helper()
	cfg.Selector = mustSelector(t, include)
	var b *Backend
	if err := ns.Do(func() (err error) {
		b, err = Open(context.Background(), cfg)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ns.Do(b.Close); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return b
}

func mustSelector(t *testing.T, include string) ifsel.Selector {
	t.Helper()
	sel, err := ifsel.New([]string{include}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return sel
}

func readOne(t *testing.T, b *Backend, name string) stats.Counters {
	t.Helper()
	snap, err := b.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, ic := range snap.Interfaces {
		if ic.Name == name {
			return ic.Counters
		}
	}
	t.Fatalf("%s not in snapshot %+v", name, snap.Interfaces)
	return stats.Counters{}
}

func linkStats(t *testing.T, ns *netnstest.NS, ifname string) stats.Counters {
	t.Helper()
	c, err := ns.LinkStats(ifname)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func delta(t *testing.T, prev, cur stats.Counters) stats.Counters {
	t.Helper()
	d, ok := stats.Delta(prev, cur)
	if !ok {
		t.Fatalf("counters went backwards: %+v -> %+v", prev, cur)
	}
	return d
}

// hooks describes what is attached in ns: `bpftool net show` (XDP and
// legacy tc) and the TCX programs of ifindex, which bpftool 7.1 does not
// list.
func hooks(t *testing.T, ns *netnstest.NS, ifindex int) string {
	t.Helper()
	out, err := ns.Exec("bpftool", "net", "show")
	if err != nil {
		t.Fatalf("bpftool net show: %v\n%s", err, out)
	}
	desc := string(out)
	err = ns.Do(func() error {
		for _, at := range []ebpf.AttachType{ebpf.AttachTCXIngress, ebpf.AttachTCXEgress} {
			res, err := link.QueryPrograms(link.QueryOptions{Target: ifindex, Attach: at})
			if err != nil {
				return err
			}
			for _, prog := range res.Programs {
				desc += fmt.Sprintf("%s: prog %d\n", at, prog.ID)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("query tcx programs: %v", err)
	}
	return desc
}

func needTools(t *testing.T, tools ...string) {
	t.Helper()
	privileged.Need(t)
	privileged.NeedTool(t, tools...)
}

var attachModes = []struct {
	name    string
	mode    attach.Mode
	xdp     attach.XDPMode
	source  string
	xdpRxNo bool // veth native XDP: the kernel's rx_bytes leave out the Ethernet header
}{
	{"tcx", attach.TCX, "", "tcx", false},
	{"tc", attach.TC, "", "tc", false},
	{"xdp-generic", attach.XDP, attach.XDPGeneric, "xdp", false},
	{"xdp-driver", attach.XDP, attach.XDPDriver, "xdp", true},
}

// TestBackendCountsTheWire runs the backend in a namespace pair in every
// attach mode: UDP both ways and a TCP transfer with offloads off must move
// its counters by the wire arithmetic and by the kernel's own veth counters,
// and the bins must add up to the counters.
func TestBackendCountsTheWire(t *testing.T) {
	needTools(t, "ethtool", "bpftool")
	for _, m := range attachModes {
		t.Run(m.name, func(t *testing.T) {
			p := netnstest.NewPair(t)
			if err := p.SetOffloads(false); err != nil {
				t.Fatal(err)
			}
			before := hooks(t, p.A, p.IndexA)
			const width = time.Millisecond
			b := openIn(t, p.A, p.IfA, Config{Attach: m.mode, XDPMode: m.xdp, Resolution: width})
			if got := b.Source(); got != (stats.Source{Backend: "ebpf", Attach: m.source}) {
				t.Errorf("source %+v, want ebpf/%s", got, m.source)
			}
			if b.Resolution() != width {
				t.Errorf("resolution %v, want %v", b.Resolution(), width)
			}
			if during := hooks(t, p.A, p.IndexA); during == before {
				t.Errorf("nothing attached after Open:\n%s", during)
			}

			// UDP: N datagrams A->B, M B->A.
			const n, m2, small, big = 50, 30, 100, 1000
			c0, k0 := readOne(t, b, p.IfA), linkStats(t, p.A, p.IfA)
			p.SendUDP(t, netnstest.A, n, small)
			p.SendUDP(t, netnstest.B, m2, big)
			c1, k1 := readOne(t, b, p.IfA), linkStats(t, p.A, p.IfA)
			want := stats.Counters{
				TxPackets: n, TxBytes: n * uint64(netnstest.UDPFrameLen(small)),
				RxPackets: m2, RxBytes: m2 * uint64(netnstest.UDPFrameLen(big)),
			}
			if got := delta(t, c0, c1); got != want {
				t.Errorf("UDP: counters moved by %+v, wire arithmetic says %+v", got, want)
			}
			compareKernel(t, "UDP", delta(t, c0, c1), delta(t, k0, k1), m.xdpRxNo)

			// TCP both ways, offloads off: every segment is a frame.
			for _, from := range []netnstest.Side{netnstest.A, netnstest.B} {
				c0, k0 := readOne(t, b, p.IfA), linkStats(t, p.A, p.IfA)
				p.TCPTransfer(t, from, 256<<10)
				c1, k1 := readOne(t, b, p.IfA), linkStats(t, p.A, p.IfA)
				compareKernel(t, "TCP from "+from.String(), delta(t, c0, c1), delta(t, k0, k1), m.xdpRxNo)
			}

			// Bins since attach add up to the counters.
			time.Sleep(width + 3*binGuard)
			total := readOne(t, b, p.IfA)
			bins, err := b.ReadBins()
			if err != nil {
				t.Fatal(err)
			}
			var sum stats.Counters
			for _, ib := range bins.Interfaces {
				if ib.Index != p.IndexA {
					t.Errorf("bins for unselected interface %s", ib.Name)
					continue
				}
				if ib.Lost != nil {
					t.Errorf("bins lost with a prompt reader")
				}
				for _, c := range ib.Bins {
					sum.RxBytes += c.RxBytes
					sum.RxPackets += c.RxPackets
					sum.TxBytes += c.TxBytes
					sum.TxPackets += c.TxPackets
				}
			}
			if sum != total {
				t.Errorf("sum of %d bins %+v != counters %+v", bins.Count, sum, total)
			}

			if err := p.A.Do(b.Close); err != nil {
				t.Fatal(err)
			}
			if after := hooks(t, p.A, p.IndexA); after != before {
				t.Errorf("bpftool net show differs after Close:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// compareKernel checks our deltas against the veth's own counters. With
// veth native XDP the kernel counts received frames without their Ethernet
// header (it accounts the XDP buffer after eth_type_trans), so there rx
// bytes differ by exactly 14 per frame.
func compareKernel(t *testing.T, what string, ours, kernel stats.Counters, xdpRxNoEth bool) {
	t.Helper()
	if xdpRxNoEth {
		kernel.RxBytes += netnstest.EthHeaderLen * kernel.RxPackets
	}
	if ours != kernel {
		t.Errorf("%s: counters moved by %+v, the kernel's veth counters by %+v", what, ours, kernel)
	}
}

// TestBackendSegmentArithmetic: with offloads on, the stack hands the veth
// TSO super-packets, which the veth counts once. netwatch counts their
// segments, each with its 66 bytes of Ethernet, IPv4 and TCP (with
// timestamps) headers: ours - kernel bytes == 66 * (ours - kernel packets).
func TestBackendSegmentArithmetic(t *testing.T) {
	needTools(t, "ethtool")
	for _, m := range attachModes[:2] {
		t.Run(m.name, func(t *testing.T) {
			p := netnstest.NewPair(t)
			if err := p.SetOffloads(true); err != nil {
				t.Fatal(err)
			}
			b := openIn(t, p.A, p.IfA, Config{Attach: m.mode})
			for _, from := range []netnstest.Side{netnstest.A, netnstest.B} {
				c0, k0 := readOne(t, b, p.IfA), linkStats(t, p.A, p.IfA)
				p.TCPTransfer(t, from, 4<<20)
				c1, k1 := readOne(t, b, p.IfA), linkStats(t, p.A, p.IfA)
				ours, kernel := delta(t, c0, c1), delta(t, k0, k1)
				const hdr = 14 + 20 + 32
				if from == netnstest.A {
					if ours.TxPackets <= kernel.TxPackets {
						t.Errorf("no super-packets seen: %d segments counted, veth sent %d packets", ours.TxPackets, kernel.TxPackets)
					}
					if ours.TxBytes-kernel.TxBytes != hdr*(ours.TxPackets-kernel.TxPackets) {
						t.Errorf("tx: ours %+v, kernel %+v: extra bytes %d != %d * extra segments %d",
							ours, kernel, ours.TxBytes-kernel.TxBytes, hdr, ours.TxPackets-kernel.TxPackets)
					}
				} else {
					if ours.RxPackets <= kernel.RxPackets {
						t.Errorf("no super-packets seen: %d segments counted, veth received %d packets", ours.RxPackets, kernel.RxPackets)
					}
					if ours.RxBytes-kernel.RxBytes != hdr*(ours.RxPackets-kernel.RxPackets) {
						t.Errorf("rx: ours %+v, kernel %+v: extra bytes %d != %d * extra segments %d",
							ours, kernel, ours.RxBytes-kernel.RxBytes, hdr, ours.RxPackets-kernel.RxPackets)
					}
				}
			}
		})
	}
}
