// Package record writes and reads netwatch recordings: the bin stream (or,
// without in-kernel bins, the sample stream) per interface, the burst
// events of the one burst detector, and a metadata block saying where and
// how the recording was made.
//
// # Formats
//
// The format follows the file name:
//   - .parquet: one row per bin and interface (columns time, duration_ns,
//     interface, index, netns, container_id, rx_bytes, rx_packets,
//     tx_bytes, tx_packets, lost),
//     zstd-compressed, with the metadata and the burst events as JSON in the
//     file's key/value metadata (keys "netwatch.meta" and "netwatch.bursts").
//     A Parquet file is only readable once its footer is written, so it is
//     written under a temporary name (NAME.partial) and renamed on Close.
//   - .ndjson, .ndjson.zst, .ndjson.gz: one JSON object per line: a "meta"
//     line, then "bin" and "burst" lines, and an "end" line on Close. Lines
//     are flushed by Flush; a file cut anywhere loses at most what was
//     written since the last Flush, and readers say where it ends.
//
// An interface is its network namespace and ifindex: with --netns A,B or
// --netns all two namespaces may both have "lo" with index 1, and their
// rows stay apart by netns (empty when no namespace was named). Files
// written before netns and container_id existed read back with both empty.
//
// Rows are in time order; time is the start of the bin (or of the sample's
// interval) on the wall clock, UTC, and duration_ns its width. Byte and
// packet counts are what the bin counted, not cumulative.
package record

import (
	"fmt"
	"strings"
	"time"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// Format is a recording's file format.
type Format string

// The formats record writes and reads.
const (
	Parquet   Format = "parquet"
	NDJSON    Format = "ndjson"
	NDJSONZst Format = "ndjson.zst"
	NDJSONGz  Format = "ndjson.gz"
)

// Formats lists every format, in the order help texts show them.
var Formats = []Format{Parquet, NDJSON, NDJSONZst, NDJSONGz}

// Ext is the file name extension of f, with its dot.
func (f Format) Ext() string { return "." + string(f) }

// FormatOf returns the format a file name asks for.
func FormatOf(path string) (Format, error) {
	name := strings.TrimSuffix(path, partialSuffix)
	for _, f := range []Format{NDJSONZst, NDJSONGz, NDJSON, Parquet} {
		if strings.HasSuffix(name, f.Ext()) {
			return f, nil
		}
	}
	return "", fmt.Errorf("%s: unknown format: the name must end in .parquet, .ndjson, .ndjson.zst or .ndjson.gz", path)
}

// partialSuffix marks a Parquet file still being written.
const partialSuffix = ".partial"

// Stream kinds: what a recording's rows are.
const (
	StreamBins    = "bins"    // in-kernel time bins, one row per bin and interface
	StreamSamples = "samples" // polled samples, one row per sample and interface
)

// Meta describes a recording.
type Meta struct {
	Version    string        `json:"netwatch_version"`
	Host       string        `json:"host"`
	Kernel     string        `json:"kernel,omitempty"`
	Backend    string        `json:"backend"`
	Attach     string        `json:"attach,omitempty"`
	Stream     string        `json:"stream"`
	Resolution time.Duration `json:"resolution_ns"`
	// Start is when the file's first row starts (for a rotated file, the
	// start of its period).
	Start time.Time `json:"start"`
	// Interfaces are the interfaces the file holds rows of.
	Interfaces []Interface `json:"interfaces"`
	// Burst detection settings in effect (0: off).
	BurstThreshold float64 `json:"burst_threshold_bytes_per_sec,omitempty"`
	BurstEnd       float64 `json:"burst_end_bytes_per_sec,omitempty"`
	BurstGap       int     `json:"burst_gap,omitempty"`
	// Capture describes a burst-triggered capture file: the window it
	// holds. Nil for a plain recording.
	Capture *Window `json:"capture,omitempty"`
}

// Interface is one interface of a recording.
type Interface struct {
	Name  string `json:"name"`
	Index int    `json:"index"`
	// Netns, ContainerID and PeerNetns are the interface's labels (see
	// stats.Labels); empty when none is known.
	Netns       string `json:"netns,omitempty"`
	ContainerID string `json:"container_id,omitempty"`
	PeerNetns   string `json:"peer_netns,omitempty"`
}

// interfaceOf is the Interface with name, index and labels l.
func interfaceOf(name string, index int, l stats.Labels) Interface {
	return Interface{Name: name, Index: index, Netns: l.Netns, ContainerID: l.Container, PeerNetns: l.PeerNetns}
}

// Key is the interface's identity: its namespace and ifindex.
func (i Interface) Key() stats.Key { return stats.KeyOf(i.Netns, i.Index, i.Name) }

// Label is how an interface is named to people: "name", or "name@netns"
// when it has a namespace.
func Label(name, netns string) string {
	if netns == "" {
		return name
	}
	return name + "@" + netns
}

// Window is a span of time [From, To).
type Window struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Row is one bin (or sample) of one interface.
type Row struct {
	// Time is the start of the bin; Duration its width.
	Time      time.Time
	Duration  time.Duration
	Interface string
	Index     int
	// Labels: the namespace and container of the interface. Rows carry
	// Netns and Container; PeerNetns is in the file's interface list
	// (Meta.Interfaces).
	stats.Labels
	// Counters are what the bin counted.
	stats.Counters
	// Lost: the kernel overwrote part of the bin before it was read; its
	// counts are a lower bound.
	Lost bool
}

// End is when the row's bin ends.
func (r Row) End() time.Time { return r.Time.Add(r.Duration) }

// Key is the row's interface: its namespace and ifindex.
func (r Row) Key() stats.Key { return stats.KeyOf(r.Netns, r.Index, r.Interface) }

// Burst is one burst event, as the burst detector reported it.
type Burst struct {
	Interface   string `json:"interface"`
	Index       int    `json:"index"`
	Netns       string `json:"netns,omitempty"`
	ContainerID string `json:"container_id,omitempty"`
	Direction   string `json:"direction"` // "rx" or "tx"
	// Start and End are bin edges on the wall clock.
	Start           time.Time     `json:"start"`
	End             time.Time     `json:"end"`
	Duration        time.Duration `json:"duration_ns"`
	Bytes           uint64        `json:"bytes"`
	Packets         uint64        `json:"packets"`
	PeakBytesPerSec float64       `json:"peak_bytes_per_sec"`
	Threshold       float64       `json:"threshold_bytes_per_sec"`
	LostBins        int           `json:"lost_bins,omitempty"`
	Reason          string        `json:"reason"`
}

// Key is the burst's interface: its namespace and ifindex.
func (b Burst) Key() stats.Key { return stats.KeyOf(b.Netns, b.Index, b.Interface) }

// Writer writes one recording file.
type Writer interface {
	// WriteRow appends a row. Rows must come in time order.
	WriteRow(Row) error
	// WriteBurst records a burst event.
	WriteBurst(Burst) error
	// Flush makes what was written so far durable where the format allows
	// (NDJSON); Parquet files become readable only on Close.
	Flush() error
	// Size is the number of bytes written to the file so far.
	Size() int64
	// Close completes the file. After an error the file may be incomplete:
	// Abort removes what is not valid.
	Close() error
	// Abort closes the file after a failure: a Parquet file still being
	// written is removed, an NDJSON file keeps what was flushed.
	Abort()
}

// Create creates a recording file at path in the format its name asks for.
func Create(path string, meta Meta) (Writer, error) {
	f, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	if f == Parquet {
		return createParquet(path, meta)
	}
	return createNDJSON(path, f, meta)
}
