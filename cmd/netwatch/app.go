package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strconv"
	"syscall"

	"github.com/urfave/cli/v2"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// run builds the app and runs it with args, cancelling on SIGINT, SIGTERM
// and SIGHUP (a closed terminal) so that deferred cleanup (detaching BPF
// programs) always runs.
func run(args []string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	// With SIGPIPE notified, a write to a closed pipe (netwatch | head)
	// returns EPIPE instead of killing the process before cleanup runs.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	return runApp(ctx, newApp(stdout, stderr), args)
}

func newApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:    "netwatch",
		Usage:   "high-resolution network traffic sampler (eBPF, /proc/net/dev, macOS sysctl)",
		Version: version,
		Description: "netwatch counts bytes and packets per interface and direction. On Linux with\n" +
			"privileges it attaches pass-through eBPF counters (tc/TCX, optionally XDP) and can read\n" +
			"them every millisecond; otherwise it reads /proc/net/dev (or sysctl on macOS) and says why.\n\n" +
			"Without a command, netwatch runs `watch`. Options may come before or after the command\n" +
			"(netwatch -i eth0 snapshot = netwatch snapshot -i eth0; given twice, the one after the\n" +
			"command wins); one the command does not take is an error. Every option also reads the\n" +
			"environment variable shown with it; an option on the command line wins.\n\n" +
			"Examples:\n" +
			"   netwatch -i eth0 -n 100ms                    stream eth0 every 100 ms as a table\n" +
			"   netwatch watch -n 1ms -f ndjson -c 1000      1000 samples, one JSON object per line\n" +
			"   netwatch snapshot --json | jq '.interfaces[] | {name, rx_bytes_per_sec}'\n" +
			"   netwatch list                                interfaces and the backend that would serve them",
		Writer:                 stdout,
		ErrWriter:              stderr,
		EnableBashCompletion:   true,
		UseShortOptionHandling: true,
		Suggest:                true,
		Flags:                  watchFlags(),
		Action:                 watchAction,
		OnUsageError:           onUsageError,
		ExitErrHandler:         func(*cli.Context, error) {}, // main prints errors and exits
		Commands:               commands(),
	}
}

// commands are netwatch's commands. None has subcommands, so none gets a
// help subcommand: `netwatch help CMD` and `netwatch CMD --help` show help.
func commands() []*cli.Command {
	cmds := []*cli.Command{watchCommand(), topCommand(), snapshotCommand(), listCommand(), recordCommand(), reportCommand(), plotCommand(), serveCommand(), completionCommand()}
	for _, c := range cmds {
		c.HideHelpCommand = true
	}
	return cmds
}

// onUsageError turns flag parsing errors into usage errors (exit status 2)
// without dumping the whole help text.
func onUsageError(c *cli.Context, err error, _ bool) error {
	if msg, ok := durationError(c.Command.Flags, err.Error()); ok {
		return usagef("%s (see '%s --help')", msg, c.Command.HelpName)
	}
	return usagef("%v (see '%s --help')", err, c.Command.HelpName)
}

// Errors of urfave/cli (and the flag package) about a flag's value, from the
// command line and from an environment variable.
var (
	badFlagValue = regexp.MustCompile(`^invalid value "(.*)" for flag -([\w-]+): `)
	badEnvValue  = regexp.MustCompile(`^could not parse "(.*)" as duration value from environment variable "(\w+)" for flag [\w-]+: `)
)

// durationError rewords the error about a duration flag given a bare
// number ("-n 1" said "parse error"): "--interval 1: missing unit, e.g. 1s
// or 100ms".
func durationError(flags []cli.Flag, msg string) (string, bool) {
	var value, name string
	if m := badFlagValue.FindStringSubmatch(msg); m != nil {
		value = m[1]
		for _, f := range flags {
			if _, ok := f.(*cli.DurationFlag); ok && slices.Contains(f.Names(), m[2]) {
				name = "--" + f.Names()[0] + " " + value
			}
		}
	} else if m := badEnvValue.FindStringSubmatch(msg); m != nil {
		value, name = m[1], m[2]+"="+m[1]
	}
	if _, err := strconv.ParseFloat(value, 64); name == "" || err != nil {
		return "", false
	}
	return name + ": missing unit, e.g. 1s or 100ms", true
}
