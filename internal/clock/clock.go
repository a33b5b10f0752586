// Package clock reads CLOCK_MONOTONIC, the clock netwatch computes every rate
// on and the clock the kernel's bpf_ktime_get_ns uses, together with the wall
// clock for display.
package clock

import "time"

// Reading is one instant on both clocks.
type Reading struct {
	Mono time.Duration // CLOCK_MONOTONIC since an unspecified origin (boot on Linux)
	Wall time.Time
}

// Now reads both clocks.
func Now() Reading {
	return Reading{Mono: Monotonic(), Wall: time.Now()}
}

// WallAt converts a monotonic instant to wall-clock time relative to r.
func (r Reading) WallAt(mono time.Duration) time.Time {
	return r.Wall.Add(mono - r.Mono)
}
