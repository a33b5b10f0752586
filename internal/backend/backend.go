// Package backend defines the interface every counter source implements and
// picks one: explicitly by name, or automatically with the reason for any
// fallback.
package backend

import (
	"context"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// Backend reads the counters of every selected interface at once.
type Backend interface {
	// Source names the backend and, for ebpf, how it attached.
	Source() stats.Source
	// Read returns the counters of every selected interface, stamped with
	// the CLOCK_MONOTONIC time of the read.
	Read(ctx context.Context) (stats.Snapshot, error)
	// Close releases everything the backend holds (for ebpf: detaches).
	Close() error
}
