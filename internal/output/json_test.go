package output

import (
	"bytes"
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

func TestSnapshotGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteSnapshotJSON(&buf, snapshotFixture()); err != nil {
		t.Fatal(err)
	}
	golden(t, "snapshot.golden", buf.Bytes())

	// The snapshot is the same object as MarshalSample, only indented.
	var compact bytes.Buffer
	if err := json.Compact(&compact, buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	m, err := MarshalSample(snapshotFixture())
	if err != nil {
		t.Fatal(err)
	}
	if compact.String() != string(m) {
		t.Errorf("snapshot compacted:\n%s\nMarshalSample:\n%s", compact.String(), m)
	}
}

// decode unmarshals a contract object, keeping numbers exact.
func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("invalid JSON %s: %v", b, err)
	}
	return m
}

func TestMarshalSampleContract(t *testing.T) {
	sampleKeys := []string{"backend", "exact_bins", "interfaces", "interval_ns", "resolution_ns", "time"}
	ifaceKeys := []string{
		"index", "name", "rx_bytes", "rx_bytes_per_sec", "rx_packets", "rx_packets_per_sec",
		"tx_bytes", "tx_bytes_per_sec", "tx_packets", "tx_packets_per_sec",
	}
	errorKeys := []string{"rx_drops", "rx_errors", "tx_drops", "tx_errors"}
	sorted := func(groups ...[]string) []string { return slices.Sorted(slices.Values(slices.Concat(groups...))) }

	tests := []struct {
		name       string
		sample     stats.Sample
		wantKeys   []string
		wantIfaces [][]string
	}{
		{
			name:       "procfs, errors on one interface, no attach",
			sample:     snapshotFixture(),
			wantKeys:   sorted(sampleKeys),
			wantIfaces: [][]string{sorted(ifaceKeys, errorKeys), sorted(ifaceKeys)},
		},
		{
			name:       "ebpf with attach",
			sample:     streamFixture()[0],
			wantKeys:   sorted(sampleKeys, []string{"attach"}),
			wantIfaces: [][]string{sorted(ifaceKeys), sorted(ifaceKeys)},
		},
		{
			name:       "nil interfaces",
			sample:     stats.Sample{Source: stats.Source{Backend: "procfs"}},
			wantKeys:   sorted(sampleKeys),
			wantIfaces: [][]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := MarshalSample(tt.sample)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.HasSuffix(b, []byte("\n")) {
				t.Error("MarshalSample output ends with a newline")
			}
			m := decode(t, b)
			if got := slices.Sorted(maps.Keys(m)); !slices.Equal(got, tt.wantKeys) {
				t.Errorf("keys = %v, want %v", got, tt.wantKeys)
			}
			ifaces, ok := m["interfaces"].([]any)
			if !ok {
				t.Fatalf("interfaces = %#v, want an array (never null)", m["interfaces"])
			}
			if len(ifaces) != len(tt.wantIfaces) {
				t.Fatalf("%d interfaces, want %d", len(ifaces), len(tt.wantIfaces))
			}
			for i, in := range ifaces {
				obj := in.(map[string]any)
				if got := slices.Sorted(maps.Keys(obj)); !slices.Equal(got, tt.wantIfaces[i]) {
					t.Errorf("interface %d keys = %v, want %v", i, got, tt.wantIfaces[i])
				}
				if obj["name"] != tt.sample.Interfaces[i].Name {
					t.Errorf("interface %d name = %v, want %q (order kept)", i, obj["name"], tt.sample.Interfaces[i].Name)
				}
			}
		})
	}
}

func TestMarshalSampleValues(t *testing.T) {
	s := snapshotFixture()
	s.Interfaces[0].Rates = stats.Rates{
		RxBytesPerSec: math.NaN(), RxPacketsPerSec: math.Inf(1),
		TxBytesPerSec: math.Inf(-1), TxPacketsPerSec: math.Copysign(0, -1),
	}
	s.Interfaces[0].RxBytes = 1 << 63
	s.Interfaces[0].TxBytes = math.MaxUint64
	b, err := MarshalSample(s)
	if err != nil {
		t.Fatalf("MarshalSample with non-finite rates: %v", err)
	}
	m := decode(t, b)
	if got, want := m["time"], "2026-11-23T10:00:00.123456789Z"; got != want {
		t.Errorf("time = %v, want %v (UTC, nine digits)", got, want)
	}
	if got := m["interval_ns"].(json.Number).String(); got != "1000000000" {
		t.Errorf("interval_ns = %s, want 1000000000", got)
	}
	in := m["interfaces"].([]any)[0].(map[string]any)
	for _, k := range []string{"rx_bytes_per_sec", "rx_packets_per_sec", "tx_bytes_per_sec", "tx_packets_per_sec"} {
		if got := in[k].(json.Number).String(); got != "0" {
			t.Errorf("%s = %s, want 0 for a non-finite or negative-zero rate", k, got)
		}
	}
	for k, want := range map[string]string{
		"rx_bytes": "9223372036854775808", "tx_bytes": "18446744073709551615", "tx_drops": "9223372036854775808",
	} {
		if got := in[k].(json.Number).String(); got != want {
			t.Errorf("%s = %s, want %s (exact uint64)", k, got, want)
		}
	}
	if !strings.Contains(string(b), `"name":"lo<&>"`) {
		t.Errorf("name escaped for HTML: %s", b)
	}

	// A whole second, in another zone: the fraction still has nine digits.
	s.Time = s.Time.Truncate(1e9).In(cet)
	b, err = MarshalSample(s)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := decode(t, b)["time"], "2026-11-23T10:00:00.000000000Z"; got != want {
		t.Errorf("time = %v, want %v", got, want)
	}
}
