package output

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// withThresholds returns binFixture with the burst thresholds of the
// 100 ms sample's interfaces (eth0, veth0) replaced; 0 means no burst
// counting for that interface.
func withThresholds(eth0, veth0 float64) []stats.Sample {
	samples := binFixture()
	ifs := samples[1].Interfaces
	for i, th := range []float64{eth0, veth0} {
		sum := *ifs[i].Summary
		sum.BurstThreshold = th
		if th == 0 {
			// What the summarizer gives without a threshold.
			sum.Rx.Bursts, sum.Tx.Bursts = 0, 0
		}
		ifs[i].Summary = &sum
	}
	return samples
}

// TestNoBurstCountWithoutThreshold: without a burst threshold there is no
// burst count to show, not 0/0: no BURSTS column, no *_bursts fields, empty
// CSV burst cells. An interface without a threshold next to one with gets
// a dash and no fields.
func TestNoBurstCountWithoutThreshold(t *testing.T) {
	tests := []struct {
		name         string
		eth0, veth0  float64
		column       bool     // the table has the BURSTS column
		cells        []string // the BURSTS cell of eth0 and veth0
		ethBursts    bool     // eth0 has rx_bursts/tx_bursts in JSON
		vethBursts   bool
		csvEth, csvV [2]string // rx_bursts, tx_bursts
	}{
		{"off", 0, 0, false, nil, false, false, [2]string{"", ""}, [2]string{"", ""}},
		{"on", 1e8, 1e8, true, []string{"5/0", "0/0"}, true, true, [2]string{"5", "0"}, [2]string{"0", "0"}},
		{"one interface without", 1e8, 0, true, []string{"5/0", "-"}, true, false, [2]string{"5", "0"}, [2]string{"", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			samples := withThresholds(tt.eth0, tt.veth0)
			opts := TableOptions{Units: Bits, Location: time.UTC, Bursts: "bins above 800 Mbit/s (100 MB/s)"}

			table := string(writeAll(t, FormatTable, opts, samples))
			if got := strings.Contains(table, "BURSTS"); got != tt.column {
				t.Errorf("BURSTS column %v, want %v:\n%s", got, tt.column, table)
			}
			if got := strings.Contains(table, "bursts: bins above 800 Mbit/s (100 MB/s)\nTIME "); got != tt.column {
				t.Errorf("threshold line above the header %v, want %v:\n%s", got, tt.column, table)
			}
			var header string
			for _, line := range strings.Split(table, "\n") {
				if strings.HasPrefix(line, "TIME ") {
					header = line
					continue
				}
				f := strings.Fields(line)
				if len(f) < 2 || (f[1] != "eth0" && f[1] != "veth0") || !strings.Contains(header, "peak") {
					continue
				}
				if len(line) != len(header) {
					t.Errorf("row %q is not as wide as its header %q", line, header)
				}
				if tt.column {
					want := tt.cells[0]
					if f[1] == "veth0" {
						want = tt.cells[1]
					}
					if last := f[len(f)-1]; last != want {
						t.Errorf("%s BURSTS cell %q, want %q", f[1], last, want)
					}
				} else if strings.Contains(line, "/0") || strings.HasSuffix(line, " -") {
					t.Errorf("burst cell without a threshold: %q", line)
				}
			}

			ndjson := bytes.Split(bytes.TrimSpace(writeAll(t, FormatNDJSON, TableOptions{}, samples)), []byte("\n"))
			var s struct {
				Interfaces []map[string]any `json:"interfaces"`
			}
			if err := json.Unmarshal(ndjson[1], &s); err != nil {
				t.Fatal(err)
			}
			for i, want := range []bool{tt.ethBursts, tt.vethBursts} {
				in := s.Interfaces[i]
				for _, k := range []string{"rx_bursts", "tx_bursts", "burst_threshold_bytes_per_sec"} {
					if _, got := in[k]; got != want {
						t.Errorf("%s: field %s present %v, want %v", in["name"], k, got, want)
					}
				}
				if _, ok := in["rx_peak_bytes_per_sec"]; !ok {
					t.Errorf("%s: peak missing", in["name"])
				}
			}

			rows, err := csv.NewReader(bytes.NewReader(writeAll(t, FormatCSV, TableOptions{}, samples))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			col := map[string]int{}
			for i, h := range rows[0] {
				col[h] = i
			}
			for _, r := range rows[1:] {
				var want [2]string
				switch {
				case r[col["interval_ns"]] != "100000000":
					continue // the one-bin sample has no summary at all
				case r[col["interface"]] == "eth0":
					want = tt.csvEth
				default:
					want = tt.csvV
				}
				if got := [2]string{r[col["rx_bursts"]], r[col["tx_bursts"]]}; got != want {
					t.Errorf("csv %s bursts %q, want %q", r[col["interface"]], got, want)
				}
				if r[col["rx_peak_bytes_per_sec"]] == "" {
					t.Errorf("csv %s: peak empty", r[col["interface"]])
				}
			}
		})
	}
}
