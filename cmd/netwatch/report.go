package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/netwatch-dev/netwatch/internal/output"
	"github.com/netwatch-dev/netwatch/internal/record"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

func reportCommand() *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "summarise recordings: totals, bin-rate percentiles, time above a threshold, bursts",
		ArgsUsage: "FILE|DIR...",
		Description: "Reads what `netwatch record` wrote (Parquet or NDJSON, compressed or not; several files\n" +
			"or a directory of rotated files are one recording) and prints, per interface and\n" +
			"direction: total bytes and packets, the average rate, the p50/p99/p99.9/max rate of\n" +
			"single bins, the time spent above --threshold, and the bursts the recording holds.\n" +
			"A file cut short is read up to where it is readable, with a warning saying where it ends.\n" +
			"An interface is its namespace and ifindex: a recording made with --netns keeps each\n" +
			"namespace's interfaces apart, and the table gains NETNS (and CONTAINER) columns.\n\n" +
			"   netwatch report rec.parquet\n" +
			"   netwatch report --json --from 2026-11-23T10:00:00Z --to 2026-11-23T10:05:00Z recdir/",
		Flags:        reportFlags(),
		Action:       reportAction,
		OnUsageError: onUsageError,
	}
}

// rangeFlags are --from and --to, shared with plot.
func rangeFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "from", EnvVars: env("FROM"), Category: catTiming,
			Usage: "only bins ending after `TIME` (RFC 3339, e.g. 2026-11-23T10:00:00Z; without a zone: local time)"},
		&cli.StringFlag{Name: "to", EnvVars: env("TO"), Category: catTiming,
			Usage: "only bins starting before `TIME` (same forms as --from)"},
	}
}

func reportFlags() []cli.Flag {
	flags := append(rangeFlags(),
		&cli.StringFlag{Name: "threshold", EnvVars: env("THRESHOLD"), Category: catTiming,
			Usage: "count the time bins spent above this `RATE` (800Mbit, 100MB/s; default: the recording's burst threshold)"},
		&cli.BoolFlag{Name: "json", EnvVars: env("JSON"), Category: catOutput, Usage: "print one JSON object instead of a table"},
		&cli.StringFlag{Name: "units", Value: "bytes", EnvVars: env("UNITS"), Category: catOutput,
			Usage: "table rates in bytes or bits per second"},
		&cli.BoolFlag{Name: "iec", EnvVars: env("IEC"), Category: catOutput,
			Usage: "table rates with binary prefixes (KiB/s, Mibit/s) instead of SI (kB/s, Mbit/s)"},
	)
	return flags
}

// parseRange reads --from and --to.
func parseRange(c *cli.Context) (record.Range, error) {
	var r record.Range
	var err error
	if r.From, err = parseTime("from", c.String("from")); err != nil {
		return r, err
	}
	if r.To, err = parseTime("to", c.String("to")); err != nil {
		return r, err
	}
	if !r.From.IsZero() && !r.To.IsZero() && !r.To.After(r.From) {
		return r, usagef("--to %s is not after --from %s", c.String("to"), c.String("from"))
	}
	return r, nil
}

func parseTime(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usagef("--%s %q: want a time such as 2026-11-23T10:00:00Z or 2026-11-23T11:00:00 (local)", flag, s)
}

// recordingArgs are the FILE|DIR arguments of report and plot.
func recordingArgs(c *cli.Context) ([]string, error) {
	if !c.Args().Present() {
		return nil, usagef("no recording given: name the files or directories `netwatch record` wrote (see 'netwatch %s --help')", c.Command.Name)
	}
	for _, a := range c.Args().Slice() {
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			return nil, usagef("%s after a file: options go before the files (netwatch %s %s FILE...)", a, c.Command.Name, a)
		}
	}
	return c.Args().Slice(), nil
}

func reportAction(c *cli.Context) error {
	paths, err := recordingArgs(c)
	if err != nil {
		return err
	}
	r, err := parseRange(c)
	if err != nil {
		return err
	}
	opts := record.ReportOptions{Range: r}
	if t := c.String("threshold"); t != "" {
		if opts.Threshold, err = stats.ParseRate(t); err != nil {
			return usagef("--threshold: %v", err)
		}
	}
	table, err := tableOptions(c)
	if err != nil {
		return err
	}
	sum := record.NewSummarizer(opts)
	rec, err := record.Read(paths, r, sum.Row)
	if err != nil {
		return err
	}
	for _, w := range rec.Warnings {
		fmt.Fprintf(c.App.ErrWriter, "netwatch: warning: %s\n", w)
	}
	rep := sum.Report(rec)
	w := bufio.NewWriter(c.App.Writer)
	if c.Bool("json") {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = writeReport(w, rep, table)
	}
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	return quietPipe(err)
}

// writeReport prints a report as a table and a list of bursts.
func writeReport(out io.Writer, rep record.Report, t output.TableOptions) error {
	rate := func(x float64) string { return output.FormatByteRate(x, t.Units, t.IEC) }
	span := rep.To.Sub(rep.From)
	fmt.Fprintf(out, "recording: %d file(s), %s to %s (%v)", len(rep.Files), localTime(rep.From), localTime(rep.To), span)
	switch {
	case rep.Stream == record.StreamBins:
		fmt.Fprintf(out, ", bins of %v\n", rep.Resolution)
	case rep.Stream == record.StreamSamples:
		fmt.Fprintf(out, ", polled samples\n")
	default:
		fmt.Fprintln(out)
	}
	if rep.Threshold > 0 {
		fmt.Fprintf(out, "threshold: %s (ABOVE: time in bins above it)\n", stats.DescribeRate(rep.Threshold))
	}
	if len(rep.Interfaces) == 0 {
		fmt.Fprintln(out, "no rows in range")
		return nil
	}
	// NETNS and CONTAINER columns when any interface has one (a recording
	// made with --netns or of containers).
	var withNetns, withContainer bool
	for _, ir := range rep.Interfaces {
		withNetns = withNetns || ir.Netns != ""
		withContainer = withContainer || ir.ContainerID != ""
	}
	labels := func(netns, container string) string {
		var b strings.Builder
		if withNetns {
			b.WriteString(printableName(cmp.Or(netns, "-")) + "\t")
		}
		if withContainer {
			b.WriteString(output.ShortID(container) + "\t")
		}
		return b.String()
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "IFACE\t"+labels("NETNS", "CONTAINER")+"DIR\tBYTES\tPACKETS\tAVG\tP50\tP99\tP99.9\tMAX\tABOVE\tBURSTS\tLONGEST\tBIGGEST\t")
	for _, ir := range rep.Interfaces {
		for _, d := range []struct {
			name string
			r    record.DirReport
		}{{"rx", ir.Rx}, {"tx", ir.Tx}} {
			longest, biggest := "-", "-"
			if b := d.r.Bursts.Longest; b != nil {
				longest = b.Duration.String()
			}
			if b := d.r.Bursts.Biggest; b != nil {
				biggest = byteCount(b.Bytes)
			}
			above := "-"
			if rep.Threshold > 0 {
				above = d.r.AboveThreshold.String()
			}
			fmt.Fprintf(tw, "%s\t%s%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t\n", printableName(ir.Name), labels(ir.Netns, ir.ContainerID), d.name,
				byteCount(d.r.Bytes), d.r.Packets, rate(d.r.AvgBytesPerSec), rate(d.r.P50BytesPerSec), rate(d.r.P99BytesPerSec),
				rate(d.r.P999BytesPerSec), rate(d.r.MaxBytesPerSec), above, d.r.Bursts.Count, longest, biggest)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var lines []string
	for _, ir := range rep.Interfaces {
		for _, l := range [][]record.Burst{ir.Rx.Bursts.List, ir.Tx.Bursts.List} {
			for _, b := range l {
				lines = append(lines, fmt.Sprintf("  %s  %-8s %s  %8v  %10s  peak %s%s", localTime(b.Start), printableName(record.Label(b.Interface, b.Netns)), b.Direction,
					b.Duration, byteCount(b.Bytes), rate(b.PeakBytesPerSec), lostNote(b.LostBins)))
			}
		}
	}
	if len(lines) > 0 {
		fmt.Fprintf(out, "bursts:\n%s\n", strings.Join(slices.Sorted(slices.Values(lines)), "\n"))
	}
	return nil
}

func lostNote(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d lost bins: may be longer)", n)
}

// localTime shows a time in local time with milliseconds.
func localTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05.000")
}

// byteCount shows a byte count with SI prefixes: "1.5 MB".
func byteCount(n uint64) string {
	v := float64(n)
	for _, p := range []string{"B", "kB", "MB", "GB", "TB", "PB"} {
		if v < 1000 || p == "PB" {
			if p == "B" {
				return fmt.Sprintf("%d B", n)
			}
			return fmt.Sprintf("%.1f %s", v, p)
		}
		v /= 1000
	}
	return ""
}
