package stats

import (
	"container/heap"
	"math"
	"time"
)

// DirSummary describes one direction of one interface over a run of bins.
type DirSummary struct {
	// PeakBytesPerSec is the busiest bin's rate.
	PeakBytesPerSec float64
	// P99BytesPerSec is the 99th percentile (nearest rank) of bin rates.
	P99BytesPerSec float64
	// Bursts counts the bursts (events of internal/bursts) that started in
	// the sample; the Summarizer leaves it 0, the bin loop fills it in from
	// the burst detector.
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
	// starts a burst; 0 when burst detection is off.
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

// Summarizer computes a Summary over a stream of n bins without keeping
// them: the peak as they come, and the exact p99 from a heap of
// the largest 1% of bin rates (the nearest-rank p99 of n values is the
// (n - ceil(0.99 n) + 1)-th largest). Memory is about n/100 values per
// direction however long the sample, and it is reused across samples.
type Summarizer struct {
	width     time.Duration
	threshold float64
	perSec    float64
	keep      int // how many of the largest rates decide the p99
	n         int
	rx, tx    dirStream
}

// NewSummarizer returns a Summarizer for samples of n bins of the given
// width; threshold is the burst threshold the Summary reports (0: off).
func NewSummarizer(n int, width time.Duration, threshold float64) *Summarizer {
	s := &Summarizer{width: width, threshold: threshold}
	if width > 0 {
		s.perSec = 1 / width.Seconds()
	}
	s.keep = max(1, n-nearestRank(n, 0.99))
	return s
}

// Reset starts a new sample, with a (possibly changed) burst threshold.
func (s *Summarizer) Reset(threshold float64) {
	s.threshold, s.n = threshold, 0
	s.rx.reset()
	s.tx.reset()
}

// Add takes the next bin.
func (s *Summarizer) Add(c Counters) {
	s.n++
	s.rx.add(float64(c.RxBytes)*s.perSec, s.keep)
	s.tx.add(float64(c.TxBytes)*s.perSec, s.keep)
}

// Summary returns the summary of the bins added since the last Reset.
func (s *Summarizer) Summary() Summary {
	return Summary{Bins: s.n, BurstThreshold: s.threshold, Rx: s.rx.summary(), Tx: s.tx.summary()}
}

// dirStream is one direction's running statistics.
type dirStream struct {
	peak float64
	top  minHeap // the largest rates seen, at most keep of them
}

func (d *dirStream) reset() {
	d.peak = 0
	d.top = d.top[:0]
}

func (d *dirStream) add(rate float64, keep int) {
	d.peak = max(d.peak, rate)
	switch {
	case len(d.top) < keep:
		heap.Push(&d.top, rate)
	case rate > d.top[0]:
		d.top[0] = rate
		heap.Fix(&d.top, 0)
	}
}

func (d *dirStream) summary() DirSummary {
	s := DirSummary{PeakBytesPerSec: d.peak}
	if len(d.top) > 0 {
		s.P99BytesPerSec = d.top[0]
	}
	return s
}

// minHeap is a min-heap of float64 for container/heap.
type minHeap []float64

func (h minHeap) Len() int           { return len(h) }
func (h minHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h minHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *minHeap) Push(x any)        { *h = append(*h, x.(float64)) }
func (h *minHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Summarize computes peak and p99 over bins of the given width; threshold
// (bytes per second, 0: off) is only reported. Burst counts come from
// internal/bursts.
func Summarize(bins []Counters, width time.Duration, threshold float64) Summary {
	if len(bins) == 0 || width <= 0 {
		return Summary{Bins: len(bins), BurstThreshold: threshold}
	}
	s := NewSummarizer(len(bins), width, threshold)
	for _, b := range bins {
		s.Add(b)
	}
	return s.Summary()
}

// nearestRank is the index of the p-th percentile of n sorted values by
// the nearest-rank method: the smallest value with at least p of all values
// at or below it.
func nearestRank(n int, p float64) int {
	r := int(math.Ceil(p*float64(n))) - 1
	return min(max(r, 0), n-1)
}
