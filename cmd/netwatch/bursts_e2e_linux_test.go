package main

import (
	"strings"
	"testing"

	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
)

// TestEBPFBurstColumns runs the ebpf backend with 1 ms bins and 10 ms
// samples (so samples carry summaries): the burst count is there only with
// a burst threshold, and the table says what the threshold was understood
// as; a percentage of lo's unknown link speed says so once and counts
// nothing.
func TestEBPFBurstColumns(t *testing.T) {
	p := netnstest.NewPair(t)
	base := []string{"watch", "-b", "ebpf", "-n", "10ms", "-r", "1ms", "-c", "3"}
	run := func(t *testing.T, args ...string) result {
		t.Helper()
		r := startNetwatch(t, p.A, append(append([]string{}, base...), args...)...).run(t)
		if r.code != 0 {
			t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
		}
		return r
	}
	t.Run("table with threshold", func(t *testing.T) {
		r := run(t, "-i", p.IfA, "--burst-threshold", "1Gb")
		if !strings.HasPrefix(r.stdout, "bursts: runs of bins above 1 Gbit/s (125 MB/s)\nTIME ") || !strings.Contains(r.stdout, "BURSTS rx/tx") {
			t.Errorf("table does not show the threshold above a header with BURSTS:\n%s", r.stdout)
		}
	})
	t.Run("table without threshold", func(t *testing.T) {
		r := run(t, "-i", p.IfA)
		if !strings.Contains(r.stdout, "RX peak") || strings.Contains(r.stdout, "BURSTS") || strings.Contains(r.stdout, "bursts:") {
			t.Errorf("want peak columns and no burst column:\n%s", r.stdout)
		}
	})
	t.Run("ndjson without threshold", func(t *testing.T) {
		r := run(t, "-i", p.IfA, "-f", "ndjson")
		if !strings.Contains(r.stdout, `"rx_peak_bytes_per_sec"`) || strings.Contains(r.stdout, "_bursts") {
			t.Errorf("want summaries without *_bursts:\n%s", r.stdout)
		}
	})
	t.Run("ndjson with threshold", func(t *testing.T) {
		r := run(t, "-i", p.IfA, "-f", "ndjson", "--burst-threshold", "100MB/s")
		if !strings.Contains(r.stdout, `"rx_bursts":0`) || !strings.Contains(r.stdout, `"burst_threshold_bytes_per_sec":100000000`) {
			t.Errorf("want burst counts against 100 MB/s:\n%s", r.stdout)
		}
	})
	t.Run("percentage of an unknown link speed", func(t *testing.T) {
		r := run(t, "-i", "lo", "-f", "ndjson", "--burst-threshold", "80%")
		if strings.Contains(r.stdout, "_bursts") || !strings.Contains(r.stdout, `"rx_peak_bytes_per_sec"`) {
			t.Errorf("want summaries without *_bursts:\n%s", r.stdout)
		}
		oneLineStderr(t, r.stderr)
		if !strings.HasPrefix(r.stderr, "netwatch: notice: lo: link speed unknown, --burst-threshold 80% does not apply") {
			t.Errorf("stderr %q, want one notice about lo's unknown link speed", r.stderr)
		}
	})
}
