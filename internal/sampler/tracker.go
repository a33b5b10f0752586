package sampler

import (
	"log/slog"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// tracker remembers which interfaces have a baseline, so it can tell an
// interface that appeared, vanished, was recreated or reset its counters.
type tracker struct {
	log   *slog.Logger
	known map[string]int // name -> ifindex of the baseline
}

func newTracker(log *slog.Logger) *tracker {
	return &tracker{log: log, known: make(map[string]int)}
}

func (t *tracker) baseline(s stats.Snapshot) {
	for _, ic := range s.Interfaces {
		t.known[ic.Name] = ic.Index
	}
}

// next builds the sample between two consecutive snapshots. An interface
// gets a row only when it has a valid baseline in prev: one that just
// appeared, was recreated under the same name, or whose counters went
// backwards is re-baselined and shows up from the next sample on. One that
// vanished is dropped.
func (t *tracker) next(src stats.Source, prev, cur stats.Snapshot) stats.Sample {
	dt := cur.Mono - prev.Mono
	out := stats.Sample{
		Time:       cur.Wall,
		Source:     src,
		Interval:   dt,
		Resolution: dt,
		Interfaces: make([]stats.InterfaceSample, 0, len(cur.Interfaces)),
	}
	before := make(map[string]*stats.InterfaceCounters, len(prev.Interfaces))
	for i := range prev.Interfaces {
		before[prev.Interfaces[i].Name] = &prev.Interfaces[i]
	}
	seen := make(map[string]bool, len(cur.Interfaces))
	for _, ic := range cur.Interfaces {
		seen[ic.Name] = true
		p, ok := before[ic.Name]
		idx, known := t.known[ic.Name]
		t.known[ic.Name] = ic.Index
		switch {
		case !ok || !known:
			t.log.Info("interface appeared", "interface", ic.Name, "index", ic.Index)
			continue
		case idx != ic.Index:
			t.log.Info("interface recreated; re-baselined", "interface", ic.Name, "old_index", idx, "index", ic.Index)
			continue
		}
		d, ok := stats.Delta(p.Counters, ic.Counters)
		if !ok {
			t.log.Warn("counters went backwards (reset or wrap); re-baselined", "interface", ic.Name)
			continue
		}
		out.Interfaces = append(out.Interfaces, stats.InterfaceSample{
			Name:     ic.Name,
			Index:    ic.Index,
			Counters: ic.Counters,
			Rates:    stats.RatesOver(d, dt),
			Errors:   ic.Errors,
		})
	}
	for name := range t.known {
		if !seen[name] {
			t.log.Info("interface vanished", "interface", name)
			delete(t.known, name)
		}
	}
	return out
}
