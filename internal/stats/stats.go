// Package stats is netwatch's shared vocabulary: cumulative interface
// counters, the snapshots backends return, the samples the sampler emits and
// the rate and reset arithmetic between them. It imports nothing of netwatch.
package stats

import "time"

// Counters are the cumulative 64-bit counters of one interface as a backend
// reports them: since attach for ebpf, since boot (or interface creation) for
// procfs and sysctl.
type Counters struct {
	RxBytes   uint64
	RxPackets uint64
	TxBytes   uint64
	TxPackets uint64
}

// ErrorCounters are the cumulative error and drop counters of an interface,
// for the backends whose source has them (procfs, sysctl).
type ErrorCounters struct {
	RxErrors uint64
	RxDrops  uint64
	TxErrors uint64
	TxDrops  uint64
}

// InterfaceCounters is one interface in a Snapshot.
type InterfaceCounters struct {
	Name  string
	Index int // kernel ifindex; 0 when the source does not say
	Counters
	// Errors is nil when the backend has no error or drop counters.
	Errors *ErrorCounters
	Labels
	// Appeared: the backend saw this interface appear (created, or moved
	// into the namespace) since its previous read, even under an index
	// it had before: its counters do not continue earlier reads' (a
	// device moved away and back kept counting elsewhere).
	Appeared bool
}

// Labels say where an interface lives, beyond its name. An interface is its
// namespace and ifindex (DESIGN.md): two namespaces may both have index 1.
type Labels struct {
	// Netns is the network namespace the interface lives in, as the user
	// named it (--netns) or as --netns all found it; empty when none was
	// named.
	Netns string
	// Container is the id of the container the interface belongs to: the
	// one whose namespace it lives in, or, for a veth, the one its peer
	// lives in. Empty when none is known.
	Container string
	// PeerNetns is the namespace a veth's peer lives in, when netwatch
	// knows it (a named namespace or a container's); empty otherwise.
	PeerNetns string
}

// Key identifies an interface across reads: its namespace and ifindex,
// which a rename keeps. Sources that cannot tell the index (0) fall back to
// the name.
type Key struct {
	Netns string
	Index int
	Name  string // only when Index is 0
}

// KeyOf returns the key of the interface called name with index in netns.
func KeyOf(netns string, index int, name string) Key {
	if index != 0 {
		return Key{Netns: netns, Index: index}
	}
	return Key{Netns: netns, Name: name}
}

// Snapshot is the result of one backend read: every selected interface's
// counters and when they were read.
type Snapshot struct {
	// Mono is CLOCK_MONOTONIC at the read, the clock rates are computed on.
	Mono time.Duration
	// Wall is the wall-clock time of the same instant, for display.
	Wall       time.Time
	Interfaces []InterfaceCounters
}

// Source names the backend that produced the data and, for ebpf, how it
// attached ("tcx", "tc" or "xdp").
type Source struct {
	Backend string
	Attach  string
}

// Rates are per-second rates over one interval.
type Rates struct {
	RxBytesPerSec   float64
	RxPacketsPerSec float64
	TxBytesPerSec   float64
	TxPacketsPerSec float64
}

// InterfaceSample is one interface in a Sample: its counters as of the end of
// the interval and its rates over the interval.
type InterfaceSample struct {
	Name  string
	Index int
	Counters
	Rates
	Errors *ErrorCounters
	// Summary describes the bins behind the sample when it covers more
	// than one in-kernel time bin; nil otherwise.
	Summary *Summary
	// LostBins counts bins in the sample that the kernel overwrote before
	// they were read: their counts are missing from the rates and counters.
	LostBins int
	Labels
	// Interval, when not zero, is the measured time this interface's
	// rates cover, shorter than the sample's: it appeared during the
	// sample's interval and its baseline is the read its link event
	// triggered. Zero: the sample's Interval.
	Interval time.Duration
}

// Sample is what the sampler emits once per interval.
type Sample struct {
	// Time is the wall-clock time at the end of the interval.
	Time time.Time
	Source
	// Interval is the measured time between the two reads the rates come
	// from, never the nominal tick.
	Interval time.Duration
	// Resolution is the finest time resolution the sample can show: the
	// measured interval for polling backends.
	Resolution time.Duration
	// ExactBins is true when the sample is built from in-kernel time bins.
	ExactBins  bool
	Interfaces []InterfaceSample
}

// Delta returns cur - prev for each counter. ok is false when any counter
// went backwards (interface reset or recreated, 32-bit wrap in a driver): the
// caller must then re-baseline instead of producing a negative or a spike.
func Delta(prev, cur Counters) (d Counters, ok bool) {
	if cur.RxBytes < prev.RxBytes || cur.RxPackets < prev.RxPackets ||
		cur.TxBytes < prev.TxBytes || cur.TxPackets < prev.TxPackets {
		return Counters{}, false
	}
	return Counters{
		RxBytes:   cur.RxBytes - prev.RxBytes,
		RxPackets: cur.RxPackets - prev.RxPackets,
		TxBytes:   cur.TxBytes - prev.TxBytes,
		TxPackets: cur.TxPackets - prev.TxPackets,
	}, true
}

// RatesOver returns the per-second rates of d over dt. A non-positive dt
// yields zero rates rather than infinities.
func RatesOver(d Counters, dt time.Duration) Rates {
	if dt <= 0 {
		return Rates{}
	}
	s := dt.Seconds()
	return Rates{
		RxBytesPerSec:   float64(d.RxBytes) / s,
		RxPacketsPerSec: float64(d.RxPackets) / s,
		TxBytesPerSec:   float64(d.TxBytes) / s,
		TxPacketsPerSec: float64(d.TxPackets) / s,
	}
}
