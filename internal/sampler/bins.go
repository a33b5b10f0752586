package sampler

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/netwatch-dev/netwatch/internal/clock"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

// BinReader is the part of a backend with in-kernel time bins the sampler
// needs.
type BinReader interface {
	Source() stats.Source
	stats.BinSource
}

// BinConfig configures sampling from in-kernel time bins.
type BinConfig struct {
	// Interval is rounded to a whole number of bins (at least one).
	Interval time.Duration
	Count    int
	Duration time.Duration
	Logger   *slog.Logger
	// BurstThreshold returns an interface's burst threshold in bytes per
	// second (0: no burst counting). Nil: none.
	BurstThreshold func(name string) float64
	// LinkSpeed returns an interface's link speed in bytes per second (0:
	// unknown), for utilisation. Nil: unknown.
	LinkSpeed func(name string) float64

	// maxPoll bounds the time between ReadBins calls; the kernel's ring
	// must cover at least this much (it covers 100 ms or more).
	maxPoll    time.Duration
	now        func() clock.Reading
	sleepUntil func(ctx context.Context, deadline time.Duration) error
}

// defaultMaxPoll is the longest time between two reads of the kernel's bin
// rings. The rings hold at least 250 ms (ebpf.RingSpan), so a poll may be
// 150 ms late before a bin is lost, and a lost bin is reported. Every
// wake-up costs CPU (on a small VM about 0.3 ms of scheduler time), so the
// poller reads no more often than the samples need, and at least every
// 100 ms.
const defaultMaxPoll = 100 * time.Millisecond

// BinsPerSample is the number of bins each sample covers for interval at
// resolution: the interval rounded to a whole number of bins.
func BinsPerSample(interval, resolution time.Duration) int {
	if resolution <= 0 {
		return 1
	}
	return max(1, int((interval+resolution/2)/resolution))
}

// binIface is one interface's running state. Nothing in it grows with the
// number of bins per sample beyond the summarizer's 1%.
type binIface struct {
	index    int
	cum      stats.Counters // cumulative counters as of the last bin seen
	sum      stats.Counters // what the bins of the sample being built counted
	bins     int            // how many bins of that sample were seen
	lost     int
	complete bool              // the sample started at its first bin (not mid-sample)
	summary  *stats.Summarizer // nil when samples are single bins
}

// RunBins emits one sample per whole group of k = BinsPerSample in-kernel
// bins, aligned to bin edges: the first sample starts at the first bin edge
// after RunBins starts, and each covers the k bins after the previous one.
// Times come from the bins, not from when the poller woke: time is the end
// of the last bin, interval_ns is exactly k bins. Idle bins are samples too.
func RunBins(ctx context.Context, src BinReader, cfg BinConfig, emit func(stats.Sample) error) error {
	width := src.Resolution()
	if width <= 0 {
		return fmt.Errorf("sampler: backend has no time bins")
	}
	if cfg.Interval <= 0 {
		return fmt.Errorf("sampler: interval must be positive, got %v", cfg.Interval)
	}
	k := BinsPerSample(cfg.Interval, width)
	group := time.Duration(k) * width
	if cfg.maxPoll == 0 {
		cfg.maxPoll = defaultMaxPoll
	}
	if cfg.now == nil {
		cfg.now = clock.Now
	}
	if cfg.sleepUntil == nil {
		cfg.sleepUntil = sleepUntil
	}
	log := orDiscard(cfg.Logger)
	maxSamples := cfg.Count
	if cfg.Duration > 0 {
		n := int((cfg.Duration + group - 1) / group)
		if maxSamples == 0 || n < maxSamples {
			maxSamples = n
		}
	}
	poll := min(group, cfg.maxPoll)
	poll = max(poll, width)

	ref := cfg.now()
	e := binEmitter{
		k: k, width: width, ref: ref, log: log, cfg: cfg,
		ifaces: make(map[string]*binIface),
		// The first sample starts at the first bin edge after now, so that
		// it covers only time the user asked about.
		start: uint64(ref.Mono/width) + 1,
	}
	emitted := 0
	for tick := 1; ; tick++ {
		var deadline time.Duration
		tick, deadline = onGrid(ref.Mono, poll, tick, cfg.now().Mono)
		if err := cfg.sleepUntil(ctx, deadline); err != nil {
			return canceledIsNil(ctx, err)
		}
		bins, err := src.ReadBins()
		if err != nil {
			return canceledIsNil(ctx, fmt.Errorf("read bins: %w", err))
		}
		if bins.Width != width {
			return fmt.Errorf("sampler: bin width changed from %v to %v", width, bins.Width)
		}
		samples := e.add(src.Source(), bins)
		for _, s := range samples {
			if err := emit(s); err != nil {
				return err
			}
			emitted++
			if maxSamples > 0 && emitted >= maxSamples {
				return nil
			}
		}
	}
}

type binEmitter struct {
	k      int
	width  time.Duration
	ref    clock.Reading
	log    *slog.Logger
	cfg    BinConfig
	start  uint64 // first bin of the first sample
	ifaces map[string]*binIface
}

// startSample resets an interface's state at the first bin of a sample.
func (e *binEmitter) startSample(name string, st *binIface) {
	st.sum, st.bins, st.lost, st.complete = stats.Counters{}, 0, 0, true
	if e.k == 1 {
		return // single-bin samples carry no summary
	}
	var threshold float64
	if e.cfg.BurstThreshold != nil {
		threshold = e.cfg.BurstThreshold(name)
	}
	if st.summary == nil {
		st.summary = stats.NewSummarizer(e.k, e.width, threshold)
	}
	st.summary.Reset(threshold)
}

// add takes a batch of consecutive bins and returns the samples it
// completes.
func (e *binEmitter) add(src stats.Source, b stats.Bins) []stats.Sample {
	present := make(map[string]bool, len(b.Interfaces))
	for _, ib := range b.Interfaces {
		present[ib.Name] = true
		st, ok := e.ifaces[ib.Name]
		if !ok || st.index != ib.Index {
			if ok {
				e.log.Info("interface recreated", "interface", ib.Name, "index", ib.Index)
			}
			st = &binIface{index: ib.Index}
			e.ifaces[ib.Name] = st
		}
	}
	for name := range e.ifaces {
		if !present[name] {
			e.log.Info("interface vanished", "interface", name)
			delete(e.ifaces, name)
		}
	}
	var out []stats.Sample
	for i := 0; i < b.Count; i++ {
		bin := b.First + uint64(i)
		for _, ib := range b.Interfaces {
			st := e.ifaces[ib.Name]
			c := ib.Bins[i]
			st.cum = addCounters(st.cum, c)
			if bin < e.start {
				continue
			}
			if (bin-e.start)%uint64(e.k) == 0 {
				e.startSample(ib.Name, st)
			}
			st.sum = addCounters(st.sum, c)
			st.bins++
			if st.summary != nil {
				st.summary.Add(c)
			}
			if ib.Lost != nil && ib.Lost[i] {
				st.lost++
			}
		}
		if bin >= e.start && (bin+1-e.start)%uint64(e.k) == 0 {
			out = append(out, e.sample(src, bin+1, b.Interfaces))
		}
	}
	return out
}

// sample builds the sample of the group ending at bin edge end.
func (e *binEmitter) sample(src stats.Source, end uint64, ifaces []stats.InterfaceBins) stats.Sample {
	groupDur := time.Duration(e.k) * e.width
	s := stats.Sample{
		Time:       e.ref.WallAt(time.Duration(end) * e.width),
		Source:     src,
		Interval:   groupDur,
		Resolution: e.width,
		ExactBins:  true,
		Interfaces: make([]stats.InterfaceSample, 0, len(ifaces)),
	}
	for _, ib := range ifaces {
		st := e.ifaces[ib.Name]
		if !st.complete || st.bins != e.k {
			continue // appeared mid-sample: shown from its first whole sample
		}
		is := stats.InterfaceSample{
			Name:     ib.Name,
			Index:    st.index,
			Counters: st.cum,
			Rates:    stats.RatesOver(st.sum, groupDur),
			LostBins: st.lost,
		}
		if st.lost > 0 {
			e.log.Warn("time bins lost: the kernel ring was overwritten before it was read", "interface", ib.Name, "bins", st.lost)
		}
		if st.summary != nil {
			var link float64
			if e.cfg.LinkSpeed != nil {
				link = e.cfg.LinkSpeed(ib.Name)
			}
			sum := st.summary.Summary()
			sum.SetUtilization(link, is.Rates)
			is.Summary = &sum
		}
		s.Interfaces = append(s.Interfaces, is)
	}
	return s
}

func addCounters(a, b stats.Counters) stats.Counters {
	return stats.Counters{
		RxBytes:   a.RxBytes + b.RxBytes,
		RxPackets: a.RxPackets + b.RxPackets,
		TxBytes:   a.TxBytes + b.TxBytes,
		TxPackets: a.TxPackets + b.TxPackets,
	}
}
