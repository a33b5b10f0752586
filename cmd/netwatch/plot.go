package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/netwatch-dev/netwatch/internal/chart"
)

func plotCommand() *cli.Command {
	flags := append(rangeFlags(),
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, EnvVars: env("PLOT_OUTPUT"), Category: catOutput,
			Usage: "write the chart to `FILE`: .svg or .png (required)"},
		&cli.IntFlag{Name: "width", Value: 1200, EnvVars: env("PLOT_WIDTH"), Category: catOutput, Usage: "chart width in `PIXELS` (100 per inch in SVG)"},
		&cli.StringFlag{Name: "title", EnvVars: env("PLOT_TITLE"), Category: catOutput, Usage: "chart title (default: the files' names)"},
	)
	return &cli.Command{
		Name:      "plot",
		Usage:     "chart a recording: rx/tx rate over time per interface, bursts marked (SVG or PNG)",
		ArgsUsage: "FILE|DIR...",
		Description: "Reads what `netwatch record` wrote and draws one panel per interface: rx and tx rate\n" +
			"over time on a local-time axis. A long recording is folded into one column per pixel:\n" +
			"the band is the min-max of the bins in the column, the line their mean, so a 1 ms burst\n" +
			"still shows in a chart of a day. Triangles mark the bursts the recording holds.\n\n" +
			"   netwatch plot rec.parquet -o rec.png",
		Flags:        flags,
		Action:       plotAction,
		OnUsageError: onUsageError,
	}
}

func plotAction(c *cli.Context) error {
	paths, err := recordingArgs(c)
	if err != nil {
		return err
	}
	out := c.String("output")
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(out)), ".")
	switch {
	case out == "":
		return usagef("plot needs -o FILE.svg or -o FILE.png")
	case format != "svg" && format != "png":
		return usagef("-o %s: the chart file must end in .svg or .png", out)
	case c.Int("width") < 300 || c.Int("width") > 20000:
		return usagef("--width %d: want 300 to 20000 pixels", c.Int("width"))
	}
	r, err := parseRange(c)
	if err != nil {
		return err
	}
	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	ch, err := chart.Render(f, paths, chart.Options{Range: r, Width: c.Int("width"), Format: format, Title: c.String("title")})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		return err
	}
	for _, w := range ch.Recording.Warnings {
		fmt.Fprintf(c.App.ErrWriter, "netwatch: warning: %s\n", w)
	}
	bursts := 0
	for _, p := range ch.Interfaces {
		bursts += p.Bursts
	}
	fmt.Fprintf(c.App.Writer, "wrote %s: %d interface(s), %d burst(s) marked\n", out, len(ch.Interfaces), bursts)
	return nil
}
