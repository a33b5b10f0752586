package backend_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	vnl "github.com/vishvananda/netlink"

	"github.com/netwatch-dev/netwatch/internal/backend"
	"github.com/netwatch-dev/netwatch/internal/backend/ebpf"
	"github.com/netwatch-dev/netwatch/internal/backend/netlink"
	"github.com/netwatch-dev/netwatch/internal/backend/procfs"
	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
)

// BenchmarkRead measures one Read of every interface of a namespace holding
// exactly N interfaces (lo, the pair's veth end and veth pairs of its own;
// the dummy driver may be missing) with each backend, interleaved read by
// read so that noise on a shared machine hits all alike. One op is one read
// with each backend; the metrics are µs per read and the ratios.
//
// ebpf reads its per-CPU counters through mmap (no bins: --resolution 0);
// netlink runs one RTM_GETSTATS dump; procfs reads and parses
// /proc/thread-self/net/dev. procfs's ifindex lookups (once a second, by
// name) are left out: IndexOf returns 0.
func BenchmarkRead(b *testing.B) {
	for _, n := range []int{4, 100, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			p := netnstest.NewPair(b) // lo + nw-veth-a in A
			h := p.A.Netlink()
			for i := range (n - 2) / 2 {
				veth := &vnl.Veth{LinkAttrs: vnl.LinkAttrs{Name: fmt.Sprintf("nwb%d", i)}, PeerName: fmt.Sprintf("nwc%d", i)}
				if err := h.LinkAdd(veth); err != nil {
					b.Fatal(err)
				}
			}
			ctx := context.Background()
			var bes [3]backend.Backend
			err := p.A.Do(func() error {
				e, err := ebpf.Open(ctx, ebpf.Config{})
				if err != nil {
					return err
				}
				bes[0] = e
				nlb, err := netlink.Open(netlink.Options{})
				if err != nil {
					return err
				}
				bes[1] = nlb
				// thread-self: the namespace of this thread, bound at open.
				pb, err := procfs.Open(procfs.Options{Root: "/proc/thread-self", IndexOf: func(string) int { return 0 }})
				if err != nil {
					return err
				}
				bes[2] = pb
				return nil
			})
			for _, be := range bes {
				if be != nil {
					defer be.Close()
				}
			}
			if err != nil {
				b.Fatal(err)
			}
			var took [3]time.Duration
			for b.Loop() {
				for i, be := range bes {
					t0 := time.Now()
					snap, err := be.Read(ctx)
					took[i] += time.Since(t0)
					if err != nil {
						b.Fatal(err)
					}
					if len(snap.Interfaces) != n {
						b.Fatalf("%s read %d interfaces, want %d", be.Source().Backend, len(snap.Interfaces), n)
					}
				}
			}
			k := float64(b.N)
			for i, name := range []string{"ebpf", "netlink", "procfs"} {
				b.ReportMetric(float64(took[i].Nanoseconds())/1e3/k, name+"-µs/read")
			}
			b.ReportMetric(float64(took[1])/float64(took[0]), "netlink/ebpf")
			b.ReportMetric(float64(took[2])/float64(took[1]), "procfs/netlink")
			b.ReportMetric(0, "ns/op")
		})
	}
}
