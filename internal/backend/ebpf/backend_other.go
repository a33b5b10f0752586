//go:build !linux

package ebpf

import (
	"context"
	"errors"
	"runtime"
	"time"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// ErrUnsupported is what Open and Probe return off Linux.
var ErrUnsupported = errors.New("ebpf: the eBPF backend needs Linux (this is " + runtime.GOOS + ")")

// Backend is the eBPF backend; off Linux it cannot be opened.
type Backend struct{}

// Open returns ErrUnsupported.
func Open(context.Context, Config) (*Backend, error) { return nil, ErrUnsupported }

// Probe returns ErrUnsupported.
func Probe() error { return ErrUnsupported }

func (b *Backend) Source() stats.Source { return stats.Source{Backend: Name} }
func (b *Backend) Read(context.Context) (stats.Snapshot, error) {
	return stats.Snapshot{}, ErrUnsupported
}
func (b *Backend) Resolution() time.Duration     { return 0 }
func (b *Backend) ReadBins() (stats.Bins, error) { return stats.Bins{}, ErrUnsupported }
func (b *Backend) Close() error                  { return nil }
func (b *Backend) BinSpan() time.Duration        { return 0 }
func (b *Backend) SizeBins(time.Duration, uint64) (string, error) {
	return "", ErrUnsupported
}
