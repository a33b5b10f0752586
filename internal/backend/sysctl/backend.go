package sysctl

import "github.com/netwatch-dev/netwatch/internal/stats"

// Backend (defined per platform) reads macOS interface counters with
// sysctl. It holds no kernel resources; Close is a no-op.

// Source reports {Backend: "sysctl"}.
func (b *Backend) Source() stats.Source { return stats.Source{Backend: "sysctl"} }

// Close releases nothing and returns nil.
func (b *Backend) Close() error { return nil }
