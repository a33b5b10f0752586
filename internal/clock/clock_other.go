//go:build !linux && !darwin

package clock

import "time"

// Monotonic returns Go's monotonic clock on systems without CLOCK_MONOTONIC.
func Monotonic() time.Duration { return fallbackMonotonic() }
