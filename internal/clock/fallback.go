//go:build !linux

package clock

import "time"

var origin = time.Now()

// fallbackMonotonic is Go's monotonic clock measured from process start.
func fallbackMonotonic() time.Duration { return time.Since(origin) }
