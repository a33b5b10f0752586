package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
)

// flagEnv returns the environment variable of f.
func flagEnv(t *testing.T, f cli.Flag) string {
	t.Helper()
	env := f.(interface{ GetEnvVars() []string }).GetEnvVars()
	if len(env) != 1 {
		t.Fatalf("flag %s has env vars %v, want one", f.Names()[0], env)
	}
	return env[0]
}

// flagValues returns, for a flag of f's type, two different values as they
// are typed, and what c.<Type>(name) returns for each, printed with %v.
// A repeatable flag's first value is two values.
func flagValues(t *testing.T, f cli.Flag) (typed [2][]string, env [2]string, want [2]string) {
	t.Helper()
	switch f.(type) {
	case *cli.StringFlag:
		return [2][]string{{"v1"}, {"v2"}}, [2]string{"v1", "v2"}, [2]string{"v1", "v2"}
	case *cli.StringSliceFlag:
		return [2][]string{{"a", "b"}, {"c"}}, [2]string{"a,b", "c"}, [2]string{"[a b]", "[c]"}
	case *cli.DurationFlag:
		return [2][]string{{"7ms"}, {"9s"}}, [2]string{"7ms", "9s"}, [2]string{"7ms", "9s"}
	case *cli.IntFlag:
		return [2][]string{{"3"}, {"4"}}, [2]string{"3", "4"}, [2]string{"3", "4"}
	case *cli.BoolFlag:
		return [2][]string{{"true"}, {"false"}}, [2]string{"true", "false"}, [2]string{"true", "false"}
	}
	t.Fatalf("flag %s: type %T not covered by the test", f.Names()[0], f)
	return
}

// typedFlag spells values of f as options, with the name given.
func typedFlag(name string, values []string) []string {
	var out []string
	for _, v := range values {
		dash := "--"
		if len(name) == 1 {
			dash = "-"
		}
		out = append(out, dash+name+"="+v)
	}
	return out
}

// flagValue reads f in c the way the commands do.
func flagValue(c *cli.Context, f cli.Flag) string {
	name := f.Names()[0]
	switch f.(type) {
	case *cli.StringSliceFlag:
		return fmt.Sprint(c.StringSlice(name))
	case *cli.DurationFlag:
		return fmt.Sprint(c.Duration(name))
	case *cli.IntFlag:
		return fmt.Sprint(c.Int(name))
	case *cli.BoolFlag:
		return fmt.Sprint(c.Bool(name))
	}
	return c.String(name)
}

// captureApp returns the app with every action replaced by one that
// records which command ran and the values of all its flags.
func captureApp(stdout, stderr *bytes.Buffer) (*cli.App, *capture) {
	app := newApp(stdout, stderr)
	cp := &capture{}
	record := func(name string, flags []cli.Flag) cli.ActionFunc {
		return func(c *cli.Context) error {
			cp.command = name
			cp.values = map[string]string{}
			for _, f := range flags {
				cp.values[f.Names()[0]] = flagValue(c, f)
			}
			return nil
		}
	}
	app.Action = record("", app.Flags)
	for _, cmd := range app.Commands {
		cmd.Action = record(cmd.Name, cmd.Flags)
	}
	return app, cp
}

type capture struct {
	command string // "" for the app's own action (watch)
	values  map[string]string
}

// positions are the word orders `netwatch --help` shows, for a command
// (cmd == "": no command, the app runs watch).
func positions(cmd string, before, after []string) [][]string {
	if cmd == "" {
		return [][]string{append(slices.Clone(before), after...)}
	}
	return [][]string{append(append(slices.Clone(before), cmd), after...)}
}

// TestOptionsInEveryPosition gives every flag of every command before the
// command, after it, both (the one after wins) and by environment variable
// (a flag in either position wins), by its long and short names, and
// checks the value the command sees.
func TestOptionsInEveryPosition(t *testing.T) {
	var stdout, stderr bytes.Buffer
	app, _ := captureApp(&stdout, &stderr)
	app.Setup()
	type target struct {
		cmd   string // as typed; "" for none
		ran   string // the action that must run
		flags []cli.Flag
	}
	targets := []target{{"", "", app.Flags}}
	for _, cmd := range app.Commands {
		if !cmd.HasName("help") {
			targets = append(targets, target{cmd.Name, cmd.Name, cmd.Flags})
		}
	}
	if len(targets) != len(app.Commands) {
		t.Fatalf("%d targets, want the app and each command but help", len(targets))
	}
	checked := 0
	for _, tg := range targets {
		for _, f := range tg.flags {
			if slices.Contains(f.Names(), "help") || slices.Contains(f.Names(), "version") {
				continue
			}
			name := f.Names()[0]
			typed, env, want := flagValues(t, f)
			envVar := flagEnv(t, f)
			for _, spelled := range f.Names() {
				cases := []struct {
					desc          string
					env           string
					before, after []string
					want          string
				}{
					{"after", "", nil, typedFlag(spelled, typed[0]), want[0]},
					{"before", "", typedFlag(spelled, typed[0]), nil, want[0]},
					{"both", "", typedFlag(spelled, typed[0]), typedFlag(spelled, typed[1]), want[1]},
					{"both, other name inside", "", typedFlag(spelled, typed[0]), typedFlag(name, typed[1]), want[1]},
					{"env", env[0], nil, nil, want[0]},
					{"env and before", env[0], typedFlag(spelled, typed[1]), nil, want[1]},
					{"env and after", env[0], nil, typedFlag(spelled, typed[1]), want[1]},
				}
				for _, tc := range cases {
					if tg.cmd == "" && tc.before != nil && tc.after != nil {
						continue // without a command there is one position
					}
					for _, args := range positions(tg.cmd, tc.before, tc.after) {
						t.Run(fmt.Sprintf("%s/%s/%s", tg.ran, spelled, tc.desc), func(t *testing.T) {
							if tc.env != "" {
								t.Setenv(envVar, tc.env)
							}
							// Extra positional words (completion's shell) are not flags.
							if tg.cmd == "completion" {
								args = append(args, "bash")
							}
							app, cp := captureApp(&stdout, &stderr)
							if err := runApp(context.Background(), app, append([]string{"netwatch"}, args...)); err != nil {
								t.Fatalf("netwatch %s: %v", strings.Join(args, " "), err)
							}
							if cp.values == nil || cp.command != tg.ran {
								t.Fatalf("netwatch %s ran %q, want %q", strings.Join(args, " "), cp.command, tg.ran)
							}
							if got := cp.values[name]; got != tc.want {
								t.Errorf("netwatch %s (env %s=%q): --%s = %s, want %s", strings.Join(args, " "), envVar, tc.env, name, got, tc.want)
							}
						})
						checked++
					}
				}
			}
		}
	}
	if checked < 200 {
		t.Fatalf("only %d cases", checked)
	}
}

// TestOptionDoesNothing: an option given before a command that the
// command does not take is a one-line usage error naming both; the same
// setting from the environment is not an error.
func TestOptionDoesNothing(t *testing.T) {
	app := newApp(nil, nil)
	app.Setup()
	all := globalFlags(app)
	cmds := []string{""}
	for _, cmd := range app.Commands {
		cmds = append(cmds, cmd.Name)
	}
	tried := 0
	for _, name := range cmds {
		defined := app.Flags
		shown := "watch"
		if name != "" {
			defined = app.Command(name).Flags
			shown = name
		}
		for _, f := range all {
			if definesFlag(defined, f.Names()[0]) || f.Names()[0] == "help" || f.Names()[0] == "version" {
				continue
			}
			typed, env, _ := flagValues(t, f)
			args := typedFlag(f.Names()[len(f.Names())-1], typed[0])
			if name != "" {
				args = append(args, name)
			}
			t.Run(shown+"/"+f.Names()[0], func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				err := runApp(context.Background(), newApp(&stdout, &stderr), append([]string{"netwatch"}, args...))
				want := fmt.Sprintf("--%s does nothing for '%s'", f.Names()[0], shown)
				if !isUsage(err) || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
					t.Errorf("netwatch %s: %v, want a one-line usage error with %q", strings.Join(args, " "), err, want)
				}
				if name == "help" {
					return // help shows help, whatever the environment
				}
				// From the environment the flag is simply not read.
				t.Setenv(flagEnv(t, f), env[0])
				app, cp := captureApp(&stdout, &stderr)
				cmdArgs := []string{"netwatch"}
				if name != "" {
					cmdArgs = append(cmdArgs, name)
				}
				if name == "completion" {
					cmdArgs = append(cmdArgs, "bash")
				}
				if err := runApp(context.Background(), app, cmdArgs); err != nil || cp.values == nil {
					t.Errorf("%s=%s netwatch %s: %v, want the command to run", flagEnv(t, f), env[0], name, err)
				}
			})
			tried++
		}
	}
	if tried < 30 {
		t.Fatalf("only %d combinations", tried)
	}
}

// TestGlobalFlagsAgree: an option before the command is read with the
// union of every command's flags, so a name must mean the same kind of
// flag (boolean or taking a value) in every command.
func TestGlobalFlagsAgree(t *testing.T) {
	app := newApp(nil, nil)
	app.Setup()
	kind := map[string]string{}
	for _, flags := range append([][]cli.Flag{app.Flags}, func() (out [][]cli.Flag) {
		for _, c := range app.Commands {
			out = append(out, c.Flags)
		}
		return
	}()...) {
		for _, f := range flags {
			k := fmt.Sprintf("%T %v", f, f.Names())
			for _, n := range f.Names() {
				if prev, ok := kind[n]; ok && prev != k {
					t.Errorf("-%s is %s in one command and %s in another", n, prev, k)
				}
				kind[n] = k
			}
		}
	}
}

// netwatchBounded runs the binary like netwatch, but kills it after 20 s:
// an option that is ignored (-c 1 before the command) must fail the test,
// not hang it.
func netwatchBounded(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r := runCmd(t, exec.CommandContext(ctx, binary, args...))
	if ctx.Err() != nil {
		t.Fatalf("netwatch %s: killed after 20s", strings.Join(args, " "))
	}
	return r
}

// TestOptionsBeforeCommandEndToEnd runs the binary with the options of
// the issue before the command, for every command, against the procfs
// fixture: they now take effect.
func TestOptionsBeforeCommandEndToEnd(t *testing.T) {
	fixture := []string{"-b", "procfs", "--proc-root", "testdata/proc"}
	names := func(t *testing.T, out string) []string {
		var s struct {
			Backend    string `json:"backend"`
			Interfaces []struct {
				Name string `json:"name"`
			} `json:"interfaces"`
		}
		if err := json.NewDecoder(strings.NewReader(out)).Decode(&s); err != nil {
			t.Fatalf("not JSON: %q", out)
		}
		var n []string
		for _, i := range s.Interfaces {
			n = append(n, i.Name)
		}
		return append(n, "backend="+s.Backend)
	}
	tests := []struct {
		name string
		args []string
		want []string // interface names and the backend, from the JSON
	}{
		{"snapshot: -b and --proc-root before", append(slices.Clone(fixture), "snapshot", "-w", "1ms", "--json"),
			[]string{"lo", "eth0", "wlp2s0", "backend=procfs"}},
		{"snapshot: -i before", append(append([]string{"-i", "lo"}, fixture...), "snapshot", "-w", "1ms", "--json"),
			[]string{"lo", "backend=procfs"}},
		{"snapshot: all before", append(append([]string{"-i", "eth0", "--json", "-w", "1ms"}, fixture...), "snapshot"),
			[]string{"eth0", "backend=procfs"}},
		{"snapshot: inner -i wins", append(append([]string{"-i", "lo"}, fixture...), "snapshot", "-w", "1ms", "--json", "-i", "wlp*"),
			[]string{"wlp2s0", "backend=procfs"}},
		{"watch: before", append(append([]string{"-i", "lo", "-n", "1ms", "-c", "1", "--json"}, fixture...), "watch"),
			[]string{"lo", "backend=procfs"}},
		{"watch: split", append(append([]string{"-i", "lo"}, fixture...), "watch", "-n", "1ms", "-c", "1", "-f", "ndjson"),
			[]string{"lo", "backend=procfs"}},
		{"watch: no command", append([]string{"-i", "lo", "-n", "1ms", "-c", "1", "--json"}, fixture...),
			[]string{"lo", "backend=procfs"}},
		{"list: --json before", []string{"--json", "-b", "procfs", "list", "-i", "lo"}, []string{"lo", "backend=procfs"}},
		{"list: all before", []string{"--json", "-b", "procfs", "-i", "lo", "list"}, []string{"lo", "backend=procfs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := netwatchBounded(t, tt.args...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("netwatch %s: exit %d, stderr %q", strings.Join(tt.args, " "), r.code, r.stderr)
			}
			if got := names(t, r.stdout); !slices.Equal(got, tt.want) {
				t.Errorf("netwatch %s: %v, want %v", strings.Join(tt.args, " "), got, tt.want)
			}
		})
	}
	errs := []struct {
		args     []string
		inStderr string
	}{
		{[]string{"-i", "nosuch", "snapshot", "-b", "procfs"}, `unknown interface "nosuch"`},
		{[]string{"-i", "nosuch", "-b", "procfs", "list"}, `unknown interface "nosuch"`},
		{[]string{"-n", "1ms", "list"}, "--interval does nothing for 'list'"},
		{[]string{"-f", "csv", "snapshot"}, "--format does nothing for 'snapshot'"},
		{[]string{"-w", "1s"}, "--window does nothing for 'watch'"},
		{[]string{"-b", "procfs", "completion", "bash"}, "--backend does nothing for 'completion'"},
		{[]string{"-n", "fast", "watch"}, `invalid value "fast" for flag -interval`},
	}
	for _, e := range errs {
		r := netwatchBounded(t, e.args...)
		if r.code != 2 || !strings.Contains(r.stderr, e.inStderr) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("netwatch %s: exit %d, stderr %q; want 2 and one line with %q", strings.Join(e.args, " "), r.code, r.stderr, e.inStderr)
		}
	}
}
