package record

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// nsIface is one interface of nsStream: all three are "lo" with index 1,
// in two namespaces and outside any.
type nsIface struct {
	labels stats.Labels
	rx     uint64 // bytes per quiet bin
}

var nsIfaces = []nsIface{
	{stats.Labels{Netns: "nsA", Container: "c0ffee1234567890", PeerNetns: "nsB"}, 100},
	{stats.Labels{Netns: "nsB"}, 200},
	{stats.Labels{}, 300},
}

// nsStream is n 1 ms bins from bin first of the three interfaces, with an
// rx burst in nsA and a tx burst in nsB over the same bins [burst, burst+3),
// and the events for them.
func nsStream(first, n, burst uint64) (bins []Bin, events []Event, total map[string]stats.Counters) {
	total = map[string]stats.Counters{}
	for b := first; b < first+n; b++ {
		for _, ifc := range nsIfaces {
			c := stats.Counters{RxBytes: ifc.rx, RxPackets: 1, TxBytes: 10, TxPackets: 1}
			var started [2]bool
			if b >= burst && b < burst+3 {
				switch ifc.labels.Netns {
				case "nsA":
					c.RxBytes, started[0] = 50_000, b == burst
				case "nsB":
					c.TxBytes, started[1] = 50_000, b == burst
				}
			}
			bins = append(bins, Bin{Interface: "lo", Index: 1, Labels: ifc.labels, Number: b, Width: time.Millisecond, Counters: c, Started: started})
			t := total[ifc.labels.Netns]
			total[ifc.labels.Netns] = stats.Counters{RxBytes: t.RxBytes + c.RxBytes, RxPackets: t.RxPackets + c.RxPackets,
				TxBytes: t.TxBytes + c.TxBytes, TxPackets: t.TxPackets + c.TxPackets}
		}
	}
	for i, dir := range []string{"rx", "tx"} {
		events = append(events, Event{Interface: "lo", Index: 1, Labels: nsIfaces[i].labels, Direction: dir,
			FirstBin: burst, EndBin: burst + 3, Width: time.Millisecond, Bytes: 150_000, Packets: 3,
			PeakBytesPerSec: 50e6, Threshold: 1e6, Reason: "quiet"})
	}
	return bins, events, total
}

// feedNS plays bins and, after the first quiet bin past each burst, its
// event.
func feedNS(t *testing.T, bins []Bin, events []Event, bin func(Bin) error, event func(Event) error) {
	t.Helper()
	for _, b := range bins {
		if err := bin(b); err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			if e.Netns == b.Netns && e.EndBin == b.Number {
				if err := event(e); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// TestNamespacesApart records "lo" index 1 of two namespaces and of no
// namespace: the rows do not merge, the report shows three interfaces each
// with its namespace, container, peer, totals and its own bursts, and the
// file's interface list names all three.
func TestNamespacesApart(t *testing.T) {
	bins, events, total := nsStream(1_000_000, 500, 1_000_100)
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "rec"+f.Ext())
			rec, err := NewRecorder(Config{Path: path, Meta: testMeta(), Wall: fakeWall})
			if err != nil {
				t.Fatal(err)
			}
			feedNS(t, bins, events, rec.Bin, rec.Burst)
			if err := rec.Close(); err != nil {
				t.Fatal(err)
			}
			rows := map[stats.Labels]int{}
			s := NewSummarizer(ReportOptions{})
			got, err := Read([]string{path}, Range{}, func(r Row) error {
				rows[r.Labels]++
				return s.Row(r)
			})
			if err != nil {
				t.Fatal(err)
			}
			// Rows carry netns and container; the peer is in the
			// interface list.
			for _, ifc := range nsIfaces {
				l := ifc.labels
				l.PeerNetns = ""
				if rows[l] != 500 {
					t.Errorf("%d rows labelled %+v, want 500 (all rows: %v)", rows[l], l, rows)
				}
			}
			rep := s.Report(got)
			if len(rep.Interfaces) != 3 {
				t.Fatalf("%d interfaces in the report, want 3: %+v", len(rep.Interfaces), rep.Interfaces)
			}
			for i, ir := range rep.Interfaces {
				want := nsIfaces[i].labels
				if ir.Name != "lo" || ir.Index != 1 || ir.Netns != want.Netns || ir.ContainerID != want.Container || ir.PeerNetns != want.PeerNetns {
					t.Errorf("interface %d: %s/%d netns %q container %q peer %q, want %+v", i, ir.Name, ir.Index, ir.Netns, ir.ContainerID, ir.PeerNetns, want)
				}
				have := stats.Counters{RxBytes: ir.Rx.Bytes, RxPackets: ir.Rx.Packets, TxBytes: ir.Tx.Bytes, TxPackets: ir.Tx.Packets}
				if have != total[want.Netns] || ir.Bins != 500 {
					t.Errorf("%q: %d bins, totals %+v, want 500 and %+v", want.Netns, ir.Bins, have, total[want.Netns])
				}
				wantRx, wantTx := 0, 0
				switch want.Netns {
				case "nsA":
					wantRx = 1
				case "nsB":
					wantTx = 1
				}
				if ir.Rx.Bursts.Count != wantRx || ir.Tx.Bursts.Count != wantTx {
					t.Errorf("%q: %d rx and %d tx bursts, want %d and %d", want.Netns, ir.Rx.Bursts.Count, ir.Tx.Bursts.Count, wantRx, wantTx)
				}
				for _, b := range append(ir.Rx.Bursts.List, ir.Tx.Bursts.List...) {
					if b.Netns != want.Netns || b.ContainerID != want.Container {
						t.Errorf("%q: burst %+v", want.Netns, b)
					}
				}
			}
			if ifs := got.Files[0].Meta.Interfaces; len(ifs) != 3 || ifs[0] != (Interface{Name: "lo", Index: 1, Netns: "nsA", ContainerID: "c0ffee1234567890", PeerNetns: "nsB"}) {
				t.Errorf("meta interfaces %+v", ifs)
			}
		})
	}
}

// TestNDJSONLabelFields: netns and container_id are in a bin line when set
// and left out when empty; odd bytes stay valid JSON.
func TestNDJSONLabelFields(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.ndjson")
	rec, _ := NewRecorder(Config{Path: path, Meta: testMeta(), Wall: fakeWall})
	for _, l := range []stats.Labels{{Netns: `n"s\1`, Container: "c1"}, {}} {
		if err := rec.Bin(Bin{Interface: "lo\x01", Index: 1, Labels: l, Number: 5, Width: time.Millisecond}); err != nil {
			t.Fatal(err)
		}
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(b, []byte("\n"))
	if !strings.Contains(string(lines[1]), `"index":1,"netns":"n\"s\\1","container_id":"c1","rx_bytes"`) ||
		strings.Contains(string(lines[2]), "netns") || strings.Contains(string(lines[2]), "container_id") {
		t.Errorf("bin lines:\n%s\n%s", lines[1], lines[2])
	}
	var got []Row
	if _, err := Read([]string{path}, Range{}, func(r Row) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Netns != `n"s\1` || got[0].Container != "c1" || got[0].Interface != "lo\x01" || got[1].Netns != "" {
		t.Errorf("read back %+v", got)
	}
}

// TestNamespacesSamples: a polled sample stream of "lo" index 1 in two
// namespaces: each row is the difference of its own namespace's counters.
func TestNamespacesSamples(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.parquet")
	meta := testMeta()
	meta.Stream, meta.Backend, meta.Resolution = StreamSamples, "netlink", 0
	rec, _ := NewRecorder(Config{Path: path, Meta: meta, Wall: fakeWall})
	for i := range 4 {
		n := uint64(i)
		s := stats.Sample{Time: wall0.Add(time.Duration(i+1) * 100 * time.Millisecond), Interval: 100 * time.Millisecond,
			Interfaces: []stats.InterfaceSample{
				{Name: "lo", Index: 1, Labels: stats.Labels{Netns: "nsA"}, Counters: stats.Counters{RxBytes: 1_000_000 + 100*n, RxPackets: 10 + n},
					Rates: stats.Rates{RxBytesPerSec: 1000, RxPacketsPerSec: 10}},
				{Name: "lo", Index: 1, Labels: stats.Labels{Netns: "nsB"}, Counters: stats.Counters{RxBytes: 5_000 + 7*n, RxPackets: 3 + n},
					Rates: stats.Rates{RxBytesPerSec: 70, RxPacketsPerSec: 10}},
			}}
		if err := rec.Sample(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	rep, _ := readReport(t, []string{path}, Range{})
	if len(rep.Interfaces) != 2 {
		t.Fatalf("%d interfaces", len(rep.Interfaces))
	}
	// First row from the rates, then counter differences: 4 x 100 B and
	// 4 x 7 B.
	for i, want := range []struct {
		netns string
		rx    uint64
	}{{"nsA", 400}, {"nsB", 28}} {
		if ir := rep.Interfaces[i]; ir.Netns != want.netns || ir.Rx.Bytes != want.rx || ir.Rx.Packets != 4 {
			t.Errorf("interface %d: netns %q rx %d B %d packets, want %q %d B 4 packets", i, ir.Netns, ir.Rx.Bytes, ir.Rx.Packets, want.netns, want.rx)
		}
	}
}

// TestCaptureNamespaces: bursts on "lo" index 1 of two namespaces at the
// same time are captured into one file per namespace, each holding only
// its namespace's bins and burst.
func TestCaptureNamespaces(t *testing.T) {
	bins, events, _ := nsStream(1_000_000, 400, 1_000_200)
	dir := t.TempDir()
	var caps []Capture
	c := NewCapturer(CaptureConfig{Dir: dir, Format: Parquet, Before: 50 * time.Millisecond, After: 20 * time.Millisecond,
		Meta: testMeta(), Wall: fakeWall, Captured: func(c Capture) { caps = append(caps, c) }})
	feedNS(t, bins, events, c.Bin, c.Burst)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if len(caps) != 2 {
		t.Fatalf("%d captures, want one per namespace: %+v", len(caps), caps)
	}
	stamp := fakeWall(1_000_150 * time.Millisecond).Format("20060102T150405.000Z")
	for i, netns := range []string{"nsA", "nsB"} {
		cp := caps[i]
		if want := "lo@" + netns + "-" + stamp + ".parquet"; filepath.Base(cp.Path) != want || cp.Netns != netns {
			t.Errorf("capture %d: %s netns %q, want %s", i, cp.Path, cp.Netns, want)
		}
		if !strings.Contains(cp.String(), "captured lo@"+netns+":") {
			t.Errorf("capture line %q", cp.String())
		}
		n := 0
		rec, err := Read([]string{cp.Path}, Range{}, func(r Row) error {
			n++
			if r.Netns != netns {
				t.Fatalf("capture of %s holds a row of %q", netns, r.Netns)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// 50 bins before, 3 of the burst, 20 after.
		if n != 73 || len(rec.Bursts) != 1 || rec.Bursts[0].Netns != netns {
			t.Errorf("capture of %s: %d rows, bursts %+v; want 73 rows and its one burst", netns, n, rec.Bursts)
		}
	}
}

// TestInterfaceListLateLabels: a veth's peer namespace found after its
// first rows (the peer scan runs later) updates the interface's entry in
// the file's interface list instead of adding a second one.
func TestInterfaceListLateLabels(t *testing.T) {
	for _, f := range []Format{Parquet, NDJSON} {
		t.Run(string(f), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "rec"+f.Ext())
			rec, _ := NewRecorder(Config{Path: path, Meta: testMeta(), Wall: fakeWall})
			for i, l := range []stats.Labels{{Netns: "nsA"}, {Netns: "nsA", PeerNetns: "nsB", Container: "c1"}, {Netns: "nsB"}} {
				if err := rec.Bin(Bin{Interface: "veth0", Index: 2, Labels: l, Number: uint64(10 + i), Width: time.Millisecond}); err != nil {
					t.Fatal(err)
				}
			}
			if err := rec.Close(); err != nil {
				t.Fatal(err)
			}
			rep, got := readReport(t, []string{path}, Range{})
			want := []Interface{{Name: "veth0", Index: 2, Netns: "nsA", ContainerID: "c1", PeerNetns: "nsB"}, {Name: "veth0", Index: 2, Netns: "nsB"}}
			if ifs := got.Files[0].Meta.Interfaces; !slices.Equal(ifs, want) {
				t.Errorf("interface list %+v, want %+v", ifs, want)
			}
			if len(rep.Interfaces) != 2 || rep.Interfaces[0].PeerNetns != "nsB" || rep.Interfaces[0].ContainerID != "c1" || rep.Interfaces[1].PeerNetns != "" {
				t.Errorf("report interfaces %+v", rep.Interfaces)
			}
		})
	}
}
