package ebpf

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
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
	cursor    ebpf.MapBatchCursor
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
		for _, k := range keys {
			if err := r.m.Lookup(&k, r.one); err != nil {
				if errors.Is(err, ebpf.ErrKeyNotExist) {
					continue
				}
				return fmt.Errorf("ebpf: read counters of ifindex %d: %w", k.Ifindex, err)
			}
			fn(k, r.one)
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
	r.cursor = ebpf.MapBatchCursor{}
	for {
		got, err := r.m.BatchLookup(&r.cursor, r.batchKeys, r.batchVals, nil)
		for i := range got {
			fn(r.batchKeys[i], r.batchVals[i*r.cpus:(i+1)*r.cpus])
		}
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("ebpf: batch read counters: %w", err)
		}
	}
}
