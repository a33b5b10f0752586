package sampler

import (
	"log/slog"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// tracker remembers which interfaces have a baseline, so it can tell an
// interface that appeared, vanished, was renamed or reset its counters.
type tracker struct {
	log   *slog.Logger
	known map[stats.Key]string // interface -> its name at the last read
}

func newTracker(log *slog.Logger) *tracker {
	return &tracker{log: log, known: make(map[stats.Key]string)}
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
		switch {
		case !ok || !known:
			t.log.Info("interface appeared", ifaceAttrs(&ic)...)
			continue
		case oldName != ic.Name:
			t.log.Info("interface renamed", ifaceAttrs(&ic, "old_name", oldName)...)
		}
		d, ok := stats.Delta(p.Counters, ic.Counters)
		if !ok {
			t.log.Warn("counters went backwards (reset or wrap); re-baselined", ifaceAttrs(&ic)...)
			continue
		}
		out.Interfaces = append(out.Interfaces, stats.InterfaceSample{
			Name:     ic.Name,
			Index:    ic.Index,
			Counters: ic.Counters,
			Rates:    stats.RatesOver(d, dt),
			Errors:   ic.Errors,
			Labels:   ic.Labels,
		})
	}
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
