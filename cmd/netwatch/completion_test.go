package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// complete runs netwatch WORDS --generate-bash-completion in-process, as
// the completion scripts do, and returns its output lines. A panic fails
// the test instead of ending it.
func complete(t *testing.T, words ...string) (lines []string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("netwatch %s %s: panic: %v", strings.Join(words, " "), completionFlag, p)
			lines = nil
		}
	}()
	args := append(append([]string{"netwatch"}, words...), completionFlag)
	if err := runApp(context.Background(), newApp(&stdout, &stderr), args); err != nil {
		t.Errorf("netwatch %s: %v", strings.Join(args[1:], " "), err)
	}
	if stderr.Len() != 0 {
		t.Errorf("netwatch %s: stderr %q", strings.Join(args[1:], " "), stderr.String())
	}
	if stdout.Len() == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
}

// flagForms spells every name of flags as typed: --long, -s.
func flagForms(flags []cli.Flag) []string {
	var forms []string
	for _, f := range flags {
		for _, n := range f.Names() {
			if len(n) == 1 {
				forms = append(forms, "-"+n)
			} else {
				forms = append(forms, "--"+n)
			}
		}
	}
	return forms
}

// TestCompletionEveryFlagPrefix completes every prefix of every option of
// every command (and of the options before a command, which are every
// command's), behind several word orders: no panic, and the answer is
// exactly the command's options that start with the prefix.
func TestCompletionEveryFlagPrefix(t *testing.T) {
	app := newApp(nil, nil)
	app.Setup()
	type place struct {
		name  string
		words []string // before the prefix
		forms []string // every option valid there
	}
	global := flagForms(app.Flags) // watch's, help and version
	for _, cmd := range app.Commands {
		for _, f := range flagForms(cmd.Flags) {
			if !slices.Contains(global, f) {
				global = append(global, f)
			}
		}
	}
	places := []place{
		{"before a command", nil, global},
		{"before a command, after options", []string{"-b", "procfs", "--json", "-i", "lo"}, global},
	}
	for _, cmd := range app.Commands {
		forms := flagForms(cmd.Flags)
		if !cmd.HideHelp && !slices.Contains(forms, "--help") {
			forms = append(forms, "--help", "-h")
		}
		places = append(places,
			place{cmd.Name, []string{cmd.Name}, forms},
			place{cmd.Name + " after options", []string{"-b", "procfs", "-i", "lo", cmd.Name}, forms},
			place{cmd.Name + " after its options", []string{cmd.Name, "--json", "--units", "bits"}, forms})
	}
	prefixes := 0
	for _, p := range places {
		for _, form := range p.forms {
			for n := 1; n <= len(form); n++ {
				prefix := form[:n]
				got := complete(t, append(slices.Clone(p.words), prefix)...)
				var want []string
				for _, f := range p.forms {
					if strings.HasPrefix(f, prefix) && !slices.Contains(want, f) {
						want = append(want, f)
					}
				}
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("%s: netwatch %s %s completes to %q, want %q", p.name, strings.Join(p.words, " "), prefix, got, want)
				}
				prefixes++
			}
		}
	}
	if prefixes < 1000 {
		t.Fatalf("only %d prefixes", prefixes)
	}
	if got := complete(t, "snapshot", "--w"); !slices.Equal(got, []string{"--window"}) {
		t.Errorf("snapshot --w completes to %q, want --window", got)
	}
}

// TestCompletionWords: without an option being typed, the next word is a
// command until one was given; nothing is offered after "--".
func TestCompletionWords(t *testing.T) {
	commands := []string{"watch", "top", "snapshot", "list", "record", "report", "plot", "serve", "completion", "help"}
	tests := []struct {
		words []string
		want  []string
	}{
		{nil, commands},
		{[]string{"-b", "procfs"}, commands},
		{[]string{"-i", "snapshot"}, commands}, // snapshot is -i's value
		{[]string{"--interface=lo", "--json", "-x", "eth0"}, commands},
		{[]string{"--json"}, []string{"--json"}}, // the option being typed
		{[]string{"snapshot"}, nil},
		{[]string{"-b", "procfs", "list"}, nil},
		{[]string{"completion"}, nil},
		{[]string{"--", "--w"}, nil},
		{[]string{"snapshot", "--", "-"}, nil},
		{[]string{"nosuch", "--w"}, []string{"--window", "--width", "--web.config.file"}},
		{[]string{"--bogus", "--int"}, []string{"--interval", "--interface"}},
		{[]string{"-n"}, []string{"-n"}},
		{[]string{"snapshot", "-w", "--"}, []string{"--window", "--resolution", "--bins-memory", "--burst-threshold", "--burst-end", "--burst-gap", "--json", "--units", "--iec",
			"--interface", "--exclude", "--backend", "--attach", "--xdp-mode", "--proc-root", "--netns", "--log-level", "--help"}},
	}
	for _, tt := range tests {
		got := complete(t, tt.words...)
		if !slices.Equal(got, tt.want) {
			t.Errorf("netwatch %s: completes to %q, want %q", strings.Join(tt.words, " "), got, tt.want)
		}
	}
}

// TestCompletionBinary runs what the shipped scripts run against the
// binary, including the words of urfave/cli #1822: never a stack trace.
func TestCompletionBinary(t *testing.T) {
	for _, words := range [][]string{
		{"snapshot", "--w"},
		{"snapshot", "-w"},
		{"--i"},
		{"-n"},
		{"snapshot", "--window"},
		{"list", "--bogus"},
		{"watch", "-n", "fast", "--f"},
		{"help", "--x"},
		{"completion", "-"},
		{"snapshto", "--w"},
		{},
	} {
		args := append(slices.Clone(words), completionFlag)
		r := netwatchBounded(t, args...)
		if r.code != 0 || r.stderr != "" || strings.Contains(r.stdout, "goroutine") || strings.Contains(r.stdout, "panic") {
			t.Errorf("netwatch %s: exit %d, stdout %q, stderr %q", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
	}
	if r := netwatchBounded(t, "snapshot", "--w", completionFlag); r.stdout != "--window\n" {
		t.Errorf("snapshot --w: %q, want --window", r.stdout)
	}
}

// TestBashCompletionScript loads the script `netwatch completion bash`
// prints into bash and presses TAB after words, with the binary.
func TestBashCompletionScript(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	tests := []struct {
		words []string // the last one is the word being completed
		want  string
	}{
		{[]string{"snapshot", "--w"}, "--window"},
		{[]string{"--js"}, "--json"},
		{[]string{"-b", "procfs", "snap"}, "snapshot"},
		{[]string{"list", "--proc"}, "--proc-root"},
		{[]string{"h"}, "help"},
	}
	for _, tt := range tests {
		words := append([]string{binary}, tt.words...)
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = fmt.Sprintf("%q", w)
		}
		script := bashCompletion + fmt.Sprintf("COMP_WORDS=(%s); COMP_CWORD=%d; _netwatch_complete; printf '%%s\\n' \"${COMPREPLY[@]}\"\n",
			strings.Join(quoted, " "), len(words)-1)
		out, err := exec.Command(bash, "--norc", "--noprofile", "-c", script).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != tt.want {
			t.Errorf("bash TAB after %q: %q (%v), want %q", tt.words, out, err, tt.want)
		}
	}
}
