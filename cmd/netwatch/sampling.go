package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/netwatch-dev/netwatch/internal/backend"
	"github.com/netwatch-dev/netwatch/internal/bursts"
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
	hooks streamHooks
}

// streamHooks are the streams besides samples that a command takes from the one
// pipeline: the bin stream, finished bursts and the cost of each poll.
// Commands that set them need the ebpf backend's bins for the first two;
// needBins makes their absence an error.
type streamHooks struct {
	// opened is called once the backend is open, with its source and bin
	// resolution (0: no bins).
	opened   func(src stats.Source, resolution time.Duration)
	onBin    func(sampler.Bin)
	onBurst  func(bursts.Event) error
	onPoll   func(time.Duration)
	needBins string // why bins are needed ("--events"); empty: optional
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
	h := s.hooks
	if bins, ok := binSource(c, be, s.bins, interval, h.needBins != ""); ok {
		if h.opened != nil {
			h.opened(be.Source(), bins.Resolution())
		}
		cfg := s.bins.config(interval, count, duration, s.log)
		cfg.OnBin, cfg.OnBurst, cfg.OnPoll = h.onBin, h.onBurst, h.onPoll
		return sampler.RunBins(c.Context, bins, cfg, emit)
	}
	if h.needBins != "" {
		return fmt.Errorf("%s needs in-kernel time bins: the ebpf backend (%s here) with --resolution above 0", h.needBins, be.Source().Backend)
	}
	if h.opened != nil {
		h.opened(be.Source(), 0)
	}
	cfg := sampler.Config{Interval: interval, Count: count, Duration: duration, Logger: s.log, OnPoll: h.onPoll}
	return sampler.Run(c.Context, be, cfg, emit)
}
