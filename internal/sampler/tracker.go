package sampler

import (
	"log/slog"
	"time"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// tracker remembers which interfaces have a baseline, so it can tell an
// interface that appeared, vanished, was renamed or reset its counters.
type tracker struct {
	log   *slog.Logger
	known map[stats.Key]string // interface -> its name at the last read
	// early holds the baselines of interfaces that appeared after the
	// last read, taken by a read between two ticks (see between).
	early map[stats.Key]earlyBase
}

type earlyBase struct {
	counters stats.Counters
	mono     time.Duration
}

func newTracker(log *slog.Logger) *tracker {
	return &tracker{log: log, known: make(map[stats.Key]string), early: make(map[stats.Key]earlyBase)}
}

// between takes a read made between two ticks, when a link event said an
// interface appeared: the interfaces in it that the last tick's read (prev)
// did not have get their baseline here, so that the next tick's sample
// already shows them, with rates over the time since this read.
func (t *tracker) between(prev, mid stats.Snapshot) {
	had := make(map[stats.Key]bool, len(prev.Interfaces))
	for i := range prev.Interfaces {
		had[keyOfCounters(&prev.Interfaces[i])] = true
	}
	for i := range mid.Interfaces {
		k := keyOfCounters(&mid.Interfaces[i])
		if _, ok := t.early[k]; ok || (had[k] && !mid.Interfaces[i].Appeared) {
			continue
		}
		t.early[k] = earlyBase{counters: mid.Interfaces[i].Counters, mono: mid.Mono}
	}
}

func (t *tracker) baseline(s stats.Snapshot) {
	for _, ic := range s.Interfaces {
		t.known[keyOfCounters(&ic)] = ic.Name
	}
}

// next builds the sample between two consecutive snapshots. An interface is
// its ifindex: a rename keeps its counters and its row (under the new name).
// An interface gets a row only when it has a valid baseline in prev: one
// that just appeared, or whose counters went backwards, is re-baselined and
// shows up from the next sample on. One that vanished is dropped.
func (t *tracker) next(src stats.Source, prev, cur stats.Snapshot) stats.Sample {
	dt := cur.Mono - prev.Mono
	out := stats.Sample{
		Time:       cur.Wall,
		Source:     src,
		Interval:   dt,
		Resolution: dt,
		Interfaces: make([]stats.InterfaceSample, 0, len(cur.Interfaces)),
	}
	before := make(map[stats.Key]*stats.InterfaceCounters, len(prev.Interfaces))
	for i := range prev.Interfaces {
		before[keyOfCounters(&prev.Interfaces[i])] = &prev.Interfaces[i]
	}
	seen := make(map[stats.Key]bool, len(cur.Interfaces))
	for _, ic := range cur.Interfaces {
		k := keyOfCounters(&ic)
		seen[k] = true
		p, ok := before[k]
		oldName, known := t.known[k]
		t.known[k] = ic.Name
		base, span, own := stats.Counters{}, dt, time.Duration(0)
		if ok {
			base = p.Counters
		}
		switch e, early := t.early[k]; {
		case early:
			// Appeared since the last read (also under an index it
			// had: moved away and back): its baseline is the read its
			// link event triggered.
			t.log.Info("interface appeared", ifaceAttrs(&ic)...)
			base, span = e.counters, cur.Mono-e.mono
			own = span
		case !ok || !known || ic.Appeared:
			t.log.Info("interface appeared", ifaceAttrs(&ic)...)
			continue
		case oldName != ic.Name:
			t.log.Info("interface renamed", ifaceAttrs(&ic, "old_name", oldName)...)
		}
		d, ok := stats.Delta(base, ic.Counters)
		if !ok || span <= 0 {
			t.log.Warn("counters went backwards (reset or wrap); re-baselined", ifaceAttrs(&ic)...)
			continue
		}
		out.Interfaces = append(out.Interfaces, stats.InterfaceSample{
			Name:     ic.Name,
			Index:    ic.Index,
			Counters: ic.Counters,
			Rates:    stats.RatesOver(d, span),
			Errors:   ic.Errors,
			Labels:   ic.Labels,
			Interval: own,
		})
	}
	clear(t.early)
	for k, name := range t.known {
		if !seen[k] {
			t.log.Info("interface vanished", logAttrs(name, k.Index, k.Netns)...)
			delete(t.known, k)
		}
	}
	return out
}

func keyOfCounters(ic *stats.InterfaceCounters) stats.Key {
	return stats.KeyOf(ic.Netns, ic.Index, ic.Name)
}

// ifaceAttrs are the log attributes that name an interface: its name, then
// extra, then its index and namespace.
func ifaceAttrs(ic *stats.InterfaceCounters, extra ...any) []any {
	return logAttrs(ic.Name, ic.Index, ic.Netns, extra...)
}

func logAttrs(name string, index int, netns string, extra ...any) []any {
	a := append([]any{"interface", name}, extra...)
	a = append(a, "index", index)
	if netns != "" {
		a = append(a, "netns", netns)
	}
	return a
}
