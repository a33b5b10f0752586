package output

import (
	"bytes"
	"errors"
	"io"
	"time"

	"github.com/netwatch-dev/netwatch/internal/bursts"
)

// wireEvent is the JSON contract for one burst event (watch --events): one
// object per line. Field order is output order; fields are only added.
type wireEvent struct {
	Interface         string  `json:"interface"`
	Index             int     `json:"index"`
	Direction         string  `json:"direction"` // rx or tx
	Start             string  `json:"start"`     // RFC 3339, UTC, nanoseconds: the first bin's start
	End               string  `json:"end"`       // the last bin's end
	DurationNs        int64   `json:"duration_ns"`
	Bins              uint64  `json:"bins"`
	Bytes             uint64  `json:"bytes"`
	Packets           uint64  `json:"packets"`
	PeakBytesPerSec   float64 `json:"peak_bytes_per_sec"`
	MeanBytesPerSec   float64 `json:"mean_bytes_per_sec"`
	ThresholdBytes    float64 `json:"threshold_bytes_per_sec"`
	EndThresholdBytes float64 `json:"end_threshold_bytes_per_sec"`
	LostBins          int     `json:"lost_bins"`
	Reason            string  `json:"reason"` // quiet, vanished or stopped
	Netns             string  `json:"netns,omitempty"`
	ContainerID       string  `json:"container_id,omitempty"`
	PeerNetns         string  `json:"peer_netns,omitempty"`
}

func buildEvent(e bursts.Event) wireEvent {
	w := wireEvent{
		Interface: e.Interface, Index: e.Index, Direction: e.Direction.String(),
		Start: formatTime(e.StartTime), End: formatTime(e.EndTime),
		DurationNs: int64(e.Duration), Bins: e.EndBin - e.FirstBin,
		Bytes: e.Bytes, Packets: e.Packets,
		PeakBytesPerSec:   finite(e.PeakBytesPerSec),
		ThresholdBytes:    finite(e.Thresholds.Start),
		EndThresholdBytes: finite(e.Thresholds.End),
		LostBins:          e.LostBins, Reason: e.Reason,
		Netns: e.Netns, ContainerID: e.Container, PeerNetns: e.PeerNetns,
	}
	if e.Duration > 0 {
		w.MeanBytesPerSec = finite(float64(e.Bytes) / e.Duration.Seconds())
	}
	return w
}

func formatTime(t time.Time) string {
	return t.UTC().Format(timeLayout)
}

// EventStream writes burst events as NDJSON, one object per line, each
// handed to the destination with one Write call and flushed.
type EventStream struct {
	w   io.Writer
	buf bytes.Buffer
}

// NewEventStream returns an EventStream writing to w.
func NewEventStream(w io.Writer) (*EventStream, error) {
	if w == nil {
		return nil, errors.New("output: nil writer")
	}
	return &EventStream{w: w}, nil
}

// Write renders e as one line, writes and flushes it.
func (s *EventStream) Write(e bursts.Event) error {
	s.buf.Reset()
	if err := newEncoder(&s.buf).Encode(buildEvent(e)); err != nil {
		return err
	}
	if _, err := s.w.Write(s.buf.Bytes()); err != nil {
		return err
	}
	return flush(s.w)
}
