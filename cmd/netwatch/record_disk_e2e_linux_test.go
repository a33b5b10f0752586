package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
)

// TestRecordFullDisk: a recording that fills its disk ends with one clear
// line and exit 1, leaves what it wrote readable, and leaves nothing
// attached.
func TestRecordFullDisk(t *testing.T) {
	p := netnstest.NewPair(t)
	for _, ext := range []string{".ndjson", ".parquet"} {
		t.Run(ext, func(t *testing.T) {
			dir := t.TempDir()
			size := "size=96k"
			if ext == ".parquet" {
				size = "size=12k" // a rotated file of an idle second is a few KiB
			}
			if err := unix.Mount("tmpfs", dir, "tmpfs", 0, size); err != nil {
				t.Fatalf("mount a small tmpfs: %v", err)
			}
			t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
			// NDJSON fills 96 KiB in about a second of 1 ms bins;
			// Parquet is rotated every second, so complete files
			// pile up until one no longer fits in 12 KiB.
			args := []string{"record", "-b", "ebpf", "--attach", "tc", "-i", p.IfA, "-r", "1ms", "-d", "60s", "-o", filepath.Join(dir, "rec"+ext)}
			if ext == ".parquet" {
				args = append(args, "--rotate", "1s")
			}
			r := startNetwatch(t, p.A, args...).run(t)
			if r.code != 1 {
				t.Fatalf("exit %d on a full disk, want 1 (stdout %q, stderr %q)", r.code, r.stdout, r.stderr)
			}
			oneLineStderr(t, r.stderr)
			if !strings.Contains(r.stderr, "no space left") {
				t.Errorf("error %q does not say the disk is full", r.stderr)
			}
			if h := hooks(t, p.A, p.IfA); ours(h.filters) != nil || ours(h.tcx) != nil {
				t.Errorf("left attached: %+v", h)
			}
			files, _ := filepath.Glob(filepath.Join(dir, "rec*"))
			var kept []string
			for _, f := range files {
				if !strings.HasSuffix(f, ".partial") {
					kept = append(kept, f)
				}
			}
			if len(kept) == 0 {
				t.Fatalf("nothing kept of the recording: %v", files)
			}
			rep := netwatch(t, append([]string{"report", "--json"}, kept...)...)
			if rep.code != 0 || !strings.Contains(rep.stdout, p.IfA) {
				t.Errorf("report of what was kept: exit %d, stdout %q, stderr %q", rep.code, rep.stdout, rep.stderr)
			}
			for _, f := range kept {
				if st, err := os.Stat(f); err != nil || st.Size() == 0 {
					t.Errorf("%s: %v", f, err)
				}
			}
		})
	}
}
