//go:build !linux

package clock

import "context"

// NewSleeper returns a Sleeper on Go timers.
func NewSleeper(context.Context) Sleeper { return newTimerSleeper() }
