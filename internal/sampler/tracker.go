package sampler

import (
	"log/slog"
	"time"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// ifaceKey identifies an interface across reads: its ifindex, which a rename
// keeps. Sources that cannot tell the index (0) fall back to the name.
type ifaceKey struct {
	index int
	name  string
}

func keyOf(name string, index int) ifaceKey {
	if index != 0 {
		return ifaceKey{index: index}
	}
	return ifaceKey{name: name}
}

// tracker remembers which interfaces have a baseline, so it can tell an
// interface that appeared, vanished, was renamed or reset its counters.
type tracker struct {
	log   *slog.Logger
	known map[ifaceKey]string // interface -> its name at the last read
	// early holds the baselines of interfaces that appeared after the
	// last read, taken by a read between two ticks (see between).
	early map[ifaceKey]earlyBase
}

type earlyBase struct {
	counters stats.Counters
	mono     time.Duration
}

func newTracker(log *slog.Logger) *tracker {
	return &tracker{log: log, known: make(map[ifaceKey]string), early: make(map[ifaceKey]earlyBase)}
}

// between takes a read made between two ticks, when a link event said an
// interface appeared: the interfaces in it that the last tick's read (prev)
// did not have get their baseline here, so that the next tick's sample
// already shows them, with rates over the time since this read.
func (t *tracker) between(prev, mid stats.Snapshot) {
	had := make(map[ifaceKey]bool, len(prev.Interfaces))
	for _, ic := range prev.Interfaces {
		had[keyOf(ic.Name, ic.Index)] = true
	}
	for _, ic := range mid.Interfaces {
		k := keyOf(ic.Name, ic.Index)
		if _, ok := t.early[k]; ok || had[k] {
			continue
		}
		t.early[k] = earlyBase{counters: ic.Counters, mono: mid.Mono}
	}
}

func (t *tracker) baseline(s stats.Snapshot) {
	for _, ic := range s.Interfaces {
		t.known[keyOf(ic.Name, ic.Index)] = ic.Name
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
	before := make(map[ifaceKey]*stats.InterfaceCounters, len(prev.Interfaces))
	for i := range prev.Interfaces {
		before[keyOf(prev.Interfaces[i].Name, prev.Interfaces[i].Index)] = &prev.Interfaces[i]
	}
	seen := make(map[ifaceKey]bool, len(cur.Interfaces))
	for _, ic := range cur.Interfaces {
		k := keyOf(ic.Name, ic.Index)
		seen[k] = true
		p, ok := before[k]
		oldName, known := t.known[k]
		t.known[k] = ic.Name
		base, span, own := stats.Counters{}, dt, time.Duration(0)
		if ok {
			base = p.Counters
		}
		switch e, early := t.early[k]; {
		case !ok && early:
			t.log.Info("interface appeared", "interface", ic.Name, "index", ic.Index)
			base, span = e.counters, cur.Mono-e.mono
			own = span
		case !ok || !known:
			t.log.Info("interface appeared", "interface", ic.Name, "index", ic.Index)
			continue
		case oldName != ic.Name:
			t.log.Info("interface renamed", "interface", ic.Name, "old_name", oldName, "index", ic.Index)
		}
		d, ok := stats.Delta(base, ic.Counters)
		if !ok || span <= 0 {
			t.log.Warn("counters went backwards (reset or wrap); re-baselined", "interface", ic.Name, "index", ic.Index)
			continue
		}
		out.Interfaces = append(out.Interfaces, stats.InterfaceSample{
			Name:     ic.Name,
			Index:    ic.Index,
			Counters: ic.Counters,
			Rates:    stats.RatesOver(d, span),
			Errors:   ic.Errors,
			Interval: own,
		})
	}
	clear(t.early)
	for k, name := range t.known {
		if !seen[k] {
			t.log.Info("interface vanished", "interface", name, "index", k.index)
			delete(t.known, k)
		}
	}
	return out
}
