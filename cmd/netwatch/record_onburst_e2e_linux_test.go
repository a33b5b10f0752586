package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netwatch-dev/netwatch/internal/record"
	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
)

// TestRecordOnBurstEndToEnd sends burstCount bursts (one fragmented
// datagram each, burstPause apart: more than --before plus --after, so no
// two windows overlap) across a veth pair while record --on-burst watches
// it, with and without -o: one capture file per burst, holding exactly
// the bins from --before ahead of the burst to --after past its end, and
// the burst's bytes and packets as the kernel counted them.
func TestRecordOnBurstEndToEnd(t *testing.T) {
	const before, after = 100 * time.Millisecond, 100 * time.Millisecond
	if burstPause <= before+after {
		t.Fatalf("bursts %v apart would have overlapping windows", burstPause)
	}
	for _, withOutput := range []bool{false, true} {
		t.Run(fmt.Sprintf("with -o %v", withOutput), func(t *testing.T) {
			p := netnstest.NewPair(t)
			dir := filepath.Join(t.TempDir(), "captures")
			rec := filepath.Join(t.TempDir(), "rec.ndjson")
			args := []string{"record", "-b", "ebpf", "-i", p.IfA, "-r", "1ms", "--on-burst", dir,
				"--before", before.String(), "--after", after.String()}
			if withOutput {
				args = append(args, "-o", rec)
			}
			c := startNetwatch(t, p.A, append(args, burstFlags...)...)
			if withOutput {
				if line, _ := c.next(t); !strings.HasPrefix(string(line), "recording "+rec+": ebpf/") {
					t.Fatalf("first line %q", line)
				}
			}
			// Printed with the first sample: bins are counted.
			if line, _ := c.next(t); !strings.HasPrefix(string(line), "capturing bursts to "+dir+": ebpf/") ||
				!strings.Contains(string(line), "bins of 1ms, 100ms before and 100ms after each") {
				t.Fatalf("capture start line %q", line)
			}
			// The sampler started before that line: once --before has
			// passed, every burst has its whole window of bins.
			time.Sleep(before)
			sent := sendBursts(t, p)
			var lines []string
			for len(lines) < burstCount {
				line, ok := c.next(t)
				if !ok {
					t.Fatalf("stdout ended after %d captures; stderr: %s", len(lines), c.stderrIfDone())
				}
				lines = append(lines, strings.TrimSuffix(string(line), "\n"))
			}
			c.signal(t, syscall.SIGTERM)
			rest := c.rest(t)
			if code := c.wait(t); code != 0 {
				t.Fatalf("exit %d; stderr: %s", code, c.stderrIfDone())
			}
			if len(rest) == 0 || string(rest[0]) != fmt.Sprintf("captures done: %d file(s) in %s\n", burstCount, dir) {
				t.Errorf("after SIGTERM: %q", rest)
			}
			if withOutput && (len(rest) != 2 || !strings.HasPrefix(string(rest[1]), "recorded "+rec+": 1 file(s)")) {
				t.Errorf("after SIGTERM: %q", rest)
			}
			if !withOutput && len(rest) != 1 {
				t.Errorf("after SIGTERM: %q", rest)
			}

			files, err := filepath.Glob(filepath.Join(dir, "*"))
			if err != nil || len(files) != burstCount {
				t.Fatalf("%d files in %s (%v), want %d: %v", len(files), dir, err, burstCount, files)
			}
			t.Logf("capture line: %s", lines[0])
			slices.Sort(files) // named by window start: time order
			for i, path := range files {
				checkCapture(t, i, path, lines[i], p.IfA, sent[i].TxBytes, sent[i].TxPackets, before, after)
			}
			if withOutput {
				var bytes uint64
				got, err := record.Read([]string{rec}, record.Range{}, func(r record.Row) error {
					bytes += r.TxBytes
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if len(got.Bursts) != burstCount || bytes != sum(sent).TxBytes {
					t.Errorf("-o recording: %d bursts, %d tx bytes; want %d and %d", len(got.Bursts), bytes, burstCount, sum(sent).TxBytes)
				}
			}
		})
	}
}

// checkCapture checks capture file i: its line on stdout, its name, its
// one burst and its bins.
func checkCapture(t *testing.T, i int, path, line, ifname string, bytes, packets uint64, before, after time.Duration) {
	t.Helper()
	if !strings.HasPrefix(line, "captured "+ifname+": 1 burst(s) [tx ") || !strings.HasSuffix(line, " -> "+path) {
		t.Errorf("capture %d: line %q for %s", i, line, path)
	}
	var rows []record.Row
	got, err := record.Read([]string{path}, record.Range{}, func(r record.Row) error {
		rows = append(rows, r)
		return nil
	})
	if err != nil {
		t.Fatalf("capture %d: %v", i, err)
	}
	if len(got.Bursts) != 1 || len(got.Files) != 1 || got.Files[0].Meta.Capture == nil || len(rows) == 0 {
		t.Fatalf("capture %d (%s): %d bursts, files %+v, %d rows", i, path, len(got.Bursts), got.Files, len(rows))
	}
	b, win := got.Bursts[0], *got.Files[0].Meta.Capture
	if b.Interface != ifname || b.Direction != "tx" || b.Bytes != bytes || b.Packets != packets || b.LostBins != 0 {
		t.Errorf("capture %d: burst %+v; want tx, %d bytes, %d packets", i, b, bytes, packets)
	}
	// The window: --before ahead of the burst's first bin, --after past
	// its last, bin edges; its name: interface and start.
	if !win.From.Equal(b.Start.Add(-before)) || !win.To.Equal(b.End.Add(after)) {
		t.Errorf("capture %d: window %v-%v, burst %v-%v", i, win.From, win.To, b.Start, b.End)
	}
	if want := ifname + "-" + win.From.UTC().Format("20060102T150405.000Z") + ".parquet"; filepath.Base(path) != want {
		t.Errorf("capture %d: named %s, want %s", i, filepath.Base(path), want)
	}
	// Every bin of the window, in order, and nothing else.
	var inBurst, all uint64
	for j, r := range rows {
		if r.Interface != ifname || r.Duration != time.Millisecond || r.Lost || !r.Time.Equal(win.From.Add(time.Duration(j)*time.Millisecond)) {
			t.Fatalf("capture %d: row %d %+v", i, j, r)
		}
		all += r.TxBytes + r.RxBytes
		if !r.Time.Before(b.Start) && r.Time.Before(b.End) {
			inBurst += r.TxBytes
		}
	}
	if end := rows[len(rows)-1].End(); !end.Equal(win.To) {
		t.Errorf("capture %d: rows end %v, window %v", i, end, win.To)
	}
	// The pair carries nothing else: the burst's bins hold all of it, the
	// window no more.
	if inBurst != bytes || all != bytes {
		t.Errorf("capture %d: %d bytes in the burst's bins, %d in the window; the kernel counted %d", i, inBurst, all, bytes)
	}
	if st, err := os.Stat(path); err != nil || st.Size() == 0 {
		t.Errorf("capture %d: %v", i, err)
	}
}
