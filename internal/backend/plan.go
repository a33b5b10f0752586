package backend

import (
	"fmt"
	"log/slog"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// Plan is what Open does with a set of options, decided without loading or
// attaching anything: the backend and (for ebpf) the attach mode, and for
// auto why a preferred backend was skipped. `list` shows it; `watch` and
// `snapshot` open it: one decision for all.
type Plan struct {
	Source stats.Source
	// Fallback is empty unless auto skipped a backend; then it names the
	// skipped backend and the reason, in one line.
	Fallback string
}

// Decide picks the backend for opts. auto skips a backend only when it
// cannot run on this host at all (no privileges, a kernel without what it
// needs); an explicitly named backend that cannot run is an error, and so
// is an attach mode named explicitly that the host cannot do. What fails
// later on one interface (a busy XDP hook) is an error of Open, never a
// reason to fall back: see AttachProblem.
func Decide(opts Options) (Plan, error) {
	if err := ValidateName(opts.Name); err != nil {
		return Plan{}, err
	}
	for _, o := range opts.PerNamespace() {
		if err := o.Netns.Check(); err != nil {
			return Plan{}, err
		}
	}
	if opts.Name != Auto {
		src, err := hostCheck(opts.Name, opts)
		if err != nil {
			return Plan{}, fmt.Errorf("%s backend: %w", opts.Name, err)
		}
		return logPlan(Plan{Source: src}), nil
	}
	var reasons []string
	for _, name := range preference {
		src, err := hostCheck(name, opts)
		if err != nil {
			if canFallBack(name, err) {
				reasons = append(reasons, fmt.Sprintf("%s unavailable: %v", name, oneLine(err)))
				continue
			}
			// The host can run it, only not as asked: an error.
			return Plan{}, fmt.Errorf("%s backend: %w", name, err)
		}
		p := Plan{Source: src}
		if len(reasons) > 0 {
			p.Fallback = joinReasons(reasons) + "; using " + name
		}
		return logPlan(p), nil
	}
	return Plan{}, fmt.Errorf("no backend can run: %s", joinReasons(reasons))
}

func logPlan(p Plan) Plan {
	slog.Debug("backend chosen", "backend", p.Source.Backend, "attach", p.Source.Attach, "fallback", p.Fallback)
	return p
}
