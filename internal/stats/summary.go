package stats

import (
	"math"
	"slices"
	"time"
)

// DirSummary describes one direction of one interface over a run of bins.
type DirSummary struct {
	// PeakBytesPerSec is the busiest bin's rate.
	PeakBytesPerSec float64
	// P99BytesPerSec is the 99th percentile (nearest rank) of bin rates.
	P99BytesPerSec float64
	// Bursts counts bins whose rate exceeded the burst threshold.
	Bursts int
	// Utilization and PeakUtilization are the average and peak rates as a
	// fraction of the link speed; 0 when the link speed is unknown.
	Utilization     float64
	PeakUtilization float64
}

// Summary describes the bins behind one sample, per direction.
type Summary struct {
	Rx, Tx DirSummary
	// Bins is how many bins the sample covers.
	Bins int
	// BurstThreshold is the rate in bytes per second above which a bin
	// counts as a burst; 0 when burst counting is off.
	BurstThreshold float64
	// LinkBytesPerSec is the link speed, 0 when unknown.
	LinkBytesPerSec float64
}

// SetUtilization fills the utilisation fields from the link speed and the
// average rates over the sample.
func (s *Summary) SetUtilization(linkBytesPerSec float64, r Rates) {
	s.LinkBytesPerSec = linkBytesPerSec
	if linkBytesPerSec <= 0 {
		return
	}
	s.Rx.Utilization = r.RxBytesPerSec / linkBytesPerSec
	s.Rx.PeakUtilization = s.Rx.PeakBytesPerSec / linkBytesPerSec
	s.Tx.Utilization = r.TxBytesPerSec / linkBytesPerSec
	s.Tx.PeakUtilization = s.Tx.PeakBytesPerSec / linkBytesPerSec
}

// Summarize computes peak, p99 and burst counts over bins of the given
// width. threshold is in bytes per second; bins above it count as bursts
// (0 disables burst counting). scratch is reused to avoid allocating.
func Summarize(bins []Counters, width time.Duration, threshold float64, scratch []float64) (Summary, []float64) {
	s := Summary{Bins: len(bins), BurstThreshold: threshold}
	if len(bins) == 0 || width <= 0 {
		return s, scratch
	}
	perSec := 1 / width.Seconds()
	scratch = slices.Grow(scratch[:0], len(bins))[:len(bins)]
	for i, b := range bins {
		scratch[i] = float64(b.RxBytes) * perSec
	}
	s.Rx = summarizeRates(scratch, threshold)
	for i, b := range bins {
		scratch[i] = float64(b.TxBytes) * perSec
	}
	s.Tx = summarizeRates(scratch, threshold)
	return s, scratch
}

// summarizeRates sorts rates in place.
func summarizeRates(rates []float64, threshold float64) DirSummary {
	var d DirSummary
	for _, r := range rates {
		if threshold > 0 && r > threshold {
			d.Bursts++
		}
	}
	slices.Sort(rates)
	d.PeakBytesPerSec = rates[len(rates)-1]
	d.P99BytesPerSec = rates[nearestRank(len(rates), 0.99)]
	return d
}

// nearestRank is the index of the p-th percentile of n sorted values by
// the nearest-rank method: the smallest value with at least p of all values
// at or below it.
func nearestRank(n int, p float64) int {
	r := int(math.Ceil(p*float64(n))) - 1
	return min(max(r, 0), n-1)
}
