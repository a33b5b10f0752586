package stats

import (
	"math/rand/v2"
	"slices"
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
			Rx: DirSummary{PeakBytesPerSec: 100_000, P99BytesPerSec: 99_000},
			Tx: DirSummary{PeakBytesPerSec: 200_000, P99BytesPerSec: 198_000}}},
		{"threshold is only reported", bins(1, 2, 2), 10 * ms, 200, Summary{Bins: 3, BurstThreshold: 200,
			Rx: DirSummary{PeakBytesPerSec: 200, P99BytesPerSec: 200},
			Tx: DirSummary{PeakBytesPerSec: 400, P99BytesPerSec: 400}}},
		{"one burst among idle bins", bins(0, 0, 0, 0, 625, 0, 0, 0, 0, 0), 100 * time.Microsecond, 1e6, Summary{Bins: 10, BurstThreshold: 1e6,
			Rx: DirSummary{PeakBytesPerSec: 6.25e6, P99BytesPerSec: 6.25e6},
			Tx: DirSummary{PeakBytesPerSec: 12.5e6, P99BytesPerSec: 12.5e6}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Summarize(tt.bins, tt.width, tt.threshold)
			if got != tt.want {
				t.Fatalf("Summarize = %+v\nwant        %+v", got, tt.want)
			}
		})
	}
}

// TestSummarizerMatchesSorting checks the streaming p99 against sorting all
// bins, for sample sizes around the points where the kept count changes,
// and that Reset makes a Summarizer reusable.
func TestSummarizerMatchesSorting(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 99, 100, 101, 199, 200, 201, 1000, 4321} {
		s := NewSummarizer(n, time.Millisecond, 5e5)
		for round := range 2 {
			s.Reset(5e5)
			rates := make([]float64, n)
			for i := range n {
				b := rng.Uint64N(1000)
				if i%7 == 0 {
					b = 1000 + rng.Uint64N(5000) // a heavy tail
				}
				s.Add(Counters{RxBytes: b, TxBytes: b / 2})
				rates[i] = float64(b) * 1000
			}
			slices.Sort(rates)
			got := s.Summary()
			if want := rates[nearestRank(n, 0.99)]; got.Rx.P99BytesPerSec != want || got.Bins != n {
				t.Fatalf("n=%d round %d: p99 %v, want %v (bins %d)", n, round, got.Rx.P99BytesPerSec, want, got.Bins)
			}
			if got.Rx.PeakBytesPerSec != rates[n-1] || got.Rx.Bursts != 0 {
				t.Fatalf("n=%d: peak %v bursts %d, want %v and no burst count", n, got.Rx.PeakBytesPerSec, got.Rx.Bursts, rates[n-1])
			}
		}
	}
	if keep := NewSummarizer(3_600_000, time.Millisecond, 0).keep; keep != 36_001 {
		t.Fatalf("an hour of 1 ms bins keeps %d rates, want 36001 (1%%)", keep)
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
