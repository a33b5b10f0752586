package main

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestPercentThresholdUnknownLinkSpeed: --burst-threshold 80% on an
// interface whose link speed is unknown counts no bursts there and says so
// on stderr once per interface, however often the sampler asks.
func TestPercentThresholdUnknownLinkSpeed(t *testing.T) {
	var notices bytes.Buffer
	o := binOptions{start: rateOption{percent: 80}}
	cfg := o.config(time.Second, 0, 0, slog.New(slog.NewTextHandler(io.Discard, nil)), &notices)
	// lo has no link speed; the other name exists nowhere.
	for range 3 {
		for _, name := range []string{"lo", "nw-nosuch\x01"} {
			if th := cfg.BurstThreshold(name); th != 0 {
				t.Errorf("threshold of %q = %v, want 0 (no link speed)", name, th)
			}
		}
	}
	lines := strings.Split(strings.TrimSuffix(notices.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d notice lines, want one per interface: %q", len(lines), notices.String())
	}
	for i, want := range []string{"netwatch: notice: lo: link speed unknown", `netwatch: notice: "nw-nosuch\x01": link speed unknown`} {
		if !strings.HasPrefix(lines[i], want) || !strings.Contains(lines[i], "80%") {
			t.Errorf("notice %q, want it to start with %q and name 80%%", lines[i], want)
		}
	}
}

// TestBurstThresholdAsUnderstood: --log-level info says at start what the
// threshold was understood as, in bits and bytes; bad thresholds are one-line
// usage errors.
func TestBurstThresholdAsUnderstood(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"1Gb", "1 Gbit/s (125 MB/s)"},
		{"1GB", "8 Gbit/s (1 GB/s)"},
		{"1MBps", "8 Mbit/s (1 MB/s)"},
		{"1Gibit", "1 Gibit/s (128 MiB/s)"},
	} {
		r := netwatch(t, "snapshot", "-b", "procfs", "--proc-root", "testdata/proc", "-w", "1ms", "--log-level", "info", "--burst-threshold", tt.in)
		if r.code != 0 {
			t.Fatalf("%s: exit %d: %s", tt.in, r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, "level=INFO msg=\"burst threshold\" bins_above=\""+tt.want+"\"") {
			t.Errorf("--burst-threshold %s: stderr lacks %q:\n%s", tt.in, tt.want, r.stderr)
		}
	}
	for _, tt := range []struct{ in, inErr string }{
		{"1gb", `unknown unit "gb"`},
		{"0Mbit", "want a rate above 0"},
		{"1000", "missing unit"},
		{"0%", "positive percentage"},
	} {
		r := netwatch(t, "snapshot", "-b", "procfs", "--burst-threshold", tt.in)
		if r.code != 2 || !strings.Contains(r.stderr, tt.inErr) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("--burst-threshold %s: exit %d, stderr %q; want 2 and one line with %q", tt.in, r.code, r.stderr, tt.inErr)
		}
	}
}
