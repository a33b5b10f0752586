package exporter

import (
	"math"
	"sort"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
)

// schema is the native histogram schema: bucket k holds the values in
// (2^((k-1)/8), 2^(k/8)], a growth factor of 2^(1/8) = 1.09 per bucket
// (what client_golang's NativeHistogramBucketFactor 1.1 picks).
const (
	schema        = 3
	bucketsPerExp = 1 << schema
	// zeroThreshold is client_golang's default: only 0 lands in the zero
	// bucket, in practice (an idle bin).
	zeroThreshold = 2.938735877055719e-39 // 2^-128
)

// hist is a histogram with fixed native buckets over [2^minExp, 2^maxExp]
// (values outside land in the first or last bucket) and classic buckets at
// powers of two, which are also native bucket boundaries: a classic
// bucket's count is exactly the sum of the native buckets below it, so one
// set of counts serves both. It is not safe for concurrent use; the
// Exporter guards it. Unlike client_golang's Histogram it costs a few array
// operations per observation and a scrape copies a fixed array, whatever
// was observed.
type hist struct {
	minKey int
	counts []uint64 // counts[i]: native bucket minKey+i
	lo, hi int      // counts[lo:hi] holds every non-zero count
	zero   uint64
	count  uint64
	sum    float64
}

func newHist(minExp, maxExp int) hist {
	return hist{minKey: minExp*bucketsPerExp + 1, counts: make([]uint64, (maxExp-minExp)*bucketsPerExp)}
}

// bounds[i] = 2^(i/8 - 1): the upper edges of the native buckets within one
// power of two, for the fraction math.Frexp returns.
var bounds = func() (b [bucketsPerExp + 1]float64) {
	for i := range b {
		b[i] = math.Exp2(float64(i)/bucketsPerExp - 1)
	}
	return b
}()

// key returns the native bucket of v > 0: ceil(log2(v) * 8), from the
// binary exponent and a table, so that bucket edges are exact.
func key(v float64) int {
	frac, exp := math.Frexp(v) // v = frac * 2^exp, frac in [0.5, 1)
	return (exp-1)*bucketsPerExp + sort.SearchFloat64s(bounds[:], frac)
}

func (h *hist) observe(v float64) {
	h.count++
	h.sum += v
	if v <= zeroThreshold {
		h.zero++
		return
	}
	i := min(max(key(v)-h.minKey, 0), len(h.counts)-1)
	h.counts[i]++
	if h.lo == h.hi {
		h.lo, h.hi = i, i+1
	} else {
		h.lo, h.hi = min(h.lo, i), max(h.hi, i+1)
	}
}

// used reports whether h was made by newHist.
func (h *hist) used() bool { return h.counts != nil }

// clone copies h for a scrape, under the lock: only the range of buckets
// that were ever hit, so the copy is as small as the distribution.
func (h *hist) clone() hist {
	c := *h
	c.minKey += h.lo
	c.counts = append(make([]uint64, 0, h.hi-h.lo+1), h.counts[h.lo:h.hi]...)
	c.lo, c.hi = 0, h.hi-h.lo
	return c
}

// histMetric is a hist as a prometheus.Metric: classic buckets (upper
// bounds 2^e for e in classicExps) and native buckets in one series.
type histMetric struct {
	desc        *prometheus.Desc
	labels      []*dto.LabelPair
	h           hist
	classicExps []int
}

func (m histMetric) Desc() *prometheus.Desc { return m.desc }

func (m histMetric) Write(out *dto.Metric) error {
	h := m.h
	d := &dto.Histogram{
		SampleCount:   proto.Uint64(h.count),
		SampleSum:     proto.Float64(h.sum),
		Schema:        proto.Int32(schema),
		ZeroThreshold: proto.Float64(zeroThreshold),
		ZeroCount:     proto.Uint64(h.zero),
	}
	// Classic buckets: cumulative counts up to each 2^e.
	d.Bucket = make([]*dto.Bucket, 0, len(m.classicExps))
	cum, i := h.zero, 0
	for _, e := range m.classicExps {
		for ; i < len(h.counts) && h.minKey+i <= e*bucketsPerExp; i++ {
			cum += h.counts[i]
		}
		d.Bucket = append(d.Bucket, &dto.Bucket{CumulativeCount: proto.Uint64(cum), UpperBound: proto.Float64(math.Ldexp(1, e))})
	}
	// Native buckets: spans of consecutive non-empty buckets, counts as
	// deltas from the previous bucket.
	d.PositiveDelta = make([]int64, 0, len(h.counts))
	var prev int64
	last := 0 // key after the previous span
	first := true
	for i, c := range h.counts {
		if c == 0 {
			continue
		}
		k := h.minKey + i
		switch {
		case first:
			d.PositiveSpan = append(d.PositiveSpan, &dto.BucketSpan{Offset: proto.Int32(int32(k)), Length: proto.Uint32(0)})
		case k != last:
			d.PositiveSpan = append(d.PositiveSpan, &dto.BucketSpan{Offset: proto.Int32(int32(k - last)), Length: proto.Uint32(0)})
		}
		first = false
		sp := d.PositiveSpan[len(d.PositiveSpan)-1]
		*sp.Length++
		d.PositiveDelta = append(d.PositiveDelta, int64(c)-prev)
		prev, last = int64(c), k+1
	}
	if len(d.PositiveSpan) == 0 && h.zero == 0 {
		// An empty native histogram still says it is one (as client_golang does).
		d.PositiveSpan = []*dto.BucketSpan{{Offset: proto.Int32(0), Length: proto.Uint32(0)}}
	}
	out.Label = m.labels
	out.Histogram = d
	return nil
}
