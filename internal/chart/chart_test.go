package chart

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netwatch-dev/netwatch/internal/record"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

var wall0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// writeRecording writes a minute of 1 ms bins of two interfaces: a slow
// sine of background traffic, and 1 ms to 20 ms bursts at known times.
func writeRecording(t *testing.T, path string) []record.Event {
	t.Helper()
	rec, err := record.NewRecorder(record.Config{Path: path, Wall: func(m time.Duration) time.Time { return wall0.Add(m) },
		Meta: record.Meta{Version: "test", Host: "h", Backend: "ebpf", Stream: record.StreamBins, Resolution: time.Millisecond, BurstThreshold: 50e6}})
	if err != nil {
		t.Fatal(err)
	}
	var events []record.Event
	bursts := map[uint64]uint64{7_000: 1, 21_500: 5, 40_000: 20, 52_345: 2} // first bin -> length (eth0 rx)
	var open uint64
	for bin := uint64(0); bin < 60_000; bin++ {
		bg := uint64(2000 + 1500*math.Sin(float64(bin)/6000))
		c := stats.Counters{RxBytes: bg, RxPackets: bg / 1000, TxBytes: bg / 3, TxPackets: bg / 3000}
		var started [2]bool
		if n, ok := bursts[bin]; ok {
			open = bin + n
			started[0] = true
			events = append(events, record.Event{Interface: "eth0", Index: 2, Direction: "rx", FirstBin: bin, EndBin: bin + n, Width: time.Millisecond,
				Bytes: 120_000 * n, Packets: 80 * n, PeakBytesPerSec: 120e6, Threshold: 50e6, Reason: "quiet"})
		}
		if bin < open {
			c.RxBytes, c.RxPackets = 120_000, 80
		}
		if err := rec.Bin(record.Bin{Interface: "eth0", Index: 2, Number: bin, Width: time.Millisecond, Counters: c, Started: started}); err != nil {
			t.Fatal(err)
		}
		if err := rec.Bin(record.Bin{Interface: "lo", Index: 1, Number: bin, Width: time.Millisecond, Counters: stats.Counters{RxBytes: 100, TxBytes: 100}}); err != nil {
			t.Fatal(err)
		}
		if bin == open && len(events) > 0 && events[len(events)-1].EndBin == bin {
			if err := rec.Burst(events[len(events)-1]); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	return events
}

func TestRenderPNGAndSVG(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rec.parquet")
	events := writeRecording(t, path)
	for _, format := range []string{"png", "svg"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			ch, err := Render(&buf, []string{path}, Options{Format: format, Width: 1200, Location: time.UTC})
			if err != nil {
				t.Fatal(err)
			}
			if len(ch.Interfaces) != 2 || ch.Interfaces[0].Name != "eth0" || ch.Interfaces[0].Bursts != len(events) || ch.Interfaces[1].Bursts != 0 {
				t.Fatalf("panels %+v", ch.Interfaces)
			}
			want := []string{"rx min-max", "rx mean", "tx min-max", "tx mean", "rx bursts"}
			if !slices.Equal(ch.Interfaces[0].Series, want) {
				t.Errorf("eth0 series %q, want %q", ch.Interfaces[0].Series, want)
			}
			switch format {
			case "png":
				img, err := png.Decode(bytes.NewReader(buf.Bytes()))
				if err != nil {
					t.Fatal(err)
				}
				if b := img.Bounds(); b.Dx() != 1200 || b.Dy() != 640 {
					t.Errorf("PNG is %dx%d, want 1200x640", b.Dx(), b.Dy())
				}
				if n := buf.Len(); n < 20_000 || n > 2_000_000 {
					t.Errorf("PNG of %d bytes", n)
				}
			case "svg":
				dec := xml.NewDecoder(bytes.NewReader(buf.Bytes()))
				for {
					if _, err := dec.Token(); err == io.EOF {
						break
					} else if err != nil {
						t.Fatalf("SVG is not XML: %v", err)
					}
				}
				s := buf.String()
				for _, w := range []string{"<svg", "rx mean", "tx min-max", "rx bursts (4)", "eth0 (ifindex 2)", "rate (Mbit/s)", "time (UTC, 2026-11-23)"} {
					if !strings.Contains(s, w) {
						t.Errorf("SVG lacks %q", w)
					}
				}
			}
			if os.Getenv("NETWATCH_KEEP_CHART") != "" {
				os.WriteFile(filepath.Join(os.Getenv("NETWATCH_KEEP_CHART"), "chart."+format), buf.Bytes(), 0o644)
			}
		})
	}
}

// TestRenderNamespaces: "lo" index 1 of two namespaces are two panels,
// titled lo@nsA and lo@nsB, each with only its own burst.
func TestRenderNamespaces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.ndjson")
	rec, err := record.NewRecorder(record.Config{Path: path, Wall: func(m time.Duration) time.Time { return wall0.Add(m) },
		Meta: record.Meta{Version: "test", Host: "h", Backend: "ebpf", Stream: record.StreamBins, Resolution: time.Millisecond, BurstThreshold: 50e6}})
	if err != nil {
		t.Fatal(err)
	}
	for bin := uint64(0); bin < 2000; bin++ {
		for i, ns := range []string{"nsA", "nsB"} {
			c := stats.Counters{RxBytes: 1000 * uint64(i+1), RxPackets: 1}
			if ns == "nsA" && bin >= 500 && bin < 503 {
				c.RxBytes = 120_000
			}
			if err := rec.Bin(record.Bin{Interface: "lo", Index: 1, Labels: stats.Labels{Netns: ns}, Number: bin, Width: time.Millisecond, Counters: c}); err != nil {
				t.Fatal(err)
			}
		}
		if bin == 503 {
			if err := rec.Burst(record.Event{Interface: "lo", Index: 1, Labels: stats.Labels{Netns: "nsA"}, Direction: "rx", FirstBin: 500, EndBin: 503,
				Width: time.Millisecond, Bytes: 360_000, Packets: 3, PeakBytesPerSec: 120e6, Threshold: 50e6, Reason: "quiet"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	ch, err := Render(&buf, []string{path}, Options{Format: "svg", Width: 800, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Interfaces) != 2 {
		t.Fatalf("%d panels, want one per namespace: %+v", len(ch.Interfaces), ch.Interfaces)
	}
	for i, want := range []struct {
		label  string
		bursts int
		rows   int64
	}{{"lo@nsA", 1, 2000}, {"lo@nsB", 0, 2000}} {
		p := ch.Interfaces[i]
		if p.Label != want.label || p.Bursts != want.bursts || p.Rows != want.rows {
			t.Errorf("panel %d: %q with %d bursts and %d rows, want %q, %d, %d", i, p.Label, p.Bursts, p.Rows, want.label, want.bursts, want.rows)
		}
		if !strings.Contains(buf.String(), want.label+" (ifindex 1)") {
			t.Errorf("SVG lacks the title %q", want.label+" (ifindex 1)")
		}
	}
}
