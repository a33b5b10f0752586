package main

import (
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/netwatch-dev/netwatch/internal/backend"
	"github.com/netwatch-dev/netwatch/internal/backend/ebpf/attach"
	"github.com/netwatch-dev/netwatch/internal/ifsel"
)

// backendOptions reads the common flags into backend options.
func backendOptions(c *cli.Context) (backend.Options, error) {
	sel, err := ifsel.New(c.StringSlice("interface"), c.StringSlice("exclude"))
	if err != nil {
		return backend.Options{}, usageError{err}
	}
	name := strings.ToLower(c.String("backend"))
	if err := backend.ValidateName(name); err != nil {
		return backend.Options{}, usagef("--backend: %v", err)
	}
	mode, err := attach.ParseMode(c.String("attach"))
	if err != nil {
		return backend.Options{}, usagef("--attach: %v", trimPkg(err))
	}
	xdpMode, err := attach.ParseXDPMode(c.String("xdp-mode"))
	if err != nil {
		return backend.Options{}, usagef("--xdp-mode: %v", trimPkg(err))
	}
	opts := backend.Options{
		Name:     name,
		Selector: sel,
		Attach:   mode,
		XDPMode:  xdpMode,
		ProcRoot: c.String("proc-root"),
	}
	if err := setNamespaces(&opts, c.String("netns")); err != nil {
		return backend.Options{}, err
	}
	// The labels come from the host's own /proc: a --proc-root elsewhere
	// (a fixture, another system's tree) gets none.
	if containerLabelsOn() && hostProc(opts.ProcRoot) {
		opts.Peers = peerLabels
	}
	return opts, nil
}

// hostProc says whether root (--proc-root, default /proc) is this host's
// /proc.
func hostProc(root string) bool {
	return root == "" || filepath.Clean(root) == "/proc"
}

// setNamespaces sets the namespaces --netns names: one (read as if netwatch
// ran there), several, or all (every named and container namespace, now
// and while running).
func setNamespaces(opts *backend.Options, spec string) error {
	list, all, err := backend.ParseNetnsList(spec)
	if err != nil {
		return usagef("--netns: %v", err)
	}
	if all {
		if _, err := discoverNamespaces(); err != nil {
			return fmt.Errorf("--netns all: %w", err)
		}
		// netwatch's own namespace (label ""), the ones named, and the
		// ones found.
		explicit := append([]backend.Netns{{}}, list...)
		list = explicit
		opts.Discover = func() ([]backend.Netns, error) {
			found, err := discoverNamespaces()
			return append(slices.Clip(explicit), found...), err
		}
	}
	if len(list) > 0 {
		opts.Netns = list[0]
	}
	if len(list) > 1 || all {
		opts.Namespaces = list
	}
	return nil
}

// decideBackend decides which backend opts get (the one decision `list`
// shows and `watch`/`snapshot` open), prints a one-line notice on stderr when
// auto fell back, and checks that every interface named literally exists
// where that backend looks.
func decideBackend(c *cli.Context, opts backend.Options) (backend.Plan, error) {
	plan, err := backend.Decide(opts)
	if err != nil {
		return plan, err
	}
	if plan.Fallback != "" {
		fmt.Fprintf(c.App.ErrWriter, "netwatch: notice: %s\n", oneLine(plan.Fallback))
	}
	if opts.Discover != nil {
		return plan, nil // --netns all: interfaces come with their namespaces
	}
	names, err := backend.InterfaceNames(plan, opts)
	if err != nil {
		return plan, err
	}
	if err := opts.Selector.CheckExist(names); err != nil {
		return plan, usageError{err}
	}
	return plan, nil
}

// openBackend opens what decideBackend planned. A signal while it attaches
// is a clean end, not an error: errInterrupted.
func openBackend(c *cli.Context, plan backend.Plan, opts backend.Options) (backend.Backend, error) {
	be, err := backend.Open(c.Context, plan, opts)
	if err != nil && c.Context.Err() != nil {
		return nil, errInterrupted
	}
	return be, err
}

// newLogger returns the stderr logger for --log-level.
func newLogger(c *cli.Context) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.String("log-level"))); err != nil {
		return nil, usagef("--log-level %q: want debug, info, warn or error", c.String("log-level"))
	}
	log := slog.New(slog.NewTextHandler(errWriter(c), &slog.HandlerOptions{Level: level}))
	// Packages below log through slog's default logger: --log-level
	// governs them too.
	slog.SetDefault(log)
	return log, nil
}

func errWriter(c *cli.Context) io.Writer { return c.App.ErrWriter }
