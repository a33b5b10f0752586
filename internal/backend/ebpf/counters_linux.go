package ebpf

import "sync/atomic"

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

// curBins fills cur with each CPU's bin in progress for slot and dir. The
// counts are loaded before the bin number (see bpf/netwatch.c).
func (o *objects) curBins(slot, dir uint32, cur []binEntry) {
	for cpu := range o.cpus {
		v := o.value(slot, dir, cpu)
		bytes := atomic.LoadUint64(&v.CurBytes)
		packets := atomic.LoadUint64(&v.CurPackets)
		cur[cpu] = binEntry{Bin: atomic.LoadUint64(&v.CurBin), Bytes: bytes, Packets: packets}
	}
}

// ringBins fills out with each CPU's ring entry for bin in ring, counts
// before the bin number.
func (o *objects) ringBins(ring uint32, bin uint64, out []binEntry) {
	for cpu := range o.cpus {
		e := o.binEntryAt(ring, cpu, bin)
		bytes := atomic.LoadUint64(&e.Bytes)
		packets := atomic.LoadUint64(&e.Packets)
		out[cpu] = binEntry{Bin: atomic.LoadUint64(&e.Bin), Bytes: bytes, Packets: packets}
	}
}
