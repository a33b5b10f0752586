//go:build !linux

package backend

import (
	"context"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// canFallBack: off Linux any backend that cannot open is skipped by auto.
func canFallBack(string, error) bool { return true }

// hostCheck checks whether the named backend could run: off Linux no backend
// attaches anything, so opening and closing it is the cheapest honest test.
func hostCheck(name string, opts Options) (stats.Source, error) {
	b, err := openNamed(context.Background(), name, opts)
	if err != nil {
		return stats.Source{}, err
	}
	return b.Source(), b.Close()
}

// AttachProblem: nothing attaches off Linux.
func AttachProblem(Plan, Options, int) error { return nil }
