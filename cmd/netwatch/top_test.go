package main

import (
	"strings"
	"testing"
)

// TestTopWithoutTerminal: with stdout not a terminal, top prints what
// watch prints with the same flags.
func TestTopWithoutTerminal(t *testing.T) {
	args := []string{"-b", "procfs", "--proc-root", "testdata/proc", "-n", "1ms", "-c", "3"}
	top := netwatch(t, append([]string{"top"}, args...)...)
	watch := netwatch(t, append([]string{"watch"}, args...)...)
	if top.code != 0 || watch.code != 0 {
		t.Fatalf("exit top %d (%s), watch %d (%s)", top.code, top.stderr, watch.code, watch.stderr)
	}
	// The TIME column differs between two runs; everything else is equal.
	strip := func(s string) string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if f := strings.Fields(l); len(f) > 0 {
				out = append(out, strings.Join(f[1:], " "))
			}
		}
		return strings.Join(out, "\n")
	}
	if strip(top.stdout) != strip(watch.stdout) || !strings.Contains(top.stdout, "eth0") {
		t.Errorf("top without a terminal:\n%s\nwant watch's output:\n%s", top.stdout, watch.stdout)
	}
	if r := netwatch(t, "top", "-n", "0s"); r.code != 2 {
		t.Errorf("top -n 0s: exit %d, want 2 (usage)", r.code)
	}
}
