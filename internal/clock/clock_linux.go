package clock

import (
	"time"
	_ "unsafe" // for go:linkname
)

// nanotime is the Go runtime's CLOCK_MONOTONIC read through the vDSO: no
// system call, unlike unix.ClockGettime. The runtime documents it as
// reachable by linkname and keeps its signature stable.
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64

// Monotonic returns CLOCK_MONOTONIC, the clock bpf_ktime_get_ns reads.
func Monotonic() time.Duration { return time.Duration(nanotime()) }
