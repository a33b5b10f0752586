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
	"github.com/netwatch-dev/netwatch/internal/stats"
)

func recordCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, EnvVars: env("RECORD_OUTPUT"), Category: catOutput,
			Usage: "write the recording to `FILE`; the format follows the name: .parquet, .ndjson, .ndjson.zst or .ndjson.gz (required)"},
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
		Usage: "record the bin stream (one row per bin and interface) to Parquet or NDJSON",
		Description: "Records every in-kernel time bin of every selected interface (with the ebpf backend;\n" +
			"otherwise one row per --interval sample) with a metadata block (host, kernel, backend,\n" +
			"attach mode, resolution, interfaces, netwatch version). Read it back with `netwatch report`\n" +
			"and `netwatch plot`, or with DuckDB, pandas or jq.\n\n" +
			"Parquet files are written under NAME.partial and renamed when complete: with --rotate a\n" +
			"crash loses at most the current period. NDJSON is flushed every --interval (at least\n" +
			"every second): a crash loses at most that. A full disk ends the recording with an error;\n" +
			"the files written before stay valid.\n\n" +
			"   netwatch record -i eth0 -o eth0.parquet -d 1h\n" +
			"   netwatch record -i eth0 -o /var/lib/netwatch/eth0.parquet --rotate 10m",
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
	if out == "" {
		return usagef("record needs -o FILE (.parquet, .ndjson, .ndjson.zst or .ndjson.gz)")
	}
	if _, err := record.FormatOf(out); err != nil {
		return usagef("-o %s: the name must end in .parquet, .ndjson, .ndjson.zst or .ndjson.gz", out)
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
	// With in-kernel bins every sample is one bin: the sampler emits each
	// bin in order, idle bins included.
	stream, res := record.StreamSamples, time.Duration(0)
	if smp.plan.Source.Backend == "ebpf" && smp.bins.resolution > 0 {
		stream, res, interval = record.StreamBins, smp.bins.resolution, smp.bins.resolution
	}
	meta := recordMeta(smp.plan.Source, stream, res)
	meta.BurstThreshold = smp.bins.start.bytesPerSec
	rec, err := record.NewRecorder(record.Config{Path: out, Rotate: c.Duration("rotate"), MaxSize: int64(maxSize),
		Meta: meta, Wall: wallClock()})
	if err != nil {
		return err
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
			fmt.Fprintf(c.App.Writer, "recording %s: %s, %d interface(s), %s\n", out, src, len(s.Interfaces), what)
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
	if smp.bins.start.set() && smp.bins.resolution > 0 {
		// Finished bursts from the one detector, beside the bins.
		width := smp.bins.resolution
		smp.hooks.onBurst = func(e bursts.Event) error {
			return rec.Burst(record.Event{
				Interface: e.Interface, Index: e.Index, Direction: e.Direction.String(),
				FirstBin: e.FirstBin, EndBin: e.EndBin, Width: width,
				Bytes: e.Bytes, Packets: e.Packets, PeakBytesPerSec: e.PeakBytesPerSec,
				Threshold: e.Thresholds.Start, LostBins: e.LostBins, Reason: e.Reason,
			})
		}
	}
	count := 0
	duration := c.Duration("duration")
	if duration > 0 && stream == record.StreamBins {
		count = int(duration / interval) // whole bins
	}
	err = smp.run(c, interval, count, duration, emit)
	return finishRecording(c, rec, err, out, c.String("max-size"))
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
