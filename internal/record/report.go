package record

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// ReportOptions configure Summarize.
type ReportOptions struct {
	Range Range
	// Threshold is the rate (bytes/s) for "time above threshold"; 0 takes
	// the recording's burst threshold.
	Threshold float64
}

// Report summarises a recording per interface and direction.
type Report struct {
	Files      []string      `json:"files"`
	From       time.Time     `json:"from"`
	To         time.Time     `json:"to"`
	Stream     string        `json:"stream"`
	Resolution time.Duration `json:"resolution_ns"`
	Threshold  float64       `json:"threshold_bytes_per_sec,omitempty"`
	Interfaces []IfaceReport `json:"interfaces"`
	Warnings   []string      `json:"warnings"`
}

// IfaceReport is one interface: its namespace and ifindex (two
// namespaces' "lo" are two interfaces).
type IfaceReport struct {
	Name  string `json:"name"`
	Index int    `json:"index"`
	// Netns, ContainerID and PeerNetns are the interface's labels, as
	// recorded; omitted when empty.
	Netns       string `json:"netns,omitempty"`
	ContainerID string `json:"container_id,omitempty"`
	PeerNetns   string `json:"peer_netns,omitempty"`
	// Bins is the number of rows (bins or samples); Covered their total
	// duration.
	Bins     int64         `json:"bins"`
	Covered  time.Duration `json:"covered_ns"`
	LostBins int64         `json:"lost_bins"`
	Rx       DirReport     `json:"rx"`
	Tx       DirReport     `json:"tx"`
}

// DirReport is one direction of one interface. Rates are of single bins.
type DirReport struct {
	Bytes           uint64        `json:"bytes"`
	Packets         uint64        `json:"packets"`
	AvgBytesPerSec  float64       `json:"avg_bytes_per_sec"`
	P50BytesPerSec  float64       `json:"p50_bytes_per_sec"`
	P99BytesPerSec  float64       `json:"p99_bytes_per_sec"`
	P999BytesPerSec float64       `json:"p999_bytes_per_sec"`
	MaxBytesPerSec  float64       `json:"max_bytes_per_sec"`
	AboveThreshold  time.Duration `json:"above_threshold_ns"`
	Bursts          BurstReport   `json:"bursts"`
}

// BurstReport lists the bursts of one direction.
type BurstReport struct {
	Count   int     `json:"count"`
	Longest *Burst  `json:"longest,omitempty"`
	Biggest *Burst  `json:"biggest,omitempty"` // most bytes
	List    []Burst `json:"list"`
}

// acc accumulates one interface.
type acc struct {
	rep   IfaceReport
	rates [2]map[float64]int64 // how many bins had each rate
}

// Summarizer builds a Report from rows as Read delivers them.
type Summarizer struct {
	opts   ReportOptions
	ifaces map[stats.Key]*acc
	order  []stats.Key
	from   time.Time
	to     time.Time
}

// NewSummarizer returns a Summarizer.
func NewSummarizer(opts ReportOptions) *Summarizer {
	return &Summarizer{opts: opts, ifaces: make(map[stats.Key]*acc)}
}

// Row adds a row (Read's callback).
func (s *Summarizer) Row(r Row) error {
	key := r.Key()
	a := s.ifaces[key]
	if a == nil {
		a = &acc{rep: IfaceReport{Index: r.Index, Netns: r.Netns}, rates: [2]map[float64]int64{{}, {}}}
		s.ifaces[key] = a
		s.order = append(s.order, key)
	}
	// The latest name: an interface is its namespace and index.
	a.rep.Name = r.Interface
	if r.Container != "" {
		a.rep.ContainerID = r.Container
	}
	a.rep.Bins++
	a.rep.Covered += r.Duration
	if r.Lost {
		a.rep.LostBins++
	}
	a.rep.Rx.Bytes += r.RxBytes
	a.rep.Rx.Packets += r.RxPackets
	a.rep.Tx.Bytes += r.TxBytes
	a.rep.Tx.Packets += r.TxPackets
	if r.Duration > 0 {
		sec := r.Duration.Seconds()
		a.rates[0][float64(r.RxBytes)/sec]++
		a.rates[1][float64(r.TxBytes)/sec]++
	}
	if s.from.IsZero() || r.Time.Before(s.from) {
		s.from = r.Time
	}
	if e := r.End(); e.After(s.to) {
		s.to = e
	}
	return nil
}

// Report completes the report with what Read returned.
func (s *Summarizer) Report(rec *Recording) Report {
	rep := Report{From: s.from, To: s.to, Warnings: rec.Warnings, Threshold: s.opts.Threshold, Interfaces: []IfaceReport{}}
	if rep.Warnings == nil {
		rep.Warnings = []string{}
	}
	for _, f := range rec.Files {
		rep.Files = append(rep.Files, f.Path)
		if rep.Stream == "" {
			rep.Stream, rep.Resolution = f.Meta.Stream, f.Meta.Resolution
		}
		if rep.Threshold == 0 {
			rep.Threshold = f.Meta.BurstThreshold
		}
	}
	// A veth's peer namespace is in the files' interface lists.
	peers := map[stats.Key]string{}
	for _, f := range rec.Files {
		for _, ifc := range f.Meta.Interfaces {
			if ifc.PeerNetns != "" {
				peers[ifc.Key()] = ifc.PeerNetns
			}
		}
	}
	for _, key := range s.order {
		a := s.ifaces[key]
		ir := a.rep
		ir.PeerNetns = peers[key]
		for d, dr := range []*DirReport{&ir.Rx, &ir.Tx} {
			if ir.Covered > 0 {
				dr.AvgBytesPerSec = float64(dr.Bytes) / ir.Covered.Seconds()
			}
			pct := percentiles(a.rates[d], ir.Bins, 0.5, 0.99, 0.999, 1)
			dr.P50BytesPerSec, dr.P99BytesPerSec, dr.P999BytesPerSec, dr.MaxBytesPerSec = pct[0], pct[1], pct[2], pct[3]
			dr.Bursts.List = []Burst{}
			dir := [2]string{"rx", "tx"}[d]
			for _, b := range rec.Bursts {
				if b.Key() != key || b.Direction != dir {
					continue
				}
				dr.Bursts.List = append(dr.Bursts.List, b)
			}
			dr.Bursts.Count = len(dr.Bursts.List)
			for i := range dr.Bursts.List {
				b := &dr.Bursts.List[i]
				if dr.Bursts.Longest == nil || b.Duration > dr.Bursts.Longest.Duration {
					dr.Bursts.Longest = b
				}
				if dr.Bursts.Biggest == nil || b.Bytes > dr.Bursts.Biggest.Bytes {
					dr.Bursts.Biggest = b
				}
			}
		}
		rep.Interfaces = append(rep.Interfaces, ir)
	}
	if rep.Threshold > 0 {
		s.aboveThreshold(&rep)
	}
	return rep
}

// aboveThreshold fills in the time above the threshold from the rate
// counts: every rate class above it, times the bin width. Rows of
// different widths (a sample stream) are counted by their mean width.
func (s *Summarizer) aboveThreshold(rep *Report) {
	for i := range rep.Interfaces {
		ir := &rep.Interfaces[i]
		a := s.ifaces[s.order[i]] // the interfaces are in s.order
		if ir.Bins == 0 {
			continue
		}
		width := ir.Covered / time.Duration(ir.Bins)
		for d, dr := range []*DirReport{&ir.Rx, &ir.Tx} {
			var n int64
			for rate, c := range a.rates[d] {
				if rate > rep.Threshold {
					n += c
				}
			}
			dr.AboveThreshold = time.Duration(n) * width
		}
	}
}

// percentiles returns the nearest-rank percentiles ps of n values given
// as value -> count.
func percentiles(counts map[float64]int64, n int64, ps ...float64) []float64 {
	out := make([]float64, len(ps))
	if n == 0 || len(counts) == 0 {
		return out
	}
	vals := make([]float64, 0, len(counts))
	var total int64
	for v, c := range counts {
		vals = append(vals, v)
		total += c
	}
	slices.SortFunc(vals, cmp.Compare)
	for i, p := range ps {
		rank := max(int64(math.Ceil(p*float64(total))), 1)
		var seen int64
		for _, v := range vals {
			seen += counts[v]
			if seen >= rank {
				out[i] = v
				break
			}
		}
	}
	return out
}
