package ebpf

import "github.com/netwatch-dev/netwatch/internal/stats"

// Directions: the dir index of the counters map.
const (
	dirRx = 0
	dirTx = 1
)

// cpuBin is one CPU's counters element of one interface and direction as
// the reader saw it, before it drained the ring buffer (see the ordering
// contract in bpf/netwatch.c).
type cpuBin struct {
	started bool   // the CPU has counted a packet since the slot was set up
	cur     uint64 // the bin in progress on this CPU
	bytes   uint64 // what cur holds so far
	packets uint64
	// lost: bins [lostFirst, lostLast] (all before cur) are reported lost:
	// records that did not fit in the ring buffer, and any bin between them
	// the CPU counted nothing in.
	lost                bool
	lostFirst, lostLast uint64
}

// binRecord is a drained record routed to a watched interface.
type binRecord struct {
	pos     int // the interface's position in the read
	dir     int // dirRx or dirTx
	cpu     int
	bin     uint64
	bytes   uint64
	packets uint64
}

// mergeBins merges what n interfaces counted in bins [first, first+count).
// elems[(pos*2+dir)*cpus+cpu] is that CPU's element, recs the records of
// bins in that range. It returns each interface's bins and, where some bin
// is lost, its lost flags (nil otherwise).
//
// Per CPU, a complete bin w is in exactly one of these places:
//   - cur == w: the CPU's bin in progress, counted from the element (a
//     record of w drained after the element was read is the same counts:
//     ignored);
//   - cur < w (or nothing started): the CPU counted nothing in w;
//   - cur > w: w's record, drained after the element was read, if the CPU
//     counted anything in w; or w lies in the element's lost run.
func mergeBins(first uint64, count, n, cpus int, elems []cpuBin, recs []binRecord) ([][]stats.Counters, [][]bool) {
	bins := make([][]stats.Counters, n)
	lost := make([][]bool, n)
	for pos := range n {
		bins[pos] = make([]stats.Counters, count)
	}
	end := first + uint64(count)
	for i, e := range elems {
		if !e.started {
			continue
		}
		pos, dir := i/(2*cpus), i/cpus%2
		if e.cur >= first && e.cur < end {
			addDir(&bins[pos][e.cur-first], dir, e.bytes, e.packets)
		}
		if !e.lost {
			continue
		}
		from, to := max(e.lostFirst, first), min(e.lostLast+1, e.cur, end)
		for w := from; w < to; w++ {
			if lost[pos] == nil {
				lost[pos] = make([]bool, count)
			}
			lost[pos][w-first] = true
		}
	}
	for _, r := range recs {
		if r.bin < first || r.bin >= end {
			continue
		}
		e := elems[(r.pos*2+r.dir)*cpus+r.cpu]
		if !e.started || r.bin >= e.cur {
			continue
		}
		addDir(&bins[r.pos][r.bin-first], r.dir, r.bytes, r.packets)
	}
	return bins, lost
}

func addDir(c *stats.Counters, dir int, bytes, packets uint64) {
	if dir == dirRx {
		c.RxBytes += bytes
		c.RxPackets += packets
	} else {
		c.TxBytes += bytes
		c.TxPackets += packets
	}
}
