package sampler

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/netwatch-dev/netwatch/internal/bursts"
	"github.com/netwatch-dev/netwatch/internal/clock"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

// burstyAt: interface 0 receives 1000 bytes (10 packets) in the listed
// bins; interface 1 sends 1000 bytes in bins 1015 to 1030.
func burstyAt(rx ...uint64) func(int, uint64) stats.Counters {
	busy := make(map[uint64]bool)
	for _, n := range rx {
		busy[n] = true
	}
	return func(i int, bin uint64) stats.Counters {
		switch {
		case i == 0 && busy[bin]:
			return stats.Counters{RxBytes: 1000, RxPackets: 10}
		case i == 1 && bin >= 1015 && bin <= 1030:
			return stats.Counters{TxBytes: 1000, TxPackets: 1}
		}
		return stats.Counters{RxBytes: 1, RxPackets: 1} // quiet, not idle
	}
}

type burstRun struct {
	samples []stats.Sample
	events  []bursts.Event
	bins    map[int]int // OnBin calls per ifindex
	polls   int
}

func runBursts(t *testing.T, f *fakeBins, cfg BinConfig) burstRun {
	t.Helper()
	r := burstRun{bins: make(map[int]int)}
	cfg.OnBurst = func(e bursts.Event) error { r.events = append(r.events, e); return nil }
	cfg.OnBin = func(b Bin) {
		if b.Width != f.width {
			t.Errorf("bin width %v", b.Width)
		}
		r.bins[b.Index]++
	}
	cfg.OnPoll = func(time.Duration) { r.polls++ }
	r.samples = runBins(t, f, cfg)
	return r
}

// Bursts that span sample and poll boundaries are one event each, counted
// in the sample where they start; the interval is 10 bins and the fake's
// storage holds 3 bins, so the loop reads every 1.5 ms (several polls per
// sample, each burst cut by polls).
func TestBinsBurstEventsAcrossSamplesAndPolls(t *testing.T) {
	ms := time.Millisecond
	type ev struct {
		first, end uint64
		bytes      uint64
	}
	for _, tc := range []struct {
		gap     int
		want    []ev
		started []int // rx bursts started per sample
	}{
		{gap: 1,
			want:    []ev{{1008, 1013, 5000}, {1030, 1031, 1000}, {1040, 1042, 2000}, {1043, 1044, 1000}},
			started: []int{1, 0, 1, 1, 1, 0}},
		{gap: 2,
			want:    []ev{{1008, 1013, 5000}, {1030, 1031, 1000}, {1040, 1044, 3001}},
			started: []int{1, 0, 1, 1, 0, 0}},
	} {
		f := &fakeBins{width: ms, clk: &fakeClock{now: 1000*ms + 10*time.Microsecond}, next: 1000, span: 3 * ms,
			ifaces: []string{"veth0"}, perBin: burstyAt(1008, 1009, 1010, 1011, 1012, 1030, 1040, 1041, 1043)}
		r := runBursts(t, f, BinConfig{Interval: 10 * ms, Count: 6, BurstGap: tc.gap,
			BurstThreshold: func(string) float64 { return 5e5 }})
		var got []ev
		for _, e := range r.events {
			if e.Interface != "veth0" || e.Direction != bursts.Rx || e.Reason != bursts.ReasonQuiet || e.Packets != e.Bytes/1000*10+e.Bytes%1000 {
				t.Errorf("gap %d: event %+v", tc.gap, e)
			}
			if e.PeakBytesPerSec != 1e6 || e.Duration != time.Duration(e.EndBin-e.FirstBin)*ms {
				t.Errorf("gap %d: peak %v duration %v", tc.gap, e.PeakBytesPerSec, e.Duration)
			}
			wall := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC).Add(time.Duration(e.FirstBin)*ms - (1000*ms + 10*time.Microsecond))
			if !e.StartTime.Equal(wall) || !e.EndTime.Equal(wall.Add(e.Duration)) {
				t.Errorf("gap %d: wall times %v..%v, want from %v", tc.gap, e.StartTime, e.EndTime, wall)
			}
			got = append(got, ev{e.FirstBin, e.EndBin, e.Bytes})
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("gap %d: events %v, want %v", tc.gap, got, tc.want)
		}
		var started []int
		for _, s := range r.samples {
			started = append(started, s.Interfaces[0].Summary.Rx.Bursts)
			if s.Interfaces[0].Summary.Tx.Bursts != 0 {
				t.Errorf("tx bursts on an rx-only stream")
			}
		}
		if !reflect.DeepEqual(started, tc.started) {
			t.Errorf("gap %d: bursts started per sample %v, want %v", tc.gap, started, tc.started)
		}
		if r.bins[2] != 60 {
			t.Errorf("gap %d: OnBin saw %d bins, want 60 (6 samples of 10)", tc.gap, r.bins[2])
		}
		if r.polls < 40 {
			t.Errorf("gap %d: %d polls; the test wants several polls per sample", tc.gap, r.polls)
		}
	}
}

// An interface that vanishes mid-burst closes it ("vanished"), with the bins
// seen so far; a burst still open when the run ends is closed ("stopped").
func TestBinsBurstVanishedAndStopped(t *testing.T) {
	ms := time.Millisecond
	f := &fakeBins{width: ms, clk: &fakeClock{now: 1000*ms + 10*time.Microsecond}, next: 1000, span: 3 * ms,
		ifaces: []string{"veth0", "veth1"}, perBin: burstyAt(1049, 1050),
		alive: func(i int, now time.Duration) bool { return i == 0 || now < 1020*ms }}
	r := runBursts(t, f, BinConfig{Interval: 10 * ms, Count: 5, BurstThreshold: func(string) float64 { return 5e5 }})
	if len(r.events) != 2 {
		t.Fatalf("events %+v, want one vanished and one stopped", r.events)
	}
	v, s := r.events[0], r.events[1]
	if v.Interface != "veth1" || v.Direction != bursts.Tx || v.Reason != bursts.ReasonVanished || v.FirstBin != 1015 ||
		v.EndBin < 1017 || v.EndBin > 1020 || v.Bytes != 1000*(v.EndBin-v.FirstBin) {
		t.Errorf("vanished: %+v", v)
	}
	if s.Interface != "veth0" || s.Reason != bursts.ReasonStopped || s.FirstBin != 1049 || s.EndBin != 1051 || s.Bytes != 2000 {
		t.Errorf("stopped: %+v", s)
	}
	if got := r.samples[1].Interfaces; len(got) != 1 {
		t.Errorf("sample 2 lists %d interfaces after one vanished", len(got))
	}
	if r.samples[1].Interfaces[0].Summary.Rx.Bursts != 0 || r.samples[4].Interfaces[0].Summary.Rx.Bursts != 1 {
		t.Errorf("bursts started per sample wrong")
	}
}

// Without a threshold there is no detector: no events, no verdicts; and an
// error from OnBurst stops the run with that error.
func TestBinsBurstOffAndErrors(t *testing.T) {
	ms := time.Millisecond
	f := &fakeBins{width: ms, clk: &fakeClock{now: 1000 * ms}, next: 1000, ifaces: []string{"veth0"}, perBin: burstyAt(1003)}
	r := runBursts(t, f, BinConfig{Interval: 5 * ms, Count: 2})
	if len(r.events) != 0 || r.samples[0].Interfaces[0].Summary.Rx.Bursts != 0 {
		t.Fatalf("burst detection without a threshold: %+v", r.events)
	}
	f = &fakeBins{width: ms, clk: &fakeClock{now: 1000 * ms}, next: 1000, ifaces: []string{"veth0"}, perBin: burstyAt(1003)}
	boom := errors.New("sink failed")
	cfg := BinConfig{Interval: 5 * ms, Count: 4, BurstThreshold: func(string) float64 { return 5e5 },
		OnBurst: func(bursts.Event) error { return boom }}
	cfg.now = func() clock.Reading { return clock.Reading{Mono: f.clk.now} }
	cfg.sleepUntil = f.clk.SleepUntil
	if err := RunBins(context.Background(), f, cfg, func(stats.Sample) error { return nil }); !errors.Is(err, boom) {
		t.Fatalf("RunBins = %v, want the sink's error", err)
	}
}

// Two interfaces with the same name and ifindex in two namespaces are two
// interfaces: each keeps its own bins, counters and bursts, and every event,
// bin and sample row says which namespace it is from.
func TestBinsSameIndexInTwoNamespaces(t *testing.T) {
	ms := time.Millisecond
	f := &fakeBins{width: ms, clk: &fakeClock{now: 1000*ms + 10*time.Microsecond}, next: 1000,
		ifaces: []string{"eth0", "eth0"}, perBin: burstyAt(1008, 1009),
		netns: func(i int) string { return []string{"blue", "red"}[i] }}
	var binNetns []string
	cfg := BinConfig{Interval: 10 * ms, Count: 3, BurstThreshold: func(string) float64 { return 5e5 },
		OnBin: func(b Bin) {
			if b.Number == 1008 {
				binNetns = append(binNetns, b.Netns)
			}
		}}
	var events []bursts.Event
	cfg.OnBurst = func(e bursts.Event) error { events = append(events, e); return nil }
	samples := runBins(t, f, cfg)
	last := samples[len(samples)-1]
	if len(last.Interfaces) != 2 {
		t.Fatalf("%d rows, want 2: %+v", len(last.Interfaces), last.Interfaces)
	}
	for i, is := range last.Interfaces {
		if want := f.kernel(i); is.Netns != f.netns(i) || is.Counters != want {
			t.Errorf("row %d: netns %q counters %+v, want %q %+v", i, is.Netns, is.Counters, f.netns(i), want)
		}
	}
	if !reflect.DeepEqual(binNetns, []string{"blue", "red"}) {
		t.Errorf("bin 1008 seen for namespaces %q, want blue and red", binNetns)
	}
	// blue (interface 0) has the rx burst, red (interface 1) the tx one.
	got := map[string]string{}
	for _, e := range events {
		if e.Index != 2 {
			t.Errorf("event index %d, want the ifindex 2", e.Index)
		}
		got[e.Netns] += e.Direction.String()
	}
	if got["blue"] != "rx" || got["red"] != "tx" {
		t.Errorf("bursts by namespace %v, want blue rx and red tx", got)
	}
}
