package sampler

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/netwatch-dev/netwatch/internal/bursts"
	"github.com/netwatch-dev/netwatch/internal/clock"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

// BinReader is the part of a backend with in-kernel time bins the sampler
// needs: the bins give the rates, Read gives the cumulative counters (the
// kernel's own, never rebuilt from bins) and the interfaces that exist.
type BinReader interface {
	Reader
	stats.BinSource
}

// BinConfig configures sampling from in-kernel time bins.
type BinConfig struct {
	// Interval is rounded to a whole number of bins (at least one).
	Interval time.Duration
	Count    int
	// Duration bounds the run to MaxSamples(Duration, k bins) samples.
	Duration time.Duration
	Logger   *slog.Logger
	// BurstThreshold returns an interface's burst start threshold in bytes
	// per second (0: no burst detection on it). Nil: no burst detection at
	// all. Thresholds are looked up when an interface is first seen and
	// when it is renamed.
	BurstThreshold func(name string) float64
	// BurstEnd returns an interface's burst end threshold (hysteresis: at
	// most the start threshold; 0 or nil: the start threshold).
	BurstEnd func(name string) float64
	// BurstGap is how many bins in a row at or below the end threshold end
	// a burst (below 1: 1). See internal/bursts for the rules.
	BurstGap int
	// OnBin, when set, is called for every bin of every interface RunBins
	// tracks, in bin order, after the burst detector has seen it.
	OnBin func(Bin)
	// OnBurst, when set, receives every finished burst in the order they
	// end, before the samples of the same read. When RunBins ends without
	// an error it closes the bursts still open (reason "stopped").
	OnBurst func(bursts.Event) error
	// OnPoll, when set, is called after each read of the backend (bins
	// and counters) with how long the read took.
	OnPoll func(time.Duration)
	// LinkSpeed returns an interface's link speed in bytes per second (0:
	// unknown), for utilisation. Nil: unknown.
	LinkSpeed func(name string) float64

	now        func() clock.Reading
	sleepUntil func(ctx context.Context, deadline time.Duration) error
}

// Bin is one in-kernel time bin of one interface, as OnBin receives it.
type Bin struct {
	Interface string
	Index     int
	stats.Labels
	// Number: the bin covers CLOCK_MONOTONIC [Number*Width, (Number+1)*Width).
	Number uint64
	Width  time.Duration
	// Counters are what the bin counted (not cumulative).
	stats.Counters
	// Lost: the kernel overwrote part of the bin before it was read; its
	// counts are a lower bound.
	Lost bool
	// Bursts is the burst detector's verdict (zero when detection is off).
	Bursts bursts.Step
}

// binSettle is how long after a sample's last bin edge the loop reads: the
// backend takes a bin as complete a guard time (1 ms for ebpf) after its
// end. A read that comes too early (the bins are not complete yet) is
// retried after retryEarly.
const (
	binSettle  = time.Millisecond + 200*time.Microsecond
	retryEarly = 500 * time.Microsecond
)

// BinsPerSample is the number of bins each sample covers for interval at
// resolution: the interval rounded to a whole number of bins.
func BinsPerSample(interval, resolution time.Duration) int {
	if resolution <= 0 {
		return 1
	}
	return max(1, int((interval+resolution/2)/resolution))
}

// binIface is one interface's running state, keyed by ifindex. Nothing in
// it grows with the number of bins per sample beyond the summarizer's 1%.
type binIface struct {
	name     string
	index    int
	labels   stats.Labels
	slot     int            // the burst detector's id: unique across namespaces
	counters stats.Counters // the kernel's cumulative counters at the last read
	sum      stats.Counters // what the bins of the sample being built counted
	bins     int            // how many bins of that sample were seen
	lost     int
	started  [2]int            // bursts that started in the sample being built, rx and tx
	complete bool              // the sample started at its first bin (not mid-sample)
	summary  *stats.Summarizer // nil when samples are single bins
}

// RunBins emits one sample per whole group of k = BinsPerSample in-kernel
// bins, aligned to bin edges: the first sample starts at the first bin edge
// after RunBins starts, and each covers the k bins after the previous one.
// Rates and times come from the bins, not from when the poller woke: time is
// the end of the last bin, interval_ns is exactly k bins; idle bins are
// samples too. Cumulative counters are the kernel's, read when the sample is
// emitted: a lost bin makes a sample's rates incomplete, never its totals.
//
// The loop wakes once per sample, just after its last bin completes, or
// more often when the backend's storage holds less than a sample's worth of
// bins (every BinSpan/2).
func RunBins(ctx context.Context, src BinReader, cfg BinConfig, emit func(stats.Sample) error) (err error) {
	width := src.Resolution()
	if width <= 0 {
		return fmt.Errorf("sampler: backend has no time bins")
	}
	if cfg.Interval <= 0 {
		return fmt.Errorf("sampler: interval must be positive, got %v", cfg.Interval)
	}
	k := BinsPerSample(cfg.Interval, width)
	group := time.Duration(k) * width
	if cfg.now == nil {
		cfg.now = clock.Now
	}
	if cfg.sleepUntil == nil {
		sl := clock.NewSleeper(ctx)
		defer sl.Close()
		cfg.sleepUntil = sl.Until
	}
	log := orDiscard(cfg.Logger)
	maxSamples := cfg.Count
	if n := MaxSamples(cfg.Duration, group); n > 0 && (maxSamples == 0 || n < maxSamples) {
		maxSamples = n
	}

	ref := cfg.now()
	e := binEmitter{
		k: k, width: width, ref: ref, log: log, cfg: cfg,
		ifaces: make(map[stats.Key]*binIface),
		slots:  make(map[int]slotInfo),
		// The first sample starts at the first bin edge after now, so that
		// it covers only time the user asked about.
		start: uint64(ref.Mono/width) + 1,
	}
	e.next = e.start
	if cfg.BurstThreshold != nil {
		e.det = bursts.New(bursts.Config{
			Width: width, Gap: cfg.BurstGap, Wall: ref.WallAt,
			Thresholds: func(_ int, name string) bursts.Thresholds {
				th := bursts.Thresholds{Start: cfg.BurstThreshold(name)}
				if cfg.BurstEnd != nil {
					th.End = cfg.BurstEnd(name)
				}
				return th
			},
		})
		defer func() {
			if err == nil {
				e.det.Stop()
				err = e.deliver()
			}
		}()
	}
	// The interfaces at the start, quietly: only later changes are news.
	base, err := src.Read(ctx)
	if err != nil {
		return canceledIsNil(ctx, fmt.Errorf("baseline read: %w", err))
	}
	e.track(base, false)
	lastRead := ref.Mono
	emitted := 0
	for {
		deadline := time.Duration(e.next+uint64(k))*width + binSettle
		if span := src.BinSpan(); span > 0 {
			deadline = min(deadline, lastRead+span/2)
		}
		if now := cfg.now().Mono; deadline <= now && now-lastRead < retryEarly {
			deadline = lastRead + retryEarly // bins not complete yet: no busy loop
		}
		if err := cfg.sleepUntil(ctx, deadline); err != nil {
			return canceledIsNil(ctx, err)
		}
		began := cfg.now().Mono
		bins, err := src.ReadBins()
		if err != nil {
			return canceledIsNil(ctx, fmt.Errorf("read bins: %w", err))
		}
		if bins.Count > 0 && bins.Width != width {
			return fmt.Errorf("sampler: bin width changed from %v to %v", width, bins.Width)
		}
		// Counters after bins: they include every packet of the bins.
		snap, err := src.Read(ctx)
		if err != nil {
			return canceledIsNil(ctx, fmt.Errorf("read: %w", err))
		}
		lastRead = snap.Mono
		if cfg.OnPoll != nil {
			cfg.OnPoll(cfg.now().Mono - began)
		}
		samples := e.add(src.Source(), snap, bins)
		if err := e.deliver(); err != nil {
			return err
		}
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
	next   uint64 // first bin of the sample being built
	ifaces map[stats.Key]*binIface
	det    *bursts.Detector // nil: no burst detection
	// slots maps the detector's ids to the interfaces they stand for, so
	// that events carry the ifindex and labels; retired ids (interfaces
	// gone) are dropped once their events are delivered.
	slots    map[int]slotInfo
	lastSlot int
	retired  []int
}

type slotInfo struct {
	index  int
	labels stats.Labels
}

// deliver hands the bursts that ended to OnBurst.
func (e *binEmitter) deliver() error {
	if e.det == nil {
		return nil
	}
	events := e.det.Take()
	for _, ev := range events {
		if e.cfg.OnBurst == nil {
			continue
		}
		info := e.slots[ev.Index]
		ev.Index, ev.Labels = info.index, info.labels
		if err := e.cfg.OnBurst(ev); err != nil {
			return err
		}
	}
	for _, slot := range e.retired {
		delete(e.slots, slot)
	}
	e.retired = e.retired[:0]
	return nil
}

// vanish ends an interface's bursts: its slot is retired once they are
// delivered.
func (e *binEmitter) vanish(st *binIface) {
	if e.det == nil {
		return
	}
	e.det.Vanish(st.slot)
	e.retired = append(e.retired, st.slot)
	e.lastSlot++
	st.slot = e.lastSlot
	e.slots[st.slot] = slotInfo{index: st.index, labels: st.labels}
}

// startSample resets an interface's state at the first bin of a sample.
func (e *binEmitter) startSample(st *binIface) {
	st.sum, st.bins, st.lost, st.complete = stats.Counters{}, 0, 0, true
	st.started = [2]int{}
	if e.k == 1 {
		return // single-bin samples carry no summary
	}
	var threshold float64
	if e.cfg.BurstThreshold != nil {
		threshold = e.cfg.BurstThreshold(st.name)
	}
	if st.summary == nil {
		st.summary = stats.NewSummarizer(e.k, e.width, threshold)
	}
	st.summary.Reset(threshold)
}

// track updates the interfaces from a read of the backend's counters: the
// interfaces that exist now, their names and their kernel counters. An
// interface is its ifindex; a rename only changes its label.
func (e *binEmitter) track(snap stats.Snapshot, news bool) {
	alive := make(map[stats.Key]bool, len(snap.Interfaces))
	for i := range snap.Interfaces {
		ic := &snap.Interfaces[i]
		k := keyOfCounters(ic)
		alive[k] = true
		st, ok := e.ifaces[k]
		switch {
		case !ok:
			if news {
				e.log.Info("interface appeared", ifaceAttrs(ic)...)
			}
			e.lastSlot++
			st = &binIface{index: ic.Index, name: ic.Name, slot: e.lastSlot}
			e.ifaces[k] = st
		case st.name != ic.Name:
			e.log.Info("interface renamed", ifaceAttrs(ic, "old_name", st.name)...)
			st.name = ic.Name
			if e.det != nil {
				e.det.Rename(st.slot, ic.Name)
			}
		}
		st.labels = ic.Labels
		e.slots[st.slot] = slotInfo{index: st.index, labels: st.labels}
		if _, ok := stats.Delta(st.counters, ic.Counters); !ok {
			// Released and watched again (its counters restarted): a
			// new interface from the next whole sample on.
			e.log.Info("interface counters restarted; re-baselined", ifaceAttrs(ic)...)
			st.complete = false
			e.vanish(st)
		}
		st.counters = ic.Counters
	}
	for k, st := range e.ifaces {
		if !alive[k] {
			e.log.Info("interface vanished", logAttrs(st.name, st.index, k.Netns)...)
			delete(e.ifaces, k)
			e.vanish(st)
			delete(e.slots, st.slot) // the fresh slot vanish made is unused
		}
	}
}

// add takes a read of the counters and a batch of consecutive bins and
// returns the samples the batch completes.
func (e *binEmitter) add(src stats.Source, snap stats.Snapshot, b stats.Bins) []stats.Sample {
	e.track(snap, true)
	var out []stats.Sample
	for i := 0; i < b.Count; i++ {
		bin := b.First + uint64(i)
		if bin < e.next {
			continue
		}
		first := (bin-e.start)%uint64(e.k) == 0
		for _, ib := range b.Interfaces {
			st := e.ifaces[stats.KeyOf(ib.Netns, ib.Index, ib.Name)]
			if st == nil {
				continue // gone by the time its counters were read
			}
			if first {
				e.startSample(st)
			}
			c := ib.Bins[i]
			st.sum = addCounters(st.sum, c)
			st.bins++
			if st.summary != nil {
				st.summary.Add(c)
			}
			lost := ib.Lost != nil && ib.Lost[i]
			if lost {
				st.lost++
			}
			var step bursts.Step
			if e.det != nil {
				step = e.det.Add(st.slot, st.name, bin, c, lost)
				for d, started := range step.Started {
					if started {
						st.started[d]++
					}
				}
			}
			if e.cfg.OnBin != nil {
				e.cfg.OnBin(Bin{Interface: st.name, Index: st.index, Labels: st.labels, Number: bin, Width: e.width, Counters: c, Lost: lost, Bursts: step})
			}
		}
		if (bin+1-e.start)%uint64(e.k) == 0 {
			out = append(out, e.sample(src, bin+1, snap))
			e.next = bin + 1
		}
	}
	return out
}

// sample builds the sample of the group ending at bin edge end, with a row
// for every interface that was watched for the whole group.
func (e *binEmitter) sample(src stats.Source, end uint64, snap stats.Snapshot) stats.Sample {
	groupDur := time.Duration(e.k) * e.width
	s := stats.Sample{
		Time:       e.ref.WallAt(time.Duration(end) * e.width),
		Source:     src,
		Interval:   groupDur,
		Resolution: e.width,
		ExactBins:  true,
		Interfaces: make([]stats.InterfaceSample, 0, len(snap.Interfaces)),
	}
	for i := range snap.Interfaces {
		st := e.ifaces[keyOfCounters(&snap.Interfaces[i])]
		if st == nil || !st.complete || st.bins != e.k {
			continue // appeared mid-sample: shown from its first whole sample
		}
		is := stats.InterfaceSample{
			Name:     st.name,
			Index:    st.index,
			Counters: st.counters,
			Rates:    stats.RatesOver(st.sum, groupDur),
			LostBins: st.lost,
			Labels:   st.labels,
		}
		if st.lost > 0 {
			e.log.Warn("time bins lost: the reader fell behind the kernel's bin storage; this sample's rates are incomplete, its counters exact",
				"interface", st.name, "bins", st.lost)
		}
		if st.summary != nil {
			var link float64
			if e.cfg.LinkSpeed != nil {
				link = e.cfg.LinkSpeed(st.name)
			}
			sum := st.summary.Summary()
			sum.Rx.Bursts, sum.Tx.Bursts = st.started[bursts.Rx], st.started[bursts.Tx]
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
