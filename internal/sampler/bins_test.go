package sampler

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/netwatch-dev/netwatch/internal/clock"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

// fakeGuard is how long after its end the fake takes a bin as complete, as
// the ebpf backend does.
const fakeGuard = time.Millisecond

// fakeBins serves a scripted bin stream: bin n of interface i counts
// perBin(i, n). ReadBins returns every bin completed by the fake clock (a
// lost bin comes back zeroed and flagged, as a bin the kernel overwrote);
// Read returns the kernel's exact cumulative counters, which include every
// packet of every bin from the first one (lost ones too) up to the bin in
// progress.
type fakeBins struct {
	width  time.Duration
	clk    *fakeClock
	next   uint64 // first bin not yet returned
	origin uint64 // first bin the kernel counters count (set on first use)
	ifaces []string
	perBin func(iface int, bin uint64) stats.Counters
	lost   func(iface int, bin uint64) bool
	// name renames interfaces over time (nil: ifaces[i] throughout).
	name func(iface int, now time.Duration) string
	// alive says whether interface i exists at now (nil: always).
	alive func(iface int, now time.Duration) bool
	span  time.Duration // BinSpan
	// netns, when set, puts interface i in namespace netns(i), every one
	// with ifindex 2 (the same index in each namespace).
	netns func(iface int) string
	reads int
	empty int // ReadBins calls that returned no bins
}

func (f *fakeBins) Source() stats.Source      { return stats.Source{Backend: "ebpf", Attach: "tcx"} }
func (f *fakeBins) Resolution() time.Duration { return f.width }
func (f *fakeBins) BinSpan() time.Duration    { return f.span }

func (f *fakeBins) ifName(i int) string {
	if f.name != nil {
		return f.name(i, f.clk.now)
	}
	return f.ifaces[i]
}

func (f *fakeBins) ReadBins() (stats.Bins, error) {
	f.reads++
	if f.origin == 0 {
		f.origin = f.next
	}
	end := uint64(0)
	if f.clk.now > fakeGuard {
		end = uint64((f.clk.now - fakeGuard) / f.width)
	}
	end = max(end, f.next)
	b := stats.Bins{Width: f.width, First: f.next, Count: int(end - f.next)}
	if b.Count == 0 {
		f.empty++
		return b, nil // like the ebpf backend: no bins, no interfaces
	}
	for i := range f.ifaces {
		if f.alive != nil && !f.alive(i, f.clk.now) {
			continue
		}
		ib := stats.InterfaceBins{Name: f.ifName(i), Index: f.index(i)}
		if f.netns != nil {
			ib.Netns = f.netns(i)
		}
		for n := f.next; n < end; n++ {
			c := f.perBin(i, n)
			if f.lost != nil && f.lost(i, n) {
				if ib.Lost == nil {
					ib.Lost = make([]bool, b.Count)
				}
				ib.Lost[n-f.next] = true
				c = stats.Counters{}
			}
			ib.Bins = append(ib.Bins, c)
		}
		b.Interfaces = append(b.Interfaces, ib)
	}
	f.next = end
	return b, nil
}

func (f *fakeBins) index(i int) int {
	if f.netns != nil {
		return 2
	}
	return i + 2
}

// kernel is interface i's exact cumulative counters at the fake clock's now.
func (f *fakeBins) kernel(i int) stats.Counters {
	var c stats.Counters
	for n := f.origin; n <= uint64(f.clk.now/f.width); n++ {
		c = addCounters(c, f.perBin(i, n))
	}
	return c
}

func (f *fakeBins) Read(ctx context.Context) (stats.Snapshot, error) {
	if f.origin == 0 {
		f.origin = f.next
	}
	s := stats.Snapshot{Mono: f.clk.now}
	for i := range f.ifaces {
		if f.alive != nil && !f.alive(i, f.clk.now) {
			continue
		}
		ic := stats.InterfaceCounters{Name: f.ifName(i), Index: f.index(i), Counters: f.kernel(i)}
		if f.netns != nil {
			ic.Netns = f.netns(i)
		}
		s.Interfaces = append(s.Interfaces, ic)
	}
	return s, nil
}

func runBins(t *testing.T, f *fakeBins, cfg BinConfig) []stats.Sample {
	t.Helper()
	wall := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	startMono := f.clk.now
	cfg.now = func() clock.Reading { return clock.Reading{Mono: f.clk.now, Wall: wall.Add(f.clk.now - startMono)} }
	cfg.sleepUntil = f.clk.SleepUntil
	var out []stats.Sample
	if err := RunBins(context.Background(), f, cfg, func(s stats.Sample) error { out = append(out, s); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// burst: interface 0 sends 1000 bytes in 10 packets in every 5th bin,
// nothing otherwise; interface 1 is idle.
func burst(iface int, bin uint64) stats.Counters {
	if iface == 0 && bin%5 == 0 {
		return stats.Counters{RxBytes: 1000, RxPackets: 10, TxBytes: 100, TxPackets: 1}
	}
	return stats.Counters{}
}

func TestBinsOneSamplePerBin(t *testing.T) {
	ms := time.Millisecond
	f := &fakeBins{width: ms, clk: &fakeClock{now: 1000*ms + 300*time.Microsecond}, next: 900, ifaces: []string{"veth0", "idle0"}, perBin: burst}
	got := runBins(t, f, BinConfig{Interval: ms, Count: 10})
	if len(got) != 10 {
		t.Fatalf("%d samples, want 10", len(got))
	}
	prev := uint64(0)
	for i, s := range got {
		bin := uint64(1001 + i)
		if s.Interval != ms || s.Resolution != ms || !s.ExactBins {
			t.Fatalf("sample %d: interval %v resolution %v exact %v", i, s.Interval, s.Resolution, s.ExactBins)
		}
		wantTime := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC).Add(time.Duration(bin+1)*ms - (1000*ms + 300*time.Microsecond))
		if !s.Time.Equal(wantTime) {
			t.Errorf("sample %d time %v, want the bin's end %v", i, s.Time, wantTime)
		}
		if len(s.Interfaces) != 2 {
			t.Fatalf("sample %d has %d interfaces; idle ones must be emitted too", i, len(s.Interfaces))
		}
		v := s.Interfaces[0]
		if bin%5 == 0 {
			if v.RxBytesPerSec != 1e6 || v.RxPacketsPerSec != 1e4 {
				t.Errorf("burst bin %d: rates %+v", bin, v.Rates)
			}
		} else if v.RxBytesPerSec != 0 {
			t.Errorf("idle bin %d: rate %v", bin, v.RxBytesPerSec)
		}
		// The kernel's counters, read after the bin completed: they
		// include at least every bin up to this one.
		atLeast := uint64(0)
		for n := uint64(900); n <= bin; n++ {
			atLeast += burst(0, n).RxBytes
		}
		if v.RxBytes < atLeast || v.RxBytes < prev {
			t.Errorf("bin %d cumulative rx %d, want >= %d and >= the previous %d", bin, v.RxBytes, atLeast, prev)
		}
		prev = v.RxBytes
		if v.Summary != nil {
			t.Errorf("one-bin samples carry no summary")
		}
	}
	if last := got[len(got)-1].Interfaces[0].Counters; last != f.kernel(0) {
		t.Errorf("last sample's counters %+v, want the kernel's %+v", last, f.kernel(0))
	}
}

func TestBinsSummaryAndAlignment(t *testing.T) {
	ms := time.Millisecond
	f := &fakeBins{width: ms, clk: &fakeClock{now: 2000*ms + 10*time.Microsecond}, next: 2000, ifaces: []string{"veth0", "idle0"}, perBin: burst}
	got := runBins(t, f, BinConfig{
		Interval:       104 * ms, // rounds to 104 bins
		Count:          3,
		BurstThreshold: func(string) float64 { return 5e5 },
		LinkSpeed:      func(name string) float64 { return map[string]float64{"veth0": 1.25e6}[name] },
	})
	if len(got) != 3 {
		t.Fatalf("%d samples, want 3", len(got))
	}
	for i, s := range got {
		if s.Interval != 104*ms {
			t.Fatalf("interval %v, want 104ms", s.Interval)
		}
		v := s.Interfaces[0]
		first := uint64(2001 + 104*i)
		bursts := 0
		for n := first; n < first+104; n++ {
			bursts += int(burst(0, n).RxPackets / 10)
		}
		if v.Summary == nil {
			t.Fatalf("sample %d lacks its summary", i)
		}
		sum := v.Summary
		if sum.Bins != 104 || sum.Rx.Bursts != bursts || sum.Rx.PeakBytesPerSec != 1e6 || sum.Rx.P99BytesPerSec != 1e6 {
			t.Errorf("sample %d summary %+v, want 104 bins, %d bursts, peak=p99=1e6", i, *sum, bursts)
		}
		if bursts != 20 && bursts != 21 {
			t.Errorf("sample %d: %d bursts in 104 bins, want 20 or 21", i, bursts)
		}
		if want := float64(bursts) * 1000 / 0.104; v.RxBytesPerSec != want {
			t.Errorf("average %v, want %v", v.RxBytesPerSec, want)
		}
		if sum.Rx.PeakUtilization != 0.8 || sum.Rx.Utilization != v.RxBytesPerSec/1.25e6 {
			t.Errorf("utilisation %+v", sum.Rx)
		}
		if idle := s.Interfaces[1].Summary; idle.Rx.Bursts != 0 || idle.LinkBytesPerSec != 0 || idle.Rx.Utilization != 0 {
			t.Errorf("idle interface summary %+v", idle)
		}
	}
}

func TestBinsLostAreReported(t *testing.T) {
	ms := time.Millisecond
	f := &fakeBins{width: ms, clk: &fakeClock{now: 100 * ms}, next: 100, ifaces: []string{"veth0"}, perBin: burst,
		lost: func(_ int, bin uint64) bool { return bin == 105 || bin == 103 }} // sample 1 covers bins 101..105
	got := runBins(t, f, BinConfig{Interval: 5 * ms, Count: 2})
	if got[0].Interfaces[0].LostBins != 2 || got[1].Interfaces[0].LostBins != 0 {
		t.Fatalf("lost bins = %d, %d; want 2, 0", got[0].Interfaces[0].LostBins, got[1].Interfaces[0].LostBins)
	}
	// Bin 105 was a burst: the rate misses it, the counters do not.
	if v := got[0].Interfaces[0]; v.RxBytesPerSec != 0 || v.RxBytes < 2000 {
		t.Errorf("sample with a lost burst: rate %v (want 0: incomplete), rx_bytes %d (want the kernel's, >= 2000)", v.RxBytesPerSec, v.RxBytes)
	}
}

// A paused reader loses bins; the totals must still be the kernel's and the
// per-sample differences must add up to the kernel's delta.
func TestBinsPausedReaderKeepsTotals(t *testing.T) {
	ms := time.Millisecond
	clk := &fakeClock{now: 10 * ms}
	clk.lag = func(tick int) time.Duration {
		if tick == 3 {
			return 700 * ms // SIGSTOP
		}
		return 0
	}
	steady := func(_ int, _ uint64) stats.Counters {
		return stats.Counters{RxBytes: 100, RxPackets: 1, TxBytes: 200, TxPackets: 2}
	}
	f := &fakeBins{width: ms, clk: clk, next: 10, ifaces: []string{"veth0"}, perBin: steady, span: 250 * ms,
		lost: func(_ int, bin uint64) bool { return bin >= 300 && bin < 600 }}
	got := runBins(t, f, BinConfig{Interval: 100 * ms, Count: 12})
	lost := 0
	var rateBytes float64
	for _, s := range got {
		lost += s.Interfaces[0].LostBins
		rateBytes += s.Interfaces[0].RxBytesPerSec * s.Interval.Seconds()
	}
	if lost != 300 {
		t.Errorf("lost bins %d, want 300", lost)
	}
	first, last := got[0].Interfaces[0].Counters, got[len(got)-1].Interfaces[0].Counters
	if last != f.kernel(0) {
		t.Fatalf("final counters %+v, want the kernel's %+v", last, f.kernel(0))
	}
	if first.RxBytes > last.RxBytes || int(rateBytes) >= int(last.RxBytes) {
		t.Errorf("rates (%v bytes) must miss the lost bins, totals (%d) must not", rateBytes, last.RxBytes)
	}
}

// An idle link: reads that find no completed bin (the ebpf backend then
// lists no interface) must not make interfaces vanish or counters restart.
func TestBinsIdleKeepsInterfaces(t *testing.T) {
	ms := time.Millisecond
	once := func(_ int, bin uint64) stats.Counters {
		if bin == 1003 {
			return stats.Counters{RxBytes: 2807148, RxPackets: 1900}
		}
		return stats.Counters{}
	}
	f := &fakeBins{width: ms, clk: &fakeClock{now: 1000 * ms}, next: 1000, ifaces: []string{"vb"}, perBin: once, span: 3 * ms}
	got := runBins(t, f, BinConfig{Interval: ms, Count: 200})
	if f.empty == 0 {
		t.Fatal("the test never read an empty batch; it would not catch the bug")
	}
	var prev uint64
	for i, s := range got {
		if len(s.Interfaces) != 1 {
			t.Fatalf("sample %d: %d interfaces, want the idle one", i, len(s.Interfaces))
		}
		rx := s.Interfaces[0].RxBytes
		if rx < prev {
			t.Fatalf("sample %d: rx_bytes fell from %d to %d", i, prev, rx)
		}
		prev = rx
	}
	if prev != 2807148 {
		t.Errorf("final rx_bytes %d, want 2807148", prev)
	}
}

// A rename keeps the interface (its ifindex), its counters and its samples;
// the new name shows from the next sample.
func TestBinsRenameKeepsCounters(t *testing.T) {
	ms := time.Millisecond
	steady := func(_ int, _ uint64) stats.Counters { return stats.Counters{TxBytes: 100, TxPackets: 1} }
	f := &fakeBins{width: ms, clk: &fakeClock{now: 100 * ms}, next: 100, ifaces: []string{"a"}, perBin: steady,
		name: func(_ int, now time.Duration) string {
			switch {
			case now < 130*ms:
				return "a"
			case now < 160*ms:
				return "b"
			}
			return "c"
		}}
	got := runBins(t, f, BinConfig{Interval: 10 * ms, Count: 9})
	if len(got) != 9 {
		t.Fatalf("%d samples, want 9", len(got))
	}
	var names []string
	var prev uint64
	for i, s := range got {
		if len(s.Interfaces) != 1 {
			t.Fatalf("sample %d dropped the renamed interface", i)
		}
		v := s.Interfaces[0]
		names = append(names, v.Name)
		if v.TxPackets < prev || v.TxPacketsPerSec != 1000 {
			t.Fatalf("sample %d: tx_packets %d after %d, rate %v", i, v.TxPackets, prev, v.TxPacketsPerSec)
		}
		prev = v.TxPackets
	}
	if names[0] != "a" || names[len(names)-1] != "c" {
		t.Errorf("names %v, want a ... c", names)
	}
	if prev != f.kernel(0).TxPackets {
		t.Errorf("final tx_packets %d, want the kernel's %d", prev, f.kernel(0).TxPackets)
	}
}

// The loop wakes once per sample when the storage covers the interval.
func TestBinsWakeOncePerSample(t *testing.T) {
	ms := time.Millisecond
	f := &fakeBins{width: ms, clk: &fakeClock{now: 5 * time.Second}, next: 5000, ifaces: []string{"lo"}, perBin: burst}
	got := runBins(t, f, BinConfig{Interval: time.Second, Count: 5})
	if len(got) != 5 || f.reads != 5 {
		t.Errorf("%d samples from %d reads, want 5 from 5", len(got), f.reads)
	}
	f = &fakeBins{width: ms, clk: &fakeClock{now: 5 * time.Second}, next: 5000, ifaces: []string{"lo"}, perBin: burst, span: 250 * ms}
	runBins(t, f, BinConfig{Interval: time.Second, Count: 2})
	if f.reads < 16 || f.reads > 17 {
		t.Errorf("%d reads for 2 s with a 250 ms storage, want one every 125 ms (16 or 17)", f.reads)
	}
}

func TestBinsDurationAndErrors(t *testing.T) {
	ms := time.Millisecond
	f := &fakeBins{width: 100 * time.Microsecond, clk: &fakeClock{now: 50 * ms}, next: 500, ifaces: []string{"a"}, perBin: burst}
	if got := runBins(t, f, BinConfig{Interval: ms, Duration: 20 * ms}); len(got) != 20 {
		t.Fatalf("%d samples in 20ms at 1ms, want 20", len(got))
	}
	// The polling loop's rule: whole intervals within the duration.
	f = &fakeBins{width: ms, clk: &fakeClock{now: 50 * ms}, next: 50, ifaces: []string{"a"}, perBin: burst}
	if got := runBins(t, f, BinConfig{Interval: time.Second, Duration: 2500 * ms}); len(got) != 2 {
		t.Fatalf("%d samples for -n 1s -d 2500ms, want 2", len(got))
	}
	if BinsPerSample(1500*time.Microsecond, ms) != 2 || BinsPerSample(ms, 0) != 1 || BinsPerSample(10*time.Microsecond, ms) != 1 {
		t.Fatal("BinsPerSample rounding")
	}
	err := RunBins(context.Background(), &fakeBins{clk: &fakeClock{}}, BinConfig{Interval: ms}, nil)
	if err == nil {
		t.Fatal("a backend without bins accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f = &fakeBins{width: ms, clk: &fakeClock{}, ifaces: []string{"a"}, perBin: burst}
	if err := RunBins(ctx, f, BinConfig{Interval: ms}, nil); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: %v", err)
	}
}
