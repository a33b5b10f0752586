package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/netwatch-dev/netwatch/internal/backend"
	"github.com/netwatch-dev/netwatch/internal/output"
	"github.com/netwatch-dev/netwatch/internal/sampler"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

// sampling is what watch and snapshot share: how to read counters and how
// to show them, parsed from the flags before anything is attached.
type sampling struct {
	log   *slog.Logger
	opts  backend.Options
	plan  backend.Plan
	bins  binOptions
	table output.TableOptions
	// retime, when set, changes the interval while run runs (top's +/-):
	// the sampler loop restarts on the backend that stays open, so nothing
	// is detached and the counters go on.
	retime <-chan time.Duration
}

func parseSampling(c *cli.Context) (sampling, error) {
	var s sampling
	var err error
	if s.table, err = tableOptions(c); err != nil {
		return s, err
	}
	if s.log, err = newLogger(c); err != nil {
		return s, err
	}
	if s.opts, err = backendOptions(c); err != nil {
		return s, err
	}
	if s.bins, err = parseBinOptions(c); err != nil {
		return s, err
	}
	s.opts.Resolution = s.bins.resolution
	if s.plan, err = decideBackend(c, s.opts); err != nil {
		return s, err
	}
	return s, nil
}

// run opens the backend and samples it every interval until count samples,
// duration, or cancellation, from in-kernel bins when the backend has them.
// The backend is closed (everything detached) before run returns.
func (s sampling) run(c *cli.Context, interval time.Duration, count int, duration time.Duration, emit func(stats.Sample) error) error {
	be, err := openBackend(c, s.plan, s.opts)
	if err != nil {
		return err
	}
	defer be.Close()
	loop := func(ctx context.Context, interval time.Duration, count int, duration time.Duration, emit func(stats.Sample) error) error {
		if bins, ok := binSource(c, be, s.bins, interval); ok {
			return sampler.RunBins(ctx, bins, s.bins.config(interval, count, duration, s.log), emit)
		}
		cfg := sampler.Config{Interval: interval, Count: count, Duration: duration, Logger: s.log}
		return sampler.Run(ctx, be, cfg, emit)
	}
	if s.retime == nil {
		return loop(c.Context, interval, count, duration, emit)
	}
	return retimed(c.Context, s.retime, interval, count, duration, emit, loop)
}
