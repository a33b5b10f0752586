package main

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/urfave/cli/v2"

	"github.com/netwatch-dev/netwatch/internal/backend"
	"github.com/netwatch-dev/netwatch/internal/iface"
	"github.com/netwatch-dev/netwatch/internal/sampler"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

// Limits and default of --resolution (in-kernel time bins, ebpf only).
const (
	minResolution     = 100 * time.Microsecond
	maxResolution     = time.Second
	defaultResolution = time.Millisecond
)

func binFlags() []cli.Flag {
	return []cli.Flag{
		&cli.DurationFlag{Name: "resolution", Aliases: []string{"r"}, Value: defaultResolution, EnvVars: env("RESOLUTION"), Category: catTiming,
			Usage: "width of the ebpf backend's in-kernel time bins, 100us to 1s, or 0 for no bins (cheapest per packet; " +
				"samples are then polled); samples cover whole bins (the interval is rounded to a multiple) and, when " +
				"coarser than one bin, report peak, p99 and (with --burst-threshold) bursts. procfs/sysctl have no bins: their resolution is the poll interval"},
		&cli.StringFlag{Name: "bins-memory", Value: "64MiB", EnvVars: env("BINS_MEMORY"), Category: catTiming,
			Usage: "most memory the ebpf backend's ring buffer of completed bins may take (`SIZE`: 512KiB, 64MiB, 1GiB); " +
				"it is sized for the interval at the interfaces' record rate and grows with it up to this bound"},
		&cli.StringFlag{Name: "burst-threshold", EnvVars: env("BURST_THRESHOLD"), Category: catTiming,
			Usage: "a burst starts at the first bin above this rate: an absolute `RATE`, case-sensitive, b for bits and B for bytes " +
				"(800Mbit = 800Mb = 800Mbps; 100MB = 100MB/s = 100MBps; 1Gibit, 64KiB/s), or a percentage of " +
				"the link speed (80%, interfaces with a known speed only); default: no burst detection"},
		&cli.StringFlag{Name: "burst-end", EnvVars: env("BURST_END"), Category: catTiming,
			Usage: "a burst ends once bins stay at or below this `RATE` (same forms as --burst-threshold, at most it: " +
				"hysteresis) for --burst-gap bins; default: the burst threshold"},
		&cli.IntFlag{Name: "burst-gap", Value: 1, EnvVars: env("BURST_GAP"), Category: catTiming,
			Usage: "how many `BINS` in a row at or below --burst-end end a burst (shorter quiet runs belong to it)"},
	}
}

type binOptions struct {
	resolution time.Duration
	memory     uint64     // --bins-memory in bytes
	start, end rateOption // burst start and end thresholds
	gap        int
	// bursts says what counts as a burst, "" without burst detection:
	// "runs of bins above 1 Gbit/s (125 MB/s)".
	bursts string
}

// rateOption is a rate given as bytes/s or as a percentage of the link
// speed (at most one of them non-zero).
type rateOption struct {
	bytesPerSec float64
	percent     float64
}

func (r rateOption) set() bool { return r.bytesPerSec > 0 || r.percent > 0 }

// of returns the rate for interface name; link gives its speed in bytes/s
// (0: unknown) and is only asked for a percentage.
func (r rateOption) of(link func(string) float64, name string) float64 {
	if r.percent > 0 {
		return link(name) * r.percent / 100
	}
	return r.bytesPerSec
}

func (r rateOption) String() string {
	if r.percent > 0 {
		return strconv.FormatFloat(r.percent, 'f', -1, 64) + "% of the link speed"
	}
	return stats.DescribeRate(r.bytesPerSec)
}

func parseRateOption(flag, t string) (rateOption, error) {
	var o rateOption
	t = strings.TrimSpace(t)
	switch {
	case t == "":
	case strings.HasSuffix(t, "%"):
		p, err := strconv.ParseFloat(strings.TrimSuffix(t, "%"), 64)
		if err != nil || p <= 0 || math.IsInf(p, 0) {
			return o, usagef("--%s %q: want a positive percentage such as 80%%", flag, t)
		}
		o.percent = p
	default:
		r, err := stats.ParseRate(t)
		if err != nil {
			return o, usagef("--%s: %v", flag, err)
		}
		if r <= 0 {
			return o, usagef("--%s %q: want a rate above 0", flag, t)
		}
		o.bytesPerSec = r
	}
	return o, nil
}

func parseBinOptions(c *cli.Context) (binOptions, error) {
	o := binOptions{resolution: c.Duration("resolution")}
	if o.resolution != 0 && (o.resolution < minResolution || o.resolution > maxResolution) {
		return o, usagef("--resolution %v is out of range: use %v to %v, or 0 for no bins", o.resolution, minResolution, maxResolution)
	}
	var err error
	if o.memory, err = parseSize(c.String("bins-memory")); err != nil {
		return o, usagef("--bins-memory: %v", err)
	}
	if o.start, err = parseRateOption("burst-threshold", c.String("burst-threshold")); err != nil {
		return o, err
	}
	if o.end, err = parseRateOption("burst-end", c.String("burst-end")); err != nil {
		return o, err
	}
	o.gap = c.Int("burst-gap")
	switch {
	case o.gap < 1:
		return o, usagef("--burst-gap %d: want 1 or more bins", o.gap)
	case !o.start.set() && (o.end.set() || c.IsSet("burst-gap")):
		return o, usagef("--burst-end and --burst-gap need --burst-threshold")
	case o.end.bytesPerSec > o.start.bytesPerSec && o.start.bytesPerSec > 0,
		o.end.percent > o.start.percent && o.start.percent > 0:
		return o, usagef("--burst-end %s is above --burst-threshold %s: the end threshold must be at most the start (hysteresis)",
			c.String("burst-end"), c.String("burst-threshold"))
	}
	if o.start.set() {
		o.bursts = "runs of bins above " + o.start.String()
		if o.end.set() {
			o.bursts += ", until at or below " + o.end.String()
		}
		if o.gap > 1 {
			o.bursts += fmt.Sprintf(" for %d bins", o.gap)
		}
	}
	return o, nil
}

// binSource returns the backend as a source of in-kernel time bins when it
// has them. Otherwise, unless quiet, it says why --resolution and
// --burst-threshold do not apply.
func binSource(c *cli.Context, be backend.Backend, o binOptions, interval time.Duration, quiet bool) (sampler.BinReader, bool) {
	bs, ok := be.(sampler.BinReader)
	if ok && bs.Resolution() > 0 {
		k := sampler.BinsPerSample(interval, bs.Resolution())
		if got := time.Duration(k) * bs.Resolution(); got != interval {
			fmt.Fprintf(c.App.ErrWriter, "netwatch: notice: interval %v rounded to %v (%d bins of %v)\n", interval, got, k, bs.Resolution())
		}
		if sz, ok := be.(binSizer); ok {
			plan, err := sz.SizeBins(time.Duration(k)*bs.Resolution(), o.memory)
			if err != nil {
				return failedBins{bs, err}, true
			}
			slog.Info("bins: " + plan)
		}
		return bs, true
	}
	if !quiet && ((c.IsSet("resolution") && o.resolution > 0) || o.start.set()) {
		fmt.Fprintf(c.App.ErrWriter, "netwatch: notice: the %s backend has no in-kernel time bins: "+
			"--resolution and --burst-threshold do not apply; resolution is the poll interval\n", be.Source().Backend)
	}
	return nil, false
}

// binSizer is a backend whose storage of bins is sized for the sample
// interval within a memory bound (ebpf).
type binSizer interface {
	SizeBins(interval time.Duration, bound uint64) (string, error)
}

// failedBins reports why the bins cannot be sized on the first read, so the
// command fails with that one line (exit 1) after detaching.
type failedBins struct {
	sampler.BinReader
	err error
}

func (f failedBins) ReadBins() (stats.Bins, error) { return stats.Bins{}, f.err }

// sizeUnits are the suffixes parseSize accepts, all powers of 1024; a
// longer suffix comes before any suffix of it.
var sizeUnits = []struct {
	suffix string
	mult   uint64
}{
	{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
	{"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"kB", 1 << 10},
	{"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"k", 1 << 10}, {"B", 1},
}

// parseSize parses a byte size: a number with an optional unit of
// sizeUnits (512KiB, 64MiB, 1GiB; 64M and 64MB mean 64MiB too).
func parseSize(s string) (uint64, error) {
	t, mult := strings.TrimSpace(s), uint64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseUint(t, 10, 64)
	if err != nil || n == 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q: want a size such as 512KiB, 64MiB or 1GiB", s)
	}
	return n * mult, nil
}

// config builds the bin sampler's configuration. A percentage threshold on
// an interface whose link speed is unknown counts no bursts there, and says
// so on notices, once per interface.
func (o binOptions) config(interval time.Duration, count int, duration time.Duration, log *slog.Logger, notices io.Writer) sampler.BinConfig {
	speeds := newLinkSpeeds()
	cfg := sampler.BinConfig{Interval: interval, Count: count, Duration: duration, Logger: log, LinkSpeed: speeds.bytesPerSec, BurstGap: o.gap}
	switch {
	case o.start.bytesPerSec > 0:
		cfg.BurstThreshold = func(string) float64 { return o.start.bytesPerSec }
	case o.start.percent > 0:
		var mu sync.Mutex
		seen := make(map[string]bool) // interfaces told about
		cfg.BurstThreshold = func(name string) float64 {
			th := speeds.bytesPerSec(name) * o.start.percent / 100
			mu.Lock()
			defer mu.Unlock()
			if seen[name] {
				return th
			}
			seen[name] = true
			if th <= 0 {
				fmt.Fprintf(notices, "netwatch: notice: %s: link speed unknown, --burst-threshold %s%% does not apply: no burst count\n",
					printableName(name), strconv.FormatFloat(o.start.percent, 'f', -1, 64))
				return 0
			}
			log.Info("burst threshold", "interface", name, "bins_above", stats.DescribeRate(th), "bytes_per_sec", th)
			return th
		}
	}
	if o.end.set() {
		// A mixed pair (an absolute rate and a percentage) is settled per
		// interface: the detector takes an end above the start (or an
		// unknown one, 0) as the start.
		cfg.BurstEnd = func(name string) float64 { return o.end.of(speeds.bytesPerSec, name) }
	}
	return cfg
}

// printableName quotes an interface name that holds anything but printable
// runes, so a notice stays one line.
func printableName(name string) string {
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return strconv.Quote(name)
		}
	}
	return name
}

// linkSpeeds caches link speeds from sysfs, looked up again for
// interfaces that appear later.
type linkSpeeds struct {
	mu     sync.Mutex
	speeds map[string]float64
}

func newLinkSpeeds() *linkSpeeds { return &linkSpeeds{speeds: make(map[string]float64)} }

// bytesPerSec returns the link speed of name in bytes per second, 0 when
// unknown.
func (l *linkSpeeds) bytesPerSec(name string) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if v, ok := l.speeds[name]; ok {
		return v
	}
	infos, err := iface.List()
	if err != nil {
		return 0
	}
	for _, info := range infos {
		l.speeds[info.Name] = float64(info.SpeedMbps) * 1e6 / 8
	}
	if _, ok := l.speeds[name]; !ok {
		l.speeds[name] = 0
	}
	return l.speeds[name]
}
