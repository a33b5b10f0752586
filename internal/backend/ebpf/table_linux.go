package ebpf

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
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
	ifaces  []*watched   // sorted by index
	adding  map[int]bool // being attached by add, not in ifaces yet
	bins    *binReader
	slots   []uint32 // freed counters slots, first out first
	next    uint32   // the first slot never handed out
	nextBin uint64   // first bin ReadBins has not returned
}

func newTable(o *objects, start time.Duration) *table {
	t := &table{o: o, bins: newBinReader(o), next: 1, adding: map[int]bool{}} // slot 0 stays unused: see chunkSlots
	if o.bins.width > 0 {
		t.nextBin = uint64(start / o.bins.width)
	}
	return t
}

// add attaches the programs to an interface (attachFn), then publishes its
// map entries and records it. On failure nothing stays attached.
func (t *table) add(name string, index int, attachFn func() ([]func() error, error)) error {
	t.mu.Lock()
	if _, ok := t.find(index); ok || t.adding[index] {
		t.mu.Unlock()
		return nil
	}
	slot, err := t.takeSlot()
	if err != nil {
		t.mu.Unlock()
		return fmt.Errorf("%s: %w", name, err)
	}
	// Attach first and publish the interface to the programs last: until
	// then they ignore its packets, so that ingress and egress (attached
	// one after the other) start counting at the same moment.
	t.o.resetSlot(slot)
	t.adding[index] = true
	t.mu.Unlock()
	// Attaching waits for the kernel (with TCX an RCU grace period per
	// hook): without the lock, so that several interfaces attach at once.
	var detach []func() error
	if attachFn != nil {
		detach, err = attachFn()
	}
	var l2 uint32
	if err == nil {
		l2 = linkL2Len(index) // netlink, in the caller's namespace
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.adding, index)
	if err != nil {
		t.release(slot)
		return err
	}
	if err := t.o.publish(index, slot, l2); err != nil {
		if derr := runDetach(detach); derr != nil {
			slog.Warn("ebpf: detach after failed publish", "interface", name, "err", derr)
		}
		t.release(slot)
		return fmt.Errorf("%s: %w", name, err)
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
	i, ok := t.find(index)
	if !ok {
		t.mu.Unlock()
		return nil
	}
	w := t.ifaces[i]
	t.ifaces = slices.Delete(t.ifaces, i, i+1)
	t.mu.Unlock()
	err := runDetach(w.detach) // waits for the kernel, like attaching
	t.mu.Lock()
	defer t.mu.Unlock()
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

// removeAll detaches every interface and deletes their entries, several
// at once.
func (t *table) removeAll() error {
	ixs := t.indexes()
	errs := make([]error, len(ixs))
	parallel(len(ixs), func(i int) { errs[i] = t.remove(ixs[i]) })
	return errors.Join(errs...)
}

// parallelism is how many interfaces attach or detach at once: each waits
// mostly for the kernel's RCU grace periods, which concurrent attachments
// share.
const parallelism = 32

// parallel runs fn(0..n-1) on up to parallelism goroutines, each set up by
// setup (nil: none) first, and returns when all have run.
func parallel(n int, fn func(i int)) { parallelSetup(n, nil, fn) }

func parallelSetup(n int, setup func() error, fn func(i int)) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, min(n, parallelism))
	for w := range min(n, parallelism) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if setup != nil {
				if errs[w] = setup(); errs[w] != nil {
					return
				}
			}
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				fn(i)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// takeSlot hands out a counters slot: one never used while the chunks
// have one, else the one freed longest ago (freed slots are reused as late
// as possible), else one of a new chunk.
func (t *table) takeSlot() (uint32, error) {
	if t.next < t.o.slotCapacity() {
		t.next++
		return t.next - 1, nil
	}
	if len(t.slots) > 0 {
		s := t.slots[0]
		t.slots = t.slots[1:]
		return s, nil
	}
	if err := t.o.addChunk(); err != nil {
		return 0, err
	}
	slog.Debug("ebpf: counters chunk added", "slots", t.o.slotCapacity(), "cpus", t.o.cpus)
	t.next++
	return t.next - 1, nil
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
