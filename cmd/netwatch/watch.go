package main

import (
	"bufio"
	"errors"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/netwatch-dev/netwatch/internal/output"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

func watchCommand() *cli.Command {
	return &cli.Command{
		Name:  "watch",
		Usage: "stream per-interface rates (the default command)",
		Description: "Takes a baseline read, then one read per interval, and prints each interface's\n" +
			"cumulative counters and its rates over the measured time between the two reads.\n" +
			"Interfaces that appear are shown from their second read on; vanished ones are dropped.\n" +
			"Stops on --count, --duration, Ctrl-C or SIGTERM, always after a whole sample.",
		Flags:        watchFlags(),
		Action:       watchAction,
		OnUsageError: onUsageError,
	}
}

func watchFlags() []cli.Flag {
	flags := []cli.Flag{
		&cli.DurationFlag{Name: "interval", Aliases: []string{"n"}, Value: time.Second, EnvVars: env("INTERVAL"), Category: catTiming,
			Usage: "time between reads, 1ms to 1h, with a unit (e.g. 1ms, 250ms, 5s)"},
		&cli.IntFlag{Name: "count", Aliases: []string{"c"}, EnvVars: env("COUNT"), Category: catTiming,
			Usage: "stop after `N` samples (0: no limit)"},
		&cli.DurationFlag{Name: "duration", Aliases: []string{"d"}, EnvVars: env("DURATION"), Category: catTiming,
			Usage: "stop after this long, with a unit (e.g. 30s, 5m; 0: no limit)"},
	}
	flags = append(flags, &cli.BoolFlag{Name: "events", EnvVars: env("EVENTS"), Category: catOutput,
		Usage: "print one JSON object per finished burst (needs --burst-threshold and the ebpf backend's bins) instead of samples; same as -f events"})
	flags = append(flags, binFlags()...)
	flags = append(flags, outputFlags(true)...)
	return append(flags, commonFlags()...)
}

func watchAction(c *cli.Context) error {
	interval, err := parseStreamArgs(c, "netwatch")
	if err != nil {
		return err
	}
	format, err := streamFormat(c)
	if err != nil {
		return err
	}
	if c.Bool("events") {
		if format != output.FormatTable && format != output.FormatEvents {
			return usagef("--events and --format %s contradict each other: --events is --format events", format)
		}
		format = output.FormatEvents
	}
	smp, err := parseSampling(c)
	if err != nil {
		return err
	}
	if format == output.FormatEvents {
		return quietPipe(watchEvents(c, smp, interval))
	}
	w := bufio.NewWriterSize(c.App.Writer, 64<<10)
	stream, err := output.NewStream(w, format, smp.table)
	if err != nil {
		return err
	}
	err = smp.run(c, interval, c.Int("count"), c.Duration("duration"), stream.Write)
	if cerr := stream.Close(); err == nil {
		err = cerr
	}
	return quietPipe(err)
}

// streamFormat reads --format and --json (the same as --format ndjson).
// Both given with different formats is a usage error; a flag wins over an
// environment variable (NETWATCH_JSON, NETWATCH_FORMAT).
func streamFormat(c *cli.Context) (output.Format, error) {
	format, err := output.ParseFormat(c.String("format"))
	if err != nil {
		return "", usagef("--format: %v", trimPkg(err))
	}
	if !c.Bool("json") || format == output.FormatNDJSON {
		return format, nil
	}
	if !c.IsSet("format") {
		return output.FormatNDJSON, nil // the default table
	}
	switch jsonFlag, formatFlag := given(c, "json"), given(c, "format"); {
	case jsonFlag && formatFlag:
		return "", usagef("--json and --format %s contradict each other: --json is --format ndjson", format)
	case jsonFlag:
		return output.FormatNDJSON, nil
	case formatFlag:
		return format, nil
	default:
		return "", usagef("NETWATCH_JSON and NETWATCH_FORMAT=%s contradict each other: NETWATCH_JSON is NETWATCH_FORMAT=ndjson", format)
	}
}

// quietPipe treats a reader that went away (netwatch | head) as a normal end.
func quietPipe(err error) error {
	if errors.Is(err, syscall.EPIPE) {
		return nil
	}
	return err
}

// watchEvents prints one NDJSON object per finished burst, flushed per
// line, and nothing else.
func watchEvents(c *cli.Context, smp sampling, interval time.Duration) error {
	if !smp.bins.start.set() {
		return usagef("--events needs --burst-threshold")
	}
	w := bufio.NewWriterSize(c.App.Writer, 64<<10)
	events, err := output.NewEventStream(w)
	if err != nil {
		return err
	}
	smp.hooks.onBurst = events.Write
	smp.hooks.needBins = "--events"
	err = smp.run(c, interval, c.Int("count"), c.Duration("duration"), func(stats.Sample) error { return nil })
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	return err
}

// parseStreamArgs checks what every streaming command (watch, top, ...)
// takes besides its flags: no arguments, an interval in range, a count and a
// duration that are not negative. It returns the interval.
func parseStreamArgs(c *cli.Context, helpName string) (time.Duration, error) {
	if c.Args().Present() {
		return 0, usagef("unexpected argument %q (see '%s --help')", c.Args().First(), helpName)
	}
	interval, err := parseInterval("interval", c.Duration("interval"))
	if err != nil {
		return 0, err
	}
	if c.Int("count") < 0 {
		return 0, usagef("--count %d: must be 0 or more", c.Int("count"))
	}
	if c.Duration("duration") < 0 {
		return 0, usagef("--duration %v: must be 0 or more", c.Duration("duration"))
	}
	return interval, nil
}
