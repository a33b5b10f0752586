package main

import (
	"bufio"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/netwatch-dev/netwatch/internal/output"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

func snapshotCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.DurationFlag{Name: "window", Aliases: []string{"w"}, Value: time.Second, EnvVars: env("WINDOW"), Category: catTiming,
			Usage: "time between the two reads the rates come from, 1ms to 1h, with a unit (e.g. 100ms, 5s)"},
	}
	flags = append(flags, binFlags()...)
	flags = append(flags, outputFlags(false)...)
	return &cli.Command{
		Name:  "snapshot",
		Usage: "read twice, --window apart, and print one sample (with --json: one JSON object)",
		Description: "Prints every selected interface's counters and its rates over the window, once.\n" +
			"With --json the object has the same schema as one line of `watch -f ndjson`:\n\n" +
			"   netwatch snapshot --json | jq '.interfaces[] | select(.rx_bytes_per_sec > 1e6) | .name'",
		Flags:        append(flags, commonFlags()...),
		Action:       snapshotAction,
		OnUsageError: onUsageError,
	}
}

func snapshotAction(c *cli.Context) error {
	if c.Args().Present() {
		return usagef("unexpected argument %q (see 'netwatch snapshot --help')", c.Args().First())
	}
	window, err := parseInterval("window", c.Duration("window"))
	if err != nil {
		return err
	}
	smp, err := parseSampling(c)
	if err != nil {
		return err
	}
	var sample *stats.Sample
	keep := func(s stats.Sample) error { sample = &s; return nil }
	if err := smp.run(c, window, 1, 0, keep); err != nil {
		return err
	}
	if sample == nil {
		// Only a signal ends the run without a sample: a clean end.
		fmt.Fprintln(c.App.ErrWriter, "netwatch: interrupted before the snapshot window ended; nothing printed")
		return nil
	}
	w := bufio.NewWriter(c.App.Writer)
	if c.Bool("json") {
		err = output.WriteSnapshotJSON(w, *sample)
	} else {
		var stream output.Stream
		if stream, err = output.NewStream(w, output.FormatTable, smp.table); err == nil {
			err = stream.Write(*sample)
		}
	}
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	return quietPipe(err)
}
