package record

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// wall0 is the wall-clock time of monotonic 0 in the fake streams.
var wall0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func fakeWall(mono time.Duration) time.Time { return wall0.Add(mono) }

// fakeStream is a known bin stream: two interfaces, 1 ms bins, a few
// bytes in every bin and bursts at known bins, with the events a burst
// detector (threshold 1 MB/s, gap 1) reports for them.
type fakeStream struct {
	bins   []Bin
	events []Event
	total  map[int]stats.Counters
}

type fakeBurst struct {
	index      int
	dir        string
	first, len uint64
	bytes      uint64 // per bin
}

func newFakeStream(first, n uint64, bursts []fakeBurst) fakeStream {
	const width = time.Millisecond
	fs := fakeStream{total: map[int]stats.Counters{}}
	ifaces := []Interface{{Name: "veth-a", Index: 7}, {Name: "eth0", Index: 2}}
	for bin := first; bin < first+n; bin++ {
		for _, ifc := range ifaces {
			c := stats.Counters{RxBytes: 100 + bin%7, RxPackets: 1, TxBytes: 60 + bin%3, TxPackets: 1}
			var started [2]bool
			for _, b := range bursts {
				if b.index != ifc.Index || bin < b.first || bin >= b.first+b.len {
					continue
				}
				if b.dir == "rx" {
					c.RxBytes, c.RxPackets = b.bytes, b.bytes/1000
					started[0] = bin == b.first
				} else {
					c.TxBytes, c.TxPackets = b.bytes, b.bytes/1000
					started[1] = bin == b.first
				}
			}
			lost := ifc.Index == 2 && bin == first+3
			fs.bins = append(fs.bins, Bin{Interface: ifc.Name, Index: ifc.Index, Number: bin, Width: width, Counters: c, Lost: lost, Started: started})
			t := fs.total[ifc.Index]
			fs.total[ifc.Index] = stats.Counters{RxBytes: t.RxBytes + c.RxBytes, RxPackets: t.RxPackets + c.RxPackets,
				TxBytes: t.TxBytes + c.TxBytes, TxPackets: t.TxPackets + c.TxPackets}
		}
	}
	for _, b := range bursts {
		name := "veth-a"
		if b.index == 2 {
			name = "eth0"
		}
		fs.events = append(fs.events, Event{Interface: name, Index: b.index, Direction: b.dir, FirstBin: b.first, EndBin: b.first + b.len,
			Width: width, Bytes: b.bytes * b.len, Packets: b.bytes / 1000 * b.len, PeakBytesPerSec: float64(b.bytes) * 1000,
			Threshold: 1e6, Reason: "quiet"})
	}
	return fs
}

// feed plays the stream into sinks the way the sampler's hooks do: each
// event right after the first quiet bin after its burst.
func (fs fakeStream) feed(t *testing.T, bin func(Bin) error, event func(Event) error, flush func() error) {
	t.Helper()
	for i, b := range fs.bins {
		if err := bin(b); err != nil {
			t.Fatal(err)
		}
		for _, e := range fs.events {
			if e.Index == b.Index && e.EndBin == b.Number {
				if err := event(e); err != nil {
					t.Fatal(err)
				}
			}
		}
		if flush != nil && i%1000 == 999 {
			if err := flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

var testBursts = []fakeBurst{
	{index: 7, dir: "rx", first: 1_000_200, len: 5, bytes: 50_000},
	{index: 2, dir: "tx", first: 1_001_000, len: 1, bytes: 90_000},
	{index: 7, dir: "rx", first: 1_002_500, len: 20, bytes: 20_000},
}

func testMeta() Meta {
	return Meta{Version: "test", Host: "h", Kernel: "6.18", Backend: "ebpf", Attach: "tcx", Stream: StreamBins,
		Resolution: time.Millisecond, BurstThreshold: 1e6, BurstGap: 1}
}

func readReport(t *testing.T, paths []string, r Range) (Report, *Recording) {
	t.Helper()
	s := NewSummarizer(ReportOptions{Range: r})
	rec, err := Read(paths, r, s.Row)
	if err != nil {
		t.Fatal(err)
	}
	return s.Report(rec), rec
}

func TestRoundTrip(t *testing.T) {
	fs := newFakeStream(1_000_000, 3_000, testBursts)
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "rec"+f.Ext())
			rec, err := NewRecorder(Config{Path: path, Meta: testMeta(), Wall: fakeWall})
			if err != nil {
				t.Fatal(err)
			}
			fs.feed(t, rec.Bin, rec.Burst, rec.Flush)
			if err := rec.Close(); err != nil {
				t.Fatal(err)
			}
			rep, got := readReport(t, []string{path}, Range{})
			if len(rep.Warnings) != 0 {
				t.Errorf("warnings: %q", rep.Warnings)
			}
			if got.Files[0].Meta.Host != "h" || got.Files[0].Meta.Resolution != time.Millisecond || len(got.Files[0].Meta.Interfaces) != 2 {
				t.Errorf("meta %+v", got.Files[0].Meta)
			}
			checkReport(t, rep, fs)
			if rep.From != wall0.Add(1_000_000*time.Millisecond) || rep.To != rep.From.Add(3*time.Second) {
				t.Errorf("report covers %v to %v", rep.From, rep.To)
			}
		})
	}
}

// checkReport compares a report with what the fake stream sent.
func checkReport(t *testing.T, rep Report, fs fakeStream) {
	t.Helper()
	if len(rep.Interfaces) != 2 {
		t.Fatalf("%d interfaces", len(rep.Interfaces))
	}
	var sent []Burst
	for _, e := range fs.events {
		sent = append(sent, e.burst(fakeWall))
	}
	var got []Burst
	for _, ir := range rep.Interfaces {
		want := fs.total[ir.Index]
		have := stats.Counters{RxBytes: ir.Rx.Bytes, RxPackets: ir.Rx.Packets, TxBytes: ir.Tx.Bytes, TxPackets: ir.Tx.Packets}
		if have != want {
			t.Errorf("%s totals %+v, want %+v", ir.Name, have, want)
		}
		if ir.Bins != 3000 || ir.Covered != 3*time.Second {
			t.Errorf("%s: %d bins covering %v", ir.Name, ir.Bins, ir.Covered)
		}
		if wantLost := int64(0); ir.Index == 2 && ir.LostBins != 1 || ir.Index == 7 && ir.LostBins != wantLost {
			t.Errorf("%s: %d lost bins", ir.Name, ir.LostBins)
		}
		got = append(got, ir.Rx.Bursts.List...)
		got = append(got, ir.Tx.Bursts.List...)
	}
	slices.SortFunc(got, func(a, b Burst) int { return a.Start.Compare(b.Start) })
	if !slices.Equal(got, sent) {
		t.Errorf("bursts\n got %+v\nwant %+v", got, sent)
	}
	va := rep.Interfaces[0]
	if va.Index != 7 || va.Rx.Bursts.Count != 2 || va.Rx.Bursts.Longest.Duration != 20*time.Millisecond ||
		va.Rx.Bursts.Biggest.Bytes != 400_000 || va.Rx.MaxBytesPerSec != 50e6 {
		t.Errorf("veth-a rx: %+v", va.Rx)
	}
	// 25 of 3000 bins are bursts (5 at 50 MB/s): p50 and p99 are quiet
	// bins, the p99.9 (rank 2997) a 50 MB/s one.
	if va.Rx.P999BytesPerSec != 50e6 || va.Rx.P99BytesPerSec != 106e3 || va.Rx.P50BytesPerSec != 103e3 {
		t.Errorf("veth-a rx percentiles %v %v %v", va.Rx.P50BytesPerSec, va.Rx.P99BytesPerSec, va.Rx.P999BytesPerSec)
	}
	if va.Rx.AboveThreshold != 25*time.Millisecond {
		t.Errorf("veth-a rx above threshold %v", va.Rx.AboveThreshold)
	}
}

func TestRotateAndRange(t *testing.T) {
	fs := newFakeStream(1_000_000, 3_000, testBursts)
	for _, f := range []Format{Parquet, NDJSONZst} {
		t.Run(string(f), func(t *testing.T) {
			dir := t.TempDir()
			rec, err := NewRecorder(Config{Path: filepath.Join(dir, "rec"+f.Ext()), Rotate: time.Second, Meta: testMeta(), Wall: fakeWall})
			if err != nil {
				t.Fatal(err)
			}
			fs.feed(t, rec.Bin, rec.Burst, rec.Flush)
			if err := rec.Close(); err != nil {
				t.Fatal(err)
			}
			files, _ := filepath.Glob(filepath.Join(dir, "*"))
			want := []string{"rec-20261123T101640Z", "rec-20261123T101641Z", "rec-20261123T101642Z"}
			if len(files) != len(want) {
				t.Fatalf("files %v", files)
			}
			for i, p := range files {
				if filepath.Base(p) != want[i]+f.Ext() {
					t.Errorf("file %d is %s, want %s", i, filepath.Base(p), want[i]+f.Ext())
				}
			}
			rep, _ := readReport(t, []string{dir}, Range{})
			checkReport(t, rep, fs)

			// --from/--to: the middle second holds the 5 ms and 1 ms bursts.
			from := wall0.Add(1_000_100 * time.Millisecond)
			r := Range{From: from, To: from.Add(time.Second)}
			rep, _ = readReport(t, []string{dir}, r)
			if rep.Interfaces[0].Bins != 1000 || rep.Interfaces[0].Rx.Bursts.Count != 1 || rep.Interfaces[1].Tx.Bursts.Count != 1 {
				t.Errorf("range report: %+v", rep.Interfaces)
			}
		})
	}
}

// TestCutNDJSON cuts complete NDJSON recordings at every kind of place:
// the reader returns the rows of every complete line and says where the
// file ends.
func TestCutNDJSON(t *testing.T) {
	fs := newFakeStream(1_000_000, 3_000, testBursts)
	for _, f := range []Format{NDJSON, NDJSONZst, NDJSONGz} {
		t.Run(string(f), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "rec"+f.Ext())
			rec, err := NewRecorder(Config{Path: path, Meta: testMeta(), Wall: fakeWall})
			if err != nil {
				t.Fatal(err)
			}
			fs.feed(t, rec.Bin, rec.Burst, rec.Flush)
			if err := rec.Close(); err != nil {
				t.Fatal(err)
			}
			whole, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, frac := range []float64{0.31, 0.5, 0.97} {
				cut := filepath.Join(dir, "cut"+f.Ext())
				n := int(float64(len(whole)) * frac)
				if err := os.WriteFile(cut, whole[:n], 0o644); err != nil {
					t.Fatal(err)
				}
				var rows []Row
				got, err := Read([]string{cut}, Range{}, func(r Row) error { rows = append(rows, r); return nil })
				if err != nil {
					t.Fatalf("cut at %d of %d: %v", n, len(whole), err)
				}
				if len(got.Warnings) != 1 || !strings.Contains(got.Warnings[0], "incomplete") || !strings.Contains(got.Warnings[0], "last complete row ends at") {
					t.Fatalf("cut at %d: warnings %q", n, got.Warnings)
				}
				// Every row read is a row sent, in order, with nothing skipped.
				if len(rows) == 0 || len(rows) >= len(fs.bins) {
					t.Fatalf("cut at %d: %d rows", n, len(rows))
				}
				for i, r := range rows {
					b := fs.bins[i]
					if r.Index != b.Index || r.Counters != b.Counters || !r.Time.Equal(fakeWall(time.Duration(b.Number)*time.Millisecond)) {
						t.Fatalf("cut at %d: row %d is %+v, want bin %+v", n, i, r, b)
					}
				}
				if f == NDJSON && frac == 0.5 && !strings.Contains(got.Warnings[0], "cut off in the middle of line") {
					t.Errorf("warning %q does not say the line was cut", got.Warnings[0])
				}
				t.Logf("cut at %d/%d: %d rows: %s", n, len(whole), len(rows), got.Warnings[0])
			}
		})
	}
}

// TestKilledParquet leaves a rotated Parquet recording without closing it
// (as SIGKILL would): the complete files read, the unfinished one is named
// in a warning.
func TestKilledParquet(t *testing.T) {
	fs := newFakeStream(1_000_000, 2_500, nil)
	dir := t.TempDir()
	rec, err := NewRecorder(Config{Path: filepath.Join(dir, "rec.parquet"), Rotate: time.Second, Meta: testMeta(), Wall: fakeWall})
	if err != nil {
		t.Fatal(err)
	}
	fs.feed(t, rec.Bin, rec.Burst, rec.Flush)
	// No Close: the last period's file is still NAME.partial.
	rep, got := readReport(t, []string{dir}, Range{})
	if len(got.Files) != 2 || len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "rec-20261123T101642Z.parquet.partial: unfinished Parquet file") ||
		!strings.Contains(rep.Warnings[0], "the complete files end at 2026-11-23T10:16:42.000000000Z") {
		t.Fatalf("files %d, warnings %q", len(got.Files), rep.Warnings)
	}
	if rep.Interfaces[0].Bins != 2000 {
		t.Errorf("%d bins read, want the 2000 of the complete files", rep.Interfaces[0].Bins)
	}
}

func TestNoOverwrite(t *testing.T) {
	for _, f := range []Format{Parquet, NDJSON} {
		path := filepath.Join(t.TempDir(), "rec"+f.Ext())
		if err := os.WriteFile(path, []byte("precious"), 0o644); err != nil {
			t.Fatal(err)
		}
		rec, _ := NewRecorder(Config{Path: path, Meta: testMeta(), Wall: fakeWall})
		err := rec.Bin(Bin{Interface: "x", Index: 1, Number: 1, Width: time.Millisecond})
		if err == nil || !strings.Contains(err.Error(), "exists") {
			t.Errorf("%s: %v", f, err)
		}
		if b, _ := os.ReadFile(path); string(b) != "precious" {
			t.Errorf("%s overwritten", f)
		}
	}
}

func TestMaxSize(t *testing.T) {
	fs := newFakeStream(1_000_000, 3_000, nil)
	path := filepath.Join(t.TempDir(), "rec.ndjson")
	rec, _ := NewRecorder(Config{Path: path, MaxSize: 50_000, Meta: testMeta(), Wall: fakeWall})
	n := 0
	for _, b := range fs.bins {
		if err := rec.Bin(b); err != nil {
			if err != ErrMaxSize {
				t.Fatal(err)
			}
			break
		}
		n++
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if st.Size() < 50_000 || st.Size() > 51_000 || n >= len(fs.bins) {
		t.Fatalf("file of %d bytes after %d rows", st.Size(), n)
	}
	rep, _ := readReport(t, []string{path}, Range{})
	if len(rep.Warnings) != 0 || rep.Interfaces[0].Bins+rep.Interfaces[1].Bins != int64(n)+1 {
		t.Fatalf("report %+v", rep)
	}
}

func TestSamplesStream(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.ndjson")
	meta := testMeta()
	meta.Stream, meta.Backend, meta.Resolution = StreamSamples, "procfs", 0
	rec, _ := NewRecorder(Config{Path: path, Meta: meta, Wall: fakeWall})
	c := stats.Counters{RxBytes: 1_000_000, RxPackets: 10, TxBytes: 5, TxPackets: 1}
	for i := range 5 {
		s := stats.Sample{Time: wall0.Add(time.Duration(i+1) * 100 * time.Millisecond), Interval: 100 * time.Millisecond,
			Interfaces: []stats.InterfaceSample{{Name: "lo", Index: 1, Counters: c, Rates: stats.Rates{RxBytesPerSec: 1230, RxPacketsPerSec: 10}}}}
		if err := rec.Sample(s); err != nil {
			t.Fatal(err)
		}
		c.RxBytes += 123
		c.RxPackets++
	}
	rec.Close()
	rep, _ := readReport(t, []string{path}, Range{})
	ir := rep.Interfaces[0]
	// First row from the rates (123 B), then counter differences.
	if ir.Bins != 5 || ir.Rx.Bytes != 5*123 || ir.Rx.Packets != 5 || ir.Rx.AvgBytesPerSec != 1230 || rep.From != wall0 {
		t.Fatalf("%+v from %v", ir, rep.From)
	}
}

// TestSamplesStreamReturn: an interface that leaves the samples (moved to
// another namespace) and comes back under the same index with counters
// that went on meanwhile starts from a fresh baseline: its first row is
// what its rates say, not everything it counted while it was away.
func TestSamplesStreamReturn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.ndjson")
	meta := testMeta()
	meta.Stream, meta.Backend, meta.Resolution = StreamSamples, "netlink", 0
	rec, _ := NewRecorder(Config{Path: path, Meta: meta, Wall: fakeWall})
	iv := 100 * time.Millisecond
	row := func(i int, rx uint64) stats.Sample {
		return stats.Sample{Time: wall0.Add(time.Duration(i+1) * iv), Interval: iv,
			Interfaces: []stats.InterfaceSample{{Name: "eth0", Index: 2, Counters: stats.Counters{RxBytes: rx}, Rates: stats.Rates{RxBytesPerSec: 1000}}}}
	}
	for i, s := range []stats.Sample{
		row(0, 1000), row(1, 1100), // 100 B each
		{Time: wall0.Add(3 * iv), Interval: iv}, // away: 1 MB counted elsewhere
		row(3, 1_001_200), row(4, 1_001_300),    // back: 100 B each
	} {
		if err := rec.Sample(s); err != nil {
			t.Fatalf("sample %d: %v", i, err)
		}
	}
	rec.Close()
	rep, _ := readReport(t, []string{path}, Range{})
	if got := rep.Interfaces[0].Rx.Bytes; got != 400 {
		t.Fatalf("recorded %d rx bytes, want 400 (4 rows of 100 B; nothing from while it was away)", got)
	}
}

// TestSamplesStreamLateInterface: an interface that appeared during a
// sample's interval has rates over its own, shorter interval; its first
// row counts what those rates say over that interval, not over the
// sample's.
func TestSamplesStreamLateInterface(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.ndjson")
	meta := testMeta()
	meta.Stream, meta.Backend, meta.Resolution = StreamSamples, "procfs", 0
	rec, _ := NewRecorder(Config{Path: path, Meta: meta, Wall: fakeWall})
	s := stats.Sample{Time: wall0.Add(time.Second), Interval: time.Second,
		Interfaces: []stats.InterfaceSample{{Name: "new0", Index: 9, Counters: stats.Counters{RxBytes: 5000},
			Rates: stats.Rates{RxBytesPerSec: 1000}, Interval: 300 * time.Millisecond}}}
	if err := rec.Sample(s); err != nil {
		t.Fatal(err)
	}
	rec.Close()
	rep, _ := readReport(t, []string{path}, Range{})
	if got := rep.Interfaces[0].Rx.Bytes; got != 300 {
		t.Fatalf("first row of a late interface: %d rx bytes, want 300 (1000 B/s over its 300 ms)", got)
	}
}

// TestCapture plays bursts at known bins: each capture file holds exactly
// the bins from Before ahead of its bursts to After past them, and
// windows that overlap are one file.
func TestCapture(t *testing.T) {
	bursts := []fakeBurst{
		{index: 7, dir: "rx", first: 1_000_200, len: 5, bytes: 50_000},  // alone
		{index: 2, dir: "tx", first: 1_001_000, len: 1, bytes: 90_000},  // alone, other interface
		{index: 7, dir: "rx", first: 1_001_500, len: 2, bytes: 50_000},  // overlaps the next
		{index: 7, dir: "rx", first: 1_001_600, len: 3, bytes: 50_000},  //
		{index: 7, dir: "rx", first: 1_002_500, len: 20, bytes: 20_000}, // and a tx burst in its after-window
		{index: 7, dir: "tx", first: 1_002_560, len: 1, bytes: 20_000},
	}
	fs := newFakeStream(1_000_000, 3_000, bursts)
	for _, f := range []Format{Parquet, NDJSON} {
		t.Run(string(f), func(t *testing.T) {
			dir := t.TempDir()
			var caps []Capture
			c := NewCapturer(CaptureConfig{Dir: dir, Format: f, Before: 100 * time.Millisecond, After: 50 * time.Millisecond,
				Meta: testMeta(), Wall: fakeWall, Captured: func(c Capture) { caps = append(caps, c) }})
			fs.feed(t, c.Bin, c.Burst, nil)
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			want := []struct {
				iface     string
				from, end uint64 // bins
				bursts    int
			}{
				{"veth-a", 1_000_100, 1_000_255, 1},
				{"eth0", 1_000_900, 1_001_051, 1},
				{"veth-a", 1_001_400, 1_001_653, 2},
				{"veth-a", 1_002_400, 1_002_611, 2},
			}
			files, _ := filepath.Glob(filepath.Join(dir, "*"))
			if len(caps) != len(want) || len(files) != len(want) {
				t.Fatalf("%d captures, %d files: %v", len(caps), len(files), files)
			}
			for i, w := range want {
				cp := caps[i]
				from := fakeWall(time.Duration(w.from) * time.Millisecond)
				name := w.iface + "-" + from.Format("20060102T150405.000Z") + f.Ext()
				if filepath.Base(cp.Path) != name || cp.Short {
					t.Errorf("capture %d: %s (short %v), want %s", i, cp.Path, cp.Short, name)
				}
				var rows []Row
				rec, err := Read([]string{cp.Path}, Range{}, func(r Row) error { rows = append(rows, r); return nil })
				if err != nil {
					t.Fatal(err)
				}
				if len(rows) != int(w.end-w.from) || !rows[0].Time.Equal(from) || !rows[len(rows)-1].End().Equal(fakeWall(time.Duration(w.end)*time.Millisecond)) {
					t.Errorf("capture %d: %d rows from %v to %v, want bins [%d, %d)", i, len(rows), rows[0].Time, rows[len(rows)-1].End(), w.from, w.end)
				}
				for _, r := range rows {
					if r.Interface != w.iface {
						t.Fatalf("capture %d holds a row of %s", i, r.Interface)
					}
				}
				m := rec.Files[0].Meta
				if len(rec.Bursts) != w.bursts || m.Capture == nil || !m.Capture.From.Equal(from) || len(rec.Warnings) != 0 {
					t.Errorf("capture %d: bursts %+v, meta %+v, warnings %q", i, rec.Bursts, m.Capture, rec.Warnings)
				}
				t.Log(cp)
			}
		})
	}
}

// TestCaptureEarlyBurst: a burst less than Before after the first bin
// seen is captured from that bin, and the window says so.
func TestCaptureEarlyBurst(t *testing.T) {
	fs := newFakeStream(1_000_000, 300, []fakeBurst{{index: 7, dir: "rx", first: 1_000_010, len: 2, bytes: 50_000}})
	var caps []Capture
	c := NewCapturer(CaptureConfig{Dir: t.TempDir(), Format: NDJSON, Before: 100 * time.Millisecond, After: 50 * time.Millisecond,
		Meta: testMeta(), Wall: fakeWall, Captured: func(c Capture) { caps = append(caps, c) }})
	fs.feed(t, c.Bin, c.Burst, nil)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if len(caps) != 1 {
		t.Fatalf("%d captures", len(caps))
	}
	from := fakeWall(1_000_000 * time.Millisecond)
	var rows []Row
	rec, err := Read([]string{caps[0].Path}, Range{}, func(r Row) error { rows = append(rows, r); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if w := rec.Files[0].Meta.Capture; w == nil || !w.From.Equal(from) || !caps[0].Window.From.Equal(from) || len(rows) != 62 || !rows[0].Time.Equal(from) {
		t.Errorf("window %+v, %d rows from %v; want from %v, 62 rows", w, len(rows), rows[0].Time, from)
	}
}

// TestOneBinSamples: samples of exactly one in-kernel bin are recorded
// with the bin's counts (from its rates), whatever the cumulative
// counters say (they are read when the sample is emitted).
func TestOneBinSamples(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.ndjson")
	rec, _ := NewRecorder(Config{Path: path, Meta: testMeta(), Wall: fakeWall})
	for i := range 3 {
		s := stats.Sample{Time: wall0.Add(time.Duration(i+1) * time.Millisecond), Interval: time.Millisecond, Resolution: time.Millisecond, ExactBins: true,
			Interfaces: []stats.InterfaceSample{{Name: "lo", Index: 1, Counters: stats.Counters{RxBytes: 5000, RxPackets: 5},
				Rates: stats.Rates{RxBytesPerSec: 1.5e6, RxPacketsPerSec: 1000}}}}
		if err := rec.Sample(s); err != nil {
			t.Fatal(err)
		}
	}
	rec.Close()
	rep, _ := readReport(t, []string{path}, Range{})
	if ir := rep.Interfaces[0]; ir.Rx.Bytes != 4500 || ir.Rx.Packets != 3 || ir.Bins != 3 {
		t.Fatalf("%+v", ir)
	}
}

// A link that stays above the threshold is cut into captures of at most
// MaxWindow, so the bins held in memory stay bounded.
func TestCaptureBoundedWindow(t *testing.T) {
	fs := newFakeStream(1_000_000, 2_000, []fakeBurst{{index: 7, dir: "rx", first: 1_000_100, len: 1_500, bytes: 50_000}})
	var caps []Capture
	c := NewCapturer(CaptureConfig{Dir: t.TempDir(), Format: NDJSON, Before: 50 * time.Millisecond, After: 50 * time.Millisecond,
		MaxWindow: 400 * time.Millisecond, Meta: testMeta(), Wall: fakeWall, Captured: func(c Capture) { caps = append(caps, c) }})
	fs.feed(t, c.Bin, c.Burst, nil)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// 50 ms before + 1,500 ms + 50 ms after = 1,600 bins: four captures.
	if len(caps) != 4 {
		t.Fatalf("%d captures of a 1.5 s burst with a 400 ms limit, want 4", len(caps))
	}
	var rows int
	for _, cp := range caps {
		n := 0
		if _, err := Read([]string{cp.Path}, Range{}, func(Row) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		if n > 400 {
			t.Errorf("%s holds %d bins, more than the 400 ms limit", cp.Path, n)
		}
		rows += n
	}
	if rows != 1_600 {
		t.Errorf("captures hold %d bins together, want the 1,600 of the window", rows)
	}
}
