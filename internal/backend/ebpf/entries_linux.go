package ebpf

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
)

// ringSlot is the ring of direction dir of the interface holding ring pair
// pair: interfaces own two adjacent rings, rx then tx.
func ringSlot(pair, dir uint32) uint32 {
	if pair == noSlot {
		return noSlot
	}
	return 2*pair + dir
}

// addInterface creates the rx and tx entries of ifindex in the counters map,
// zero on every CPU, with ring pair pair (noSlot for none). Counting starts
// here: the program ignores an ifindex without entries. The pair's rings are
// cleared first so that a previous owner's bins cannot show up.
func (o *objects) addInterface(ifindex int, pair uint32) error {
	if pair != noSlot {
		if err := o.clearRings(pair); err != nil {
			return err
		}
	}
	vals := make([]netwatchNwValue, o.cpus)
	for _, dir := range []uint32{dirRx, dirTx} {
		for i := range vals {
			vals[i].Slot = ringSlot(pair, dir)
		}
		k := netwatchNwKey{Ifindex: uint32(ifindex), Dir: dir}
		if err := o.Counters.Update(&k, vals, ebpf.UpdateAny); err != nil {
			return fmt.Errorf("ebpf: create counters of ifindex %d: %w", ifindex, err)
		}
	}
	return nil
}

// removeInterface deletes the entries of ifindex; missing ones are fine.
func (o *objects) removeInterface(ifindex int) error {
	var errs []error
	for _, dir := range []uint32{dirRx, dirTx} {
		k := netwatchNwKey{Ifindex: uint32(ifindex), Dir: dir}
		if err := o.Counters.Delete(&k); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			errs = append(errs, fmt.Errorf("ebpf: delete counters of ifindex %d: %w", ifindex, err))
		}
	}
	return errors.Join(errs...)
}

// clearRings zeroes the two rings of pair.
func (o *objects) clearRings(pair uint32) error {
	if o.bins.width == 0 {
		return nil
	}
	n := int(2 * o.bins.ring)
	keys := make([]uint32, n)
	for i := range keys {
		keys[i] = ringSlot(pair, dirRx)<<o.bins.shift + uint32(i)
	}
	vals := make([]netwatchNwBin, n*o.cpus)
	if _, err := o.Bins.BatchUpdate(keys, vals, nil); err != nil {
		return fmt.Errorf("ebpf: clear bins of ring pair %d: %w", pair, err)
	}
	return nil
}
