package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// wireSample is the JSON contract for one sample (DESIGN.md, "Output
// contract"). Field order is output order. Scripts depend on it: add fields,
// never change the meaning of one.
type wireSample struct {
	Time         string          `json:"time"` // RFC 3339, UTC, nine-digit fraction
	Backend      string          `json:"backend"`
	Attach       string          `json:"attach,omitempty"` // ebpf only: tcx, tc or xdp
	IntervalNs   int64           `json:"interval_ns"`
	ResolutionNs int64           `json:"resolution_ns"`
	ExactBins    bool            `json:"exact_bins"`
	Interfaces   []wireInterface `json:"interfaces"` // never null
}

// wireInterface is one interface of a wireSample.
type wireInterface struct {
	Name            string  `json:"name"`
	Index           int     `json:"index"`
	RxBytes         uint64  `json:"rx_bytes"`
	RxPackets       uint64  `json:"rx_packets"`
	TxBytes         uint64  `json:"tx_bytes"`
	TxPackets       uint64  `json:"tx_packets"`
	RxBytesPerSec   float64 `json:"rx_bytes_per_sec"`
	RxPacketsPerSec float64 `json:"rx_packets_per_sec"`
	TxBytesPerSec   float64 `json:"tx_bytes_per_sec"`
	TxPacketsPerSec float64 `json:"tx_packets_per_sec"`
	// The embedded pointers' fields are flattened into the object and
	// omitted entirely when nil.
	*wireErrors
	*wireSummary
	// LostBins counts in-kernel time bins overwritten before they were read.
	LostBins int `json:"lost_bins,omitempty"`
	// Netns is the namespace the interface lives in (--netns).
	Netns string `json:"netns,omitempty"`
	// ContainerID is the container the interface belongs to (it lives in
	// the container's namespace, or it is a veth whose peer does).
	ContainerID string `json:"container_id,omitempty"`
	// PeerNetns is the namespace a veth's peer lives in.
	PeerNetns string `json:"peer_netns,omitempty"`
	// IntervalNs is the time this interface's rates cover when it is
	// shorter than the sample's interval_ns (it appeared meanwhile).
	IntervalNs int64 `json:"interval_ns,omitempty"`
}

// wireSummary describes the bins behind a sample that covers more than one
// in-kernel time bin (ebpf backend, --interval coarser than --resolution).
type wireSummary struct {
	Bins              int      `json:"bins"`
	RxPeakBytesPerSec float64  `json:"rx_peak_bytes_per_sec"`
	RxP99BytesPerSec  float64  `json:"rx_p99_bytes_per_sec"`
	RxBursts          *int     `json:"rx_bursts,omitempty"` // nil without a burst threshold
	TxPeakBytesPerSec float64  `json:"tx_peak_bytes_per_sec"`
	TxP99BytesPerSec  float64  `json:"tx_p99_bytes_per_sec"`
	TxBursts          *int     `json:"tx_bursts,omitempty"`
	BurstThreshold    float64  `json:"burst_threshold_bytes_per_sec,omitempty"`
	LinkBytesPerSec   float64  `json:"link_bytes_per_sec,omitempty"`
	RxUtilization     *float64 `json:"rx_utilization,omitempty"`
	RxPeakUtilization *float64 `json:"rx_peak_utilization,omitempty"`
	TxUtilization     *float64 `json:"tx_utilization,omitempty"`
	TxPeakUtilization *float64 `json:"tx_peak_utilization,omitempty"`
}

func newWireSummary(s *stats.Summary) *wireSummary {
	w := &wireSummary{
		Bins:              s.Bins,
		RxPeakBytesPerSec: finite(s.Rx.PeakBytesPerSec),
		RxP99BytesPerSec:  finite(s.Rx.P99BytesPerSec),
		TxPeakBytesPerSec: finite(s.Tx.PeakBytesPerSec),
		TxP99BytesPerSec:  finite(s.Tx.P99BytesPerSec),
		BurstThreshold:    finite(s.BurstThreshold),
		LinkBytesPerSec:   finite(s.LinkBytesPerSec),
	}
	if s.BurstThreshold > 0 {
		rx, tx := s.Rx.Bursts, s.Tx.Bursts
		w.RxBursts, w.TxBursts = &rx, &tx
	}
	if s.LinkBytesPerSec > 0 {
		ptr := func(x float64) *float64 { x = finite(x); return &x }
		w.RxUtilization = ptr(s.Rx.Utilization)
		w.RxPeakUtilization = ptr(s.Rx.PeakUtilization)
		w.TxUtilization = ptr(s.Tx.Utilization)
		w.TxPeakUtilization = ptr(s.Tx.PeakUtilization)
	}
	return w
}

// wireErrors are the error and drop counters, present only when the backend
// has them.
type wireErrors struct {
	RxErrors uint64 `json:"rx_errors"`
	RxDrops  uint64 `json:"rx_drops"`
	TxErrors uint64 `json:"tx_errors"`
	TxDrops  uint64 `json:"tx_drops"`
}

// wireBuilder converts samples to their wire form, reusing its storage
// between calls. The result is valid until the next call.
type wireBuilder struct {
	sample wireSample
	ifaces []wireInterface
	errs   []wireErrors
	tbuf   []byte
}

func (wb *wireBuilder) build(s stats.Sample) *wireSample {
	if wb.ifaces == nil {
		wb.ifaces = make([]wireInterface, 0, len(s.Interfaces))
	}
	wb.ifaces = wb.ifaces[:0]
	wb.errs = wb.errs[:0]
	for _, in := range s.Interfaces {
		if in.Errors != nil {
			wb.errs = append(wb.errs, wireErrors(*in.Errors))
		}
	}
	next := 0
	for _, in := range s.Interfaces {
		wi := wireInterface{
			Name:            in.Name,
			Index:           in.Index,
			RxBytes:         in.RxBytes,
			RxPackets:       in.RxPackets,
			TxBytes:         in.TxBytes,
			TxPackets:       in.TxPackets,
			RxBytesPerSec:   finite(in.RxBytesPerSec),
			RxPacketsPerSec: finite(in.RxPacketsPerSec),
			TxBytesPerSec:   finite(in.TxBytesPerSec),
			TxPacketsPerSec: finite(in.TxPacketsPerSec),
			LostBins:        in.LostBins,
			Netns:           in.Netns,
			ContainerID:     in.Container,
			PeerNetns:       in.PeerNetns,
			IntervalNs:      int64(in.Interval),
		}
		if in.Summary != nil {
			wi.wireSummary = newWireSummary(in.Summary)
		}
		if in.Errors != nil {
			// wb.errs is fully appended above, so these pointers stay valid.
			wi.wireErrors = &wb.errs[next]
			next++
		}
		wb.ifaces = append(wb.ifaces, wi)
	}
	wb.tbuf = appendTime(wb.tbuf[:0], s.Time)
	wb.sample = wireSample{
		Time:         string(wb.tbuf),
		Backend:      s.Backend,
		Attach:       s.Attach,
		IntervalNs:   int64(s.Interval),
		ResolutionNs: int64(s.Resolution),
		ExactBins:    s.ExactBins,
		Interfaces:   wb.ifaces,
	}
	return &wb.sample
}

// newEncoder returns a JSON encoder that leaves <, > and & readable.
func newEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}

// MarshalSample returns the contract JSON object for s, compact, without a
// trailing newline:
//
//	{"time":"2026-11-23T10:00:00.123456789Z","backend":"ebpf","attach":"tcx",
//	 "interval_ns":10000123,"resolution_ns":10000123,"exact_bins":false,
//	 "interfaces":[{"name":"eth0","index":2,"rx_bytes":123,"rx_packets":4,
//	   "tx_bytes":567,"tx_packets":8,"rx_bytes_per_sec":1500000,
//	   "rx_packets_per_sec":1200,"tx_bytes_per_sec":200000,"tx_packets_per_sec":300,
//	   "rx_errors":0,"rx_drops":0,"tx_errors":0,"tx_drops":0}]}
//
// "attach" is present only when the source names an attach mode, the
// error and drop fields only when the backend has them, and "interfaces" is
// always an array, in the sample's order. Rates that are NaN or infinite are
// written as 0.
func MarshalSample(s stats.Sample) ([]byte, error) {
	var buf bytes.Buffer
	var wb wireBuilder
	if err := newEncoder(&buf).Encode(wb.build(s)); err != nil {
		return nil, fmt.Errorf("output: marshal sample: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// WriteSnapshotJSON writes s as one indented JSON object (the same fields as
// MarshalSample) followed by a newline, with a single Write call.
func WriteSnapshotJSON(w io.Writer, s stats.Sample) error {
	var buf bytes.Buffer
	var wb wireBuilder
	enc := newEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(wb.build(s)); err != nil {
		return fmt.Errorf("output: marshal snapshot: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("output: write snapshot: %w", err)
	}
	return flush(w)
}
