package clock

import (
	"context"
	"time"
)

// A Sleeper sleeps until CLOCK_MONOTONIC deadlines, returning early with the
// context's error when it is done. One sampling loop uses one Sleeper.
type Sleeper interface {
	Until(ctx context.Context, deadline time.Duration) error
	Close() error
}

// timerSleeper sleeps on a Go timer.
type timerSleeper struct{}

func (timerSleeper) Until(ctx context.Context, deadline time.Duration) error {
	d := deadline - Monotonic()
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

func (timerSleeper) Close() error { return nil }
