package main

// Ground-truth end-to-end tests: what netwatch prints over time, compared
// with what the kernel itself counted on the interface, under the
// conditions users meet: bursts, idle links, a paused reader, renames.

import (
	"encoding/json"
	"fmt"
	"math"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/netwatch-dev/netwatch/internal/stats"
	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
)

// streamIface is one interface of one NDJSON sample.
type streamIface struct {
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
	LostBins        int     `json:"lost_bins"`
	// IntervalNs: the row's own interval, when it appeared meanwhile.
	IntervalNs int64 `json:"interval_ns"`
}

func (s streamIface) counters() stats.Counters {
	return stats.Counters{RxBytes: s.RxBytes, RxPackets: s.RxPackets, TxBytes: s.TxBytes, TxPackets: s.TxPackets}
}

type streamSample struct {
	Attach     string        `json:"attach"`
	IntervalNs int64         `json:"interval_ns"`
	ExactBins  bool          `json:"exact_bins"`
	Interfaces []streamIface `json:"interfaces"`
}

// collector reads a child's NDJSON stream in the background, so that the
// test never blocks netwatch (a 1 ms stream writes 1,000 lines a second).
type collector struct {
	mu      sync.Mutex
	samples []streamSample
	bad     []string
	done    chan struct{}
}

func collect(c *child) *collector {
	col := &collector{done: make(chan struct{})}
	go func() {
		defer close(col.done)
		for line := range c.lines {
			var s streamSample
			col.mu.Lock()
			if err := json.Unmarshal(line, &s); err != nil {
				col.bad = append(col.bad, string(line))
			} else {
				col.samples = append(col.samples, s)
			}
			col.mu.Unlock()
		}
	}()
	return col
}

// last returns the newest sample's row of ifindex, if any.
func (col *collector) last(ifindex int) (streamIface, int, bool) {
	col.mu.Lock()
	defer col.mu.Unlock()
	for i := len(col.samples) - 1; i >= 0; i-- {
		for _, r := range col.samples[i].Interfaces {
			if r.Index == ifindex {
				return r, len(col.samples), true
			}
		}
	}
	return streamIface{}, len(col.samples), false
}

// waitFor waits until the newest row of ifindex satisfies ok.
func (col *collector) waitFor(t *testing.T, c *child, ifindex int, timeout time.Duration, what string, ok func(streamIface) bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		r, n, found := col.last(ifindex)
		if found && ok(r) {
			return
		}
		select {
		case <-c.done:
			t.Fatalf("netwatch exited before %s (%d samples; exit %d): %s", what, n, c.cmd.ProcessState.ExitCode(), c.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no sample shows %s after %v (%d samples, newest row %+v)", what, timeout, n, r)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// kernelDelta is what the kernel's own counters of side A's veth counted
// between two readings, as netwatch counts it: native XDP on veth counts a
// received frame without its 14-byte Ethernet header, netwatch with it.
func kernelDelta(before, after stats.Counters, xdpDriver bool) stats.Counters {
	d := sub(after, before)
	if xdpDriver {
		d.RxBytes += 14 * d.RxPackets
	}
	return d
}

func kernelNow(t *testing.T, p *netnstest.Pair) stats.Counters {
	t.Helper()
	s, err := p.KernelCounters()
	if err != nil {
		t.Fatal(err)
	}
	return stats.Counters{RxBytes: s.RxBytes, RxPackets: s.RxPackets, TxBytes: s.TxBytes, TxPackets: s.TxPackets}
}

// TestCountersMatchKernel is the property the trust issue asks for: in
// every attach mode, with bins and without, at 1 ms, 100 ms and 1 s, over a
// stream with bursts, idle gaps, a reader paused (SIGSTOP) for longer than
// the bin storage holds and two renames, the cumulative counters never
// decrease, the interface keeps its row through the renames, and the
// per-sample differences add up to exactly what the kernel's own counters
// of the veth counted. Where a sample's rates are incomplete, it says so
// (lost_bins); otherwise the rates add up to the same total.
func TestCountersMatchKernel(t *testing.T) {
	type mode struct{ name, attach, xdpMode string }
	modes := []mode{{"tcx", "tcx", ""}, {"tc", "tc", ""}, {"xdp-generic", "xdp", "generic"}, {"xdp-driver", "xdp", "driver"}}
	intervals := []string{"1ms", "100ms", "1s"}
	resolutions := []string{"1ms", "0"}
	for _, m := range modes {
		for _, iv := range intervals {
			for _, res := range resolutions {
				t.Run(fmt.Sprintf("%s/n=%s/resolution=%s", m.name, iv, res), func(t *testing.T) {
					countersMatchKernel(t, m.attach, m.xdpMode, iv, res)
				})
			}
		}
	}
}

func countersMatchKernel(t *testing.T, attachMode, xdpMode, interval, resolution string) {
	p := netnstest.NewPair(t)
	renamed := []string{"nwren1", "nwren2"}
	args := []string{"watch", "--attach", attachMode, "-i", p.IfA + ",nwren*", "-f", "ndjson",
		"-n", interval, "--resolution", resolution}
	if xdpMode != "" {
		args = append(args, "--xdp-mode", xdpMode)
	}
	before := kernelNow(t, p)
	c := startNetwatch(t, p.A, args...)
	col := collect(c)
	// Traffic starts once a first sample is out, so the counters (since
	// attach) cover exactly the kernel's delta from here on.
	col.waitFor(t, c, p.IndexA, lineTimeout, "a first sample", func(streamIface) bool { return true })

	p.SendUDP(t, netnstest.A, 300, 1000) // a burst each way
	p.SendUDP(t, netnstest.B, 200, 400)
	time.Sleep(150 * time.Millisecond) // idle
	c.signal(t, syscall.SIGSTOP)       // a paused reader, longer than the bin storage holds
	for range 6 {
		p.SendUDP(t, netnstest.A, 50, 1200)
		time.Sleep(100 * time.Millisecond)
	}
	c.signal(t, syscall.SIGCONT)
	for _, name := range renamed {
		if err := p.RenameA(name); err != nil {
			t.Fatal(err)
		}
		p.SendUDP(t, netnstest.A, 100, 200)
		p.SendUDP(t, netnstest.B, 100, 300)
	}
	time.Sleep(50 * time.Millisecond) // idle again
	want := kernelDelta(before, kernelNow(t, p), xdpMode == "driver")
	col.waitFor(t, c, p.IndexA, 3*lineTimeout, fmt.Sprintf("the kernel's counters %+v", want), func(r streamIface) bool {
		return r.counters() == want && r.Name == renamed[1]
	})
	// One more sample: with bins, the one whose bins cover the end of the
	// traffic (the counters are read when a sample is emitted, its bins
	// end at its last bin edge).
	_, n, _ := col.last(p.IndexA)
	col.waitFor(t, c, p.IndexA, 3*lineTimeout, "one more sample", func(streamIface) bool {
		_, m, _ := col.last(p.IndexA)
		return m > n
	})

	c.signal(t, syscall.SIGINT)
	if code := c.wait(t); code != 0 {
		t.Fatalf("exit %d after SIGINT: %s", code, c.stderr.String())
	}
	<-col.done
	if len(col.bad) > 0 {
		t.Fatalf("invalid lines: %q", col.bad)
	}
	if got := kernelDelta(before, kernelNow(t, p), xdpMode == "driver"); got != want {
		t.Fatalf("traffic after the end of the test: kernel delta %+v, then %+v", want, got)
	}

	var prev stats.Counters
	var byRates [4]float64
	lost, rows := 0, 0
	for i, s := range col.samples {
		var row *streamIface
		for j := range s.Interfaces {
			if s.Interfaces[j].Index == p.IndexA {
				row = &s.Interfaces[j]
			}
		}
		if row == nil {
			t.Fatalf("sample %d of %d has no row for ifindex %d (dropped around a rename or after idle?): %+v", i, len(col.samples), p.IndexA, s)
		}
		rows++
		cur := row.counters()
		if _, ok := stats.Delta(prev, cur); !ok {
			t.Fatalf("sample %d: counters went backwards from %+v to %+v", i, prev, cur)
		}
		if i == 0 && cur != (stats.Counters{}) {
			t.Errorf("first sample counted %+v before any traffic", cur)
		}
		prev = cur
		sec := float64(s.IntervalNs) / 1e9
		byRates[0] += row.RxBytesPerSec * sec
		byRates[1] += row.RxPacketsPerSec * sec
		byRates[2] += row.TxBytesPerSec * sec
		byRates[3] += row.TxPacketsPerSec * sec
		lost += row.LostBins
	}
	if prev != want {
		t.Errorf("counters at the end %+v, the kernel's delta %+v", prev, want)
	}
	totals := [4]uint64{want.RxBytes, want.RxPackets, want.TxBytes, want.TxPackets}
	complete := true
	for i, r := range byRates {
		if math.Abs(r-float64(totals[i])) > 1e-6*float64(totals[i])+0.5 {
			complete = false
		}
	}
	switch {
	case resolution == "0" && !complete:
		t.Errorf("polled rates add up to %v, counters to %v", byRates, totals)
	case !complete && lost == 0:
		t.Errorf("rates add up to %v, counters to %v, and no sample reported lost bins", byRates, totals)
	}
	t.Logf("%d samples, %d lost bins, totals %+v", rows, lost, want)
}

// TestLateInterfaceCounts: an interface that comes into the selection after
// netwatch started (here by a rename) is attached and counts exactly what
// the kernel counts from then on, with bins and without.
func TestLateInterfaceCounts(t *testing.T) {
	for _, res := range []string{"1ms", "0"} {
		t.Run("resolution="+res, func(t *testing.T) {
			p := netnstest.NewPair(t)
			c := startNetwatch(t, p.A, "watch", "-i", "nwlate*", "-f", "ndjson", "-n", "20ms", "--resolution", res)
			col := collect(c)
			// Samples flow (with no interface) before the late one exists.
			deadline := time.Now().Add(lineTimeout)
			for {
				if _, n, _ := col.last(p.IndexA); n > 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no sample before the interface appeared: %s", c.stderr.String())
				}
				time.Sleep(5 * time.Millisecond)
			}
			if err := p.RenameA("nwlate0"); err != nil {
				t.Fatal(err)
			}
			col.waitFor(t, c, p.IndexA, lineTimeout, "the late interface", func(streamIface) bool { return true })
			before := kernelNow(t, p)
			first, _, _ := col.last(p.IndexA)
			p.SendUDP(t, netnstest.A, 120, 900)
			p.SendUDP(t, netnstest.B, 80, 100)
			want := kernelDelta(before, kernelNow(t, p), false)
			col.waitFor(t, c, p.IndexA, lineTimeout, fmt.Sprintf("the kernel's delta %+v", want), func(r streamIface) bool {
				return sub(r.counters(), first.counters()) == want
			})
			c.signal(t, syscall.SIGINT)
			if code := c.wait(t); code != 0 {
				t.Fatalf("exit %d: %s", code, c.stderr.String())
			}
		})
	}
}
