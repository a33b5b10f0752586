package sampler

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netwatch-dev/netwatch/internal/clock"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

// fakeClock is a monotonic clock that only moves when the sampler sleeps.
type fakeClock struct {
	now   time.Duration
	lag   func(tick int) time.Duration // how late each wake-up is
	ticks int
	sleps []time.Duration // deadlines asked for
}

func (c *fakeClock) Now() time.Duration { return c.now }

func (c *fakeClock) SleepUntil(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.sleps = append(c.sleps, d)
	c.ticks++
	if d > c.now {
		c.now = d
	}
	if c.lag != nil {
		c.now += c.lag(c.ticks)
	}
	return nil
}

// fakeReader returns scripted interface counters, stamped by the fake clock
// plus a per-read offset (the read's own latency).
type fakeReader struct {
	clock  *fakeClock
	script [][]stats.InterfaceCounters
	reads  int
	err    error
}

func (r *fakeReader) Source() stats.Source { return stats.Source{Backend: "fake"} }

func (r *fakeReader) Read(ctx context.Context) (stats.Snapshot, error) {
	if r.err != nil && r.reads > 0 {
		return stats.Snapshot{}, r.err
	}
	i := min(r.reads, len(r.script)-1)
	r.reads++
	return stats.Snapshot{Mono: r.clock.now, Wall: time.Unix(0, int64(r.clock.now)).UTC(), Interfaces: r.script[i]}, nil
}

func ifc(name string, index int, rxB, rxP, txB, txP uint64) stats.InterfaceCounters {
	return stats.InterfaceCounters{Name: name, Index: index, Counters: stats.Counters{RxBytes: rxB, RxPackets: rxP, TxBytes: txB, TxPackets: txP}}
}

func run(t *testing.T, r *fakeReader, cfg Config) []stats.Sample {
	t.Helper()
	cfg.now, cfg.sleepUntil = r.clock.Now, r.clock.SleepUntil
	var out []stats.Sample
	if err := Run(context.Background(), r, cfg, func(s stats.Sample) error { out = append(out, s); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRatesUseMeasuredInterval(t *testing.T) {
	clk := &fakeClock{now: time.Second, lag: func(tick int) time.Duration {
		return []time.Duration{0, 50 * time.Millisecond, 0, 250 * time.Millisecond}[tick%4]
	}}
	r := &fakeReader{clock: clk, script: [][]stats.InterfaceCounters{
		{ifc("eth0", 2, 0, 0, 0, 0)},
		{ifc("eth0", 2, 1050, 10, 2100, 21)}, // 1.05 s later
		{ifc("eth0", 2, 1950, 19, 2100, 21)}, // 0.90 s: grid restores
		{ifc("eth0", 2, 3200, 30, 2200, 22)}, // 1.25 s late wake-up
		{ifc("eth0", 2, 3200, 30, 2200, 22)}, // idle
	}}
	got := run(t, r, Config{Interval: time.Second, Count: 4})
	want := []struct {
		interval time.Duration
		rxBps    float64
		txPps    float64
	}{
		{1050 * time.Millisecond, 1000, 20},
		{950 * time.Millisecond, 900 / 0.95, 0},
		{1250 * time.Millisecond, 1250 / 1.25, 1 / 1.25},
		{750 * time.Millisecond, 0, 0},
	}
	if len(got) != len(want) {
		t.Fatalf("%d samples, want %d", len(got), len(want))
	}
	for i, w := range want {
		s := got[i]
		if s.Interval != w.interval || s.Resolution != w.interval {
			t.Errorf("sample %d interval = %v resolution %v, want %v", i, s.Interval, s.Resolution, w.interval)
		}
		ifs := s.Interfaces[0]
		if !near(ifs.RxBytesPerSec, w.rxBps) || !near(ifs.TxPacketsPerSec, w.txPps) {
			t.Errorf("sample %d rates rx=%v B/s tx=%v pkt/s, want %v, %v", i, ifs.RxBytesPerSec, ifs.TxPacketsPerSec, w.rxBps, w.txPps)
		}
		if s.Backend != "fake" {
			t.Errorf("sample %d source %+v", i, s.Source)
		}
	}
	if got[2].Interfaces[0].RxBytes != 3200 {
		t.Errorf("cumulative counters not carried: %+v", got[2].Interfaces[0])
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// TestScheduleDoesNotDrift: every deadline lies on the grid start+k*interval
// however late the wake-ups are, and missed ticks are skipped, not bunched.
func TestScheduleDoesNotDrift(t *testing.T) {
	clk := &fakeClock{now: 0, lag: func(tick int) time.Duration {
		if tick == 5 {
			return 3500 * time.Microsecond // a stall until 8.5ms: ticks 6, 7 and 8 are missed
		}
		return 300 * time.Microsecond
	}}
	r := &fakeReader{clock: clk, script: [][]stats.InterfaceCounters{{ifc("lo", 1, 0, 0, 0, 0)}}}
	run(t, r, Config{Interval: time.Millisecond, Count: 1000})
	for i, d := range clk.sleps {
		if d%time.Millisecond != 0 {
			t.Fatalf("deadline %d = %v is off the 1ms grid", i, d)
		}
		if i > 0 && d <= clk.sleps[i-1] {
			t.Fatalf("deadline %d = %v not after %v", i, d, clk.sleps[i-1])
		}
	}
	if last := clk.sleps[len(clk.sleps)-1]; last != 1003*time.Millisecond {
		t.Fatalf("after 1000 samples with 3 skipped ticks the last deadline is %v, want 1.003s", last)
	}
}

func TestResetsAppearVanish(t *testing.T) {
	clk := &fakeClock{}
	r := &fakeReader{clock: clk, script: [][]stats.InterfaceCounters{
		{ifc("eth0", 2, 100, 1, 100, 1), ifc("eth1", 3, 500, 5, 0, 0)},
		// eth0 counters go backwards (reset); eth1 vanishes; eth2 appears
		{ifc("eth0", 2, 10, 1, 100, 1), ifc("eth2", 4, 7, 7, 7, 7)},
		// eth0 from its new baseline; eth2 from its baseline; eth1 is back
		{ifc("eth0", 2, 1010, 2, 100, 1), ifc("eth1", 3, 900, 9, 0, 0), ifc("eth2", 4, 8, 8, 8, 8)},
		// eth1 recreated with a new index: re-baselined, not compared
		{ifc("eth0", 2, 1010, 2, 100, 1), ifc("eth1", 9, 1000, 10, 0, 0), ifc("eth2", 4, 8, 8, 8, 8)},
		// 32-bit wrap on tx of eth2: treated as reset, never a spike
		{ifc("eth0", 2, 1010, 2, 100, 1), ifc("eth1", 9, 1100, 11, 0, 0), ifc("eth2", 4, 9, 9, 2, 9)},
	}}
	got := run(t, r, Config{Interval: time.Second, Count: 4})
	names := func(s stats.Sample) string {
		var n []string
		for _, i := range s.Interfaces {
			n = append(n, i.Name)
		}
		return strings.Join(n, ",")
	}
	wantNames := []string{"", "eth0,eth2", "eth0,eth2", "eth0,eth1"}
	for i, w := range wantNames {
		if names(got[i]) != w {
			t.Errorf("sample %d interfaces = %q, want %q", i, names(got[i]), w)
		}
	}
	if rx := got[1].Interfaces[0].RxBytesPerSec; rx != 1000 {
		t.Errorf("eth0 after reset: rx %v B/s, want 1000", rx)
	}
	if rx := got[3].Interfaces[1].RxBytesPerSec; rx != 100 {
		t.Errorf("recreated eth1: rx %v B/s, want 100", rx)
	}
	for _, s := range got {
		for _, i := range s.Interfaces {
			if i.RxBytesPerSec < 0 || i.TxBytesPerSec < 0 || i.RxBytesPerSec > 1e6 || i.TxBytesPerSec > 1e6 {
				t.Errorf("spike or negative rate %+v", i)
			}
		}
	}
	if got[1].Interfaces == nil || got[0].Interfaces == nil {
		t.Error("interfaces must be an empty slice, not nil")
	}
}

// TestNoShortIntervals: at 1 ms, a wake-up that comes late (just before the
// next tick) must not be followed by a read microseconds later; the skipped
// ticks merge into one longer interval, and none is under half the nominal.
func TestNoShortIntervals(t *testing.T) {
	ms := time.Millisecond
	clk := &fakeClock{lag: func(tick int) time.Duration {
		switch tick % 7 {
		case 3:
			return 995 * time.Microsecond // woke just before the next tick
		case 5:
			return 2*ms + 400*time.Microsecond // descheduled across two ticks
		}
		return 20 * time.Microsecond
	}}
	r := &fakeReader{clock: clk, script: [][]stats.InterfaceCounters{{ifc("lo", 1, 0, 0, 0, 0)}}}
	got := run(t, r, Config{Interval: ms, Count: 500})
	var total time.Duration
	for i, s := range got {
		if s.Interval < ms/2 {
			t.Fatalf("sample %d: interval %v, shorter than half of 1ms", i, s.Interval)
		}
		total += s.Interval
	}
	if last := got[len(got)-1].Time; time.Duration(last.UnixNano()) != total {
		t.Errorf("intervals add up to %v, the run lasted %v: time lost or counted twice", total, time.Duration(last.UnixNano()))
	}
}

// TestRenameKeepsCounters: an interface is its ifindex; a rename keeps its
// row and its rates, and the new name shows.
func TestRenameKeepsCounters(t *testing.T) {
	r := &fakeReader{clock: &fakeClock{}, script: [][]stats.InterfaceCounters{
		{ifc("a", 7, 100, 1, 0, 0)},
		{ifc("a", 7, 200, 2, 0, 0)},
		{ifc("b", 7, 300, 3, 0, 0)}, // renamed between reads
		{ifc("c", 7, 400, 4, 0, 0)},
	}}
	got := run(t, r, Config{Interval: time.Second, Count: 3})
	for i, want := range []string{"a", "b", "c"} {
		if len(got[i].Interfaces) != 1 {
			t.Fatalf("sample %d dropped the renamed interface", i)
		}
		v := got[i].Interfaces[0]
		if v.Name != want || v.RxBytesPerSec != 100 || v.RxBytes != uint64(200+100*i) {
			t.Errorf("sample %d: %s rx %d at %v B/s, want %s rx %d at 100 B/s", i, v.Name, v.RxBytes, v.RxBytesPerSec, want, 200+100*i)
		}
	}
}

func TestDurationAndCount(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want int
	}{
		{"count", Config{Interval: 10 * time.Millisecond, Count: 7}, 7},
		{"duration", Config{Interval: 10 * time.Millisecond, Duration: 100 * time.Millisecond}, 10},
		{"duration not a multiple", Config{Interval: 30 * time.Millisecond, Duration: 100 * time.Millisecond}, 3},
		{"count before duration", Config{Interval: 10 * time.Millisecond, Count: 2, Duration: time.Second}, 2},
		{"never past the duration", Config{Interval: time.Second, Duration: 2500 * time.Millisecond}, 2},
		{"shorter than one interval", Config{Interval: time.Second, Duration: 300 * time.Millisecond}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &fakeReader{clock: &fakeClock{}, script: [][]stats.InterfaceCounters{{ifc("lo", 1, 0, 0, 0, 0)}}}
			if got := len(run(t, r, tt.cfg)); got != tt.want {
				t.Fatalf("%d samples, want %d", got, tt.want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	clk := &fakeClock{}
	boom := errors.New("boom")
	r := &fakeReader{clock: clk, script: [][]stats.InterfaceCounters{{}}, err: boom}
	err := Run(context.Background(), r, Config{Interval: time.Millisecond, now: clk.Now, sleepUntil: clk.SleepUntil}, func(stats.Sample) error { return nil })
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "read:") {
		t.Fatalf("read error = %v", err)
	}
	if err := Run(context.Background(), r, Config{}, nil); err == nil {
		t.Fatal("zero interval accepted")
	}
	r = &fakeReader{clock: clk, script: [][]stats.InterfaceCounters{{}}}
	stop := errors.New("stop")
	err = Run(context.Background(), r, Config{Interval: time.Millisecond, now: clk.Now, sleepUntil: clk.SleepUntil}, func(stats.Sample) error { return stop })
	if !errors.Is(err, stop) {
		t.Fatalf("emit error = %v", err)
	}
}

func TestCancelIsClean(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	clk := &fakeClock{}
	r := &fakeReader{clock: clk, script: [][]stats.InterfaceCounters{{ifc("lo", 1, 0, 0, 0, 0)}}}
	n := 0
	err := Run(ctx, r, Config{Interval: time.Millisecond, now: clk.Now, sleepUntil: clk.SleepUntil}, func(stats.Sample) error {
		n++
		if n == 3 {
			cancel()
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Fatalf("after cancel: err=%v samples=%d, want nil and 3", err, n)
	}
}

// TestRealClock runs against the real clock briefly: the measured intervals
// are what rates use, and they are positive.
func TestRealClock(t *testing.T) {
	r := &fakeReader{clock: &fakeClock{}, script: [][]stats.InterfaceCounters{{ifc("lo", 1, 0, 0, 0, 0)}}}
	var got []stats.Sample
	err := Run(context.Background(), realReader{r}, Config{Interval: time.Millisecond, Count: 5}, func(s stats.Sample) error {
		got = append(got, s)
		return nil
	})
	if err != nil || len(got) != 5 {
		t.Fatalf("err=%v samples=%d", err, len(got))
	}
	for _, s := range got {
		if s.Interval <= 0 {
			t.Fatalf("non-positive measured interval %v", s.Interval)
		}
	}
}

type realReader struct{ *fakeReader }

func (r realReader) Read(ctx context.Context) (stats.Snapshot, error) {
	s, err := r.fakeReader.Read(ctx)
	s.Mono = clock.Monotonic()
	return s, err
}

// notifyingReader is a fakeReader whose backend follows link events.
type notifyingReader struct {
	*fakeReader
	changed chan struct{}
}

func (r notifyingReader) LinksChanged() <-chan struct{} { return r.changed }

// TestNewInterfaceWithinOneInterval: when the backend says an interface
// appeared (a link event), Run reads at once and takes the new interface's
// baseline there, so the very next sample shows it, its rates over the
// time since that read (its own interval_ns); the other interfaces' rates
// are untouched by the extra read.
func TestNewInterfaceWithinOneInterval(t *testing.T) {
	clk := &fakeClock{now: time.Second}
	r := notifyingReader{
		fakeReader: &fakeReader{clock: clk, script: [][]stats.InterfaceCounters{
			{ifc("eth0", 2, 0, 0, 0, 0)},                                   // baseline, 1.00 s
			{ifc("eth0", 2, 100, 1, 0, 0), ifc("new1", 7, 1000, 10, 0, 0)}, // the event's read, 1.04 s
			{ifc("eth0", 2, 200, 2, 0, 0), ifc("new1", 7, 1600, 16, 0, 0)}, // the tick, 1.10 s
		}},
		changed: make(chan struct{}, 1),
	}
	r.changed <- struct{}{} // an interface appeared
	var woken atomic.Bool
	wokenSeen := make(chan struct{})
	cfg := Config{Interval: 100 * time.Millisecond, Count: 1, now: clk.Now,
		wake: func() { woken.Store(true); close(wokenSeen) },
		sleepUntil: func(ctx context.Context, d time.Duration) error {
			if clk.ticks == 0 {
				select { // the notification arrives on another goroutine
				case <-wokenSeen:
				case <-time.After(10 * time.Second):
					return errors.New("never woken")
				}
			}
			if woken.Swap(false) {
				clk.ticks++
				clk.now += 40 * time.Millisecond
				return clock.ErrWoken
			}
			return clk.SleepUntil(ctx, d)
		}}
	var out []stats.Sample
	if err := Run(context.Background(), r, cfg, func(s stats.Sample) error { out = append(out, s); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || len(out[0].Interfaces) != 2 {
		t.Fatalf("want one sample with eth0 and the new interface, got %+v", out)
	}
	eth0, new1 := out[0].Interfaces[0], out[0].Interfaces[1]
	if eth0.RxBytesPerSec != 2000 || eth0.Interval != 0 || out[0].Interval != 100*time.Millisecond {
		t.Errorf("eth0: %v B/s over the sample's %v (own %v), want 2000 over 100ms", eth0.RxBytesPerSec, out[0].Interval, eth0.Interval)
	}
	if new1.Name != "new1" || new1.Interval != 60*time.Millisecond || math.Abs(new1.RxBytesPerSec-10000) > 1e-6 || new1.RxBytes != 1600 {
		t.Errorf("new1: %+v, want 600 B over its own 60ms (10000 B/s), counters 1600", new1)
	}
}

// TestReturnedInterfaceFreshBaseline: an interface moved to another
// namespace and back between two reads keeps its index and its counters
// went on counting elsewhere; the backend says it appeared, and the
// sampler takes a fresh baseline: at the read its event triggered (its
// row then covers only the time since), or else at the tick (no row).
func TestReturnedInterfaceFreshBaseline(t *testing.T) {
	back := func(rx uint64) stats.InterfaceCounters {
		ic := ifc("eth0", 2, rx, 0, 0, 0)
		ic.Appeared = true
		return ic
	}
	t.Run("woken", func(t *testing.T) {
		clk := &fakeClock{now: time.Second}
		r := &fakeReader{clock: clk, script: [][]stats.InterfaceCounters{
			{ifc("eth0", 2, 100, 0, 0, 0)}, // baseline
			{back(5000)},                   // the event's read: back, 4900 B counted away
			{ifc("eth0", 2, 5100, 0, 0, 0)},
		}}
		woken := false
		cfg := Config{Interval: 100 * time.Millisecond, Count: 1, now: clk.Now,
			sleepUntil: func(ctx context.Context, d time.Duration) error {
				if !woken {
					woken = true
					clk.now += 50 * time.Millisecond
					return clock.ErrWoken
				}
				return clk.SleepUntil(ctx, d)
			}}
		var out []stats.Sample
		if err := Run(context.Background(), r, cfg, func(s stats.Sample) error { out = append(out, s); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(out) != 1 || len(out[0].Interfaces) != 1 {
			t.Fatalf("got %+v", out)
		}
		if is := out[0].Interfaces[0]; is.Interval != 50*time.Millisecond || is.RxBytesPerSec != 2000 {
			t.Errorf("returned interface: %v B/s over %v, want 100 B over its 50ms (2000 B/s), not what it counted away", is.RxBytesPerSec, is.Interval)
		}
	})
	t.Run("at the tick", func(t *testing.T) {
		r := &fakeReader{clock: &fakeClock{now: time.Second}, script: [][]stats.InterfaceCounters{
			{ifc("eth0", 2, 100, 0, 0, 0)},
			{back(5000)},
			{ifc("eth0", 2, 5100, 0, 0, 0)},
		}}
		out := run(t, r, Config{Interval: 100 * time.Millisecond, Count: 2})
		if len(out) != 2 || len(out[0].Interfaces) != 0 || len(out[1].Interfaces) != 1 || out[1].Interfaces[0].RxBytesPerSec != 1000 {
			t.Errorf("want no row at its return, then 100 B over 100ms: %+v", out)
		}
	})
}
