package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
)

// TestListFallbackNoticeOnStderr: list says that eBPF is unavailable on
// stderr, like watch and snapshot, not in its table.
func TestListFallbackNoticeOnStderr(t *testing.T) {
	var r result
	if os.Geteuid() != 0 {
		r = runCmd(t, exec.Command(binary, "list", "-i", "lo"))
	} else {
		p := netnstest.NewPair(t)
		r = startAsNobody(t, p.A, "", "list", "-i", "lo").run(t)
	}
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	oneLineStderr(t, r.stderr)
	if !strings.HasPrefix(r.stderr, "netwatch: notice: ebpf unavailable: ") {
		t.Errorf("stderr %q, want the fallback notice", r.stderr)
	}
	if !strings.HasPrefix(r.stdout, "INDEX ") || strings.Contains(r.stdout, "#") || strings.Contains(r.stdout, "unavailable") {
		t.Errorf("table %q: want the header first and no notice", r.stdout)
	}
}
