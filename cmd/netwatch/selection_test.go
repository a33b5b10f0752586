package main

import (
	"strings"
	"testing"
)

// TestEmptySelectionNotice: a selection that matches no interface says so
// in one line on stderr, for watch, snapshot and list, in every format; a
// selection that matches prints no notice.
func TestEmptySelectionNotice(t *testing.T) {
	fixture := []string{"-b", "procfs", "--proc-root", "testdata/proc"}
	selections := []struct {
		args   []string
		notice string // "" for none
	}{
		{[]string{"-i", "nosuch*"}, "netwatch: notice: no interface matches -i 'nosuch*'\n"},
		{[]string{"-i", "lo", "-x", "lo"}, "netwatch: notice: no interface matches -i 'lo' -x 'lo'\n"},
		{[]string{"-x", "*"}, "netwatch: notice: no interface matches -x '*'\n"},
		{[]string{"-i", "lo,eth*", "-x", "lo", "-x", "eth*"}, "netwatch: notice: no interface matches -i 'lo,eth*' -x 'lo,eth*'\n"},
		{[]string{"-i", "l?"}, ""},
	}
	commands := [][]string{
		{"watch", "-n", "1ms", "-c", "2"},
		{"watch", "-n", "1ms", "-c", "1", "-f", "ndjson"},
		{"watch", "-n", "1ms", "-c", "1", "-f", "csv"},
		{"snapshot", "-w", "1ms"},
		{"snapshot", "-w", "1ms", "--json"},
		{"list"},
		{"list", "--json"},
	}
	for _, sel := range selections {
		for _, cmd := range commands {
			args := append(append(append([]string{}, cmd...), fixture...), sel.args...)
			r := netwatchBounded(t, args...)
			if r.code != 0 || r.stderr != sel.notice {
				t.Errorf("netwatch %s: exit %d, stderr %q; want 0 and %q", strings.Join(args, " "), r.code, r.stderr, sel.notice)
			}
		}
	}
}
