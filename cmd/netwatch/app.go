package main

import (
	"context"
	"io"
	"os"
	"os/signal"
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
	return newApp(stdout, stderr).RunContext(ctx, args)
}

func newApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:    "netwatch",
		Usage:   "high-resolution network traffic sampler (eBPF, /proc/net/dev, macOS sysctl)",
		Version: version,
		Description: "netwatch counts bytes and packets per interface and direction. On Linux with\n" +
			"privileges it attaches pass-through eBPF counters (tc/TCX, optionally XDP) and can read\n" +
			"them every millisecond; otherwise it reads /proc/net/dev (or sysctl on macOS) and says why.\n\n" +
			"Without a command, netwatch runs `watch`.\n\n" +
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
		HideHelpCommand:        true,
		Flags:                  watchFlags(),
		Action:                 watchAction,
		OnUsageError:           onUsageError,
		ExitErrHandler:         func(*cli.Context, error) {}, // main prints errors and exits
		Commands: []*cli.Command{
			watchCommand(),
			topCommand(),
			snapshotCommand(),
			listCommand(),
			completionCommand(),
		},
	}
}

// onUsageError turns flag parsing errors into usage errors (exit status 2)
// without dumping the whole help text.
func onUsageError(c *cli.Context, err error, _ bool) error {
	return usagef("%v (see '%s --help')", err, c.Command.HelpName)
}
