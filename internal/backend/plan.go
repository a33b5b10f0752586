package backend

import (
	"fmt"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// Plan says which backend (and, for ebpf, which attach mode) Open would
// use with opts, without loading or attaching anything. fallback explains,
// for auto, why a preferred backend would be skipped. An explicitly named
// backend that cannot run is an error.
func Plan(opts Options) (src stats.Source, fallback string, err error) {
	if err := ValidateName(opts.Name); err != nil {
		return stats.Source{}, "", err
	}
	if opts.Name != Auto {
		src, err := probe(opts.Name, opts)
		if err != nil {
			return stats.Source{}, "", fmt.Errorf("%s backend: %w", opts.Name, err)
		}
		return src, "", nil
	}
	var reasons []string
	for _, name := range preference {
		src, err := probe(name, opts)
		if err == nil {
			if len(reasons) > 0 {
				fallback = joinReasons(reasons) + "; using " + name
			}
			return src, fallback, nil
		}
		reasons = append(reasons, fmt.Sprintf("%s unavailable: %v", name, oneLine(err)))
	}
	return stats.Source{}, "", fmt.Errorf("no backend can run: %s", joinReasons(reasons))
}
