package stats

import (
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	ms := time.Millisecond
	bins := func(rx ...uint64) []Counters {
		out := make([]Counters, len(rx))
		for i, v := range rx {
			out[i] = Counters{RxBytes: v, TxBytes: 2 * v}
		}
		return out
	}
	hundred := make([]uint64, 100)
	for i := range hundred {
		hundred[i] = uint64(i + 1) // 1..100 bytes per 1 ms bin
	}
	tests := []struct {
		name      string
		bins      []Counters
		width     time.Duration
		threshold float64
		want      Summary
	}{
		{"empty", nil, ms, 0, Summary{}},
		{"one bin", bins(5), ms, 0, Summary{Bins: 1,
			Rx: DirSummary{PeakBytesPerSec: 5000, P99BytesPerSec: 5000},
			Tx: DirSummary{PeakBytesPerSec: 10000, P99BytesPerSec: 10000}}},
		{"idle", bins(0, 0, 0), ms, 1, Summary{Bins: 3, BurstThreshold: 1}},
		{"1..100", bins(hundred...), ms, 90_000, Summary{Bins: 100, BurstThreshold: 90_000,
			// p99 of 1..100 by nearest rank is the 99th value.
			Rx: DirSummary{PeakBytesPerSec: 100_000, P99BytesPerSec: 99_000, Bursts: 10},
			Tx: DirSummary{PeakBytesPerSec: 200_000, P99BytesPerSec: 198_000, Bursts: 55}}},
		{"threshold is strict", bins(1, 2, 2), 10 * ms, 200, Summary{Bins: 3, BurstThreshold: 200,
			Rx: DirSummary{PeakBytesPerSec: 200, P99BytesPerSec: 200},
			Tx: DirSummary{PeakBytesPerSec: 400, P99BytesPerSec: 400, Bursts: 2}}},
		{"one burst among idle bins", bins(0, 0, 0, 0, 625, 0, 0, 0, 0, 0), 100 * time.Microsecond, 1e6, Summary{Bins: 10, BurstThreshold: 1e6,
			Rx: DirSummary{PeakBytesPerSec: 6.25e6, P99BytesPerSec: 6.25e6, Bursts: 1},
			Tx: DirSummary{PeakBytesPerSec: 12.5e6, P99BytesPerSec: 12.5e6, Bursts: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := Summarize(tt.bins, tt.width, tt.threshold, nil)
			if got != tt.want {
				t.Fatalf("Summarize = %+v\nwant        %+v", got, tt.want)
			}
		})
	}
}

func TestDeltaAndRates(t *testing.T) {
	d, ok := Delta(Counters{10, 1, 20, 2}, Counters{30, 3, 20, 2})
	if !ok || d != (Counters{20, 2, 0, 0}) {
		t.Fatalf("Delta = %+v %v", d, ok)
	}
	if _, ok := Delta(Counters{10, 1, 20, 2}, Counters{30, 3, 19, 2}); ok {
		t.Fatal("a counter going backwards must not produce a delta")
	}
	r := RatesOver(Counters{RxBytes: 1000, TxPackets: 5}, 500*time.Millisecond)
	if r.RxBytesPerSec != 2000 || r.TxPacketsPerSec != 10 {
		t.Fatalf("RatesOver = %+v", r)
	}
	if RatesOver(Counters{RxBytes: 1}, 0) != (Rates{}) {
		t.Fatal("zero interval must give zero rates")
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		err  bool
	}{
		{"800Mbit", 100e6, false},
		{"800mbit/s", 100e6, false},
		{"1.5Gbit", 187.5e6, false},
		{"10Gbps", 1.25e9, false},
		{"100MB", 100e6, false},
		{"64KiB/s", 65536, false},
		{"8bit", 1, false},
		{"", 0, true},
		{"fast", 0, true},
		{"100", 0, true},
		{"100 furlongs", 0, true},
		{"-5Mbit", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseRate(tt.in)
		if (err != nil) != tt.err || (!tt.err && got != tt.want) {
			t.Errorf("ParseRate(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.err)
		}
	}
}
