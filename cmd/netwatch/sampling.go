package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

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
	// retime, when set, changes the interval while run runs (top's +/-):
	// the sampler loop restarts on the backend that stays open, so nothing
	// is detached and the counters go on.
	retime <-chan time.Duration
}

// streamHooks are the streams besides samples that a command takes from the
// one pipeline: the bin stream, finished bursts and the cost of each poll.
type streamHooks struct {
	// opened is called once the backend is open, with its source and bin
	// resolution (0: no bins).
	opened  func(src stats.Source, resolution time.Duration)
	onBin   func(sampler.Bin)
	onBurst func(bursts.Event) error
	onPoll  func(time.Duration)
	// needBins says why bins are required ("--events"): without them run
	// fails. Empty: optional.
	needBins string
}

func parseSampling(c *cli.Context) (sampling, error) {
	var s sampling
	var err error
	if hasFlag(c, "units") { // serve shows no table
		if s.table, err = tableOptions(c); err != nil {
			return s, err
		}
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
	s.table.Netns = s.opts.NetnsGiven()
	s.table.Containers = s.table.Netns
	s.opts.BinsMemory = s.bins.memory
	s.table.Bursts = s.bins.bursts
	if s.bins.start.bytesPerSec > 0 {
		s.log.Info("burst threshold", "bins_above", stats.DescribeRate(s.bins.start.bytesPerSec), "bytes_per_sec", s.bins.start.bytesPerSec)
	} else if s.bins.start.percent > 0 {
		s.log.Info("burst threshold", "percent_of_link_speed", s.bins.start.percent)
	}
	if s.plan, err = decideBackend(c, s.opts); err != nil {
		return s, err
	}
	return s, nil
}

// hasFlag reports whether the running command has a flag called name.
func hasFlag(c *cli.Context, name string) bool {
	for _, f := range c.Command.Flags {
		if slices.Contains(f.Names(), name) {
			return true
		}
	}
	return false
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
	emit = noticeEmptySelection(c, emit)
	h := s.hooks
	loop := func(ctx context.Context, interval time.Duration, count int, duration time.Duration, emit func(stats.Sample) error) error {
		if bins, ok := binSource(c, be, s.bins, interval, h.needBins != ""); ok {
			if h.opened != nil {
				h.opened(be.Source(), bins.Resolution())
			}
			cfg := s.bins.config(interval, count, duration, s.log, c.App.ErrWriter)
			cfg.OnBin, cfg.OnBurst, cfg.OnPoll = h.onBin, h.onBurst, h.onPoll
			return sampler.RunBins(ctx, bins, cfg, emit)
		}
		if h.needBins != "" {
			return fmt.Errorf("%s needs in-kernel time bins: the ebpf backend (%s here) with --resolution above 0", h.needBins, be.Source().Backend)
		}
		if h.opened != nil {
			h.opened(be.Source(), 0)
		}
		cfg := sampler.Config{Interval: interval, Count: count, Duration: duration, Logger: s.log, OnPoll: h.onPoll}
		return sampler.Run(ctx, be, cfg, emit)
	}
	if s.retime == nil {
		return loop(c.Context, interval, count, duration, emit)
	}
	return retimed(c.Context, s.retime, interval, count, duration, emit, loop)
}

// noticeEmptySelection wraps emit: when the first sample has no interface,
// it says so on stderr (the table would show nothing at all).
func noticeEmptySelection(c *cli.Context, emit func(stats.Sample) error) func(stats.Sample) error {
	first := true
	return func(s stats.Sample) error {
		if first && len(s.Interfaces) == 0 {
			fmt.Fprintf(c.App.ErrWriter, "netwatch: notice: %s\n", emptySelection(c))
		}
		first = false
		return emit(s)
	}
}

// emptySelection describes a selection that matches no interface:
// "no interface matches -i 'nosuch*'".
func emptySelection(c *cli.Context) string {
	var sel []string
	for _, f := range []struct{ name, short string }{{"interface", "-i"}, {"exclude", "-x"}} {
		if v := c.StringSlice(f.name); len(v) > 0 {
			sel = append(sel, f.short+" "+shellQuote(strings.Join(v, ",")))
		}
	}
	if len(sel) == 0 {
		return "no interface found"
	}
	return "no interface matches " + strings.Join(sel, " ")
}

// shellQuote quotes s for a message the way a shell would take it back:
// 'eth*'; Go quoting when s holds a quote or an unprintable rune.
func shellQuote(s string) string {
	for _, r := range s {
		if r == '\'' || !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return "'" + s + "'"
}
