//go:build !darwin

package sysctl

import (
	"context"
	"errors"
	"fmt"

	"github.com/netwatch-dev/netwatch/internal/ifsel"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

var errUnsupported = fmt.Errorf("sysctl backend is only available on macOS: %w", errors.ErrUnsupported)

// Backend exists on every system so callers compile; only Open on macOS
// returns one.
type Backend struct{}

// Open fails on every system but macOS with an error wrapping
// errors.ErrUnsupported.
func Open(sel ifsel.Selector) (*Backend, error) { return nil, errUnsupported }

// Read fails on every system but macOS.
func (b *Backend) Read(ctx context.Context) (stats.Snapshot, error) {
	return stats.Snapshot{}, errUnsupported
}
