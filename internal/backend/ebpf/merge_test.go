package ebpf

import (
	"errors"
	"slices"
	"testing"
)

// fakeRing is a per-CPU ring of 4 bins: ring[cpu][bin%4].
type fakeRing [][4]binEntry

func (r fakeRing) fn(calls *int) ringFunc {
	return func(bin uint64) ([]binEntry, error) {
		*calls++
		out := make([]binEntry, len(r))
		for cpu := range r {
			out[cpu] = r[cpu][bin%4]
		}
		return out, nil
	}
}

func TestMergeBins(t *testing.T) {
	tests := []struct {
		name      string
		first     uint64
		cur       []binEntry
		ring      fakeRing // nil: no ring
		want      []binCount
		wantLost  []bool
		wantCalls int
	}{
		{
			name:  "one cpu, bin in progress only",
			first: 8,
			cur:   []binEntry{{Bin: 10, Bytes: 100, Packets: 1}},
			ring:  fakeRing{{}},
			want:  []binCount{{}, {}, {100, 1}, {}},
			// 8 and 9 are in the CPU's past: the ring says nothing was there.
			wantCalls: 2,
		},
		{
			name:  "ring and cur merged across cpus, same bin counted once",
			first: 10,
			cur: []binEntry{
				{Bin: 12, Bytes: 5, Packets: 1},
				{Bin: 10, Bytes: 2, Packets: 1},
			},
			ring: fakeRing{
				{2: {Bin: 10, Bytes: 7, Packets: 2}, 3: {Bin: 11, Bytes: 3, Packets: 1}},
				// CPU 1 flushed bin 10 after cur was read: cur wins.
				{2: {Bin: 10, Bytes: 2, Packets: 1}},
			},
			want:      []binCount{{9, 3}, {3, 1}, {5, 1}},
			wantCalls: 2,
		},
		{
			name:  "wrapped ring is lost, older entry means empty",
			first: 14,
			cur:   []binEntry{{Bin: 20, Bytes: 1, Packets: 1}},
			ring: fakeRing{{
				2: {Bin: 18, Bytes: 9, Packets: 9}, // bin 14's place, overwritten
				3: {Bin: 11, Bytes: 4, Packets: 4}, // bin 15 was empty
				0: {Bin: 16, Bytes: 6, Packets: 2},
				1: {Bin: 17, Bytes: 8, Packets: 3},
			}},
			want:      []binCount{{}, {}, {6, 2}, {8, 3}},
			wantLost:  []bool{true, false, false, false},
			wantCalls: 4,
		},
		{
			name:      "no ring: past bins are lost, the current one is exact",
			first:     5,
			cur:       []binEntry{{Bin: 6, Bytes: 3, Packets: 1}, {Bin: 4}},
			want:      []binCount{{}, {3, 1}, {}},
			wantLost:  []bool{true, false, false},
			wantCalls: 1,
		},
		{
			name:  "idle cpus: no ring read at all",
			first: 30,
			cur:   []binEntry{{Bin: 29, Bytes: 1, Packets: 1}, {Bin: 30, Bytes: 2, Packets: 2}},
			ring:  fakeRing{{}, {}},
			want:  []binCount{{2, 2}, {}, {}, {}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			ring := func(uint64) ([]binEntry, error) { calls++; return nil, nil }
			if tt.ring != nil {
				ring = tt.ring.fn(&calls)
			}
			out := make([]binCount, len(tt.want))
			for i := range out {
				out[i] = binCount{Bytes: 999, Packets: 999} // stale data must be overwritten
			}
			lost := make([]bool, len(tt.want))
			if err := mergeBins(tt.first, tt.cur, ring, out, lost); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(out, tt.want) {
				t.Errorf("bins %v, want %v", out, tt.want)
			}
			wantLost := tt.wantLost
			if wantLost == nil {
				wantLost = make([]bool, len(tt.want))
			}
			if !slices.Equal(lost, wantLost) {
				t.Errorf("lost %v, want %v", lost, wantLost)
			}
			if calls != tt.wantCalls {
				t.Errorf("%d ring reads, want %d", calls, tt.wantCalls)
			}
		})
	}
}

func TestMergeBinsRingError(t *testing.T) {
	boom := errors.New("boom")
	ring := func(uint64) ([]binEntry, error) { return nil, boom }
	out := make([]binCount, 2)
	err := mergeBins(1, []binEntry{{Bin: 5}}, ring, out, make([]bool, 2))
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want %v", err, boom)
	}
}

func TestRingBins(t *testing.T) {
	tests := []struct {
		width     int64 // ns
		wantRing  uint64
		wantShift uint32
	}{
		{100_000, 4096, 12},
		{1_000_000, 256, 8},
		{10_000_000, 32, 5},
		{100_000_000, 4, 2},
		{1_000_000_000, 4, 2},
		{250_000, 1024, 10},
	}
	for _, tt := range tests {
		ring, shift := ringBins(durationNs(tt.width))
		if ring != tt.wantRing || shift != tt.wantShift {
			t.Errorf("ringBins(%v) = %d, %d, want %d, %d", durationNs(tt.width), ring, shift, tt.wantRing, tt.wantShift)
		}
		// The ring must cover RingSpan whatever the width.
		if span := durationNs(tt.width) * durationNs(int64(ring)); span < RingSpan {
			t.Errorf("ringBins(%v) covers %v < %v", durationNs(tt.width), span, RingSpan)
		}
	}
}

func TestPlanBins(t *testing.T) {
	l, err := planBins(durationNs(1_000_000), 16, 2)
	if err != nil {
		t.Fatal(err)
	}
	if l.slots != 2*(16+spareBinInterfaces) || l.entries() != l.slots*2*256 || l.bytesPerCPU() != uint64(l.slots)*256*24 {
		t.Errorf("1 ms, 16 interfaces, 2 CPUs: %+v", l)
	}
	// 100 µs rings on 512 CPUs: 96 KiB per ring per CPU, 48 MiB per ring
	// over all CPUs, so the 64 MiB budget holds one ring: fewer than two
	// interfaces' worth, which must fail.
	if _, err := planBins(durationNs(100_000), 1, 512); err == nil {
		t.Error("planBins accepted rings over the memory budget")
	}
	l, err = planBins(durationNs(100_000), 100, 2)
	if err != nil {
		t.Fatal(err)
	}
	if l.slots%2 != 0 || uint64(l.slots)*uint64(l.ring)*binEntrySize*2 > ringBudget || l.pairs() < 100 {
		t.Errorf("100 µs, 100 interfaces, 2 CPUs: %+v", l)
	}
	for _, w := range []int64{99_999, 1_000_000_001, 0} {
		if _, err := planBins(durationNs(w), 1, 1); err == nil {
			t.Errorf("planBins accepted width %v", durationNs(w))
		}
	}
}
