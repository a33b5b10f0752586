package main

import (
	"context"
	"flag"
	"io"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// completionFlag is what the shell completion scripts append to the words
// typed so far (urfave/cli's convention).
const completionFlag = "--generate-bash-completion"

// runApp runs app on args. Before urfave/cli sees them it answers shell
// completion itself (urfave/cli v2 panics on a partial flag, #1822) and
// moves the options given before a command behind it (see placeOptions).
func runApp(ctx context.Context, app *cli.App, args []string) error {
	app.Setup()
	if n := len(args); n >= 2 && args[n-1] == completionFlag {
		writeCompletions(app.Writer, app, args[1:n-1])
		return nil
	}
	args, given, err := placeOptions(app, args)
	if err != nil {
		return err
	}
	return app.RunContext(context.WithValue(ctx, givenKey{}, given), args)
}

// givenKey is the context key of the set of flags (primary names) given on
// the command line, as opposed to defaults and environment variables.
type givenKey struct{}

// given reports whether the flag called name was given on the command line,
// in either position; an environment variable does not count.
func given(c *cli.Context, name string) bool {
	if g, ok := c.Context.Value(givenKey{}).(map[string]bool); ok {
		return g[name]
	}
	return c.IsSet(name) // not started by runApp
}

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
// the command does not define is a usage error, as is an unknown command
// word. Environment variables are not options here: each command reads
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
	if cmd == nil {
		if given["help"] {
			return args, given, nil
		}
		return nil, nil, unknownCommand(app, rest[0])
	}
	if given["help"] {
		return []string{args[0], "help", cmd.Name}, given, nil
	}
	if cmd.HasName("help") && len(rest) > 1 && app.Command(rest[1]) == nil {
		return nil, nil, unknownCommand(app, rest[1])
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

// unknownCommand is the usage error for a word where a command belongs,
// suggesting the closest command name.
func unknownCommand(app *cli.App, word string) error {
	if s := suggestCommand(app, word); s != "" {
		return usagef("unknown command %q, did you mean %q? (see 'netwatch --help')", word, s)
	}
	return usagef("unknown command %q (see 'netwatch --help')", word)
}

// suggestCommand returns the command name closest to word: the only one
// word is a prefix of, or one at most two edits away (fewer than word has
// letters); "" if none is close.
func suggestCommand(app *cli.App, word string) string {
	var names []string
	for _, cmd := range app.Commands {
		if !cmd.Hidden {
			names = append(names, cmd.Name)
		}
	}
	var prefixed []string
	for _, n := range names {
		if len(word) >= 2 && strings.HasPrefix(n, word) {
			prefixed = append(prefixed, n)
		}
	}
	if len(prefixed) == 1 {
		return prefixed[0]
	}
	best, bestDist := "", 3
	for _, n := range names {
		if d := editDistance(word, n); d < bestDist && d < len(word) {
			best, bestDist = n, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and transpositions of adjacent
// bytes ("snapshto" is one edit from "snapshot").
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
