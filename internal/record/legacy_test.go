package record

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// TestReadLegacy reads recordings written before the netns and
// container_id columns existed (testdata/legacy, written by that version):
// every row and burst reads back, with empty labels, and the report's
// totals are what was recorded.
func TestReadLegacy(t *testing.T) {
	fs := newFakeStream(1_000_000, 300, []fakeBurst{{index: 7, dir: "rx", first: 1_000_100, len: 5, bytes: 50_000}})
	for _, name := range []string{"rec.parquet", "rec.ndjson"} {
		t.Run(name, func(t *testing.T) {
			var rows int
			s := NewSummarizer(ReportOptions{})
			rec, err := Read([]string{filepath.Join("testdata", "legacy", name)}, Range{}, func(r Row) error {
				rows++
				if r.Labels != (stats.Labels{}) {
					t.Fatalf("row %+v has labels", r)
				}
				return s.Row(r)
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(rec.Warnings) != 0 {
				t.Errorf("warnings %q", rec.Warnings)
			}
			if rows != 600 {
				t.Errorf("%d rows, want 600", rows)
			}
			rep := s.Report(rec)
			if len(rep.Interfaces) != 2 {
				t.Fatalf("%d interfaces", len(rep.Interfaces))
			}
			for _, ir := range rep.Interfaces {
				want := fs.total[ir.Index]
				have := stats.Counters{RxBytes: ir.Rx.Bytes, RxPackets: ir.Rx.Packets, TxBytes: ir.Tx.Bytes, TxPackets: ir.Tx.Packets}
				if have != want || ir.Netns != "" || ir.ContainerID != "" {
					t.Errorf("%s: %+v netns %q container %q, want %+v", ir.Name, have, ir.Netns, ir.ContainerID, want)
				}
			}
			if va := rep.Interfaces[0]; va.Index != 7 || va.Rx.Bursts.Count != 1 || va.Rx.Bursts.List[0].Duration != 5*time.Millisecond {
				t.Errorf("veth-a rx bursts %+v", va.Rx.Bursts)
			}
		})
	}
}
