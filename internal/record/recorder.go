package record

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// Bin is one in-kernel time bin of one interface, as the sampler's bin
// stream delivers it.
type Bin struct {
	Interface string
	Index     int
	// Labels: where the interface lives (namespace, container).
	stats.Labels
	// Number: the bin covers CLOCK_MONOTONIC [Number*Width, (Number+1)*Width).
	Number uint64
	Width  time.Duration
	stats.Counters
	Lost bool
	// Started: a burst started at this bin, rx and tx (the burst
	// detector's verdict).
	Started [2]bool
}

// Event is a finished burst as the burst detector reports it: bins
// [FirstBin, EndBin) of width Width.
type Event struct {
	Interface string
	Index     int
	stats.Labels
	Direction        string
	FirstBin, EndBin uint64
	Width            time.Duration
	Bytes, Packets   uint64
	PeakBytesPerSec  float64
	Threshold        float64
	LostBins         int
	Reason           string
}

// burst converts e to wall-clock times with wall.
func (e Event) burst(wall func(time.Duration) time.Time) Burst {
	start, end := time.Duration(e.FirstBin)*e.Width, time.Duration(e.EndBin)*e.Width
	return Burst{
		Interface: e.Interface, Index: e.Index, Netns: e.Netns, ContainerID: e.Container, Direction: e.Direction,
		Start: wall(start).UTC(), End: wall(end).UTC(), Duration: end - start,
		Bytes: e.Bytes, Packets: e.Packets, PeakBytesPerSec: e.PeakBytesPerSec,
		Threshold: e.Threshold, LostBins: e.LostBins, Reason: e.Reason,
	}
}

// ErrMaxSize ends a recording that reached its size limit.
var ErrMaxSize = errors.New("maximum size reached")

// Config configures a Recorder.
type Config struct {
	// Path is the file to write; with Rotate, each period's file is named
	// after it with the period's start inserted before the extension:
	// rec.parquet -> rec-20260102T150405Z.parquet.
	Path string
	// Rotate starts a new file at every multiple of this period (wall
	// clock, UTC); 0: one file.
	Rotate time.Duration
	// MaxSize stops the recording (ErrMaxSize) once the files written add
	// up to this many bytes; 0: no limit.
	MaxSize int64
	// Meta is the metadata of every file (Start and Interfaces are filled
	// in per file).
	Meta Meta
	// Wall converts CLOCK_MONOTONIC to the wall clock for bin times.
	Wall func(mono time.Duration) time.Time
}

// Recorder writes a bin or sample stream to one file or a rotated series.
// Errors are sticky: after a failed write every call returns the error.
type Recorder struct {
	cfg     Config
	w       Writer
	path    string    // the open file
	period  time.Time // start of the open file's period (zero without rotation)
	done    int64     // bytes in closed files
	files   []string  // files completed
	prev    map[stats.Key]stats.Counters
	err     error
	stopped bool
}

// NewRecorder returns a Recorder; the first file is created with the
// first row (or on Close, if none comes).
func NewRecorder(cfg Config) (*Recorder, error) {
	if _, err := FormatOf(cfg.Path); err != nil {
		return nil, err
	}
	if cfg.Wall == nil {
		return nil, errors.New("record: no wall clock")
	}
	return &Recorder{cfg: cfg, prev: make(map[stats.Key]stats.Counters)}, nil
}

// RotatedName is the name of the file of the period starting at start.
func RotatedName(path string, start time.Time) string {
	f, _ := FormatOf(path)
	base := strings.TrimSuffix(path, f.Ext())
	stamp := start.UTC().Format("20060102T150405Z")
	return base + "-" + stamp + f.Ext()
}

// Files are the files completed so far.
func (r *Recorder) Files() []string { return r.files }

// Err is the error that stopped the recorder, if any: a write error or
// ErrMaxSize.
func (r *Recorder) Err() error { return r.err }

// Bin records one bin.
func (r *Recorder) Bin(b Bin) error {
	start := time.Duration(b.Number) * b.Width
	return r.row(Row{
		Time: r.cfg.Wall(start).UTC(), Duration: b.Width,
		Interface: b.Interface, Index: b.Index, Labels: b.Labels, Counters: b.Counters, Lost: b.Lost,
	})
}

// Burst records a finished burst.
func (r *Recorder) Burst(e Event) error {
	if r.err != nil {
		return r.err
	}
	if err := r.open(time.Time{}); err != nil {
		return err
	}
	if err := r.w.WriteBurst(e.burst(r.cfg.Wall)); err != nil {
		r.err = err
	}
	return r.err
}

// Sample records a polled sample (no in-kernel bins): one row per
// interface with what it counted over the sample's interval, from the
// difference of the backend's cumulative counters (for an interface's
// first sample, from its rates).
//
// A sample of exactly one in-kernel bin (ExactBins, Interval equal to
// Resolution) is that bin: its counts come from its rates, which the
// sampler computed from the bin's own counts (its cumulative counters are
// read when the sample is emitted, not at the bin's end).
func (r *Recorder) Sample(s stats.Sample) error {
	if s.Backend != "" {
		r.cfg.Meta.Backend, r.cfg.Meta.Attach = s.Backend, s.Attach
	}
	start := s.Time.Add(-s.Interval).UTC()
	oneBin := s.ExactBins && s.Interval == s.Resolution
	// An interface missing from the sample is gone (deleted, moved to
	// another namespace, out of the selection): if it comes back, even
	// under its old index, its first row starts from a fresh baseline.
	for key := range r.prev {
		if !slices.ContainsFunc(s.Interfaces, func(is stats.InterfaceSample) bool { return stats.KeyOf(is.Netns, is.Index, is.Name) == key }) {
			delete(r.prev, key)
		}
	}
	for _, is := range s.Interfaces {
		var d stats.Counters
		key := stats.KeyOf(is.Netns, is.Index, is.Name)
		prev, ok := r.prev[key]
		if is.Interval > 0 {
			ok = false // appeared during the interval: a fresh baseline
		}
		if ok && !oneBin {
			d, ok = stats.Delta(prev, is.Counters)
		}
		if oneBin {
			ok = false
		}
		if !ok {
			sec := s.Interval.Seconds()
			if is.Interval > 0 { // appeared during the interval: its rates cover less
				sec = is.Interval.Seconds()
			}
			d = stats.Counters{
				RxBytes: uint64(math.Round(is.RxBytesPerSec * sec)), RxPackets: uint64(math.Round(is.RxPacketsPerSec * sec)),
				TxBytes: uint64(math.Round(is.TxBytesPerSec * sec)), TxPackets: uint64(math.Round(is.TxPacketsPerSec * sec)),
			}
		}
		r.prev[key] = is.Counters
		if err := r.row(Row{Time: start, Duration: s.Interval, Interface: is.Name, Index: is.Index, Labels: is.Labels,
			Counters: d, Lost: is.LostBins > 0}); err != nil {
			return err
		}
	}
	return r.Flush()
}

func (r *Recorder) row(row Row) error {
	if r.err != nil {
		return r.err
	}
	if err := r.open(row.Time); err != nil {
		return err
	}
	if err := r.w.WriteRow(row); err != nil {
		r.err = err
		return err
	}
	if r.cfg.MaxSize > 0 && r.done+r.w.Size() >= r.cfg.MaxSize {
		r.err = ErrMaxSize
	}
	return r.err
}

// open makes sure the file for a row at t is open: the current one, or
// the next period's. A zero t takes the current file, or one for now.
func (r *Recorder) open(t time.Time) error {
	if r.w != nil && (r.cfg.Rotate <= 0 || t.IsZero() || t.Before(r.period.Add(r.cfg.Rotate))) {
		return nil
	}
	if t.IsZero() {
		t = time.Now().UTC()
	}
	if r.w != nil {
		if err := r.closeFile(); err != nil {
			return err
		}
	}
	path := r.cfg.Path
	meta := r.cfg.Meta
	meta.Start = t
	if r.cfg.Rotate > 0 {
		r.period = t.Truncate(r.cfg.Rotate)
		meta.Start = r.period
		path = RotatedName(r.cfg.Path, r.period)
	}
	w, err := Create(path, meta)
	if err != nil {
		r.err = createError(err)
		return r.err
	}
	r.w, r.path = w, path
	return nil
}

// createError words a failure to create a file for the user.
func createError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) && errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s exists: record never overwrites a file", strings.TrimSuffix(pe.Path, partialSuffix))
	}
	return err
}

func (r *Recorder) closeFile() error {
	w := r.w
	r.w = nil
	if err := w.Close(); err != nil {
		w.Abort()
		r.err = err
		return err
	}
	r.done += w.Size()
	r.files = append(r.files, r.path)
	return nil
}

// Flush makes the rows so far durable where the format allows (NDJSON).
func (r *Recorder) Flush() error {
	if r.err != nil {
		return r.err
	}
	if r.w != nil {
		if err := r.w.Flush(); err != nil {
			r.err = err
		}
	}
	return r.err
}

// Close completes the open file (creating an empty recording if none was
// started). After a write error it aborts the open file instead: files
// completed before stay valid, a Parquet file being written is removed and
// an NDJSON file keeps what was flushed. It returns the first error.
func (r *Recorder) Close() error {
	if r.stopped {
		return nil
	}
	r.stopped = true
	if r.err != nil && !errors.Is(r.err, ErrMaxSize) {
		if r.w != nil {
			r.w.Abort()
			r.w = nil
		}
		return r.err
	}
	if r.w == nil && len(r.files) == 0 {
		if err := r.open(time.Time{}); err != nil {
			return err
		}
	}
	if r.w != nil {
		if err := r.closeFile(); err != nil {
			return err
		}
	}
	return nil
}

// Size is the number of bytes written so far.
func (r *Recorder) Size() int64 {
	if r.w == nil {
		return r.done
	}
	return r.done + r.w.Size()
}

// Dir is where the recorder writes.
func (r *Recorder) Dir() string { return filepath.Dir(r.cfg.Path) }
