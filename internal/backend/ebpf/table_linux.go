package ebpf

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/netwatch-dev/netwatch/internal/clock"
	"github.com/netwatch-dev/netwatch/internal/stats"
	"golang.org/x/sys/unix"
)

// watched is one interface netwatch counts on.
type watched struct {
	name   string
	index  int
	slot   uint32         // counters slot
	detach []func() error // undo the attachments, last first
}

// table is the set of watched interfaces over the loaded objects, and the
// readers of their counters and bins. Its methods are safe for concurrent
// use: the interface watcher adds and removes while the sampler reads.
type table struct {
	o *objects

	mu      sync.Mutex
	ifaces  []*watched // sorted by index
	bins    *binReader
	slots   []uint32 // free counters slots, first out first
	nextBin uint64   // first bin ReadBins has not returned
}

func newTable(o *objects, start time.Duration) *table {
	t := &table{o: o, bins: newBinReader(o)}
	// Slot 0 stays unused: see counterSlots.
	for s := uint32(1); s < counterSlots; s++ {
		t.slots = append(t.slots, s)
	}
	if o.bins.width > 0 {
		t.nextBin = uint64(start / o.bins.width)
	}
	return t
}

// add creates the map entries of an interface and records it. attachFn then
// attaches the programs; on its failure the entries are removed again.
func (t *table) add(name string, index int, attachFn func() ([]func() error, error)) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.find(index); ok {
		return nil
	}
	if len(t.slots) == 0 {
		return fmt.Errorf("ebpf: %s: already watching the maximum of %d interfaces", name, MaxInterfaces)
	}
	slot := t.slots[0]
	t.slots = t.slots[1:]
	if err := t.o.addInterface(index, slot); err != nil {
		t.release(slot)
		return fmt.Errorf("%s: %w", name, err)
	}
	var detach []func() error
	if attachFn != nil {
		var err error
		if detach, err = attachFn(); err != nil {
			if rerr := t.o.removeInterface(index); rerr != nil {
				slog.Warn("ebpf: remove counters", "interface", name, "err", rerr)
			}
			t.release(slot)
			return err
		}
	}
	w := &watched{name: name, index: index, slot: slot, detach: detach}
	i, _ := t.find(index)
	t.ifaces = slices.Insert(t.ifaces, i, w)
	return nil
}

// remove detaches an interface and deletes its entries. Unknown indexes are
// ignored.
func (t *table) remove(index int) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	i, ok := t.find(index)
	if !ok {
		return nil
	}
	w := t.ifaces[i]
	t.ifaces = slices.Delete(t.ifaces, i, i+1)
	err := runDetach(w.detach)
	if rerr := t.o.removeInterface(index); rerr != nil {
		err = errors.Join(err, rerr)
	}
	t.release(w.slot)
	return err
}

// rename records a new name for a watched interface.
func (t *table) rename(index int, name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if i, ok := t.find(index); ok {
		t.ifaces[i].name = name
	}
}

// has reports whether index is watched.
func (t *table) has(index int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.find(index)
	return ok
}

// indexes returns the watched interface indexes.
func (t *table) indexes() []int {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]int, len(t.ifaces))
	for i, w := range t.ifaces {
		out[i] = w.index
	}
	return out
}

// removeAll detaches every interface and deletes their entries.
func (t *table) removeAll() error {
	var errs []error
	for _, ix := range t.indexes() {
		if err := t.remove(ix); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// release returns a slot to the back of the free list, so that it is
// reused as late as possible.
func (t *table) release(slot uint32) {
	t.slots = append(t.slots, slot)
}

func (t *table) find(index int) (int, bool) {
	return slices.BinarySearchFunc(t.ifaces, index, func(w *watched, ix int) int { return cmp.Compare(w.index, ix) })
}

// read returns the counters of every watched interface, summed over CPUs,
// stamped with the time of the read.
func (t *table) read() (stats.Snapshot, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	ifs := make([]stats.InterfaceCounters, len(t.ifaces))
	for i, w := range t.ifaces {
		ic := &ifs[i]
		ic.Name, ic.Index = w.name, w.index
		ic.RxBytes, ic.RxPackets = t.o.dirCounts(w.slot, dirRx)
		ic.TxBytes, ic.TxPackets = t.o.dirCounts(w.slot, dirTx)
	}
	now := clock.Now()
	return stats.Snapshot{Mono: now.Mono, Wall: now.Wall, Interfaces: ifs}, nil
}

// maxBinsPerRead bounds one readBins call; the next call continues.
const maxBinsPerRead = 1 << 16

// readBins returns the bins completed since the previous call.
func (t *table) readBins() (stats.Bins, error) {
	width := t.o.bins.width
	if width == 0 {
		return stats.Bins{}, fmt.Errorf("ebpf: bins are off (no resolution set)")
	}
	// The time is taken before the maps are read: see mergeBins.
	end := completeBefore(clock.Monotonic(), width)
	t.mu.Lock()
	defer t.mu.Unlock()
	first := t.nextBin
	out := stats.Bins{Width: width, First: first}
	if end <= first {
		return out, nil
	}
	count := int(min(end-first, maxBinsPerRead))
	ifs := make([]binIface, len(t.ifaces))
	for i, w := range t.ifaces {
		ifs[i] = binIface{name: w.name, index: w.index, slot: w.slot}
	}
	got, err := t.bins.read(ifs, first, count)
	if err != nil {
		return stats.Bins{}, err
	}
	out.Count = count
	out.Interfaces = got
	t.nextBin = first + uint64(count)
	return out, nil
}

// sizeBins sizes the ring buffer of bins for reading once per interval
// within bound bytes (see sizeBins in sizing.go), replacing it when the size
// changes, and says what the sizing allows.
func (t *table) sizeBins(interval time.Duration, bound uint64) (binSizing, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	o := t.o
	if o.bins.width == 0 {
		return binSizing{}, fmt.Errorf("ebpf: bins are off (no resolution set)")
	}
	sz, err := sizeBins(o.bins.width, interval, len(t.ifaces), o.cpus, bound, unix.Getpagesize())
	if err != nil {
		return binSizing{}, err
	}
	if sz.size != o.bins.size {
		if err := o.replaceRing(sz.size); err != nil {
			return binSizing{}, err
		}
	}
	o.bins.limit = sz.limit
	t.bins.horizon = sz.horizon
	t.bins.curSpan.Store(int64(o.bins.span(math.Float64frombits(t.bins.rate.Load()))))
	return sz, nil
}

// runDetach runs the undo functions, last first, and joins their errors.
func runDetach(fns []func() error) error {
	var errs []error
	for i := len(fns) - 1; i >= 0; i-- {
		if err := fns[i](); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
