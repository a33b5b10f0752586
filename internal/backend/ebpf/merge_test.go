package ebpf

import (
	"slices"
	"testing"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

func TestMergeBins(t *testing.T) {
	rx := func(b, p uint64) stats.Counters { return stats.Counters{RxBytes: b, RxPackets: p} }
	tx := func(b, p uint64) stats.Counters { return stats.Counters{TxBytes: b, TxPackets: p} }
	tests := []struct {
		name     string
		first    uint64
		count    int
		cpus     int
		elems    []cpuBin // one interface: rx cpus, then tx cpus
		recs     []binRecord
		want     []stats.Counters
		wantLost []bool
	}{
		{
			name: "one cpu, bin in progress only", first: 8, count: 4, cpus: 1,
			elems: []cpuBin{{started: true, cur: 10, bytes: 100, packets: 1}, {}},
			want:  []stats.Counters{{}, {}, rx(100, 1), {}},
		},
		{
			name: "records and bins in progress merged across cpus, each bin counted once", first: 10, count: 3, cpus: 2,
			elems: []cpuBin{
				{started: true, cur: 12, bytes: 5, packets: 1},
				{started: true, cur: 10, bytes: 2, packets: 1},
				{}, {},
			},
			recs: []binRecord{
				{cpu: 0, bin: 10, bytes: 7, packets: 2},
				{cpu: 0, bin: 11, bytes: 3, packets: 1},
				// CPU 1 flushed bin 10 after its element was read: the
				// element's counts are the same bin, counted once.
				{cpu: 1, bin: 10, bytes: 2, packets: 1},
				// CPU 0 flushed bin 12 after the element read: counted
				// from the element.
				{cpu: 0, bin: 12, bytes: 5, packets: 1},
			},
			want: []stats.Counters{rx(9, 3), rx(3, 1), rx(5, 1)},
		},
		{
			name: "directions apart", first: 0, count: 2, cpus: 1,
			elems: []cpuBin{{started: true, cur: 5}, {started: true, cur: 1, bytes: 4, packets: 2}},
			recs:  []binRecord{{dir: dirRx, bin: 0, bytes: 1, packets: 1}, {dir: dirTx, bin: 0, bytes: 3, packets: 1}},
			want:  []stats.Counters{{RxBytes: 1, RxPackets: 1, TxBytes: 3, TxPackets: 1}, tx(4, 2)},
		},
		{
			name: "lost run on one cpu marks exactly its bins before cur", first: 20, count: 6, cpus: 2,
			elems: []cpuBin{
				{started: true, cur: 30, lost: true, lostFirst: 21, lostLast: 23},
				{started: true, cur: 24, bytes: 1, packets: 1},
				{}, {},
			},
			recs: []binRecord{{cpu: 0, bin: 20, bytes: 6, packets: 2}, {cpu: 0, bin: 25, bytes: 8, packets: 3}, {cpu: 1, bin: 22, bytes: 2, packets: 1}},
			// bin 22: CPU 1's record is there, CPU 0's is lost: partial and flagged.
			want:     []stats.Counters{rx(6, 2), {}, rx(2, 1), {}, rx(1, 1), rx(8, 3)},
			wantLost: []bool{false, true, true, true, false, false},
		},
		{
			name: "lost run clipped to the range read", first: 50, count: 3, cpus: 1,
			elems:    []cpuBin{{started: true, cur: 60, lost: true, lostFirst: 40, lostLast: 51}, {}},
			want:     []stats.Counters{{}, {}, {}},
			wantLost: []bool{true, true, false},
		},
		{
			name: "old records and records of later bins ignored", first: 5, count: 2, cpus: 1,
			elems: []cpuBin{{started: true, cur: 9}, {}},
			recs:  []binRecord{{bin: 4, bytes: 1, packets: 1}, {bin: 7, bytes: 1, packets: 1}, {bin: 6, bytes: 2, packets: 1}},
			want:  []stats.Counters{{}, rx(2, 1)},
		},
		{
			name: "record of an element not started (slot set up again) ignored", first: 0, count: 1, cpus: 1,
			elems: []cpuBin{{}, {}},
			recs:  []binRecord{{bin: 0, bytes: 1, packets: 1}},
			want:  []stats.Counters{{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bins, lost := mergeBins(tt.first, tt.count, 1, tt.cpus, tt.elems, tt.recs)
			if len(bins) != 1 || !slices.Equal(bins[0], tt.want) {
				t.Errorf("bins %v, want %v", bins, tt.want)
			}
			if !slices.Equal(lost[0], tt.wantLost) {
				t.Errorf("lost %v, want %v", lost[0], tt.wantLost)
			}
		})
	}
}

func TestMergeBinsRoutesInterfaces(t *testing.T) {
	elems := []cpuBin{
		{started: true, cur: 3}, {started: true, cur: 3}, // interface 0 rx, tx
		{started: true, cur: 3}, {started: true, cur: 1, bytes: 9, packets: 1}, // interface 1
	}
	recs := []binRecord{{pos: 1, dir: dirRx, bin: 0, bytes: 5, packets: 1}, {pos: 0, dir: dirTx, bin: 2, bytes: 7, packets: 1}}
	bins, lost := mergeBins(0, 3, 2, 1, elems, recs)
	want := [][]stats.Counters{
		{{}, {}, {TxBytes: 7, TxPackets: 1}},
		{{RxBytes: 5, RxPackets: 1}, {TxBytes: 9, TxPackets: 1}, {}},
	}
	for i := range want {
		if !slices.Equal(bins[i], want[i]) || lost[i] != nil {
			t.Errorf("interface %d: bins %v lost %v, want %v and none lost", i, bins[i], lost[i], want[i])
		}
	}
}
