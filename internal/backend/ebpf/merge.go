package ebpf

// binEntry is one CPU's record of one bin: struct nw_bin, or the cur_* fields
// of struct nw_value (the bin in progress on that CPU).
type binEntry struct {
	Bin     uint64
	Bytes   uint64
	Packets uint64
}

// binCount is what one direction of one interface counted in one bin.
type binCount struct {
	Bytes   uint64
	Packets uint64
}

// ringFunc returns the ring entries, one per CPU, stored at the ring index of
// bin. It returns nil when the interface has no ring (no slot was free), and
// an error when the map cannot be read.
type ringFunc func(bin uint64) ([]binEntry, error)

// mergeBins merges the per-CPU bins of one interface and direction into
// out[i] (bin first+i), setting lost[i] when bin first+i was overwritten
// before it was read on some CPU. cur holds each CPU's bin in progress, read
// before the ring (see the ordering contract in bpf/netwatch.c). Only
// complete bins may be asked for.
//
// Per CPU, bin w is in exactly one of these places:
//   - cur.Bin == w: the CPU's bin in progress (its ring slot may hold w too,
//     flushed after cur was read: counted once, from cur);
//   - cur.Bin < w: the CPU counted nothing in w or later;
//   - cur.Bin > w: w was flushed to the ring at index w&mask if the CPU
//     counted anything in it; that entry holds w (read it), an older bin (the
//     CPU counted nothing in w) or a newer one (the ring wrapped: lost).
//
// The ring is read only for bins some CPU moved past.
func mergeBins(first uint64, cur []binEntry, ring ringFunc, out []binCount, lost []bool) error {
	var newest uint64
	for _, c := range cur {
		newest = max(newest, c.Bin)
	}
	for i := range out {
		w := first + uint64(i)
		var sum binCount
		var entries []binEntry
		fetched := false
		for cpu, c := range cur {
			switch {
			case c.Bin == w:
				sum.Bytes += c.Bytes
				sum.Packets += c.Packets
				continue
			case c.Bin < w:
				continue
			}
			if !fetched {
				var err error
				if entries, err = ring(w); err != nil {
					return err
				}
				fetched = true
			}
			if cpu >= len(entries) {
				lost[i] = true
				continue
			}
			switch e := entries[cpu]; {
			case e.Bin == w:
				sum.Bytes += e.Bytes
				sum.Packets += e.Packets
			case e.Bin > w:
				lost[i] = true
			}
		}
		out[i] = sum
		if w >= newest {
			// No CPU got past w: every later bin is empty.
			clear(out[i+1:])
			return nil
		}
	}
	return nil
}
