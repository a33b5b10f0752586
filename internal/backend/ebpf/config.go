package ebpf

import (
	"github.com/netwatch-dev/netwatch/internal/stats"
	"time"

	"github.com/netwatch-dev/netwatch/internal/backend/ebpf/attach"
	"github.com/netwatch-dev/netwatch/internal/ifsel"
)

// Name is the backend's name in stats.Source.
const Name = "ebpf"

// Config configures Open.
type Config struct {
	// Selector picks the interfaces to watch, now and as they appear.
	Selector ifsel.Selector
	// Attach is how the programs attach: auto (TCX, else legacy tc), tcx,
	// tc, or xdp (XDP for rx, tc egress for tx). Empty means auto.
	Attach attach.Mode
	// XDPMode is where XDP runs with Attach xdp. Empty means driver.
	XDPMode attach.XDPMode
	// Resolution is the width of the in-kernel time bins, from
	// MinResolution to MaxResolution; 0 turns bins off.
	Resolution time.Duration
	// BinsMemory bounds the ring buffer of bin records, in bytes;
	// 0 means DefaultBinsMemory.
	BinsMemory uint64
}

// Backend implements backend.Backend and stats.BinSource.
var _ stats.BinSource = (*Backend)(nil)
