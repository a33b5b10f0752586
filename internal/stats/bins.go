package stats

import "time"

// Bins is a run of completed in-kernel time bins, read from the ebpf backend.
// Bin n covers CLOCK_MONOTONIC [n*Width, (n+1)*Width). Every bin in
// [First, First+Count) is complete: no packet can still be added to it.
type Bins struct {
	Width      time.Duration
	First      uint64
	Count      int
	Interfaces []InterfaceBins
}

// InterfaceBins holds one interface's bins, merged over all CPUs.
type InterfaceBins struct {
	Name  string
	Index int
	// Netns is the interface's namespace label (a backend reading several
	// namespaces sets it; see Labels).
	Netns string
	// Bins[i] is what bin First+i counted (not cumulative). len(Bins) == Count.
	Bins []Counters
	// Lost[i] is true when bin First+i was overwritten in the kernel's ring
	// before it was read on at least one CPU: its counts are incomplete and
	// must be reported, never silently merged. Nil when no bin was lost.
	Lost []bool
}

// BinSource is implemented by backends that keep in-kernel time bins.
type BinSource interface {
	// Resolution is the bin width chosen at load time.
	Resolution() time.Duration
	// ReadBins returns the bins completed since the previous call (the first
	// call returns the bins completed since the backend started counting).
	// The slices returned belong to the caller.
	ReadBins() (Bins, error)
	// BinSpan is how long completed bins stay readable in the backend's
	// storage before they are lost: a reader must call ReadBins at least
	// this often. Zero means no limit.
	BinSpan() time.Duration
}
