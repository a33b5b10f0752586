// Package exporter is the Prometheus sink of netwatch serve. The sampler
// loop feeds it (samples, bins, burst events, poll durations); a scrape
// reads what was fed, under a lock, and never touches the kernel. Nothing
// is reset by a scrape, so any number of Prometheus servers see the same
// counters, histograms and gauges at the same moment.
//
// Names and labels follow node_exporter's netdev collector
// (netwatch_network_receive_bytes_total{device="eth0"}, ...), so dashboards
// and alerts written for it carry over.
package exporter

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/netwatch-dev/netwatch/internal/bursts"
	"github.com/netwatch-dev/netwatch/internal/sampler"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

const namespace = "netwatch"

// DefaultPeakWindow is the default window of the peak bin rate gauges.
const DefaultPeakWindow = time.Minute

// peakSlots is how many slots the peak window is kept in: the window moves
// in steps of PeakWindow/peakSlots.
const peakSlots = 60

// Options configures an Exporter.
type Options struct {
	// PeakWindow is the window of the peak bin rate gauges (default 60 s).
	PeakWindow time.Duration
	// Bursts says whether burst detection is on (a burst threshold was
	// given): only then are the burst metrics exposed.
	Bursts bool
	// Netns adds the netns label to every device series (--netns given).
	Netns bool
}

// Exporter holds the state the sampler loop feeds and scrapes read. Its
// methods are safe for concurrent use. Register it (it is a
// prometheus.Collector) with Register, which also adds its histograms.
type Exporter struct {
	opts Options

	pollDur    prometheus.Histogram
	descs      descs
	mu         sync.Mutex
	src        stats.Source
	resolution time.Duration // bin width; 0: no bins
	interval   time.Duration // sample interval (procfs resolution)
	started    bool
	devices    map[stats.Key]*device
	born       uint64 // devices made so far: the newest device has the highest
	lastBin    uint64 // newest bin fed
	bins       uint64 // bins fed (time covered, in bins)
	slotBins   uint64 // bins per peak slot
}

// device is one interface's state, by ifindex.
type device struct {
	name        string
	born        uint64 // Exporter.born when it was made
	labels      stats.Labels
	counters    stats.Counters
	hasCounters bool
	errors      *stats.ErrorCounters
	seen        bool // fed since the last sample (bins or the sample itself)
	lost        uint64
	thresholds  bursts.Thresholds // as of the last burst
	dirs        [2]dirState
}

type dirState struct {
	bursts    uint64
	above     uint64
	rate      hist              // per-bin rates, bytes/s
	burstDur  hist              // burst durations, seconds
	peakSlot  [peakSlots]uint64 // slot number of peak[i]
	peak      [peakSlots]float64
	peakValid [peakSlots]bool
}

type descs struct {
	info, binsEnabled, peakWindow                                     *prometheus.Desc
	bytes, packets, errs, drops, bursts, above, peak, threshold, lost [2]*prometheus.Desc
	binsTotal                                                         *prometheus.Desc
	rate, burstDur                                                    [2]*prometheus.Desc
}

// Ranges and classic buckets of the histograms (powers of two, see hist).
var (
	// Bin rates: 1 B/s to 2^40 B/s (8.8 Tbit/s); classic buckets from
	// 4 kB/s to 68.7 GB/s (550 Gbit/s), a factor 4 apart.
	rateExps    = [2]int{0, 40}
	rateClassic = []int{12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36}
	// Burst durations: 61 us to 4.6 hours; classic buckets from 122 us to
	// 4 s, a factor 2 apart.
	durExps    = [2]int{-14, 14}
	durClassic = []int{-13, -12, -11, -10, -9, -8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2}
)

var dirNames = [2]string{"receive", "transmit"}

// New returns an Exporter.
func New(opts Options) *Exporter {
	if opts.PeakWindow <= 0 {
		opts.PeakWindow = DefaultPeakWindow
	}
	e := &Exporter{opts: opts, devices: make(map[stats.Key]*device)}
	dev := []string{"device", "container_id"}
	if opts.Netns {
		dev = append(dev, "netns")
	}
	for d, dir := range dirNames {
		e.descs.rate[d] = desc("network_"+dir+"_bin_rate_bytes_per_second",
			"Distribution of the "+dir+" rate of each in-kernel time bin (bytes in the bin / bin width), native and classic buckets. "+
				"_count is the number of bins, _sum times the bin width the bytes they counted.", dev)
		e.descs.burstDur[d] = desc("network_"+dir+"_burst_duration_seconds",
			"Duration of finished "+dir+" bursts (first bin above the threshold to the last bin above the end threshold).", dev)
		e.descs.bytes[d] = desc("network_"+dir+"_bytes_total", "Network device statistic "+dir+"_bytes: the backend's exact cumulative counter (since attach for ebpf, since boot for procfs).", dev)
		e.descs.packets[d] = desc("network_"+dir+"_packets_total", "Network device statistic "+dir+"_packets: the backend's exact cumulative counter.", dev)
		e.descs.errs[d] = desc("network_"+dir+"_errs_total", "Network device statistic "+dir+"_errs (procfs only).", dev)
		e.descs.drops[d] = desc("network_"+dir+"_drop_total", "Network device statistic "+dir+"_drop (procfs only).", dev)
		e.descs.bursts[d] = desc("network_"+dir+"_bursts_total", "Finished "+dir+" bursts (see netwatch README, Bursts).", dev)
		e.descs.above[d] = desc("network_"+dir+"_bins_above_threshold_total", "Time bins whose "+dir+" rate was above the burst threshold; times the bin width: time spent above it.", dev)
		e.descs.peak[d] = desc("network_"+dir+"_peak_bin_rate_bytes_per_second", "The busiest "+dir+" bin's rate over the peak window before the newest bin read (netwatch_peak_window_seconds).", dev)
	}
	e.descs.threshold[0] = desc("network_burst_threshold_bytes_per_second", "The rate above which a bin starts a burst, per device (from its first burst on).", dev)
	e.descs.threshold[1] = desc("network_burst_end_threshold_bytes_per_second", "The rate at or below which bins end a burst, per device (from its first burst on).", dev)
	e.descs.lost[0] = desc("network_lost_bins_total", "Time bins the kernel overwrote before they were read: rates incomplete, counters exact.", dev)
	e.descs.binsTotal = desc("bins_total", "In-kernel time bins read since start (time covered / bin width).", nil)
	e.descs.info = desc("info", "Always 1: the backend, how it attached and the bin width (resolution; procfs: the poll interval).", []string{"backend", "attach", "resolution"})
	e.descs.binsEnabled = desc("time_bins_enabled", "1 when in-kernel time bins feed the histograms, peak and burst metrics; 0 (procfs, --resolution 0): counters only.", nil)
	e.descs.peakWindow = desc("peak_window_seconds", "The window of the peak bin rate gauges.", nil)
	e.pollDur = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: namespace, Name: "poll_duration_seconds",
		Help:                            "How long each read of the backend took (bins and counters).",
		Buckets:                         prometheus.ExponentialBuckets(1e-6, 4, 12), // 1us .. 4s
		NativeHistogramBucketFactor:     1.1,
		NativeHistogramMaxBucketNumber:  160,
		NativeHistogramMinResetDuration: time.Hour,
	})
	return e
}

func desc(name, help string, labels []string) *prometheus.Desc {
	return prometheus.NewDesc(namespace+"_"+name, help, labels, nil)
}

// Register registers the Exporter and its histograms with r.
func (e *Exporter) Register(r prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{e, e.pollDur} {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// Started records what the sampler runs on: the backend, the bin width
// (0: no bins) and the sample interval.
func (e *Exporter) Started(src stats.Source, resolution, interval time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.src, e.resolution, e.interval, e.started = src, resolution, interval, true
	if resolution > 0 {
		e.slotBins = max(1, uint64(e.opts.PeakWindow/peakSlots/resolution))
	}
}

// Poll records how long a read of the backend took.
func (e *Exporter) Poll(d time.Duration) { e.pollDur.Observe(d.Seconds()) }

func (e *Exporter) device(index int, name string, labels stats.Labels) *device {
	k := stats.KeyOf(labels.Netns, index, name)
	dv := e.devices[k]
	if dv != nil {
		// An interface is its index: a rename (or a container label
		// found later) only changes the labels. The series under the
		// old labels end; those under the new ones start with the
		// values they had (the counters go on, as in watch and
		// record), so rate() and increase() over the new series see
		// no reset and no jump.
		dv.name, dv.labels = name, labels
	} else {
		e.born++
		dv = &device{name: name, born: e.born, labels: labels}
		if e.resolution > 0 {
			for d := range dv.dirs {
				dv.dirs[d].rate = newHist(rateExps[0], rateExps[1])
				if e.opts.Bursts {
					dv.dirs[d].burstDur = newHist(durExps[0], durExps[1])
				}
			}
		}
		e.devices[k] = dv
	}
	return dv
}

// Bin takes one bin of one interface (sampler.BinConfig.OnBin).
func (e *Exporter) Bin(b sampler.Bin) {
	rate := [2]float64{float64(b.RxBytes), float64(b.TxBytes)}
	perSec := 1 / b.Width.Seconds()
	e.mu.Lock()
	defer e.mu.Unlock()
	dv := e.device(b.Index, b.Interface, b.Labels)
	dv.seen = true
	if e.bins == 0 || b.Number > e.lastBin {
		e.bins++ // the first interface of a new bin
		e.lastBin = b.Number
	}
	if b.Lost {
		dv.lost++
	}
	slot := b.Number / max(1, e.slotBins)
	for d := range dv.dirs {
		ds := &dv.dirs[d]
		r := rate[d] * perSec
		ds.rate.observe(r)
		if b.Bursts.Above[d] {
			ds.above++
		}
		i := slot % peakSlots
		if !ds.peakValid[i] || ds.peakSlot[i] != slot {
			ds.peakSlot[i], ds.peak[i], ds.peakValid[i] = slot, r, true
		} else if r > ds.peak[i] {
			ds.peak[i] = r
		}
	}
}

// Burst takes a finished burst (sampler.BinConfig.OnBurst).
func (e *Exporter) Burst(ev bursts.Event) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	dv := e.device(ev.Index, ev.Interface, ev.Labels)
	dv.thresholds = ev.Thresholds
	ds := &dv.dirs[ev.Direction]
	ds.bursts++
	if ds.burstDur.used() {
		ds.burstDur.observe(ev.Duration.Seconds())
	}
	return nil
}

// Sample takes a sample (the counters of every interface); interfaces
// that are neither in it nor fed bins since the previous one are gone.
func (e *Exporter) Sample(s stats.Sample) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, is := range s.Interfaces {
		dv := e.device(is.Index, is.Name, is.Labels)
		dv.counters, dv.hasCounters, dv.errors, dv.seen = is.Counters, true, is.Errors, true
	}
	for k, dv := range e.devices {
		if !dv.seen {
			delete(e.devices, k)
			continue
		}
		dv.seen = false
	}
	return nil
}

// Describe implements prometheus.Collector. The Exporter is an unchecked
// collector: which series exist depends on the interfaces.
func (e *Exporter) Describe(chan<- *prometheus.Desc) {}

// snapshot is what a scrape needs, copied under the lock.
type snapshot struct {
	src        stats.Source
	resolution time.Duration
	interval   time.Duration
	started    bool
	bins       uint64
	devices    []devSnap
}

type devSnap struct {
	name        string
	born        uint64
	values      []string // label values: device, container_id[, netns]
	counters    stats.Counters
	hasCounters bool
	errors      *stats.ErrorCounters
	lost        uint64
	start, end  float64
	bursts      [2]uint64
	above       [2]uint64
	peak        [2]float64
	rate, dur   [2]hist
}

func (e *Exporter) snapshot() snapshot {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := snapshot{src: e.src, resolution: e.resolution, interval: e.interval, started: e.started, bins: e.bins,
		devices: make([]devSnap, 0, len(e.devices))}
	// The peak window: the slots that end within PeakWindow of the newest
	// bin read, the same for every scrape until the next bin is fed.
	var newest uint64
	if e.slotBins > 0 {
		newest = e.lastBin / e.slotBins
	}
	for _, dv := range e.devices {
		ds := devSnap{name: dv.name, born: dv.born, values: e.labelValues(dv), counters: dv.counters, hasCounters: dv.hasCounters, errors: dv.errors, lost: dv.lost}
		ds.start, ds.end = dv.thresholds.Start, dv.thresholds.End
		for d := range dv.dirs {
			st := &dv.dirs[d]
			ds.bursts[d], ds.above[d] = st.bursts, st.above
			if st.rate.used() {
				ds.rate[d] = st.rate.clone()
			}
			if st.burstDur.used() {
				ds.dur[d] = st.burstDur.clone()
			}
			for i := range peakSlots {
				if st.peakValid[i] && st.peakSlot[i]+peakSlots > newest {
					ds.peak[d] = max(ds.peak[d], st.peak[i])
				}
			}
		}
		s.devices = append(s.devices, ds)
	}
	slices.SortFunc(s.devices, func(a, b devSnap) int {
		if c := slices.Compare(a.values, b.values); c != 0 {
			return c
		}
		return cmp.Compare(b.born, a.born) // the newest first
	})
	// Two devices with the same labels: an interface deleted and created
	// again under its name (or renamed to a name another one just left),
	// for the moment between the new one's first bin and the sample that
	// drops the old one. Series must be unique: the newest has them.
	s.devices = slices.CompactFunc(s.devices, func(a, b devSnap) bool { return slices.Equal(a.values, b.values) })
	return s
}

// Collect implements prometheus.Collector: it copies the state under the
// lock and builds the metrics from the copy.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	s := e.snapshot()
	if !s.started {
		return
	}
	res := s.interval
	if s.resolution > 0 {
		res = s.resolution
	}
	ch <- prometheus.MustNewConstMetric(e.descs.info, prometheus.GaugeValue, 1, s.src.Backend, s.src.Attach, res.String())
	bins := 0.0
	if s.resolution > 0 {
		bins = 1
	}
	ch <- prometheus.MustNewConstMetric(e.descs.binsEnabled, prometheus.GaugeValue, bins)
	if s.resolution > 0 {
		ch <- prometheus.MustNewConstMetric(e.descs.peakWindow, prometheus.GaugeValue, e.opts.PeakWindow.Seconds())
		ch <- prometheus.MustNewConstMetric(e.descs.binsTotal, prometheus.CounterValue, float64(s.bins))
	}
	for _, dv := range s.devices {
		if dv.hasCounters {
			c := dv.counters
			ch <- prometheus.MustNewConstMetric(e.descs.bytes[0], prometheus.CounterValue, float64(c.RxBytes), dv.values...)
			ch <- prometheus.MustNewConstMetric(e.descs.packets[0], prometheus.CounterValue, float64(c.RxPackets), dv.values...)
			ch <- prometheus.MustNewConstMetric(e.descs.bytes[1], prometheus.CounterValue, float64(c.TxBytes), dv.values...)
			ch <- prometheus.MustNewConstMetric(e.descs.packets[1], prometheus.CounterValue, float64(c.TxPackets), dv.values...)
		}
		if er := dv.errors; er != nil {
			ch <- prometheus.MustNewConstMetric(e.descs.errs[0], prometheus.CounterValue, float64(er.RxErrors), dv.values...)
			ch <- prometheus.MustNewConstMetric(e.descs.drops[0], prometheus.CounterValue, float64(er.RxDrops), dv.values...)
			ch <- prometheus.MustNewConstMetric(e.descs.errs[1], prometheus.CounterValue, float64(er.TxErrors), dv.values...)
			ch <- prometheus.MustNewConstMetric(e.descs.drops[1], prometheus.CounterValue, float64(er.TxDrops), dv.values...)
		}
		if s.resolution <= 0 {
			continue
		}
		ch <- prometheus.MustNewConstMetric(e.descs.lost[0], prometheus.CounterValue, float64(dv.lost), dv.values...)
		labels := prometheus.MakeLabelPairs(e.descs.rate[0], dv.values)
		for d := range 2 {
			if dv.rate[d].used() {
				ch <- histMetric{desc: e.descs.rate[d], labels: labels, h: dv.rate[d], classicExps: rateClassic}
			}
			if dv.dur[d].used() {
				ch <- histMetric{desc: e.descs.burstDur[d], labels: labels, h: dv.dur[d], classicExps: durClassic}
			}
			ch <- prometheus.MustNewConstMetric(e.descs.peak[d], prometheus.GaugeValue, dv.peak[d], dv.values...)
			if e.opts.Bursts {
				ch <- prometheus.MustNewConstMetric(e.descs.bursts[d], prometheus.CounterValue, float64(dv.bursts[d]), dv.values...)
				ch <- prometheus.MustNewConstMetric(e.descs.above[d], prometheus.CounterValue, float64(dv.above[d]), dv.values...)
			}
		}
		if e.opts.Bursts && dv.start > 0 { // known from the first burst on
			ch <- prometheus.MustNewConstMetric(e.descs.threshold[0], prometheus.GaugeValue, dv.start, dv.values...)
			ch <- prometheus.MustNewConstMetric(e.descs.threshold[1], prometheus.GaugeValue, dv.end, dv.values...)
		}
	}
}

// labelValues are a device's label values, in the descs' order.
func (e *Exporter) labelValues(dv *device) []string {
	v := []string{dv.name, dv.labels.Container}
	if e.opts.Netns {
		v = append(v, dv.labels.Netns)
	}
	return v
}
