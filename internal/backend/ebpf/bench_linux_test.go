package ebpf

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/netwatch-dev/netwatch/internal/backend/procfs"
	"github.com/netwatch-dev/netwatch/internal/clock"
	"github.com/netwatch-dev/netwatch/internal/ifsel"
	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
	"github.com/vishvananda/netlink"
)

// benchRepeat is how many times the kernel runs a program per measurement;
// XDP measurements repeat xdpRepeat times, at most xdpRounds per benchmark.
const (
	benchRepeat = 1000
	xdpRepeat   = 200000
	xdpRounds   = 10
)

// progCost runs prog benchRepeat times inside ns (no ctx: the packet comes
// from the namespace's lo, ifindex 1) and returns the kernel-measured time
// per run.
func progCost(b *testing.B, ns *netnstest.NS, prog *ebpf.Program, data []byte, repeat int, want uint32) time.Duration {
	var per time.Duration
	err := ns.Do(func() error {
		ret, d, err := prog.Benchmark(data, repeat, nil)
		if err == nil && ret != want {
			err = fmt.Errorf("verdict %d, want %d", ret, want)
		}
		per = d
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return per
}

// BenchmarkProg measures the per-packet cost of the counting programs with
// bins off and on against empty programs of the same type, interleaved
// round by round so that machine noise hits all alike. One op is one round
// of benchRepeat runs of each program; the metrics are ns per packet and
// ratios to empty (ns/op is not meaningful and reported as 0).
//
// An XDP test run costs tens of milliseconds of setup in the kernel whatever
// the repeat count, so the XDP rounds are capped at xdpRounds with a longer
// repeat each.
func BenchmarkProg(b *testing.B) {
	p := netnstest.NewPair(b)
	var empty benchObjects
	if err := loadBenchObjects(&empty, nil); err != nil {
		b.Fatal(err)
	}
	defer empty.Close()
	off := testObjects(b, 0)
	on := testObjects(b, int64(time.Millisecond))
	for _, o := range []*objects{off, on} {
		if err := o.addInterface(1, 0); err != nil { // lo: where test_run's packets come from
			b.Fatal(err)
		}
	}
	data := frame{payload: 64}.bytes()
	const tcUnspec, xdpPass = ^uint32(0), 2

	for _, typ := range []struct {
		name           string
		empty, off, on *ebpf.Program
		want           uint32
		repeat, rounds int
		clock          *ebpf.Program // empty program plus bpf_ktime_get_ns
	}{
		{"tc", empty.EmptyTc, off.NetwatchTcIn, on.NetwatchTcIn, tcUnspec, benchRepeat, 0, empty.ClockTc},
		{"xdp", empty.EmptyXdp, off.NetwatchXdp, on.NetwatchXdp, xdpPass, xdpRepeat, xdpRounds, nil},
	} {
		b.Run(typ.name, func(b *testing.B) {
			var tEmpty, tOff, tOn, tClock time.Duration
			rounds := 0
			for b.Loop() {
				if typ.rounds > 0 && rounds >= typ.rounds {
					continue
				}
				rounds++
				tEmpty += progCost(b, p.A, typ.empty, data, typ.repeat, typ.want)
				tOff += progCost(b, p.A, typ.off, data, typ.repeat, typ.want)
				tOn += progCost(b, p.A, typ.on, data, typ.repeat, typ.want)
				if typ.clock != nil {
					tClock += progCost(b, p.A, typ.clock, data, typ.repeat, typ.want)
				}
			}
			n := float64(rounds)
			b.ReportMetric(float64(tEmpty.Nanoseconds())/n, "empty-ns/pkt")
			b.ReportMetric(float64(tOff.Nanoseconds())/n, "counter-ns/pkt")
			b.ReportMetric(float64(tOn.Nanoseconds())/n, "bins-ns/pkt")
			b.ReportMetric(float64(tOff)/float64(tEmpty), "counter/empty")
			b.ReportMetric(float64(tOn)/float64(tEmpty), "bins/empty")
			if typ.clock != nil {
				b.ReportMetric(float64(tClock.Nanoseconds())/n, "clock-ns/pkt")
				// What bins cost beyond the clock read they cannot do
				// without: the counting program with bins against the
				// empty program plus the clock read.
				b.ReportMetric(float64(tOn)/float64(tClock), "bins/clock")
			}
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkPoll measures one poll of N interfaces with the ebpf backend's
// reader against one procfs read+parse of the same N dummy interfaces in a
// namespace, interleaved. One op is one poll of each; the metrics are the
// cost of one poll and the ratio.
func BenchmarkPoll(b *testing.B) {
	for _, n := range []int{1, 16, 256} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			p := netnstest.NewPair(b)
			o := testObjects(b, 0)
			tbl := newTable(o, clock.Monotonic())
			for i := range n {
				// veth pairs: the dummy driver may not be available.
				name := fmt.Sprintf("nwd%d", i)
				veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: name}, PeerName: fmt.Sprintf("nwp%d", i)}
				if err := p.A.Netlink().LinkAdd(veth); err != nil {
					b.Fatal(err)
				}
				l, err := p.A.Netlink().LinkByName(name)
				if err != nil {
					b.Fatal(err)
				}
				if err := tbl.add(name, l.Attrs().Index, nil); err != nil {
					b.Fatal(err)
				}
			}
			sel, err := ifsel.New([]string{"nwd*"}, nil)
			if err != nil {
				b.Fatal(err)
			}
			var pb *procfs.Backend
			err = p.A.Do(func() (err error) {
				// thread-self: the namespace of this thread, bound at open.
				pb, err = procfs.Open(procfs.Options{Root: "/proc/thread-self", Selector: sel, IndexOf: func(string) int { return 0 }})
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
			defer pb.Close()

			ctx := context.Background()
			var tE, tP time.Duration
			for b.Loop() {
				t0 := time.Now()
				snap, err := tbl.read()
				t1 := time.Now()
				psnap, perr := pb.Read(ctx)
				t2 := time.Now()
				if err != nil || perr != nil {
					b.Fatal(err, perr)
				}
				if len(snap.Interfaces) != n || len(psnap.Interfaces) != n {
					b.Fatalf("ebpf read %d interfaces, procfs %d, want %d", len(snap.Interfaces), len(psnap.Interfaces), n)
				}
				tE += t1.Sub(t0)
				tP += t2.Sub(t1)
			}
			k := float64(b.N)
			b.ReportMetric(float64(tE.Nanoseconds())/k, "ebpf-ns/poll")
			b.ReportMetric(float64(tP.Nanoseconds())/k, "procfs-ns/poll")
			b.ReportMetric(float64(tP)/float64(tE), "procfs/ebpf")
			b.ReportMetric(0, "ns/op")
		})
	}
}
