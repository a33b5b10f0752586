//go:build !linux

package netlink

import (
	"context"
	"errors"

	"github.com/netwatch-dev/netwatch/internal/ifsel"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

// Options configure the netlink backend.
type Options struct {
	Selector ifsel.Selector
}

// Backend is Linux-only.
type Backend struct{}

// ErrNotLinux is returned by Open off Linux.
var ErrNotLinux = errors.New("netlink: rtnetlink needs Linux")

// Open fails: rtnetlink is Linux's.
func Open(Options) (*Backend, error) { return nil, ErrNotLinux }

// Source implements backend.Backend.
func (*Backend) Source() stats.Source { return stats.Source{Backend: Name} }

// Read implements backend.Backend.
func (*Backend) Read(context.Context) (stats.Snapshot, error) { return stats.Snapshot{}, ErrNotLinux }

// Close implements backend.Backend.
func (*Backend) Close() error { return nil }
