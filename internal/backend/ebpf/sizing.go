package ebpf

import (
	"fmt"
	"math"
	"math/bits"
	"time"
)

// Bounds of the maps, fixed at load time.
const (
	// MaxInterfaces bounds the counters: one slot per interface, two
	// 64-byte elements (rx, tx) per slot and CPU, in chunks of 1,024 slots
	// (128 KiB per CPU) added as interfaces are watched, at most 64 chunks.
	// Slot 0 is never used.
	MaxInterfaces = 64*1024 - 1

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
	limit uint64        // the most it may grow to
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

// planBins sizes the ring buffer at load: enough for defaultHorizon with
// every selected interface writing a record per bin, direction and CPU,
// within bound bytes (DefaultBinsMemory if 0). sizeBins sizes it again once
// the sample interval is known.
func planBins(width time.Duration, interfaces, cpus int, bound uint64, page int) (binPlan, error) {
	if width < MinResolution || width > MaxResolution {
		return binPlan{}, fmt.Errorf("resolution %v out of range [%v, %v]", width, MinResolution, MaxResolution)
	}
	limit, err := ringLimit(bound, page)
	if err != nil {
		return binPlan{}, err
	}
	want := fullRate(width, interfaces, cpus) * horizonSeconds(defaultHorizon)
	return binPlan{width: width, size: min(ringBytesFor(want, page), limit), limit: limit}, nil
}

// ringLimit is the largest ring buffer within bound bytes (DefaultBinsMemory
// if 0): a power of two, at least the smallest ring buffer.
func ringLimit(bound uint64, page int) (uint64, error) {
	if bound == 0 {
		bound = DefaultBinsMemory
	}
	limit := floorPow2(min(bound, maxRingBytes))
	if smallest := max(minRingBytes, uint64(page)); limit < smallest {
		return 0, fmt.Errorf("--bins-memory %s is below the smallest ring buffer of bins (%s)", formatBytes(bound), formatBytes(smallest))
	}
	return limit, nil
}

// binSizing is the ring buffer sized for a sample interval: what it holds
// now and how far it may grow with the record rate.
type binSizing struct {
	width      time.Duration
	interfaces int
	cpus       int
	size       uint64        // ring buffer bytes now
	limit      uint64        // the most it may grow to
	horizon    time.Duration // how long it should hold at the record rate
}

// horizonFor is how long the ring buffer should hold for a sample
// interval: the interval plus a margin of the interval again, at least
// 250 ms (a late wake-up, a descheduled reader).
func horizonFor(interval time.Duration) time.Duration {
	return interval + max(interval, 250*time.Millisecond)
}

// sizeBins sizes the ring buffer for reading once per sample interval:
// enough for horizonFor(interval) with every watched interface writing a
// record per bin, direction and CPU, within bound (a power of two no larger
// than bound is the most it may grow to with the record rate seen). It
// fails when the bound cannot hold one interval even with each interface's
// traffic on a single CPU.
func sizeBins(width, interval time.Duration, interfaces, cpus int, bound uint64, page int) (binSizing, error) {
	limit, err := ringLimit(bound, page)
	if err != nil {
		return binSizing{}, err
	}
	interval = max(interval, width)
	interfaces, cpus = max(interfaces, 1), max(cpus, 1)
	sz := binSizing{width: width, interfaces: interfaces, cpus: cpus, limit: limit, horizon: horizonFor(interval)}
	oneCPU := fullRate(width, interfaces, 1)
	if held := (binPlan{width: width, size: limit}).span(oneCPU); held < interval {
		return binSizing{}, fmt.Errorf("--bins-memory %s holds %v of %v bins for %s active in both directions, less than one interval (%v): raise it to %s or more, or use a coarser --resolution",
			formatBytes(max(bound, limit)), round(held), width, interfacesText(interfaces), interval, formatBytes(ringBytesFor(oneCPU*interval.Seconds(), page)))
	}
	sz.size = min(ringBytesFor(fullRate(width, interfaces, cpus)*sz.horizon.Seconds(), page), limit)
	return sz, nil
}

// String says what the sizing allows, for the start-up log.
func (sz binSizing) String() string {
	full := fullRate(sz.width, sz.interfaces, sz.cpus)
	now := binPlan{width: sz.width, size: sz.size}
	most := binPlan{width: sz.width, size: sz.limit}
	return fmt.Sprintf("%v bins, %s × %d CPUs active: %v of history (%s ring buffer; grows with the record rate up to %s: %v)",
		sz.width, interfacesText(sz.interfaces), sz.cpus, round(now.span(full)), formatBytes(sz.size), formatBytes(sz.limit), round(most.span(full)))
}

// round keeps a duration to three significant figures or so.
func round(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(time.Second)
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Microsecond)
}

// interfacesText is "1 interface" or "1,000 interfaces".
func interfacesText(n int) string {
	if n == 1 {
		return "1 interface"
	}
	return thousands(n) + " interfaces"
}

// thousands prints n with comma separators.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
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
