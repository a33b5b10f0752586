package main

import (
	"bytes"
	"context"
	"math/rand"
	"os/exec"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestUsageErrors covers usage errors from the issue: each is one line on
// stderr with exit status 2.
func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		inStderr string
	}{
		{"json and csv", []string{"-b", "procfs", "--json", "-f", "csv"}, "--json and --format csv contradict each other"},
		{"json and csv, watch", []string{"watch", "-f", "csv", "--json"}, "--json and --format csv contradict each other"},
		{"json and table", []string{"--json", "watch", "-f", "table"}, "--json and --format table contradict each other"},
		{"unknown command", []string{"snapshto"}, `unknown command "snapshto", did you mean "snapshot"?`},
		{"unknown command after options", []string{"-b", "procfs", "-i", "lo", "lsit"}, `unknown command "lsit", did you mean "list"?`},
		{"unknown command, a prefix", []string{"snap"}, `unknown command "snap", did you mean "snapshot"?`},
		{"unknown command, nothing close", []string{"eth0"}, `unknown command "eth0" (see 'netwatch --help')`},
		{"help for an unknown command", []string{"help", "wtach"}, `unknown command "wtach", did you mean "watch"?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := netwatchBounded(t, tt.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tt.inStderr) || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("netwatch %s: exit %d, stderr %q; want 2 and one line with %q", strings.Join(tt.args, " "), r.code, r.stderr, tt.inStderr)
			}
		})
	}
}

// TestJSONAndFormatFromEnvironment: --json and --format agree, or a flag
// wins over an environment variable, or two environment variables that
// contradict each other are an error.
func TestJSONAndFormatFromEnvironment(t *testing.T) {
	base := []string{"-b", "procfs", "--proc-root", "testdata/proc", "-i", "lo", "-n", "1ms", "-c", "1"}
	tests := []struct {
		name   string
		env    []string
		args   []string
		code   int
		prefix string // of stdout, or of stderr with code 2
	}{
		{"json and ndjson", nil, []string{"--json", "-f", "ndjson"}, 0, `{"time":`},
		{"flag --json over NETWATCH_FORMAT", []string{"NETWATCH_FORMAT=csv"}, []string{"--json"}, 0, `{"time":`},
		{"flag -f over NETWATCH_JSON", []string{"NETWATCH_JSON=true"}, []string{"-f", "csv"}, 0, "time,backend,"},
		{"NETWATCH_JSON alone", []string{"NETWATCH_JSON=true"}, nil, 0, `{"time":`},
		{"both from the environment", []string{"NETWATCH_JSON=true", "NETWATCH_FORMAT=csv"}, nil, 2,
			"netwatch: NETWATCH_JSON and NETWATCH_FORMAT=csv contradict each other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCmdEnv(t, exec.Command(binary, append(append([]string{}, base...), tt.args...)...), tt.env...)
			out := r.stdout
			if tt.code != 0 {
				out = r.stderr
			}
			if r.code != tt.code || !strings.HasPrefix(out, tt.prefix) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d and %q", r.code, r.stdout, r.stderr, tt.code, tt.prefix)
			}
		})
	}
}

// TestDurationMissingUnit gives every duration flag of every command a
// bare number, as an option and from its environment variable.
func TestDurationMissingUnit(t *testing.T) {
	app := newApp(nil, nil)
	app.Setup()
	tried := 0
	for _, cmd := range append([]*cli.Command{{Name: "", Flags: app.Flags}}, app.Commands...) {
		for _, f := range cmd.Flags {
			if _, ok := f.(*cli.DurationFlag); !ok {
				continue
			}
			name := f.Names()[0]
			for _, spelled := range f.Names() {
				for _, value := range []string{"1", "250", "0.5"} {
					dash := "--"
					if len(spelled) == 1 {
						dash = "-"
					}
					var args []string
					if cmd.Name != "" {
						args = append(args, cmd.Name)
					}
					args = append(args, dash+spelled, value)
					r := netwatchBounded(t, args...)
					want := "netwatch: --" + name + " " + value + ": missing unit, e.g. 1s or 100ms"
					if r.code != 2 || !strings.HasPrefix(r.stderr, want) || strings.Count(r.stderr, "\n") != 1 {
						t.Errorf("netwatch %s: exit %d, stderr %q; want 2 and %q", strings.Join(args, " "), r.code, r.stderr, want)
					}
					tried++
				}
			}
			env := flagEnv(t, f)
			cmdArgs := []string{}
			if cmd.Name != "" {
				cmdArgs = append(cmdArgs, cmd.Name)
			}
			r := runCmdEnv(t, exec.Command(binary, cmdArgs...), env+"=1")
			if want := "netwatch: " + env + "=1: missing unit, e.g. 1s or 100ms"; r.code != 2 || !strings.HasPrefix(r.stderr, want) {
				t.Errorf("%s=1 netwatch %s: exit %d, stderr %q; want 2 and %q", env, cmd.Name, r.code, r.stderr, want)
			}
		}
	}
	if tried < 30 {
		t.Fatalf("only %d cases", tried)
	}
}

// TestHelpCommand: `netwatch help` and `netwatch help CMD` show help, as do
// --help before and after a command.
func TestHelpCommand(t *testing.T) {
	r := netwatchBounded(t, "help")
	if r.code != 0 || !strings.Contains(r.stdout, "COMMANDS:") || !strings.Contains(r.stdout, "snapshot") || !strings.Contains(r.stdout, "help, h") {
		t.Errorf("help: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	for _, cmd := range []string{"watch", "snapshot", "list", "completion"} {
		want := "netwatch " + cmd + " - "
		for _, args := range [][]string{{"help", cmd}, {"h", cmd}, {cmd, "--help"}, {"--help", cmd}, {cmd, "-h"}} {
			r := netwatchBounded(t, args...)
			if r.code != 0 || !strings.Contains(r.stdout, want) || r.stderr != "" {
				t.Errorf("netwatch %s: exit %d, stdout %q, stderr %q; want %q", strings.Join(args, " "), r.code, r.stdout, r.stderr, want)
			}
			if strings.Contains(r.stdout, "COMMANDS:") {
				t.Errorf("netwatch %s lists subcommands (a help subcommand):\n%s", strings.Join(args, " "), r.stdout)
			}
		}
	}
}

// TestArgsNeverPanic parses random word sequences (commands, options,
// values, completion, "--") with the commands' actions replaced: no input
// may panic (a stack trace) or give an error of more than one line.
func TestArgsNeverPanic(t *testing.T) {
	vocab := []string{"watch", "snapshot", "list", "completion", "help", "h", "bash", "nosuch", "--", "-", "",
		"-i", "lo", "-x", "--interface=", "-i=", "-n", "1", "1ms", "-c", "-1", "-w", "--w", "--win", "-r", "0",
		"--json", "--json=maybe", "-f", "csv", "-b", "procfs", "--burst-threshold", "1Gb", "--log-level", "debug",
		"-h", "--help", "-v", "--version", "--bogus", "-jc", "=", "-=", "--=x", "---x", completionFlag}
	r := rand.New(rand.NewSource(1))
	for range 1000 {
		args := []string{"netwatch"}
		for k := r.Intn(6); k > 0; k-- {
			args = append(args, vocab[r.Intn(len(vocab))])
		}
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("netwatch %q: panic: %v", args[1:], p)
				}
			}()
			var stdout, stderr bytes.Buffer
			app, _ := captureApp(&stdout, &stderr)
			if err := runApp(context.Background(), app, args); err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("netwatch %q: error of several lines: %q", args[1:], err)
			}
		}()
	}
}
