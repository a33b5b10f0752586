package main

import (
	"strings"
	"testing"
)

// --log-level debug says what was decided at start; the default level
// says nothing on a run without problems.
func TestLogLevelDebugShowsDecisions(t *testing.T) {
	r := netwatch(t, "snapshot", "-b", "procfs", "--proc-root", "testdata/proc", "-w", "1ms", "--log-level", "debug")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, `level=DEBUG msg="backend chosen" backend=procfs`) {
		t.Errorf("debug log does not say which backend was chosen:\n%s", r.stderr)
	}
	r = netwatch(t, "snapshot", "-b", "procfs", "--proc-root", "testdata/proc", "-w", "1ms")
	if r.code != 0 || r.stderr != "" {
		t.Errorf("exit %d, stderr %q; want 0 and nothing at the default level", r.code, r.stderr)
	}
}
