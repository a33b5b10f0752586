package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"os"
	"runtime"
	"time"

	"github.com/netwatch-dev/netwatch/internal/clock"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

// WireOverhead is what an interface counts per UDP/IPv4 datagram on top of
// the payload: UDP (8), IPv4 without options (20) and Ethernet (14) headers.
const WireOverhead = 8 + 20 + 14

// maxPayload keeps a datagram in one 1500-byte-MTU frame (no fragments).
const maxPayload = 1500 - 20 - 8

type sendConfig struct {
	dst    string
	size   int           // payload bytes per datagram
	rate   float64       // wire bytes per second while a burst runs
	burst  time.Duration // length of one burst
	every  time.Duration // burst start to next burst start
	bursts int
	binNS  int64 // width of the sender-side bins in the report
}

// Burst is what one burst actually did, in CLOCK_MONOTONIC nanoseconds.
type Burst struct {
	StartNS   int64   `json:"start_ns"` // the first datagram's slot
	EndNS     int64   `json:"end_ns"`   // end of the last datagram's (shifted) slot
	Datagrams int     `json:"datagrams"`
	WireBytes int64   `json:"wire_bytes"`
	RateBps   float64 `json:"rate_bytes_per_sec"` // wire_bytes / (end - start)
	// PeakBinBytes is the most wire bytes sent within one sender-side bin
	// (bin = send time / bin width, the edges netwatch's bins use).
	PeakBinBytes int64 `json:"peak_bin_wire_bytes"`
	MaxLateNS    int64 `json:"max_late_ns"` // worst delay of a send after its (shifted) slot
	MaxLateAt    int   `json:"max_late_at"` // index of that datagram in the burst
}

// Report is printed as one JSON object when the sender is done.
type Report struct {
	Dst             string  `json:"dst"`
	Payload         int     `json:"payload_bytes_per_datagram"`
	WirePerDatagram int     `json:"wire_bytes_per_datagram"`
	TargetRateBps   float64 `json:"target_rate_bytes_per_sec"`
	SlotNS          int64   `json:"slot_ns"`
	BinNS           int64   `json:"bin_ns"`
	Datagrams       int64   `json:"datagrams"`
	PayloadBytes    int64   `json:"payload_bytes"`
	WireBytes       int64   `json:"wire_bytes"`
	SendErrors      int64   `json:"send_errors"`
	StartNS         int64   `json:"start_ns"`
	EndNS           int64   `json:"end_ns"`
	StartWall       string  `json:"start_wall"`
	MinBurstRateBps float64 `json:"min_burst_rate_bytes_per_sec"`
	MaxBurstRateBps float64 `json:"max_burst_rate_bytes_per_sec"`
	PeakBinRateBps  float64 `json:"peak_bin_rate_bytes_per_sec"`
	MaxLateNS       int64   `json:"max_late_ns"`
	Bursts          []Burst `json:"bursts"`
}

func parseSend(args []string) (sendConfig, error) {
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	var c sendConfig
	var rate string
	var bin time.Duration
	fs.StringVar(&c.dst, "dst", "", "destination host:port (required)")
	fs.IntVar(&c.size, "size", 1400, "UDP payload bytes per datagram")
	fs.StringVar(&rate, "rate", "100Mbit", "wire rate during a burst (e.g. 400Mbit, 50MB)")
	fs.DurationVar(&c.burst, "burst", 5*time.Millisecond, "length of one burst")
	fs.DurationVar(&c.every, "every", 200*time.Millisecond, "time from one burst's start to the next")
	fs.IntVar(&c.bursts, "bursts", 1, "number of bursts")
	fs.DurationVar(&bin, "bin", time.Millisecond, "width of the sender-side bins in the report")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	r, err := stats.ParseRate(rate)
	if err != nil {
		return c, fmt.Errorf("-rate: %w", err)
	}
	c.rate, c.binNS = r, int64(bin)
	switch {
	case c.dst == "":
		return c, errors.New("-dst is required")
	case c.size < 1 || c.size > maxPayload:
		return c, fmt.Errorf("-size %d: want 1..%d (one unfragmented frame)", c.size, maxPayload)
	case c.rate <= 0:
		return c, fmt.Errorf("-rate %q: want a positive rate", rate)
	case c.burst <= 0 || c.bursts < 1 || c.binNS <= 0:
		return c, errors.New("-burst, -bursts and -bin must be positive")
	case c.bursts > 1 && c.every < c.burst:
		return c, fmt.Errorf("-every %v is shorter than -burst %v", c.every, c.burst)
	}
	return c, nil
}

func runSend(args []string) error {
	c, err := parseSend(args)
	if err != nil {
		return err
	}
	conn, err := net.Dial("udp4", c.dst)
	if err != nil {
		return fmt.Errorf("send: dial %s: %w", c.dst, err)
	}
	defer conn.Close()

	wire := c.size + WireOverhead
	slot := time.Duration(float64(wire) / c.rate * 1e9)
	if slot <= 0 {
		return fmt.Errorf("send: rate %.0f B/s too high for %d-byte frames", c.rate, wire)
	}
	perBurst := int(math.Round(float64(c.burst) / float64(slot)))
	if perBurst < 1 {
		perBurst = 1
	}
	rep := Report{
		Dst: c.dst, Payload: c.size, WirePerDatagram: wire, TargetRateBps: c.rate,
		SlotNS: int64(slot), BinNS: c.binNS, StartWall: time.Now().UTC().Format(time.RFC3339Nano),
	}
	// The busy-wait loop must not migrate between OS threads mid-burst.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	payload := make([]byte, c.size)
	sent := make([]int64, perBurst) // send time of each datagram of the current burst
	first := now() + int64(10*time.Millisecond)
	for b := 0; b < c.bursts; b++ {
		// A late wake-up shifts the burst, never compresses it.
		start := max(sleepUntil(first+int64(b)*int64(c.every)), first+int64(b)*int64(c.every))
		br := sendBurst(conn, payload, start, int64(slot), sent)
		rep.SendErrors += int64(perBurst - br.Datagrams)
		br.WireBytes = int64(br.Datagrams) * int64(wire)
		br.RateBps = float64(br.WireBytes) / (float64(br.EndNS-br.StartNS) / 1e9)
		br.PeakBinBytes = peakBin(sent[:br.Datagrams], c.binNS) * int64(wire)
		rep.add(br)
	}
	rep.PayloadBytes = rep.Datagrams * int64(c.size)
	rep.WireBytes = rep.Datagrams * int64(wire)
	rep.PeakBinRateBps = float64(rep.peakBinBytes()) / (float64(c.binNS) / 1e9)
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("send: write report: %w", err)
	}
	if rep.SendErrors > 0 {
		return fmt.Errorf("send: %d datagrams failed", rep.SendErrors)
	}
	return nil
}

// sendBurst sends len(sent) datagrams, datagram i at start+i*slot
// (busy-wait), records each successful send's time in sent and returns the
// burst's measurements. A datagram that goes out more than a whole slot
// late shifts the rest of the burst by its delay instead of being caught up
// with back-to-back sends: the sender never exceeds the rate, and the
// measured duration (to the end of the last slot) includes the delay.
func sendBurst(conn net.Conn, payload []byte, start, slot int64, sent []int64) Burst {
	br := Burst{StartNS: start}
	var shift int64
	for i := range sent {
		due := start + shift + int64(i)*slot
		t := now()
		for t < due {
			t = now()
		}
		late := t - due
		if late > br.MaxLateNS {
			br.MaxLateNS, br.MaxLateAt = late, i
		}
		if late > slot {
			shift += late
		}
		if _, err := conn.Write(payload); err != nil {
			continue
		}
		sent[br.Datagrams] = t
		br.Datagrams++
	}
	end := start + shift + int64(len(sent))*slot
	t := now()
	for t < end {
		t = now()
	}
	br.EndNS = t
	return br
}

func (r *Report) add(b Burst) {
	if len(r.Bursts) == 0 || b.RateBps < r.MinBurstRateBps {
		r.MinBurstRateBps = b.RateBps
	}
	if b.RateBps > r.MaxBurstRateBps {
		r.MaxBurstRateBps = b.RateBps
	}
	if len(r.Bursts) == 0 {
		r.StartNS = b.StartNS
	}
	r.EndNS = b.EndNS
	r.MaxLateNS = max(r.MaxLateNS, b.MaxLateNS)
	r.Datagrams += int64(b.Datagrams)
	r.Bursts = append(r.Bursts, b)
}

func (r *Report) peakBinBytes() int64 {
	var p int64
	for _, b := range r.Bursts {
		p = max(p, b.PeakBinBytes)
	}
	return p
}

// peakBin returns the largest number of times that share one bin of width
// binNS (bin = t / binNS); times are ascending.
func peakBin(times []int64, binNS int64) int64 {
	var peak, n int64
	cur := int64(-1)
	for _, t := range times {
		if b := t / binNS; b != cur {
			cur, n = b, 0
		}
		n++
		peak = max(peak, n)
	}
	return peak
}

func now() int64 { return int64(clock.Monotonic()) }

// sleepUntil sleeps until about a millisecond before t, spins to t and
// returns the time it got there (later than t if the wake-up was late).
func sleepUntil(t int64) int64 {
	if d := time.Duration(t-now()) - time.Millisecond; d > 0 {
		time.Sleep(d)
	}
	n := now()
	for n < t {
		n = now()
	}
	return n
}
