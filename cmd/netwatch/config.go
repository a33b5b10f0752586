package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/netwatch-dev/netwatch/internal/backend"
	"github.com/netwatch-dev/netwatch/internal/backend/ebpf/attach"
	"github.com/netwatch-dev/netwatch/internal/backend/procfs"
	"github.com/netwatch-dev/netwatch/internal/iface"
	"github.com/netwatch-dev/netwatch/internal/ifsel"
)

// backendOptions reads the common flags into backend options and checks
// that every interface named literally exists.
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
	names, err := existingNames(opts.ProcRoot)
	if err != nil {
		return backend.Options{}, err
	}
	if err := sel.CheckExist(names); err != nil {
		return backend.Options{}, usageError{err}
	}
	return opts, nil
}

// existingNames lists the interfaces that exist: the system's, or those in
// the procfs tree given by --proc-root.
func existingNames(procRoot string) ([]string, error) {
	if procRoot != "" && procRoot != procfs.DefaultRoot {
		b, err := procfs.Open(procfs.Options{Root: procRoot, IndexOf: func(string) int { return 0 }})
		if err != nil {
			return nil, err
		}
		defer b.Close()
		snap, err := b.Read(context.Background())
		if err != nil {
			return nil, err
		}
		names := make([]string, len(snap.Interfaces))
		for i, ic := range snap.Interfaces {
			names[i] = ic.Name
		}
		return names, nil
	}
	infos, err := iface.List()
	if err != nil {
		return nil, err
	}
	return iface.Names(infos), nil
}

// openBackend opens the backend and prints a one-line notice on stderr when
// auto-selection fell back.
func openBackend(c *cli.Context, opts backend.Options) (backend.Backend, error) {
	opened, err := backend.Open(c.Context, opts)
	if err != nil {
		return nil, err
	}
	if opened.Fallback != "" {
		fmt.Fprintf(c.App.ErrWriter, "netwatch: notice: %s\n", oneLine(opened.Fallback))
	}
	return opened.Backend, nil
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
