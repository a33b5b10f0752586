// Package bursts turns a stream of in-kernel time bins into burst events,
// the way switch vendors report microbursts (start and end thresholds).
// It is netwatch's one burst detector: the sampler runs it on the bin
// stream and every surface (watch's per-sample counts, watch --events,
// serve's counters and histograms) reads its verdicts.
//
// # Rules
//
// For each interface and direction, a bin's rate is its bytes divided by the
// bin width. A burst starts at the first bin whose rate is above the start
// threshold. It continues while bins are above the end threshold (at most
// the start threshold: hysteresis) and ends once Gap consecutive bins in a
// row are at or below the end threshold. The event covers the bins from the
// first one above the start threshold to the last one above the end
// threshold, inclusive, and nothing after it: start and end are bin edges,
// so duration is a whole number of bins, and bytes and packets are the exact
// sums of those bins. Quiet bins inside a burst (fewer than Gap in a row)
// belong to it.
//
// # Lost bins
//
// A lost bin (overwritten in the kernel before it was read) holds a lower
// bound of its traffic. If even that lower bound is above the threshold
// that applies, the bin is above it; otherwise it is unknown: it neither
// starts a burst, nor extends one, nor counts as quiet (it ends nothing,
// and it interrupts no run of quiet bins either). Every lost bin from a
// burst's start until the event is closed is counted in the event's
// LostBins, so an event with LostBins > 0 may be longer, bigger or (if
// the lost bins were busy) joined with a neighbour in reality.
//
// # Ending without quiet bins
//
// An interface that vanishes (or whose counters restart) closes its open
// bursts with Reason "vanished"; the end of a run closes every open burst
// with Reason "stopped". Their end is the end of the last bin above the end
// threshold, like any other burst.
package bursts

import (
	"maps"
	"slices"
	"time"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// Direction is rx or tx.
type Direction uint8

// The two directions.
const (
	Rx Direction = iota
	Tx
)

func (d Direction) String() string {
	if d == Tx {
		return "tx"
	}
	return "rx"
}

// Why a burst ended.
const (
	ReasonQuiet    = "quiet"    // Gap bins at or below the end threshold
	ReasonVanished = "vanished" // the interface went away (or restarted its counters)
	ReasonStopped  = "stopped"  // the run ended
)

// Thresholds are one interface's thresholds in bytes per second. Start 0
// turns burst detection off for the interface.
type Thresholds struct {
	Start float64
	End   float64 // at most Start; 0 or more than Start means Start
}

func (t Thresholds) normalized() Thresholds {
	if t.End <= 0 || t.End > t.Start {
		t.End = t.Start
	}
	return t
}

// Event is one finished burst on one interface and direction.
type Event struct {
	Interface string
	Index     int
	// Labels say where the interface lives (set by the sampler).
	stats.Labels
	Direction Direction
	// FirstBin and EndBin: the burst covers bins [FirstBin, EndBin).
	FirstBin, EndBin uint64
	// Start and End are the monotonic times of the first bin's start and
	// the last bin's end; Duration = End - Start.
	Start, End time.Duration
	Duration   time.Duration
	// StartTime and EndTime are Start and End on the wall clock (zero
	// unless Config.Wall is set).
	StartTime, EndTime time.Time
	// Bytes and Packets are what the burst's bins counted in this direction.
	Bytes, Packets uint64
	// PeakBytesPerSec is the busiest bin's rate.
	PeakBytesPerSec float64
	// Thresholds the burst was detected with.
	Thresholds Thresholds
	// LostBins counts the lost bins seen while the burst was open.
	LostBins int
	// Reason is why it ended: ReasonQuiet, ReasonVanished or ReasonStopped.
	Reason string
}

// Step is the detector's verdict on one bin of one interface.
type Step struct {
	// Above: the bin's rate is above the start threshold, per direction
	// (Rx, Tx). Started: a burst started at this bin.
	Above, Started [2]bool
}

// Config configures a Detector.
type Config struct {
	// Width is the bin width.
	Width time.Duration
	// Gap is how many bins in a row at or below the end threshold end a
	// burst; values below 1 mean 1.
	Gap int
	// Thresholds returns an interface's thresholds; it is called when an
	// interface is first seen and after Rename.
	Thresholds func(index int, name string) Thresholds
	// Wall, when set, converts a monotonic time to the wall clock for
	// the events' StartTime and EndTime.
	Wall func(mono time.Duration) time.Time
}

// Detector finds bursts in the bins of any number of interfaces. It is
// not safe for concurrent use.
type Detector struct {
	cfg    Config
	perSec float64
	ifaces map[int]*iface
	out    []Event
}

type iface struct {
	name string
	th   Thresholds
	dirs [2]dirState
}

// dirState is one direction's open burst, if any.
type dirState struct {
	open      bool
	first     uint64 // first bin of the open burst
	last      uint64 // last bin above the end threshold
	bytes     uint64 // bins first..last
	packets   uint64
	peak      float64
	lost      int    // lost bins since first
	quiet     int    // bins at or below the end threshold since last
	pendBytes uint64 // bins after last (quiet or unknown)
	pendPkts  uint64
}

// New returns a Detector.
func New(cfg Config) *Detector {
	if cfg.Gap < 1 {
		cfg.Gap = 1
	}
	d := &Detector{cfg: cfg, ifaces: make(map[int]*iface)}
	if cfg.Width > 0 {
		d.perSec = 1 / cfg.Width.Seconds()
	}
	return d
}

// Gap is the number of quiet bins that end a burst.
func (d *Detector) Gap() int { return d.cfg.Gap }

func (d *Detector) state(index int, name string) *iface {
	st := d.ifaces[index]
	if st == nil {
		st = &iface{name: name}
		if d.cfg.Thresholds != nil {
			st.th = d.cfg.Thresholds(index, name).normalized()
		}
		d.ifaces[index] = st
	}
	return st
}

// Rename records interface index's new name (events that end from now on
// carry it) and looks its thresholds up again.
func (d *Detector) Rename(index int, name string) {
	st := d.ifaces[index]
	if st == nil || st.name == name {
		return
	}
	st.name = name
	if d.cfg.Thresholds != nil {
		st.th = d.cfg.Thresholds(index, name).normalized()
	}
}

// Add feeds bin number bin of interface index: c is what it counted, lost
// whether the kernel overwrote part of it. Bins of one interface must come
// in consecutive order. Events that end are kept until Take.
func (d *Detector) Add(index int, name string, bin uint64, c stats.Counters, lost bool) Step {
	st := d.state(index, name)
	var s Step
	if st.th.Start <= 0 {
		return s
	}
	for dir := Rx; dir <= Tx; dir++ {
		bytes, pkts := c.RxBytes, c.RxPackets
		if dir == Tx {
			bytes, pkts = c.TxBytes, c.TxPackets
		}
		rate := float64(bytes) * d.perSec
		s.Above[dir] = rate > st.th.Start
		s.Started[dir] = d.step(st, index, dir, bin, rate, bytes, pkts, lost)
	}
	return s
}

// step advances one direction by one bin and reports whether a burst
// started at it.
func (d *Detector) step(st *iface, index int, dir Direction, bin uint64, rate float64, bytes, pkts uint64, lost bool) bool {
	ds := &st.dirs[dir]
	if !ds.open {
		if rate <= st.th.Start {
			return false // quiet, or lost with no proof of a burst
		}
		*ds = dirState{open: true, first: bin, last: bin, bytes: bytes, packets: pkts, peak: rate}
		if lost {
			ds.lost = 1
		}
		return true
	}
	if lost {
		ds.lost++
	}
	switch {
	case rate > st.th.End:
		ds.bytes += ds.pendBytes + bytes
		ds.packets += ds.pendPkts + pkts
		ds.pendBytes, ds.pendPkts, ds.quiet = 0, 0, 0
		ds.last = bin
		ds.peak = max(ds.peak, rate)
	case lost:
		ds.pendBytes += bytes // unknown: neither busy nor quiet
		ds.pendPkts += pkts
	default:
		ds.pendBytes += bytes
		ds.pendPkts += pkts
		ds.quiet++
		if ds.quiet >= d.cfg.Gap {
			d.close(st, index, dir, ReasonQuiet)
		}
	}
	return false
}

func (d *Detector) close(st *iface, index int, dir Direction, reason string) {
	ds := &st.dirs[dir]
	if !ds.open {
		return
	}
	w := d.cfg.Width
	e := Event{
		Interface: st.name, Index: index, Direction: dir,
		FirstBin: ds.first, EndBin: ds.last + 1,
		Start: time.Duration(ds.first) * w, End: time.Duration(ds.last+1) * w,
		Bytes: ds.bytes, Packets: ds.packets, PeakBytesPerSec: ds.peak,
		Thresholds: st.th, LostBins: ds.lost, Reason: reason,
	}
	e.Duration = e.End - e.Start
	if d.cfg.Wall != nil {
		e.StartTime, e.EndTime = d.cfg.Wall(e.Start), d.cfg.Wall(e.End)
	}
	d.out = append(d.out, e)
	*ds = dirState{}
}

// Open reports whether interface index has a burst open in direction dir.
func (d *Detector) Open(index int, dir Direction) bool {
	st := d.ifaces[index]
	return st != nil && st.dirs[dir].open
}

// Vanish closes interface index's open bursts (reason "vanished") and
// forgets it: if it comes back it is a new interface.
func (d *Detector) Vanish(index int) {
	st := d.ifaces[index]
	if st == nil {
		return
	}
	d.close(st, index, Rx, ReasonVanished)
	d.close(st, index, Tx, ReasonVanished)
	delete(d.ifaces, index)
}

// Stop closes every open burst (reason "stopped"), in ifindex order.
func (d *Detector) Stop() {
	for _, index := range slices.Sorted(maps.Keys(d.ifaces)) {
		st := d.ifaces[index]
		d.close(st, index, Rx, ReasonStopped)
		d.close(st, index, Tx, ReasonStopped)
	}
}

// Take returns the events that ended since the last Take, in the order
// they ended, and forgets them. The slice is valid until the next call
// to Add, Vanish or Stop.
func (d *Detector) Take() []Event {
	out := d.out
	d.out = d.out[:0]
	return out
}
