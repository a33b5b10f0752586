package record

import (
	"cmp"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// CaptureConfig configures burst-triggered capture.
type CaptureConfig struct {
	// Dir receives one file per capture, named by interface (and its
	// namespace, when it has one) and the window's start:
	// eth0-20260102T150405.123Z.parquet, eth0@ns1-20260102T150405.123Z.parquet.
	Dir    string
	Format Format
	// Before and After are how much of the bin stream around a burst each
	// capture holds.
	Before, After time.Duration
	// Meta is every capture file's metadata (Start, Interfaces and
	// Capture are filled in).
	Meta Meta
	// Wall converts CLOCK_MONOTONIC to the wall clock.
	Wall func(mono time.Duration) time.Time
	// Captured is called after each capture file is complete.
	Captured func(Capture)
	// MaxWindow bounds one capture (and the bins held for it): a link
	// that stays above the threshold is cut into captures of at most this
	// long. 0 means DefaultMaxWindow.
	MaxWindow time.Duration
}

// DefaultMaxWindow is the longest capture when CaptureConfig.MaxWindow is 0.
const DefaultMaxWindow = time.Minute

// Capture describes one capture file.
type Capture struct {
	Path      string
	Interface string
	Index     int
	stats.Labels
	Window Window
	Bins   int
	Bursts []Burst
	// Short: the recording ended before the window did. (A window whose
	// start precedes the first bin seen starts at that bin: Window.From
	// is always the first row's start.)
	Short bool
}

// String is the one line printed per capture.
func (c Capture) String() string {
	var parts []string
	for _, b := range c.Bursts {
		parts = append(parts, fmt.Sprintf("%s %s %v %dB peak %s", b.Direction, b.Start.Local().Format("15:04:05.000"),
			b.Duration, b.Bytes, rateText(b.PeakBytesPerSec)))
	}
	s := fmt.Sprintf("captured %s: %d burst(s) [%s], window %s-%s (%d bins) -> %s", Label(c.Interface, c.Netns), len(c.Bursts),
		strings.Join(parts, "; "), c.Window.From.Local().Format("15:04:05.000"), c.Window.To.Local().Format("15:04:05.000"), c.Bins, c.Path)
	if c.Short {
		s += " (cut short: the recording ended)"
	}
	return s
}

func rateText(bytesPerSec float64) string {
	bits := bytesPerSec * 8
	switch {
	case bits >= 1e9:
		return fmt.Sprintf("%.2f Gbit/s", bits/1e9)
	case bits >= 1e6:
		return fmt.Sprintf("%.2f Mbit/s", bits/1e6)
	case bits >= 1e3:
		return fmt.Sprintf("%.2f kbit/s", bits/1e3)
	}
	return fmt.Sprintf("%.0f bit/s", bits)
}

// Capturer keeps the last Before of bins per interface in memory and, for
// each burst, writes the bins from Before ahead of its start to After past
// its end into a file of its own. Windows that overlap (on one interface)
// are merged into one capture. An interface is its namespace and ifindex:
// two namespaces' interfaces of one name and index are captured apart.
type Capturer struct {
	cfg    CaptureConfig
	ifaces map[stats.Key]*capIface
	err    error
}

type capIface struct {
	name      string
	labels    stats.Labels
	bins      []Bin // recent bins; while capturing, every bin since from
	capturing bool
	from      uint64 // first bin of the window
	until     uint64 // end (exclusive) of the window known so far
	open      int    // bursts started and not yet ended
	events    []Event
	width     time.Duration
}

// NewCapturer returns a Capturer.
func NewCapturer(cfg CaptureConfig) *Capturer {
	return &Capturer{cfg: cfg, ifaces: make(map[stats.Key]*capIface)}
}

func binsIn(d, width time.Duration) uint64 {
	if width <= 0 {
		return 0
	}
	return uint64((d + width - 1) / width)
}

// Bin takes the next bin of an interface (bins of one interface in order).
func (c *Capturer) Bin(b Bin) error {
	if c.err != nil {
		return c.err
	}
	key := stats.KeyOf(b.Netns, b.Index, b.Interface)
	st := c.ifaces[key]
	if st == nil {
		st = &capIface{}
		c.ifaces[key] = st
	}
	st.name, st.labels, st.width = b.Interface, b.Labels, b.Width
	before := binsIn(c.cfg.Before, b.Width)
	st.bins = append(st.bins, b)
	for _, started := range b.Started {
		if !started {
			continue
		}
		st.open++
		if !st.capturing {
			st.capturing = true
			st.from = b.Number - min(before, b.Number)
			st.until = b.Number + 1
		}
	}
	if st.capturing && st.open == 0 && b.Number+1 >= st.until+before {
		// No burst can start whose window overlaps this one any more.
		c.err = c.write(st, false)
	}
	if maxBins := binsIn(cmp.Or(c.cfg.MaxWindow, DefaultMaxWindow), b.Width); st.capturing && b.Number+1-st.from >= maxBins {
		// Memory stays bounded on a link that never calms down: cut the
		// capture here and go on in the next one.
		open := st.open
		st.until = b.Number + 1
		c.err = c.write(st, false)
		if open > 0 {
			st.capturing, st.open, st.from, st.until = true, open, b.Number+1, b.Number+1
		}
	}
	if !st.capturing {
		// Keep the last `before` bins.
		if n := len(st.bins); uint64(n) > before {
			st.bins = append(st.bins[:0], st.bins[n-int(before):]...)
		}
	}
	return c.err
}

// Burst takes a finished burst.
func (c *Capturer) Burst(e Event) error {
	if c.err != nil {
		return c.err
	}
	st := c.ifaces[stats.KeyOf(e.Netns, e.Index, e.Interface)]
	if st == nil || !st.capturing {
		return nil // its start was never seen (detection began mid-burst)
	}
	st.open = max(0, st.open-1)
	st.until = max(st.until, e.EndBin+binsIn(c.cfg.After, e.Width))
	st.events = append(st.events, e)
	return nil
}

// Close writes the captures still open with the bins there are.
func (c *Capturer) Close() error {
	for _, st := range c.ifaces {
		if c.err == nil && st.capturing && len(st.events) > 0 {
			c.err = c.write(st, true)
		}
	}
	return c.err
}

// write writes st's window and keeps the bins after it.
func (c *Capturer) write(st *capIface, final bool) error {
	var rows []Bin
	var rest []Bin
	for _, b := range st.bins {
		switch {
		case b.Number < st.from:
		case b.Number < st.until:
			rows = append(rows, b)
		default:
			rest = append(rest, b)
		}
	}
	events := st.events
	st.bins, st.events, st.capturing, st.open = rest, nil, false, 0
	if len(rows) == 0 {
		return nil
	}
	// A burst less than Before after the first bin seen: the window
	// starts where the bins do.
	st.from = max(st.from, rows[0].Number)
	win := Window{
		From: c.cfg.Wall(time.Duration(st.from) * st.width).UTC(),
		To:   c.cfg.Wall(time.Duration(st.until) * st.width).UTC(),
	}
	short := rows[len(rows)-1].Number+1 < st.until
	if short {
		win.To = c.cfg.Wall(time.Duration(rows[len(rows)-1].Number+1) * st.width).UTC()
	}
	meta := c.cfg.Meta
	meta.Start = win.From
	meta.Capture = &win
	label := safeName(st.name)
	if st.labels.Netns != "" {
		label += "@" + safeName(st.labels.Netns)
	}
	name := fmt.Sprintf("%s-%s%s", label, win.From.Format("20060102T150405.000Z"), c.cfg.Format.Ext())
	path := filepath.Join(c.cfg.Dir, name)
	w, err := Create(path, meta)
	if err != nil {
		return createError(err)
	}
	capt := Capture{Path: path, Interface: st.name, Index: rows[0].Index, Labels: st.labels, Window: win, Bins: len(rows), Short: short && final}
	for _, b := range rows {
		row := Row{Time: c.cfg.Wall(time.Duration(b.Number) * b.Width).UTC(), Duration: b.Width,
			Interface: b.Interface, Index: b.Index, Labels: b.Labels, Counters: b.Counters, Lost: b.Lost}
		if err := w.WriteRow(row); err != nil {
			w.Abort()
			return err
		}
	}
	for _, e := range events {
		bu := e.burst(c.cfg.Wall)
		capt.Bursts = append(capt.Bursts, bu)
		if err := w.WriteBurst(bu); err != nil {
			w.Abort()
			return err
		}
	}
	if err := w.Close(); err != nil {
		w.Abort()
		return err
	}
	if c.cfg.Captured != nil {
		c.cfg.Captured(capt)
	}
	return nil
}

// safeName keeps an interface name usable in a file name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}
