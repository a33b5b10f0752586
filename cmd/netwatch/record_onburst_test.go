package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRecordOnBurstUsage: record --on-burst without what it needs is a
// usage error (exit 2, one line) that creates nothing.
func TestRecordOnBurstUsage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "captures")
	tests := []struct {
		name     string
		args     []string
		code     int
		inStderr string
	}{
		{"no threshold", []string{"--on-burst", dir}, 2, "--on-burst needs --burst-threshold"},
		{"no threshold with -o", []string{"--on-burst", dir, "-o", filepath.Join(dir, "rec.parquet")}, 2, "--on-burst needs --burst-threshold"},
		{"no output at all", nil, 2, "record needs -o FILE (.parquet, .ndjson, .ndjson.zst or .ndjson.gz) or --on-burst DIR"},
		{"no bins", []string{"--on-burst", dir, "--burst-threshold", "1MB", "-r", "0"}, 2, "--on-burst needs in-kernel time bins"},
		{"before without on-burst", []string{"-o", filepath.Join(dir, "rec.parquet"), "--before", "1s"}, 2, "--before applies to --on-burst DIR"},
		{"bad capture format", []string{"--on-burst", dir, "--burst-threshold", "1MB", "--capture-format", "csv"}, 2, `--capture-format "csv": want parquet, ndjson, ndjson.zst or ndjson.gz`},
		{"after out of range", []string{"--on-burst", dir, "--burst-threshold", "1MB", "--after", "2m"}, 2, "--after 2m0s is out of range: use 0 to 1m0s"},
		{"rotate without -o", []string{"--on-burst", dir, "--burst-threshold", "1MB", "--rotate", "1m"}, 2, "--rotate applies to -o FILE"},
		{"procfs has no bins", []string{"--on-burst", dir, "--burst-threshold", "1MB"}, 1, "--on-burst needs in-kernel time bins: the ebpf backend (procfs here)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := netwatch(t, append([]string{"record", "-b", "procfs", "-d", "1s"}, tt.args...)...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.inStderr) || strings.Count(strings.TrimRight(r.stderr, "\n"), "\n") != 0 {
				t.Errorf("exit %d, stderr %q; want exit %d and one line with %q", r.code, r.stderr, tt.code, tt.inStderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q", r.stdout)
			}
			if _, err := os.Stat(dir); tt.code == 2 && err == nil {
				t.Errorf("a usage error created %s", dir)
			}
			os.RemoveAll(dir)
		})
	}
}
