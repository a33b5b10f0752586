package bursts

import (
	"reflect"
	"testing"
	"time"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// The fake stream: 1 ms bins, so a bin of n bytes has a rate of n*1000 B/s;
// thresholds are written in bytes per bin (x1000).
const width = time.Millisecond

type fakeBin struct {
	bytes uint64
	lost  bool
}

func b(n uint64) fakeBin { return fakeBin{bytes: n} }
func l(n uint64) fakeBin { return fakeBin{bytes: n, lost: true} }

// want is an expected event on rx of interface 2 ("eth0").
type want struct {
	first, end uint64 // bins [first, end)
	bytes      uint64
	peak       uint64 // bytes of the busiest bin
	lost       int
	reason     string
	closedAt   int // index of the bin whose Add returned it; -1: by Stop/Vanish
}

func TestDetector(t *testing.T) {
	tests := []struct {
		name       string
		start, end float64 // bytes per bin
		gap        int
		bins       []fakeBin
		vanish     bool // Vanish after the bins, else Stop
		want       []want
		started    []int // bins at which a burst started
	}{
		{name: "idle", start: 100, bins: []fakeBin{b(0), b(50), b(100), b(0)}},
		{name: "at the threshold is not above", start: 100, bins: []fakeBin{b(100), b(100)}},
		{name: "one bin", start: 100, bins: []fakeBin{b(0), b(200), b(0)},
			want:    []want{{first: 1, end: 2, bytes: 200, peak: 200, reason: ReasonQuiet, closedAt: 2}},
			started: []int{1}},
		{name: "a run of bins, peak and sum exact", start: 100, bins: []fakeBin{b(5), b(200), b(300), b(150), b(7), b(9)},
			want:    []want{{first: 1, end: 4, bytes: 650, peak: 300, reason: ReasonQuiet, closedAt: 4}},
			started: []int{1}},
		{name: "two bursts, gap 1", start: 100, bins: []fakeBin{b(200), b(10), b(300), b(0)},
			want: []want{
				{first: 0, end: 1, bytes: 200, peak: 200, reason: ReasonQuiet, closedAt: 1},
				{first: 2, end: 3, bytes: 300, peak: 300, reason: ReasonQuiet, closedAt: 3},
			},
			started: []int{0, 2}},
		{name: "no hysteresis: falls below start ends it", start: 100, bins: []fakeBin{b(0), b(200), b(80), b(60), b(40), b(0)},
			want:    []want{{first: 1, end: 2, bytes: 200, peak: 200, reason: ReasonQuiet, closedAt: 2}},
			started: []int{1}},
		{name: "hysteresis: stays above end", start: 100, end: 50, bins: []fakeBin{b(0), b(200), b(80), b(60), b(40), b(0)},
			want:    []want{{first: 1, end: 4, bytes: 340, peak: 200, reason: ReasonQuiet, closedAt: 4}},
			started: []int{1}},
		{name: "hysteresis: between end and start does not start", start: 100, end: 50, bins: []fakeBin{b(80), b(90), b(0)}},
		{name: "end above start means start", start: 100, end: 500, bins: []fakeBin{b(200), b(150), b(0)},
			want:    []want{{first: 0, end: 2, bytes: 350, peak: 200, reason: ReasonQuiet, closedAt: 2}},
			started: []int{0}},
		{name: "gap 2 joins across one quiet bin, excludes the trailing ones",
			start: 100, gap: 2, bins: []fakeBin{b(200), b(10), b(200), b(10), b(10), b(200), b(10), b(10)},
			want: []want{
				{first: 0, end: 3, bytes: 410, peak: 200, reason: ReasonQuiet, closedAt: 4},
				{first: 5, end: 6, bytes: 200, peak: 200, reason: ReasonQuiet, closedAt: 7},
			},
			started: []int{0, 5}},
		{name: "gap 3 with hysteresis", start: 100, end: 50, gap: 3,
			bins:    []fakeBin{b(120), b(60), b(10), b(10), b(70), b(10), b(10), b(10)},
			want:    []want{{first: 0, end: 5, bytes: 270, peak: 120, reason: ReasonQuiet, closedAt: 7}},
			started: []int{0}},
		{name: "stopped mid-burst: pending quiet bins excluded", start: 100, gap: 3, bins: []fakeBin{b(200), b(300), b(10), b(10)},
			want:    []want{{first: 0, end: 2, bytes: 500, peak: 300, reason: ReasonStopped, closedAt: -1}},
			started: []int{0}},
		{name: "vanished mid-burst", start: 100, bins: []fakeBin{b(0), b(200), b(200)}, vanish: true,
			want:    []want{{first: 1, end: 3, bytes: 400, peak: 200, reason: ReasonVanished, closedAt: -1}},
			started: []int{1}},
		{name: "lost bin ends nothing and is flagged", start: 100, bins: []fakeBin{b(200), l(0), l(3), b(0)},
			want:    []want{{first: 0, end: 1, bytes: 200, peak: 200, lost: 2, reason: ReasonQuiet, closedAt: 3}},
			started: []int{0}},
		{name: "lost bin above the threshold even partially is busy", start: 100, bins: []fakeBin{b(200), l(150), b(0)},
			want:    []want{{first: 0, end: 2, bytes: 350, peak: 200, lost: 1, reason: ReasonQuiet, closedAt: 2}},
			started: []int{0}},
		{name: "lost bin with a partial burst starts one", start: 100, bins: []fakeBin{b(0), l(300), b(0)},
			want:    []want{{first: 1, end: 2, bytes: 300, peak: 300, lost: 1, reason: ReasonQuiet, closedAt: 2}},
			started: []int{1}},
		{name: "lost idle bin starts nothing", start: 100, bins: []fakeBin{b(0), l(20), b(0)}},
		{name: "lost bin does not interrupt a quiet run", start: 100, gap: 2, bins: []fakeBin{b(200), b(10), l(0), b(10), b(0)},
			want:    []want{{first: 0, end: 1, bytes: 200, peak: 200, lost: 1, reason: ReasonQuiet, closedAt: 3}},
			started: []int{0}},
		{name: "lost bin inside a burst is counted in it", start: 100, gap: 2, bins: []fakeBin{b(200), l(7), b(200), b(0), b(0)},
			want:    []want{{first: 0, end: 3, bytes: 407, peak: 200, lost: 1, reason: ReasonQuiet, closedAt: 4}},
			started: []int{0}},
		{name: "off: start 0", start: 0, bins: []fakeBin{b(1000), b(0)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			th := Thresholds{Start: tc.start * 1000, End: tc.end * 1000}
			d := New(Config{Width: width, Gap: tc.gap, Thresholds: func(int, string) Thresholds { return th }})
			var got []want
			var started []int
			const first = 1000 // bin numbers are absolute
			collect := func(closedAt int) {
				for _, e := range d.Take() {
					if e.Interface != "eth0" || e.Index != 2 || e.Direction != Rx {
						t.Errorf("event on %s/%d/%v, want eth0/2/rx", e.Interface, e.Index, e.Direction)
					}
					if e.Start != time.Duration(e.FirstBin)*width || e.End != time.Duration(e.EndBin)*width || e.Duration != e.End-e.Start {
						t.Errorf("times %v..%v (%v) do not match bins %d..%d", e.Start, e.End, e.Duration, e.FirstBin, e.EndBin)
					}
					if e.Packets != e.Bytes/10 {
						t.Errorf("packets %d, want %d", e.Packets, e.Bytes/10)
					}
					got = append(got, want{
						first: e.FirstBin - first, end: e.EndBin - first, bytes: e.Bytes,
						peak: uint64(e.PeakBytesPerSec/1000 + 0.5), lost: e.LostBins, reason: e.Reason, closedAt: closedAt,
					})
				}
			}
			for i, fb := range tc.bins {
				s := d.Add(2, "eth0", first+uint64(i), stats.Counters{RxBytes: fb.bytes, RxPackets: fb.bytes / 10}, fb.lost)
				if s.Started[Tx] || s.Above[Tx] {
					t.Errorf("bin %d: tx verdict on an idle tx", i)
				}
				if s.Above[Rx] != (tc.start > 0 && float64(fb.bytes) > tc.start) {
					t.Errorf("bin %d: Above = %v", i, s.Above[Rx])
				}
				if s.Started[Rx] {
					started = append(started, i)
				}
				collect(i)
			}
			if tc.vanish {
				d.Vanish(2)
			} else {
				d.Stop()
			}
			collect(-1)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("events\n got %+v\nwant %+v", got, tc.want)
			}
			if !reflect.DeepEqual(started, tc.started) {
				t.Errorf("started at %v, want %v", started, tc.started)
			}
		})
	}
}

// Directions and interfaces are independent; Stop closes in ifindex order;
// a renamed interface's events carry the new name; a vanished interface
// comes back as new.
func TestDetectorInterfacesAndDirections(t *testing.T) {
	th := map[string]Thresholds{"a": {Start: 100e3}, "b": {Start: 50e3}, "b2": {Start: 500e3}}
	d := New(Config{Width: width, Thresholds: func(_ int, name string) Thresholds { return th[name] }})
	d.Add(7, "b", 0, stats.Counters{TxBytes: 60, TxPackets: 1}, false) // b: tx burst (above 50)
	d.Add(3, "a", 0, stats.Counters{RxBytes: 60, TxBytes: 200}, false) // a: tx burst only
	if !d.Open(7, Tx) || d.Open(7, Rx) || !d.Open(3, Tx) || d.Open(3, Rx) {
		t.Fatal("wrong bursts open")
	}
	d.Rename(7, "b2")
	d.Add(7, "b2", 1, stats.Counters{TxBytes: 60}, false) // quiet against b2's threshold 500
	evs := append([]Event(nil), d.Take()...)
	if len(evs) != 1 || evs[0].Interface != "b2" || evs[0].Direction != Tx || evs[0].Bytes != 60 || evs[0].Thresholds.Start != 500e3 {
		t.Fatalf("after rename: %+v", evs)
	}
	d.Add(9, "c", 0, stats.Counters{}, false) // no thresholds: off
	d.Stop()
	evs = d.Take()
	if len(evs) != 1 || evs[0].Index != 3 || evs[0].Reason != ReasonStopped {
		t.Fatalf("stop: %+v", evs)
	}
	d.Add(3, "a", 1, stats.Counters{RxBytes: 500}, false)
	d.Vanish(3)
	d.Vanish(3) // twice is harmless
	d.Vanish(42)
	evs = d.Take()
	if len(evs) != 1 || evs[0].Reason != ReasonVanished || evs[0].FirstBin != 1 {
		t.Fatalf("vanish: %+v", evs)
	}
	if s := d.Add(3, "a", 2, stats.Counters{RxBytes: 500}, false); !s.Started[Rx] {
		t.Fatal("an interface that came back did not start afresh")
	}
}
