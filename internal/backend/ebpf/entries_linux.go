package ebpf

import (
	"fmt"
	"sync/atomic"

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

// addInterface starts counting ifindex in counters slot slot, with ring pair
// pair (noSlot for none): it zeroes the slot's elements and the pair's rings
// and then publishes ifindex -> slot to the programs, which ignore an
// ifindex they cannot find.
func (o *objects) addInterface(ifindex int, slot, pair uint32) error {
	for _, dir := range []uint32{dirRx, dirTx} {
		for cpu := range o.cpus {
			v := o.value(slot, dir, cpu)
			atomic.StoreUint64(&v.Bytes, 0)
			atomic.StoreUint64(&v.Packets, 0)
			atomic.StoreUint64(&v.CurBytes, 0)
			atomic.StoreUint64(&v.CurPackets, 0)
			atomic.StoreUint64(&v.CurBin, 0)
			atomic.StoreUint64(&v.CurStart, 0)
			atomic.StoreUint32(&v.Ring, ringSlot(pair, dir))
		}
		if pair != noSlot {
			ring := ringSlot(pair, dir)
			for cpu := range o.cpus {
				for b := range o.bins.ring {
					e := o.binEntryAt(ring, cpu, b)
					atomic.StoreUint64(&e.Bin, 0)
					atomic.StoreUint64(&e.Bytes, 0)
					atomic.StoreUint64(&e.Packets, 0)
				}
			}
		}
	}
	ix := uint32(ifindex)
	if k := ix % ifmapSize; o.ifmap[k] == 0 {
		v := netwatchNwIfslot{Ifindex: ix, Slot: slot}
		if err := o.Ifslots.Update(&k, &v, ebpf.UpdateAny); err != nil {
			return fmt.Errorf("ebpf: publish ifindex %d: %w", ifindex, err)
		}
		o.ifmap[k] = ix
		return nil
	}
	if err := o.Ifoverflow.Update(&ix, &slot, ebpf.UpdateAny); err != nil {
		return fmt.Errorf("ebpf: publish ifindex %d: %w", ifindex, err)
	}
	return nil
}

// removeInterface stops counting ifindex. Its slot must not be reused before
// programs that found it have finished (microseconds): the table hands out
// freed slots last.
func (o *objects) removeInterface(ifindex int) error {
	ix := uint32(ifindex)
	if k := ix % ifmapSize; o.ifmap[k] == ix {
		var zero netwatchNwIfslot
		if err := o.Ifslots.Update(&k, &zero, ebpf.UpdateAny); err != nil {
			return fmt.Errorf("ebpf: unpublish ifindex %d: %w", ifindex, err)
		}
		o.ifmap[k] = 0
		return nil
	}
	if err := o.Ifoverflow.Delete(&ix); err != nil {
		return fmt.Errorf("ebpf: unpublish ifindex %d: %w", ifindex, err)
	}
	return nil
}
