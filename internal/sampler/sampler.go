// Package sampler turns a backend's cumulative counters into a stream of
// samples: it takes a baseline read, reads again on every tick of an
// absolute schedule (so drift does not accumulate), and computes rates from
// the measured time between reads, never from the nominal interval.
package sampler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/netwatch-dev/netwatch/internal/clock"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

// Reader is the part of a backend the sampler needs.
type Reader interface {
	Source() stats.Source
	Read(ctx context.Context) (stats.Snapshot, error)
}

// LinkNotifier is implemented by readers that follow interfaces coming and
// going (rtnetlink link events): LinksChanged receives a value when one
// appeared or was renamed, nil when the reader cannot tell. Run then reads
// at once, between ticks, so that a new interface's baseline is taken
// close to its start and the next sample shows it.
type LinkNotifier interface {
	LinksChanged() <-chan struct{}
}

// Config says how often and how long to sample.
type Config struct {
	// Interval between reads; must be positive.
	Interval time.Duration
	// Count stops after this many samples; 0 means no limit.
	Count int
	// Duration bounds the run: it stops after the sample that ends on the
	// last tick of the schedule within Duration of the baseline read
	// (MaxSamples(Duration, Interval) ticks); 0 means no limit.
	Duration time.Duration
	// Logger receives diagnostics (resets, interfaces coming and going).
	// Nil discards them.
	Logger *slog.Logger
	// OnPoll, when set, is called after each read of the backend with how
	// long the read took.
	OnPoll func(time.Duration)

	// now and sleepUntil replace the clock in tests (sleepUntil returns
	// clock.ErrWoken after wake).
	now        func() time.Duration
	sleepUntil func(ctx context.Context, deadline time.Duration) error
	wake       func()
}

// wakeOn calls wake for every value from changed until stop is called;
// stop returns once the goroutine has ended.
func wakeOn(changed <-chan struct{}, wake func()) (stop func()) {
	done, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		for {
			select {
			case <-done:
				return
			case <-changed:
				wake()
			}
		}
	}()
	return func() {
		close(done)
		<-ended
	}
}

// Run samples r until ctx is cancelled or the configured count or duration
// is reached, calling emit with each sample. Cancellation is not an error:
// Run returns nil, after emit has returned for every sample it started.
func Run(ctx context.Context, r Reader, cfg Config, emit func(stats.Sample) error) error {
	if cfg.Interval <= 0 {
		return fmt.Errorf("sampler: interval must be positive, got %v", cfg.Interval)
	}
	if cfg.now == nil {
		cfg.now = clock.Monotonic
	}
	wake := cfg.wake
	if cfg.sleepUntil == nil {
		sl := clock.NewSleeper(ctx)
		defer sl.Close()
		cfg.sleepUntil, wake = sl.Until, sl.Wake
	}
	if n, ok := r.(LinkNotifier); ok && wake != nil {
		if changed := n.LinksChanged(); changed != nil {
			stop := wakeOn(changed, wake)
			defer stop()
		}
	}
	log := orDiscard(cfg.Logger)

	prev, err := r.Read(ctx)
	if err != nil {
		return canceledIsNil(ctx, fmt.Errorf("baseline read: %w", err))
	}
	t := newTracker(log)
	t.baseline(prev)
	start := cfg.now()
	lastTick := MaxSamples(cfg.Duration, cfg.Interval) // 0: no limit
	emitted := 0
	for tick := 1; ; tick++ {
		want := tick
		var deadline time.Duration
		// The next read is at least half an interval after the last one:
		// after a late wake-up the skipped ticks merge into one longer,
		// correctly measured interval instead of a burst of short ones.
		earliest := max(cfg.now(), prev.Mono+cfg.Interval/2)
		if tick, deadline = onGrid(start, cfg.Interval, tick, earliest); tick > want {
			log.Debug("missed ticks", "count", tick-want)
		}
		if lastTick > 0 && tick > lastTick {
			if emitted > 0 {
				return nil
			}
			// Not even one sample fits: take the one tick there is.
			tick, deadline = lastTick, start+time.Duration(lastTick)*cfg.Interval
		}
		for {
			err := cfg.sleepUntil(ctx, deadline)
			if err == nil {
				break
			}
			if !errors.Is(err, clock.ErrWoken) {
				return canceledIsNil(ctx, err)
			}
			// An interface appeared: its baseline now, not at the
			// tick (which would show it a sample later).
			mid, err := r.Read(ctx)
			if err != nil {
				return canceledIsNil(ctx, fmt.Errorf("read: %w", err))
			}
			t.between(prev, mid)
		}
		began := cfg.now()
		cur, err := r.Read(ctx)
		if err != nil {
			return canceledIsNil(ctx, fmt.Errorf("read: %w", err))
		}
		if cfg.OnPoll != nil {
			cfg.OnPoll(cfg.now() - began)
		}
		sample := t.next(r.Source(), prev, cur)
		prev = cur
		if err := emit(sample); err != nil {
			return err
		}
		emitted++
		if cfg.Count > 0 && emitted >= cfg.Count {
			return nil
		}
		if lastTick > 0 && tick >= lastTick {
			return nil
		}
	}
}

// MaxSamples is how many whole intervals fit in duration: the number of
// samples --duration allows (at least one), or 0 for no limit. Both loops
// use it, so that a run never goes past its duration by a sample.
func MaxSamples(duration, interval time.Duration) int {
	if duration <= 0 || interval <= 0 {
		return 0
	}
	return max(1, int(duration/interval))
}

// canceledIsNil turns any error that happened because ctx was cancelled
// (the context error itself, or a read interrupted by it) into nil.
func canceledIsNil(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// orDiscard returns log, or a logger that discards everything when nil.
func orDiscard(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return log
}

// onGrid returns the tick to wait for and its deadline, start + tick *
// interval, at or after now. When now is already past that deadline (a slow
// read, a descheduled process), the missed ticks are skipped: the schedule stays on
// the grid instead of bunching reads, and drift never accumulates.
func onGrid(start, interval time.Duration, tick int, now time.Duration) (int, time.Duration) {
	deadline := start + time.Duration(tick)*interval
	if now > deadline {
		tick += int((now - deadline + interval - 1) / interval)
		deadline = start + time.Duration(tick)*interval
	}
	return tick, deadline
}
