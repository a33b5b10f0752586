package main

import (
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/netwatch-dev/netwatch/internal/backend"
	"github.com/netwatch-dev/netwatch/internal/output"
)

// Limits of --interval and --window.
const (
	minInterval = time.Millisecond
	maxInterval = time.Hour
)

const (
	catSelect  = "Selection:"
	catBackend = "Backend:"
	catOutput  = "Output:"
	catTiming  = "Timing:"
)

func env(name string) []string { return []string{"NETWATCH_" + name} }

// commonFlags are accepted by every command that reads counters.
func commonFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "interface", Aliases: []string{"i"}, EnvVars: env("INTERFACE"), Category: catSelect,
			Usage: "watch only interfaces matching `NAME` (shell glob such as 'eth*'; repeat or comma-separate); default all"},
		&cli.StringSliceFlag{Name: "exclude", Aliases: []string{"x"}, EnvVars: env("EXCLUDE"), Category: catSelect,
			Usage: "skip interfaces matching `NAME` (shell glob; repeat or comma-separate)"},
		&cli.StringFlag{Name: "backend", Aliases: []string{"b"}, Value: backend.Auto, EnvVars: env("BACKEND"), Category: catBackend,
			Usage: "counter source: " + strings.Join(backend.Names, ", ") + " (auto: ebpf, else netlink, else procfs, with a notice; sysctl on macOS)"},
		&cli.StringFlag{Name: "attach", Value: "auto", EnvVars: env("ATTACH"), Category: catBackend,
			Usage: "how the ebpf backend attaches: auto (TCX, else legacy tc), tcx, tc, or xdp (XDP rx + tc tx)"},
		&cli.StringFlag{Name: "xdp-mode", Value: "driver", EnvVars: env("XDP_MODE"), Category: catBackend,
			Usage: "XDP attach mode with --attach xdp: driver or generic"},
		&cli.StringFlag{Name: "proc-root", Value: "/proc", EnvVars: env("PROC_ROOT"), Category: catBackend,
			Usage: "where procfs is mounted, for the procfs backend (e.g. a host's /proc inside a container)"},
		&cli.StringFlag{Name: "netns", EnvVars: env("NETNS"), Category: catSelect,
			Usage: "sample another network namespace: `NAME` (ip netns), a PATH (/proc/PID/ns/net) or pid:PID; every interface then carries it (needs CAP_SYS_ADMIN)"},
		&cli.StringFlag{Name: "log-level", Value: "warn", EnvVars: env("LOG_LEVEL"),
			Usage: "diagnostics on stderr: debug, info, warn or error"},
	}
}

// outputFlags choose how samples are printed.
func outputFlags(withFormat bool) []cli.Flag {
	var flags []cli.Flag
	if withFormat {
		flags = append(flags, &cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", EnvVars: env("FORMAT"), Category: catOutput,
			Usage: "output format: table, ndjson (one JSON object per line), csv, or events (one JSON object per finished burst, " +
				"same as --events)"})
	}
	return append(flags,
		&cli.BoolFlag{Name: "json", EnvVars: env("JSON"), Category: catOutput, Usage: jsonUsage(withFormat)},
		&cli.StringFlag{Name: "units", Value: "bytes", EnvVars: env("UNITS"), Category: catOutput,
			Usage: "table rates in bytes or bits per second"},
		&cli.BoolFlag{Name: "iec", EnvVars: env("IEC"), Category: catOutput,
			Usage: "table rates with binary prefixes (KiB/s, Mibit/s) instead of SI (kB/s, Mbit/s)"},
	)
}

func jsonUsage(stream bool) string {
	if stream {
		return "same as --format ndjson (with another --format: an error)"
	}
	return "print one JSON object (the NDJSON sample schema) instead of a table"
}

// parseInterval validates a --interval or --window value.
func parseInterval(flag string, d time.Duration) (time.Duration, error) {
	if d < minInterval || d > maxInterval {
		return 0, usagef("--%s %v is out of range: use %v to %v", flag, d, minInterval, maxInterval)
	}
	return d, nil
}

// tableOptions reads --units and --iec.
func tableOptions(c *cli.Context) (output.TableOptions, error) {
	units, err := output.ParseUnits(c.String("units"))
	if err != nil {
		return output.TableOptions{}, usagef("--units: %v", trimPkg(err))
	}
	return output.TableOptions{Units: units, IEC: c.Bool("iec")}, nil
}

// trimPkg drops a "pkg: " prefix from a library error shown to users.
func trimPkg(err error) string {
	s := err.Error()
	if pkg, rest, ok := strings.Cut(s, ": "); ok && !strings.Contains(pkg, " ") {
		return rest
	}
	return s
}
