package exporter

import (
	"reflect"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

func TestKey(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want int
	}{
		{1, 0}, {2, 8}, {1024, 80}, {0.5, -8}, {1.0001, 1}, {2 * bounds[1], 1}, {2 * bounds[1] * 1.0001, 2}, {1000, 80}, {1e6, 160}, {3, 13},
	} {
		if got := key(c.v); got != c.want {
			t.Errorf("key(%v) = %d, want %d", c.v, got, c.want)
		}
	}
}

// Classic and native buckets come from one set of counts and agree: the
// classic count at le=2^e is the zero bucket plus every native bucket up
// to key 8e.
func TestHistWrite(t *testing.T) {
	h := newHist(0, 40)
	for _, v := range []float64{0, 0, 1000, 1024, 1500, 4096, 5000, 1e6, 1e6, 1e6, 3e12} {
		h.observe(v)
	}
	var m dto.Metric
	if err := (histMetric{h: h.clone(), classicExps: []int{10, 12, 20, 41}}).Write(&m); err != nil {
		t.Fatal(err)
	}
	d := m.GetHistogram()
	if d.GetSampleCount() != 11 || d.GetZeroCount() != 2 || d.GetSchema() != 3 {
		t.Fatalf("count %d zero %d schema %d", d.GetSampleCount(), d.GetZeroCount(), d.GetSchema())
	}
	var classic []uint64
	for _, b := range d.GetBucket() {
		classic = append(classic, b.GetCumulativeCount())
	}
	// <=1024: 0,0,1000,1024; <=4096: +1500,4096; <=2^20: +5000, 1e6 x3; 3e12 is
	// clamped into the last native bucket (2^40), below 2^41.
	if want := []uint64{4, 6, 10, 11}; !reflect.DeepEqual(classic, want) {
		t.Errorf("classic cumulative counts %v, want %v", classic, want)
	}
	// Expand the native buckets back to (key, count).
	got := map[int]int64{}
	k, count := 0, int64(0)
	di := 0
	for _, sp := range d.GetPositiveSpan() {
		k += int(sp.GetOffset())
		for range sp.GetLength() {
			count += d.GetPositiveDelta()[di]
			di++
			got[k] = count
			k++
		}
	}
	want := map[int]int64{80: 2, 85: 1, 96: 1, 99: 1, 160: 3, 320: 1} // 1000 and 1024 share bucket 80
	if !reflect.DeepEqual(got, want) {
		t.Errorf("native buckets %v, want %v", got, want)
	}
	var empty dto.Metric
	e := newHist(0, 40)
	if err := (histMetric{h: e.clone()}).Write(&empty); err != nil || len(empty.GetHistogram().GetPositiveSpan()) != 1 {
		t.Errorf("an empty histogram must still carry a span (native): %v %v", empty.GetHistogram(), err)
	}
}
