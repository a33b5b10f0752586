package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/netwatch-dev/netwatch/internal/bursts"
	"github.com/netwatch-dev/netwatch/internal/clock"
	"github.com/netwatch-dev/netwatch/internal/record"
	"github.com/netwatch-dev/netwatch/internal/sampler"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

func recordCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, EnvVars: env("RECORD_OUTPUT"), Category: catOutput,
			Usage: "write the recording to `FILE`; the format follows the name: .parquet, .ndjson, .ndjson.zst or .ndjson.gz (required unless --on-burst)"},
		&cli.StringFlag{Name: "on-burst", EnvVars: env("ON_BURST"), Category: catOutput,
			Usage: "for each burst, write the bins from --before ahead of it to --after past it into a file of its own in `DIR` " +
				"(created if missing), named INTERFACE-<window start, UTC>.parquet (INTERFACE@NETNS-... in a namespace; or --capture-format); overlapping windows make one file; " +
				"one line per capture on stdout; needs --burst-threshold and the ebpf backend's bins; with or without -o"},
		&cli.DurationFlag{Name: "before", Value: 2 * time.Second, EnvVars: env("BEFORE"), Category: catOutput,
			Usage: "--on-burst: how much of the bin stream ahead of a burst each capture holds (kept in memory), 0 to 1m"},
		&cli.DurationFlag{Name: "after", Value: 2 * time.Second, EnvVars: env("AFTER"), Category: catOutput,
			Usage: "--on-burst: how much of the bin stream past a burst's end each capture holds, 0 to 1m"},
		&cli.StringFlag{Name: "capture-format", Value: string(record.Parquet), EnvVars: env("CAPTURE_FORMAT"), Category: catOutput,
			Usage: "--on-burst: `FORMAT` of each capture file: parquet, ndjson, ndjson.zst or ndjson.gz"},
		&cli.DurationFlag{Name: "duration", Aliases: []string{"d"}, EnvVars: env("DURATION"), Category: catTiming,
			Usage: "stop after this long, with a unit (e.g. 30s, 5m; 0: until Ctrl-C or SIGTERM)"},
		&cli.DurationFlag{Name: "rotate", EnvVars: env("ROTATE"), Category: catOutput,
			Usage: "start a new file every period (at least 1s, aligned to the clock), named FILE-<start, UTC>.ext; each Parquet file is complete once its period ends"},
		&cli.StringFlag{Name: "max-size", EnvVars: env("MAX_SIZE"), Category: catOutput,
			Usage: "stop once the files add up to this `SIZE` (e.g. 100MB, 1GiB)"},
		&cli.DurationFlag{Name: "interval", Aliases: []string{"n"}, Value: time.Second, EnvVars: env("INTERVAL"), Category: catTiming,
			Usage: "without in-kernel bins (procfs, --resolution 0): time between samples, one row each; 1ms to 1h"},
	}
	flags = append(flags, binFlags()...)
	return &cli.Command{
		Name:  "record",
		Usage: "record the bin stream (one row per bin and interface) to Parquet or NDJSON, or the window around each burst",
		Description: "Records every in-kernel time bin of every selected interface (with the ebpf backend;\n" +
			"otherwise one row per --interval sample) with a metadata block (host, kernel, backend,\n" +
			"attach mode, resolution, interfaces, netwatch version). Read it back with `netwatch report`\n" +
			"and `netwatch plot`, or with DuckDB, pandas or jq. With --netns each row carries its\n" +
			"interface's namespace and container (netns, container_id): an interface is its namespace\n" +
			"and ifindex.\n\n" +
			"Parquet files are written under NAME.partial and renamed when complete: with --rotate a\n" +
			"crash loses at most the current period. NDJSON is flushed every --interval (at least\n" +
			"every second): a crash loses at most that. A full disk ends the recording with an error;\n" +
			"the files written before stay valid.\n\n" +
			"With --on-burst DIR (and --burst-threshold) it keeps the last --before of bins in memory\n" +
			"and writes, for each burst, the bins from --before ahead of it to --after past its end to\n" +
			"DIR/INTERFACE-<window start, UTC>.parquet (--capture-format: parquet by default, or an\n" +
			"NDJSON format), one file for windows that overlap, and prints one line per capture on\n" +
			"stdout, beside the other status lines; -o is then optional (with it, both happen).\n\n" +
			"   netwatch record -i eth0 -o eth0.parquet -d 1h\n" +
			"   netwatch record -i eth0 -o /var/lib/netwatch/eth0.parquet --rotate 10m\n" +
			"   netwatch record -i eth0 --burst-threshold 800Mbit --on-burst /var/lib/netwatch/bursts",
		Flags:        append(flags, commonFlags()...),
		Action:       recordAction,
		OnUsageError: onUsageError,
	}
}

func recordAction(c *cli.Context) error {
	if c.Args().Present() {
		return usagef("unexpected argument %q (see 'netwatch record --help')", c.Args().First())
	}
	out := c.String("output")
	capt, err := parseCapture(c)
	if err != nil {
		return err
	}
	if out == "" && capt.dir == "" {
		return usagef("record needs -o FILE (.parquet, .ndjson, .ndjson.zst or .ndjson.gz) or --on-burst DIR")
	}
	if out != "" {
		if _, err := record.FormatOf(out); err != nil {
			return usagef("-o %s: the name must end in .parquet, .ndjson, .ndjson.zst or .ndjson.gz", out)
		}
	} else {
		for _, f := range []string{"rotate", "max-size"} {
			if c.IsSet(f) {
				return usagef("--%s applies to -o FILE: give -o, or leave --%s out", f, f)
			}
		}
	}
	if d := c.Duration("duration"); d < 0 {
		return usagef("--duration %v: must be 0 or more", d)
	}
	if r := c.Duration("rotate"); r != 0 && r < time.Second {
		return usagef("--rotate %v: use 1s or more", r)
	}
	var maxSize uint64
	if s := c.String("max-size"); s != "" {
		var err error
		if maxSize, err = parseSize(s); err != nil || maxSize == 0 {
			return usagef("--max-size %q: want a size such as 100MB or 1GiB", s)
		}
	}
	interval, err := parseInterval("interval", c.Duration("interval"))
	if err != nil {
		return err
	}
	smp, err := parseSampling(c)
	if err != nil {
		return err
	}
	if capt.dir != "" && !smp.bins.start.set() {
		return usagef("--on-burst needs --burst-threshold: a capture is the window around each burst")
	}
	if capt.dir != "" && smp.bins.resolution == 0 {
		return usagef("--on-burst needs in-kernel time bins: --resolution above 0")
	}
	// With in-kernel bins every sample is one bin: the sampler emits each
	// bin in order, idle bins included.
	stream, res := record.StreamSamples, time.Duration(0)
	if smp.plan.Source.Backend == "ebpf" && smp.bins.resolution > 0 {
		stream, res, interval = record.StreamBins, smp.bins.resolution, smp.bins.resolution
		if out == "" {
			// Captures take every bin from the bin hook: samples only
			// pace the loop.
			interval = captureInterval
		}
	}
	meta := recordMeta(smp.plan.Source, stream, res)
	meta.BurstThreshold = smp.bins.start.bytesPerSec
	var rec *record.Recorder
	if out != "" {
		if rec, err = record.NewRecorder(record.Config{Path: out, Rotate: c.Duration("rotate"), MaxSize: int64(maxSize),
			Meta: meta, Wall: wallClock()}); err != nil {
			return err
		}
	}
	var capturer *capturing
	if capt.dir != "" {
		if capturer, err = startCapture(c, &smp, capt, meta); err != nil {
			return err
		}
	}
	// Flush NDJSON about once a second whatever the row rate.
	var lastFlush time.Time
	started := false
	emit := func(s stats.Sample) error {
		if !started {
			started = true
			what := "samples every " + interval.String()
			if stream == record.StreamBins {
				what = "bins of " + res.String()
			}
			src := s.Backend
			if s.Attach != "" {
				src += "/" + s.Attach
			}
			if rec != nil {
				fmt.Fprintf(c.App.Writer, "recording %s: %s, %d interface(s), %s\n", out, src, len(s.Interfaces), what)
			}
			if capturer != nil {
				fmt.Fprintf(c.App.Writer, "capturing bursts to %s: %s, %d interface(s), %s, %v before and %v after each\n",
					capt.dir, src, len(s.Interfaces), what, capt.before, capt.after)
			}
		}
		if capturer != nil && capturer.err != nil {
			return capturer.err
		}
		if rec == nil {
			return nil
		}
		if err := rec.Sample(s); err != nil {
			return err
		}
		if now := time.Now(); now.Sub(lastFlush) >= time.Second || stream == record.StreamSamples {
			lastFlush = now
			return rec.Flush()
		}
		return nil
	}
	if rec != nil && smp.bins.start.set() && smp.bins.resolution > 0 {
		// Finished bursts from the one detector, beside the bins.
		width := smp.bins.resolution
		toCapture := smp.hooks.onBurst
		smp.hooks.onBurst = func(e bursts.Event) error {
			if err := rec.Burst(recordEvent(e, width)); err != nil {
				return err
			}
			if toCapture != nil {
				return toCapture(e)
			}
			return nil
		}
	}
	count := 0
	duration := c.Duration("duration")
	if duration > 0 && stream == record.StreamBins {
		count = int(duration / interval) // whole bins
	}
	err = smp.run(c, interval, count, duration, emit)
	if capturer != nil {
		err = capturer.finish(c, err)
	}
	if rec == nil {
		return err
	}
	return finishRecording(c, rec, err, out, c.String("max-size"))
}

// captureInterval paces the sampler when record only captures: every bin
// comes through the bin hook whatever the sample interval.
const captureInterval = 100 * time.Millisecond

// maxCaptureSpan bounds --before and --after: --before of bins is kept in
// memory per interface (600,000 bins at 100us).
const maxCaptureSpan = time.Minute

// captureOptions are record's --on-burst flags.
type captureOptions struct {
	dir           string
	format        record.Format
	before, after time.Duration
}

func parseCapture(c *cli.Context) (captureOptions, error) {
	o := captureOptions{dir: c.String("on-burst"), before: c.Duration("before"), after: c.Duration("after")}
	if o.dir == "" {
		for _, f := range []string{"before", "after", "capture-format"} {
			if c.IsSet(f) {
				return o, usagef("--%s applies to --on-burst DIR: give --on-burst, or leave --%s out", f, f)
			}
		}
		return o, nil
	}
	name := strings.TrimPrefix(c.String("capture-format"), ".")
	for _, f := range record.Formats {
		if string(f) == name {
			o.format = f
		}
	}
	if o.format == "" {
		return o, usagef("--capture-format %q: want parquet, ndjson, ndjson.zst or ndjson.gz", c.String("capture-format"))
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"before", o.before}, {"after", o.after}} {
		if d.v < 0 || d.v > maxCaptureSpan {
			return o, usagef("--%s %v is out of range: use 0 to %v", d.flag, d.v, maxCaptureSpan)
		}
	}
	return o, nil
}

// capturing is record --on-burst: the sampler's bin and burst hooks feed a
// record.Capturer, which writes the window around each burst.
type capturing struct {
	cap   *record.Capturer
	dir   string
	files int
	err   error // the Capturer's first error (it is sticky)
}

// startCapture creates the capture directory and hooks a Capturer to the
// bin stream and the burst events of smp. Captures need in-kernel bins.
func startCapture(c *cli.Context, smp *sampling, o captureOptions, meta record.Meta) (*capturing, error) {
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return nil, fmt.Errorf("--on-burst: %w", err)
	}
	cp := &capturing{dir: o.dir}
	meta.Stream, meta.Resolution = record.StreamBins, smp.bins.resolution
	smp.hooks.needBins = "--on-burst"
	smp.hooks.opened = func(src stats.Source, _ time.Duration) {
		// The backend as attached (the plan may say auto).
		meta.Backend, meta.Attach = src.Backend, src.Attach
		cp.cap = record.NewCapturer(record.CaptureConfig{
			Dir: o.dir, Format: o.format, Before: o.before, After: o.after, Meta: meta, Wall: wallClock(),
			Captured: func(capt record.Capture) {
				cp.files++
				fmt.Fprintln(c.App.Writer, capt.String())
			},
		})
	}
	smp.hooks.onBin = func(b sampler.Bin) {
		if cp.err == nil {
			cp.err = cp.cap.Bin(record.Bin{Interface: b.Interface, Index: b.Index, Labels: b.Labels, Number: b.Number, Width: b.Width,
				Counters: b.Counters, Lost: b.Lost, Started: b.Bursts.Started})
		}
	}
	width := smp.bins.resolution
	smp.hooks.onBurst = func(e bursts.Event) error {
		if cp.err == nil {
			cp.err = cp.cap.Burst(recordEvent(e, width))
		}
		return cp.err
	}
	return cp, nil
}

// finish writes the captures still open (cut short by the end of the run)
// and says how many files were written: one line.
func (cp *capturing) finish(c *cli.Context, runErr error) error {
	if cp.cap == nil { // the backend never opened
		return runErr
	}
	closeErr := cp.cap.Close()
	if runErr != nil {
		return runErr
	}
	if closeErr != nil {
		return fmt.Errorf("capture stopped: %v; the %d capture file(s) written before are valid", closeErr, cp.files)
	}
	fmt.Fprintf(c.App.Writer, "captures done: %d file(s) in %s\n", cp.files, cp.dir)
	return nil
}

// recordEvent is a burst event as recordings store it.
func recordEvent(e bursts.Event, width time.Duration) record.Event {
	return record.Event{
		Interface: e.Interface, Index: e.Index, Labels: e.Labels, Direction: e.Direction.String(),
		FirstBin: e.FirstBin, EndBin: e.EndBin, Width: width,
		Bytes: e.Bytes, Packets: e.Packets, PeakBytesPerSec: e.PeakBytesPerSec,
		Threshold: e.Thresholds.Start, LostBins: e.LostBins, Reason: e.Reason,
	}
}

// finishRecording closes the recording and words how it ended: one line.
func finishRecording(c *cli.Context, rec *record.Recorder, runErr error, out, maxSize string) error {
	closeErr := rec.Close()
	files := rec.Files()
	switch {
	case errors.Is(runErr, record.ErrMaxSize):
		fmt.Fprintf(c.App.ErrWriter, "netwatch: notice: --max-size %s reached: recording stopped\n", maxSize)
	case runErr != nil && rec.Err() != nil:
		return recordingFailed(runErr, files)
	case runErr != nil:
		return runErr
	case closeErr != nil:
		return recordingFailed(closeErr, files)
	}
	if closeErr != nil {
		return recordingFailed(closeErr, files)
	}
	fmt.Fprintf(c.App.Writer, "recorded %s: %d file(s), %s\n", out, len(files), byteCount(uint64(rec.Size())))
	return nil
}

// recordingFailed is the error of a recording that could not be written
// (a full disk): it names the cause and what was kept, in one line.
func recordingFailed(err error, kept []string) error {
	what := "no complete file was written"
	if len(kept) > 0 {
		what = fmt.Sprintf("the %d file(s) completed before are valid (last: %s)", len(kept), kept[len(kept)-1])
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("recording stopped: disk full: %v; %s", err, what)
	}
	return fmt.Errorf("recording stopped: %v; %s", err, what)
}

// recordMeta is the metadata block of a recording made here.
func recordMeta(src stats.Source, stream string, res time.Duration) record.Meta {
	host, _ := os.Hostname()
	var kernel string
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		kernel = strings.TrimRight(string(u.Sysname[:]), "\x00") + " " + strings.TrimRight(string(u.Release[:]), "\x00")
	}
	return record.Meta{Version: version, Host: host, Kernel: kernel, Backend: src.Backend, Attach: src.Attach, Stream: stream, Resolution: res}
}

// wallClock converts CLOCK_MONOTONIC (the clock of the bins) to the wall
// clock, as of now.
func wallClock() func(time.Duration) time.Time {
	return clock.Now().WallAt
}
