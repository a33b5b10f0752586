package ebpf

import (
	"sync/atomic"
	"time"
)

// dirCounts sums one direction of a counters slot over all CPUs, reading
// the mapped memory (no system call).
func (o *objects) dirCounts(slot, dir uint32) (bytes, packets uint64) {
	for cpu := range o.cpus {
		v := o.value(slot, dir, cpu)
		bytes += atomic.LoadUint64(&v.Bytes)
		packets += atomic.LoadUint64(&v.Packets)
	}
	return bytes, packets
}

// elemRetries bounds the rereads of an element whose lost run changes while
// it is read.
const elemRetries = 8

// readElem reads the bin state of one counters element: the counts of the
// bin in progress first, then cur_end, then the lost run (see the ordering
// contract in bpf/netwatch.c).
//
// The program writes lost_first, lost_last, then cur_end. A lost_last at or
// past cur_end was written by a flush after cur_end was read: the element is
// read again. A lost_first past lost_last is a new run being written
// (lost_first first): a new run starts only once the reader has accounted
// for the previous one, and it is about bins from cur on, so no bin before
// cur is lost.
func readElem(v *netwatchNwValue, width time.Duration) cpuBin {
	w := uint64(width)
	var c cpuBin
	for try := 0; ; try++ {
		bytes := atomic.LoadUint64(&v.CurBytes)
		packets := atomic.LoadUint64(&v.CurPackets)
		end := atomic.LoadUint64(&v.CurEnd)
		last := atomic.LoadUint64(&v.LostLast)
		first := atomic.LoadUint64(&v.LostFirst)
		c = cpuBin{}
		if end == 0 {
			return c
		}
		c.started, c.cur, c.bytes, c.packets = true, end/w-1, bytes, packets
		if last == 0 || first > last {
			return c
		}
		if last >= end && try < elemRetries {
			continue
		}
		c.lost, c.lostFirst, c.lostLast = true, first/w-1, last/w-1
		if last >= end {
			// Still moving: take every bin from lost_first on as lost.
			c.lostLast = c.cur
		}
		return c
	}
}

// ackLost tells the program that the reader has accounted for the lost
// bins up to (the end time) upTo, so that its next lost record starts a new
// run instead of growing this one.
func ackLost(v *netwatchNwValue, upTo uint64) {
	if atomic.LoadUint64(&v.LostAck) < upTo {
		atomic.StoreUint64(&v.LostAck, upTo)
	}
}
