//go:build !linux

package backend

import (
	"context"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// probe checks whether the named backend could run: off Linux no backend
// attaches anything, so opening and closing it is the cheapest honest test.
func probe(name string, opts Options) (stats.Source, error) {
	b, err := openNamed(context.Background(), name, opts)
	if err != nil {
		return stats.Source{}, err
	}
	return b.Source(), b.Close()
}
