package output

import (
	"bufio"
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/netwatch-dev/netwatch/internal/bursts"
)

func TestEventStream(t *testing.T) {
	var dst bytes.Buffer
	w := bufio.NewWriter(&dst)
	es, err := NewEventStream(w)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 123, time.UTC)
	e := bursts.Event{Interface: "eth0", Index: 2, Direction: bursts.Tx, FirstBin: 10, EndBin: 13,
		Start: 10 * time.Millisecond, End: 13 * time.Millisecond, Duration: 3 * time.Millisecond,
		StartTime: t0, EndTime: t0.Add(3 * time.Millisecond), Bytes: 3000, Packets: 3, PeakBytesPerSec: 2e6,
		Thresholds: bursts.Thresholds{Start: 1e6, End: 5e5}, LostBins: 1, Reason: bursts.ReasonQuiet}
	if err := es.Write(e); err != nil {
		t.Fatal(err)
	}
	want := `{"interface":"eth0","index":2,"direction":"tx","start":"2026-11-23T10:00:00.000000123Z",` +
		`"end":"2026-11-23T10:00:00.003000123Z","duration_ns":3000000,"bins":3,"bytes":3000,"packets":3,` +
		`"peak_bytes_per_sec":2000000,"mean_bytes_per_sec":1000000,"threshold_bytes_per_sec":1000000,` +
		`"end_threshold_bytes_per_sec":500000,"lost_bins":1,"reason":"quiet"}` + "\n"
	if dst.String() != want {
		t.Fatalf("flushed line\n got %s\nwant %s", dst.String(), want)
	}
	var m map[string]any
	if err := json.Unmarshal(dst.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if _, err := NewEventStream(nil); err == nil {
		t.Fatal("nil writer accepted")
	}
	if f, err := ParseFormat(" Events "); err != nil || f != FormatEvents {
		t.Fatalf("ParseFormat(events) = %q, %v", f, err)
	}
}
