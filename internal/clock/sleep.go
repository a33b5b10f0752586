package clock

import (
	"context"
	"errors"
	"time"
)

// ErrWoken is what Until returns when Wake ended the sleep before its
// deadline.
var ErrWoken = errors.New("clock: woken before the deadline")

// A Sleeper sleeps until CLOCK_MONOTONIC deadlines, returning early with the
// context's error when it is done. One sampling loop uses one Sleeper.
type Sleeper interface {
	Until(ctx context.Context, deadline time.Duration) error
	// Wake makes the Until in progress, or else the next one, return
	// ErrWoken at once. Any goroutine may call it; wakes before Until
	// returns count as one.
	Wake()
	Close() error
}

// timerSleeper sleeps on a Go timer.
type timerSleeper struct{ woken chan struct{} }

func newTimerSleeper() *timerSleeper { return &timerSleeper{woken: make(chan struct{}, 1)} }

func (s *timerSleeper) Until(ctx context.Context, deadline time.Duration) error {
	select {
	case <-s.woken:
		return ErrWoken
	default:
	}
	d := deadline - Monotonic()
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-s.woken:
		return ErrWoken
	case <-timer.C:
		return nil
	}
}

func (s *timerSleeper) Wake() {
	select {
	case s.woken <- struct{}{}:
	default:
	}
}

func (*timerSleeper) Close() error { return nil }
