package main

import (
	"context"
	"flag"
	"io"
	"slices"

	"github.com/urfave/cli/v2"
)

// runApp runs app on args. Before urfave/cli sees them it moves the
// options given before a command behind it (see placeOptions).
func runApp(ctx context.Context, app *cli.App, args []string) error {
	app.Setup()
	args, given, err := placeOptions(app, args)
	if err != nil {
		return err
	}
	return app.RunContext(context.WithValue(ctx, givenKey{}, given), args)
}

// givenKey is the context key of the set of flags (primary names) given on
// the command line, as opposed to defaults and environment variables.
type givenKey struct{}

// setting is one flag given on the command line: its primary name and the
// value text (true for a bare boolean flag).
type setting struct{ name, value string }

// recorder is a flag.Value that records every value given to a flag
// without checking it: urfave/cli checks values when it parses for real.
type recorder struct {
	name   string
	isBool bool
	sets   *[]setting
}

func (r *recorder) String() string     { return "" }
func (r *recorder) IsBoolFlag() bool   { return r.isBool }
func (r *recorder) Set(v string) error { *r.sets = append(*r.sets, setting{r.name, v}); return nil }

// recordingSet returns a flag set that records into sets what flags parses
// into, by primary name, and ignores environment variables.
func recordingSet(flags []cli.Flag, sets *[]setting) *flag.FlagSet {
	fs := flag.NewFlagSet("netwatch", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	for _, f := range flags {
		names := f.Names()
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range names {
			if fs.Lookup(n) == nil {
				fs.Var(&recorder{name: names[0], isBool: isBool, sets: sets}, n, "")
			}
		}
	}
	return fs
}

// globalFlags are the options accepted before a command: every command's,
// the app's (watch's, help and version) first.
func globalFlags(app *cli.App) []cli.Flag {
	flags := slices.Clone(app.Flags)
	for _, cmd := range app.Commands {
		for _, f := range cmd.Flags {
			if !definesFlag(flags, f.Names()[0]) {
				flags = append(flags, f)
			}
		}
	}
	return flags
}

// commandFlags are the flags cmd accepts after its name.
func commandFlags(cmd *cli.Command) []cli.Flag {
	if cmd.HideHelp || definesFlag(cmd.Flags, "help") {
		return cmd.Flags
	}
	return append(slices.Clone(cmd.Flags), cli.HelpFlag)
}

func definesFlag(flags []cli.Flag, name string) bool {
	return slices.ContainsFunc(flags, func(f cli.Flag) bool { return slices.Contains(f.Names(), name) })
}

// placeOptions lets every option work before or after the command word.
// urfave/cli gives the options before a command to the app's own flag set
// (watch's flags), where the command never looks, so `netwatch -b procfs
// snapshot` silently ignored -b. placeOptions reads the options before the
// command (with every command's flags: global options) and moves those the
// command defines behind the command word, dropping any the command is also
// given itself (the innermost wins, also for repeatable flags). An option
// the command does not define is a usage error. Environment variables are not options here: each command reads
// those it defines.
//
// It also returns the set of flags given on the command line. Arguments it
// cannot parse are returned unchanged, for urfave/cli to report.
func placeOptions(app *cli.App, args []string) ([]string, map[string]bool, error) {
	given := make(map[string]bool)
	if len(args) < 2 {
		return args, given, nil
	}
	var global []setting
	fs := recordingSet(globalFlags(app), &global)
	if err := fs.Parse(args[1:]); err != nil {
		return args, given, nil
	}
	rest := fs.Args()
	for _, s := range global {
		given[s.name] = true
	}
	if given["version"] {
		return args, given, nil
	}
	if len(rest) == 0 {
		// The app runs watch with its own flags.
		for _, s := range global {
			if !definesFlag(app.Flags, s.name) {
				return nil, nil, usagef("--%s does nothing for 'watch' (the default command)", s.name)
			}
		}
		return args, given, nil
	}
	cmd := app.Command(rest[0])
	if cmd == nil || given["help"] {
		return args, given, nil
	}
	for _, s := range global {
		if !definesFlag(cmd.Flags, s.name) {
			return nil, nil, usagef("--%s does nothing for '%s' (see 'netwatch %s --help')", s.name, cmd.Name, cmd.Name)
		}
	}
	var local []setting
	// A parse error here is urfave/cli's to report: keep what parsed.
	_ = recordingSet(commandFlags(cmd), &local).Parse(rest[1:])
	inner := make(map[string]bool)
	for _, s := range local {
		inner[s.name] = true
		given[s.name] = true
	}
	if len(global) == 0 {
		return args, given, nil
	}
	out := []string{args[0], rest[0]}
	for _, s := range global {
		if !inner[s.name] {
			out = append(out, "--"+s.name+"="+s.value)
		}
	}
	return append(out, rest[1:]...), given, nil
}
