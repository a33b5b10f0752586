package main

import (
	"context"
	"time"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// loopFunc is one run of the sampler loop on an open backend.
type loopFunc func(ctx context.Context, interval time.Duration, count int, duration time.Duration, emit func(stats.Sample) error) error

// retimed runs loop until ctx ends, restarting it with each interval
// received on retime. --count and --duration bound the whole run: a
// restarted loop gets what is left of them.
func retimed(ctx context.Context, retime <-chan time.Duration, interval time.Duration, count int, duration time.Duration,
	emit func(stats.Sample) error, loop loopFunc) error {
	start := time.Now()
	emitted := 0
	counted := func(s stats.Sample) error {
		emitted++
		return emit(s)
	}
	for {
		left, leftDur := count, duration
		if count > 0 {
			if left = count - emitted; left <= 0 {
				return nil
			}
		}
		if duration > 0 {
			if leftDur = duration - time.Since(start); leftDur <= 0 {
				return nil
			}
		}
		lctx, cancel := context.WithCancel(ctx)
		next := make(chan time.Duration, 1)
		done := make(chan struct{})
		go func() {
			select {
			case d := <-retime:
				next <- d
				cancel()
			case <-done:
			}
		}()
		err := loop(lctx, interval, left, leftDur, counted)
		close(done)
		cancel()
		select {
		case d := <-next:
			if err == nil && ctx.Err() == nil {
				interval = d
				continue
			}
		default:
		}
		return err
	}
}
