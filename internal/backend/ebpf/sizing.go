package ebpf

import (
	"fmt"
	"math/bits"
	"time"
)

// Bounds of the maps, fixed at load time.
const (
	// MaxInterfaces bounds the counters map: one slot per interface, two
	// 64-byte elements (rx, tx) per slot and CPU: 128 KiB per CPU.
	MaxInterfaces = 1024

	// ifmapSize is NW_IFMAP: entries of the direct-mapped ifindex table.
	ifmapSize = 4096

	// MinResolution and MaxResolution bound the bin width.
	MinResolution = 100 * time.Microsecond
	MaxResolution = time.Second

	// RingSpan is how much time one ring of bins covers at least. A reader
	// polling every 100 ms (the relaxed pace under load) reads every bin
	// with a 2.5x margin; see ringBins.
	RingSpan = 250 * time.Millisecond

	// minRing keeps coarse widths from a ring of one or two bins.
	minRing = 4

	// ringBudget bounds the memory of all rings on all CPUs together.
	ringBudget = 64 << 20

	// spareBinInterfaces are ring slots kept for interfaces that appear
	// after Open.
	spareBinInterfaces = 32

	// binEntrySize is sizeof(struct nw_bin).
	binEntrySize = 24
)

// ringBins returns the number of bins in one ring (a power of two, so the
// program indexes it with a mask) for the bin width:
//
//	ring = max(4, nextPow2(ceil(RingSpan / width)))
//
// 100 µs -> 4096 bins (410 ms, 96 KiB per ring per CPU), 1 ms -> 256 (256 ms,
// 6 KiB), 10 ms -> 32 (320 ms), 1 s -> 4 (4 s).
func ringBins(width time.Duration) (bins uint64, shift uint32) {
	n := uint64((RingSpan + width - 1) / width)
	n = max(n, minRing)
	shift = uint32(bits.Len64(n - 1))
	return 1 << shift, shift
}

// binLayout is the size of the bins map: slots rings (one per interface and
// direction) per CPU, of ring bins each.
type binLayout struct {
	width time.Duration
	ring  uint64
	shift uint32
	slots uint32 // rings per CPU: two per interface (see ringSlot)
	cpus  uint32
}

// pairs is the number of interfaces that can have bins.
func (l binLayout) pairs() uint32 { return l.slots / 2 }

// entries is max_entries of the bins map.
func (l binLayout) entries() uint32 { return l.slots * l.cpus << l.shift }

// bytesPerCPU is the memory the bins map takes for each CPU.
func (l binLayout) bytesPerCPU() uint64 { return uint64(l.slots) * l.ring * binEntrySize }

// planBins sizes the rings for width, the number of interfaces selected at
// start and the number of possible CPUs: two slots per selected interface
// plus spares, bounded so that all rings on all CPUs fit in ringBudget. It
// fails when even the selected interfaces do not fit, naming the memory they
// would need.
func planBins(width time.Duration, interfaces, cpus int) (binLayout, error) {
	if width < MinResolution || width > MaxResolution {
		return binLayout{}, fmt.Errorf("resolution %v out of range [%v, %v]", width, MinResolution, MaxResolution)
	}
	ring, shift := ringBins(width)
	perSlot := ring * binEntrySize * uint64(max(cpus, 1))
	maxSlots := uint64(ringBudget) / perSlot
	need := 2 * uint64(interfaces)
	if need > maxSlots {
		return binLayout{}, fmt.Errorf("resolution %v: bins for %d interfaces on %d CPUs need %d MiB (limit %d MiB); use a coarser resolution or fewer interfaces",
			width, interfaces, cpus, need*perSlot>>20, ringBudget>>20)
	}
	slots := min(need+2*spareBinInterfaces, maxSlots, 2*MaxInterfaces) &^ 1
	return binLayout{width: width, ring: ring, shift: shift, slots: uint32(slots), cpus: uint32(max(cpus, 1))}, nil
}

// durationNs converts nanoseconds to a Duration.
func durationNs(ns int64) time.Duration { return time.Duration(ns) }

// binGuard is how long after a bin's end the reader waits before it takes
// the bin as complete: longer than a program run that read the clock just
// before the bin's end can take to add its packet.
const binGuard = time.Millisecond

// completeBefore returns the first bin that is not complete at CLOCK_MONOTONIC
// now: every bin below it ended at least binGuard before now.
func completeBefore(now, width time.Duration) uint64 {
	if now < binGuard {
		return 0
	}
	return uint64((now - binGuard) / width)
}
