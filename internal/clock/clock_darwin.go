package clock

import (
	"time"

	"golang.org/x/sys/unix"
)

// Monotonic returns CLOCK_MONOTONIC.
func Monotonic() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		// CLOCK_MONOTONIC cannot fail on these systems; fall back to Go's
		// monotonic clock rather than returning a zero that would stall rates.
		return fallbackMonotonic()
	}
	return time.Duration(ts.Nano())
}
