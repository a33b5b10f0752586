package output

import (
	"bytes"
	"testing"
	"time"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// binFixture is an ebpf stream built from 1 ms in-kernel bins: a 1 ms
// sample (no summary, one with lost bins) followed by 100 ms samples with
// summaries, one interface with a known link speed.
func binFixture() []stats.Sample {
	src := stats.Source{Backend: "ebpf", Attach: "tcx"}
	one := stats.Sample{
		Time: t0, Source: src, Interval: time.Millisecond, Resolution: time.Millisecond, ExactBins: true,
		Interfaces: []stats.InterfaceSample{{
			Name: "veth0", Index: 5,
			Counters: stats.Counters{RxBytes: 1514, RxPackets: 1},
			Rates:    stats.Rates{RxBytesPerSec: 1.514e6, RxPacketsPerSec: 1000},
			LostBins: 1,
		}},
	}
	sum := &stats.Summary{
		Bins: 100, BurstThreshold: 1e8,
		Rx: stats.DirSummary{PeakBytesPerSec: 1.25e9, P99BytesPerSec: 1.2e9, Bursts: 5},
		Tx: stats.DirSummary{PeakBytesPerSec: 3000, P99BytesPerSec: 2000},
	}
	sum.SetUtilization(1.25e9, stats.Rates{RxBytesPerSec: 6.25e7, TxBytesPerSec: 1000})
	idle := &stats.Summary{Bins: 100, BurstThreshold: 1e8}
	hundred := stats.Sample{
		Time: t0.Add(100 * time.Millisecond), Source: src, Interval: 100 * time.Millisecond, Resolution: time.Millisecond, ExactBins: true,
		Interfaces: []stats.InterfaceSample{
			{Name: "eth0", Index: 2, Counters: stats.Counters{RxBytes: 6250000, RxPackets: 4200, TxBytes: 100, TxPackets: 2},
				Rates: stats.Rates{RxBytesPerSec: 6.25e7, RxPacketsPerSec: 42000, TxBytesPerSec: 1000, TxPacketsPerSec: 20}, Summary: sum},
			{Name: "veth0", Index: 5, Counters: stats.Counters{RxBytes: 1514, RxPackets: 1}, Summary: idle},
		},
	}
	return []stats.Sample{one, hundred}
}

func TestBinsGolden(t *testing.T) {
	tests := []struct {
		golden string
		format Format
		opts   TableOptions
	}{
		{"bins_ndjson.golden", FormatNDJSON, TableOptions{}},
		{"bins_table.golden", FormatTable, TableOptions{Units: Bits, Location: time.UTC}},
		{"bins_csv.golden", FormatCSV, TableOptions{}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			golden(t, tt.golden, writeAll(t, tt.format, tt.opts, binFixture()))
		})
	}
}

func TestSummaryFieldsOnlyWithSummary(t *testing.T) {
	b, err := MarshalSample(binFixture()[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{"rx_peak_bytes_per_sec", `"bins"`, "utilization"} {
		if bytes.Contains(b, []byte(absent)) {
			t.Errorf("one-bin sample has %q: %s", absent, b)
		}
	}
	if !bytes.Contains(b, []byte(`"lost_bins":1`)) || !bytes.Contains(b, []byte(`"exact_bins":true`)) {
		t.Errorf("lost bins or exact_bins missing: %s", b)
	}
}
