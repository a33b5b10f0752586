package tui

import (
	"sort"
	"time"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// point is one sample of one interface, as the graphs and the list use it:
// the numbers are the sample's own, nothing is recomputed from counters.
type point struct {
	end    time.Time
	dur    time.Duration
	rx, tx dirPoint
	lost   int
}

// dirPoint is one direction of a point.
type dirPoint struct {
	avg    float64 // the sample's rate (bytes/s over its interval)
	peak   float64 // the busiest bin's rate; the rate itself without bins
	bursts int     // bursts that started in the sample (internal/bursts)
	util   float64 // average rate / link speed; 0 when unknown
}

// iface is one interface's state: its latest sample and its recent points.
type iface struct {
	name  string // shown: the interface's name, @netns when it has one
	key   stats.Key
	index int
	last  stats.InterfaceSample
	// base is the counters at the first sample, for the totals of a backend
	// whose counters do not start at zero with netwatch (procfs, sysctl).
	base   stats.Counters
	points []point // oldest first, trimmed to the history span
	seen   time.Time
}

func newPoint(s stats.Sample, is stats.InterfaceSample) point {
	p := point{
		end:  s.Time,
		dur:  s.Interval,
		rx:   dirPoint{avg: is.RxBytesPerSec, peak: is.RxBytesPerSec},
		tx:   dirPoint{avg: is.TxBytesPerSec, peak: is.TxBytesPerSec},
		lost: is.LostBins,
	}
	if sum := is.Summary; sum != nil {
		p.rx.peak = max(sum.Rx.PeakBytesPerSec, p.rx.avg)
		p.tx.peak = max(sum.Tx.PeakBytesPerSec, p.tx.avg)
		p.rx.bursts, p.tx.bursts = sum.Rx.Bursts, sum.Tx.Bursts
		p.rx.util, p.tx.util = sum.Rx.Utilization, sum.Tx.Utilization
	}
	return p
}

// history holds every interface seen, by ifindex, and what the samples say
// about the source.
type history struct {
	span   time.Duration
	ifaces map[stats.Key]*iface
	order  []*iface // by ifindex
	now    time.Time
	src    stats.Source
	res    time.Duration // resolution of the latest sample
	ival   time.Duration // interval of the latest sample
	bins   bool          // the latest sample carried bin summaries (peaks)
	thresh float64       // burst threshold of the latest sample, 0: off
	link   map[stats.Key]float64
	n      int // samples taken
}

func newHistory(span time.Duration) *history {
	return &history{span: span, ifaces: make(map[stats.Key]*iface), link: make(map[stats.Key]float64)}
}

// add takes one sample. Interfaces missing from it are gone.
func (h *history) add(s stats.Sample) {
	h.n++
	h.now, h.src, h.res, h.ival = s.Time, s.Source, s.Resolution, s.Interval
	h.bins, h.thresh = false, 0
	alive := make(map[stats.Key]bool, len(s.Interfaces))
	for _, is := range s.Interfaces {
		key := stats.KeyOf(is.Netns, is.Index, is.Name)
		alive[key] = true
		f := h.ifaces[key]
		if f == nil {
			f = &iface{key: key, index: is.Index, base: is.Counters, seen: s.Time}
			h.ifaces[key] = f
		}
		f.name, f.last = is.Name, is
		if is.Netns != "" {
			f.name += "@" + is.Netns
		}
		if sum := is.Summary; sum != nil {
			h.bins = true
			h.thresh = max(h.thresh, sum.BurstThreshold)
			h.link[key] = sum.LinkBytesPerSec
		}
		f.points = append(f.points, newPoint(s, is))
		cut := 0
		for cut < len(f.points) && !f.points[cut].end.After(s.Time.Add(-h.span)) {
			cut++
		}
		if cut > 0 {
			f.points = append(f.points[:0], f.points[cut:]...)
		}
	}
	for key := range h.ifaces {
		if !alive[key] {
			delete(h.ifaces, key)
			delete(h.link, key)
		}
	}
	h.order = h.order[:0]
	for _, f := range h.ifaces {
		h.order = append(h.order, f)
	}
	sort.Slice(h.order, func(i, j int) bool {
		if h.order[i].key.Netns != h.order[j].key.Netns {
			return h.order[i].key.Netns < h.order[j].key.Netns
		}
		if h.order[i].index != h.order[j].index {
			return h.order[i].index < h.order[j].index
		}
		return h.order[i].name < h.order[j].name
	})
}

// total is the bytes counted since netwatch started: the ebpf backend's
// counters start at attach; the others count since boot, so their first
// sample's counters are subtracted.
func (h *history) total(f *iface) stats.Counters {
	if h.src.Backend == "ebpf" {
		return f.last.Counters
	}
	d, ok := stats.Delta(f.base, f.last.Counters)
	if !ok {
		f.base = f.last.Counters // reset or recreated: count again from here
		return stats.Counters{}
	}
	return d
}

// window summarises one direction of f over the history span: the
// time-weighted average rate, the peak bin and the bursts.
func (h *history) window(f *iface, tx bool) (avg, peak float64, bursts int) {
	var sum, secs float64
	for _, p := range f.points {
		d := p.rx
		if tx {
			d = p.tx
		}
		sum += d.avg * p.dur.Seconds()
		secs += p.dur.Seconds()
		peak = max(peak, d.peak)
		bursts += d.bursts
	}
	if secs > 0 {
		avg = sum / secs
	}
	return avg, peak, bursts
}

// column is one graph column: the peak bin and the average rate of the
// time slice it covers, and the bursts of the samples in it.
type column struct {
	peak, avg float64
	bursts    int
	has       bool
}

// columns divides the last span into n slices ending at the newest sample
// and returns one column per slice. A sample counts in every slice its
// interval overlaps: a sample coarser than a slice fills several columns
// (the graph cannot be sharper than the samples); a slice holding several
// samples shows the busiest bin of them all, so a one-bin burst stays
// visible however many samples share its column.
func (h *history) columns(f *iface, tx bool, n int) []column {
	cols := make([]column, n)
	if n <= 0 || f == nil {
		return cols
	}
	right := h.now
	left := right.Add(-h.span)
	slice := float64(h.span) / float64(n)
	weight := make([]float64, n)
	for _, p := range f.points {
		d := p.rx
		if tx {
			d = p.tx
		}
		ps, pe := float64(p.end.Add(-p.dur).Sub(left)), float64(p.end.Sub(left))
		if pe <= 0 || ps >= float64(h.span) {
			continue
		}
		first := max(0, int(ps/slice))
		for i := first; i < n; i++ {
			cs, ce := float64(i)*slice, float64(i+1)*slice
			if cs >= pe {
				break
			}
			ov := min(ce, pe) - max(cs, ps)
			if ov <= 0 {
				continue
			}
			c := &cols[i]
			c.has = true
			c.peak = max(c.peak, d.peak)
			c.avg += d.avg * ov
			weight[i] += ov
			c.bursts += d.bursts
		}
	}
	for i := range cols {
		if weight[i] > 0 {
			cols[i].avg /= weight[i]
		}
	}
	return cols
}
