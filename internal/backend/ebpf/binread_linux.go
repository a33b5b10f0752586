package ebpf

import (
	"errors"
	"log/slog"
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/netwatch-dev/netwatch/internal/clock"
	"github.com/netwatch-dev/netwatch/internal/stats"
	"golang.org/x/sys/unix"
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
	curSpan   atomic.Int64  // span at that rate, for BinSpan without the lock

	// horizon is how long the ring buffer should hold at the record rate:
	// it grows (up to its limit) when it holds less.
	horizon   time.Duration
	readStart time.Duration // CLOCK_MONOTONIC when the read began
}

// rateHalfLife is how fast a record rate seen once is forgotten.
const rateHalfLife = 10 * time.Second

func newBinReader(o *objects) *binReader {
	br := &binReader{o: o, horizon: defaultHorizon}
	br.curSpan.Store(int64(maxSpan))
	return br
}

// read returns bins [first, first+count) of ifaces. Every one of them must be
// complete at a time taken before read is called.
func (br *binReader) read(ifaces []binIface, first uint64, count int) ([]stats.InterfaceBins, error) {
	o, cpus, width := br.o, br.o.cpus, br.o.bins.width
	br.readStart = clock.Monotonic()
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
	// is in the ring buffers now.
	n0 := len(br.pending)
	if err := br.drain(); err != nil {
		return nil, err
	}
	br.noteRate(len(br.pending) - n0)
	br.grow()
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

// drain drains the replaced ring buffers, closing those replaced more than
// retireGrace before this read began, and then the ring buffer in use.
func (br *binReader) drain() error {
	o := br.o
	start := br.readStart
	keep := o.retired[:0]
	var errs []error
	for _, rr := range o.retired {
		var err error
		if br.pending, err = rr.r.drain(br.pending); err != nil {
			errs = append(errs, err)
		}
		if start-rr.at > retireGrace && err == nil {
			errs = append(errs, rr.r.Close())
			continue
		}
		keep = append(keep, rr)
	}
	o.retired = keep
	var err error
	br.pending, err = o.ring.drain(br.pending)
	return errors.Join(append(errs, err)...)
}

// grow replaces the ring buffer by a larger one when it holds less than
// the horizon at the record rate seen, up to its limit.
func (br *binReader) grow() {
	o := br.o
	rate := math.Float64frombits(br.rate.Load())
	if rate <= 0 || o.bins.size >= o.bins.limit || o.bins.span(rate) >= br.horizon {
		return
	}
	size := min(o.bins.limit, ringBytesFor(rate*br.horizon.Seconds()*1.5, unix.Getpagesize()))
	if size <= o.bins.size {
		return
	}
	old := o.bins.size
	if err := o.replaceRing(size); err != nil {
		slog.Warn("ebpf: grow the ring buffer of bins", "err", err)
		return
	}
	slog.Info("ebpf: ring buffer of bins grown", "from", formatBytes(old), "to", formatBytes(size),
		"records_per_sec", int64(rate), "history", round(o.bins.span(rate)), "limit", formatBytes(o.bins.limit))
	br.curSpan.Store(int64(o.bins.span(rate)))
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
	rate := max(seen, old)
	br.rate.Store(math.Float64bits(rate))
	br.curSpan.Store(int64(br.o.bins.span(rate)))
}

// span is how long the ring buffer holds at the record rate seen lately.
func (br *binReader) span() time.Duration { return time.Duration(br.curSpan.Load()) }
