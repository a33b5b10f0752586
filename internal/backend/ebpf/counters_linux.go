package ebpf

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// batchThreshold is the number of map entries from which one batch lookup
// replaces a lookup per entry.
const batchThreshold = 8

// counterReader reads the counters map into preallocated buffers.
type counterReader struct {
	m    *ebpf.Map
	cpus int

	// One lookup per key.
	one []netwatchNwValue

	// Batch lookup of the whole map.
	cursor    uint32
	batchKeys []netwatchNwKey
	batchVals []netwatchNwValue
}

func newCounterReader(m *ebpf.Map, cpus int) *counterReader {
	return &counterReader{m: m, cpus: cpus, one: make([]netwatchNwValue, cpus)}
}

// read calls fn with the per-CPU values of every key in keys. The slice
// passed to fn is only valid during the call. Keys missing from the map are
// skipped.
func (r *counterReader) read(keys []netwatchNwKey, fn func(k netwatchNwKey, perCPU []netwatchNwValue)) error {
	if len(keys) < batchThreshold {
		for i := range keys {
			if err := lookupPerCPU(r.m.FD(), &keys[i], r.one); err != nil {
				if errors.Is(err, unix.ENOENT) {
					continue
				}
				return fmt.Errorf("ebpf: read counters of ifindex %d: %w", keys[i].Ifindex, err)
			}
			fn(keys[i], r.one)
		}
		return nil
	}
	return r.readBatch(len(keys), fn)
}

// readBatch reads the whole map with as few batch lookups as the kernel
// allows. The map holds the keys netwatch created and nothing else.
func (r *counterReader) readBatch(n int, fn func(k netwatchNwKey, perCPU []netwatchNwValue)) error {
	// Room for every entry (plus a little for a hash bucket that straddles
	// the end), so one call normally returns everything.
	size := n + 8
	if len(r.batchKeys) < size {
		r.batchKeys = make([]netwatchNwKey, size)
		r.batchVals = make([]netwatchNwValue, size*r.cpus)
	}
	for started := false; ; started = true {
		got, err := lookupBatchPerCPU(r.m.FD(), &r.cursor, started, r.batchKeys, r.batchVals)
		if err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("ebpf: batch read counters: %w", err)
		}
		for i := range got {
			fn(r.batchKeys[i], r.batchVals[i*r.cpus:(i+1)*r.cpus])
		}
		if err != nil || got == 0 {
			return nil
		}
	}
}
