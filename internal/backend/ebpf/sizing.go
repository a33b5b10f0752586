package ebpf

import (
	"fmt"
	"math"
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

	// recordSize is what one bin record takes in the ring buffer: struct
	// nw_rec (24 bytes) and the ring buffer's 8-byte header.
	recordSize = 32

	// DefaultBinsMemory bounds the ring buffer of bin records unless the
	// user sets another bound.
	DefaultBinsMemory = 64 << 20

	// minRingBytes is the smallest ring buffer netwatch makes.
	minRingBytes = 64 << 10

	// maxRingBytes is the largest ring buffer the kernel makes (its
	// positions are 32-bit record offsets): 2 GiB on 64-bit.
	maxRingBytes = 1 << 31

	// defaultHorizon is how long a ring buffer sized at load holds at the
	// planned rate, before the sampler says how often it reads.
	defaultHorizon = 2 * time.Second
)

// binPlan is the size of the ring buffer of bin records and what it holds.
type binPlan struct {
	width time.Duration // 0: bins off
	size  uint64        // ring buffer bytes, a power of two
}

// records is how many bin records the ring buffer holds.
func (p binPlan) records() uint64 { return p.size / recordSize }

// fullRate is the record rate when every element (interfaces × 2
// directions × cpus) completes a bin with packets in every bin: the most
// that many interfaces can write, in records per second.
func fullRate(width time.Duration, interfaces, cpus int) float64 {
	return float64(max(interfaces, 1)) * 2 * float64(max(cpus, 1)) * float64(time.Second) / float64(width)
}

// span is how long the ring buffer holds at rate records per second;
// maxSpan for no records.
func (p binPlan) span(rate float64) time.Duration {
	if rate <= 0 {
		return maxSpan
	}
	s := float64(p.records()) / rate * float64(time.Second)
	if s >= float64(maxSpan) {
		return maxSpan
	}
	return time.Duration(s)
}

// maxSpan is what BinSpan reports when nothing is written.
const maxSpan = time.Hour

// ringBytesFor is the power-of-two ring buffer size that holds records,
// at least minRingBytes (and one page).
func ringBytesFor(records float64, page int) uint64 {
	need := uint64(math.Ceil(records)) * recordSize
	need = max(need, minRingBytes, uint64(page))
	if need >= maxRingBytes {
		return maxRingBytes
	}
	return 1 << bits.Len64(need-1)
}

// floorPow2 is the largest power of two <= n (0 for 0).
func floorPow2(n uint64) uint64 {
	if n == 0 {
		return 0
	}
	return 1 << (bits.Len64(n) - 1)
}

// planBins sizes the ring buffer at load: enough for horizon with every
// selected interface writing a record per bin, direction and CPU, within
// bound bytes (DefaultBinsMemory if 0).
func planBins(width time.Duration, interfaces, cpus int, bound uint64, page int) (binPlan, error) {
	if width < MinResolution || width > MaxResolution {
		return binPlan{}, fmt.Errorf("resolution %v out of range [%v, %v]", width, MinResolution, MaxResolution)
	}
	if bound == 0 {
		bound = DefaultBinsMemory
	}
	limit := floorPow2(min(bound, maxRingBytes))
	if limit < max(minRingBytes, uint64(page)) {
		return binPlan{}, fmt.Errorf("bins memory %s is below the smallest ring buffer (%s)", formatBytes(bound), formatBytes(max(minRingBytes, uint64(page))))
	}
	want := fullRate(width, interfaces, cpus) * horizonSeconds(defaultHorizon)
	return binPlan{width: width, size: min(ringBytesFor(want, page), limit)}, nil
}

func horizonSeconds(d time.Duration) float64 { return d.Seconds() }

// formatBytes prints a byte count in KiB, MiB or GiB.
func formatBytes(n uint64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
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
