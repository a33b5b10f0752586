package ebpf

import (
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/netwatch-dev/netwatch/internal/clock"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

// binIface is an interface whose bins are read.
type binIface struct {
	name  string
	index int
	slot  uint32 // counters slot
}

// binReader merges the counters elements' bins in progress with the records
// drained from the ring buffer. Records of bins not complete yet are kept
// for the next read.
type binReader struct {
	o       *objects
	pending []rawRecord // drained, of bins not returned yet
	elems   []cpuBin
	recs    []binRecord
	slotPos []int32 // counters slot -> position in the read, -1 for none

	// The record rate, for span: the highest rate seen, decaying.
	lastDrain time.Duration // CLOCK_MONOTONIC of the previous drain
	rate      atomic.Uint64 // math.Float64bits of records per second
}

// rateHalfLife is how fast a record rate seen once is forgotten.
const rateHalfLife = 10 * time.Second

func newBinReader(o *objects) *binReader {
	return &binReader{o: o}
}

// read returns bins [first, first+count) of ifaces. Every one of them must be
// complete at a time taken before read is called.
func (br *binReader) read(ifaces []binIface, first uint64, count int) ([]stats.InterfaceBins, error) {
	o, cpus, width := br.o, br.o.cpus, br.o.bins.width
	// 1. Every element, before the ring buffer.
	br.elems = slices.Grow(br.elems[:0], len(ifaces)*2*cpus)[:len(ifaces)*2*cpus]
	maxSlot := uint32(0)
	for pos, it := range ifaces {
		maxSlot = max(maxSlot, it.slot)
		for dir := range uint32(2) {
			for cpu := range cpus {
				br.elems[(pos*2+int(dir))*cpus+cpu] = readElem(o.value(it.slot, dir, cpu), width)
			}
		}
	}
	// 2. The records: everything submitted before the elements were read
	// is in the ring buffer now.
	n0 := len(br.pending)
	var err error
	br.pending, err = o.ring.drain(br.pending)
	br.noteRate(len(br.pending) - n0)
	if err != nil {
		return nil, err
	}
	// 3. Route the records of bins in range to their interfaces; keep those
	// of later bins, drop older ones (returned before, from the element)
	// and those of interfaces no longer watched.
	if int(maxSlot) >= len(br.slotPos) {
		br.slotPos = make([]int32, maxSlot+1)
	}
	for i := range br.slotPos {
		br.slotPos[i] = -1
	}
	for pos, it := range ifaces {
		br.slotPos[it.slot] = int32(pos)
	}
	end := first + uint64(count)
	br.recs = br.recs[:0]
	keep := br.pending[:0]
	for _, r := range br.pending {
		bin := r.End/uint64(width) - 1
		if bin >= end {
			keep = append(keep, r)
			continue
		}
		slot := int(r.Elem) / (2 * cpus)
		if bin < first || slot >= len(br.slotPos) || br.slotPos[slot] < 0 {
			continue
		}
		br.recs = append(br.recs, binRecord{
			pos: int(br.slotPos[slot]), dir: int(r.Elem) / cpus % 2, cpu: int(r.Elem) % cpus,
			bin: bin, bytes: r.Bytes, packets: uint64(r.Packets),
		})
	}
	br.pending = keep
	bins, lost := mergeBins(first, count, len(ifaces), cpus, br.elems, br.recs)
	// 4. Tell the programs which lost bins are accounted for.
	for pos, it := range ifaces {
		for dir := range uint32(2) {
			for cpu := range cpus {
				if e := br.elems[(pos*2+int(dir))*cpus+cpu]; e.lost {
					ackLost(o.value(it.slot, dir, cpu), (min(e.lostLast+1, end))*uint64(width))
				}
			}
		}
	}
	out := make([]stats.InterfaceBins, len(ifaces))
	for pos, it := range ifaces {
		out[pos] = stats.InterfaceBins{Name: it.name, Index: it.index, Bins: bins[pos], Lost: lost[pos]}
	}
	return out, nil
}

// noteRate updates the record rate with n records drained now.
func (br *binReader) noteRate(n int) {
	now := clock.Monotonic()
	prev := br.lastDrain
	br.lastDrain = now
	if prev == 0 || now <= prev {
		return
	}
	dt := now - prev
	seen := float64(n) / dt.Seconds()
	old := math.Float64frombits(br.rate.Load()) * math.Exp2(-dt.Seconds()/rateHalfLife.Seconds())
	br.rate.Store(math.Float64bits(max(seen, old)))
}

// span is how long the ring buffer holds at the record rate seen lately.
func (br *binReader) span() time.Duration {
	return br.o.bins.span(math.Float64frombits(br.rate.Load()))
}
