package sampler

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/netwatch-dev/netwatch/internal/clock"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

// fakeBins serves a scripted bin stream: bin n of interface i counts
// perBin(i, n). Each ReadBins returns every bin completed by the fake clock.
type fakeBins struct {
	width  time.Duration
	clk    *fakeClock
	next   uint64 // first bin not yet returned
	ifaces []string
	perBin func(iface int, bin uint64) stats.Counters
	lost   func(iface int, bin uint64) bool
	reads  int
}

func (f *fakeBins) Source() stats.Source      { return stats.Source{Backend: "ebpf", Attach: "tcx"} }
func (f *fakeBins) Resolution() time.Duration { return f.width }

func (f *fakeBins) ReadBins() (stats.Bins, error) {
	f.reads++
	end := uint64(f.clk.now / f.width) // bins before the current one are complete
	b := stats.Bins{Width: f.width, First: f.next, Count: int(end - f.next)}
	for i, name := range f.ifaces {
		ib := stats.InterfaceBins{Name: name, Index: i + 2}
		for n := f.next; n < end; n++ {
			ib.Bins = append(ib.Bins, f.perBin(i, n))
			if f.lost != nil && f.lost(i, n) {
				if ib.Lost == nil {
					ib.Lost = make([]bool, b.Count)
				}
				ib.Lost[n-f.next] = true
			}
		}
		b.Interfaces = append(b.Interfaces, ib)
	}
	f.next = end
	return b, nil
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
	// Cumulative counters include the 100 bins before the first sample:
	// bins 900..1000 hold 21 bursts (900, 905, ..., 1000).
	cum := uint64(21 * 1000)
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
			cum += 1000
			if v.RxBytesPerSec != 1e6 || v.RxPacketsPerSec != 1e4 {
				t.Errorf("burst bin %d: rates %+v", bin, v.Rates)
			}
		} else if v.RxBytesPerSec != 0 {
			t.Errorf("idle bin %d: rate %v", bin, v.RxBytesPerSec)
		}
		if v.RxBytes != cum {
			t.Errorf("bin %d cumulative rx %d, want %d", bin, v.RxBytes, cum)
		}
		if v.Summary != nil {
			t.Errorf("one-bin samples carry no summary")
		}
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
	prevRx := uint64(1000) // bin 2000 is a burst before the first sample
	for i, s := range got {
		if s.Interval != 104*ms {
			t.Fatalf("interval %v, want 104ms", s.Interval)
		}
		v := s.Interfaces[0]
		bursts := int(v.RxBytes-prevRx) / 1000
		prevRx = v.RxBytes
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
		lost: func(_ int, bin uint64) bool { return bin == 102 || bin == 103 }} // sample 1 covers bins 101..105
	got := runBins(t, f, BinConfig{Interval: 5 * ms, Count: 2})
	if got[0].Interfaces[0].LostBins != 2 || got[1].Interfaces[0].LostBins != 0 {
		t.Fatalf("lost bins = %d, %d; want 2, 0", got[0].Interfaces[0].LostBins, got[1].Interfaces[0].LostBins)
	}
}

func TestBinsDurationAndErrors(t *testing.T) {
	ms := time.Millisecond
	f := &fakeBins{width: 100 * time.Microsecond, clk: &fakeClock{now: 50 * ms}, next: 500, ifaces: []string{"a"}, perBin: burst}
	if got := runBins(t, f, BinConfig{Interval: ms, Duration: 20 * ms}); len(got) != 20 {
		t.Fatalf("%d samples in 20ms at 1ms, want 20", len(got))
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
