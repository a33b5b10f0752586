package main

// Interfaces coming and going while netwatch runs: created, renamed,
// deleted and recreated under the same name, moved to another namespace
// and back, for every backend and every long-running surface (watch,
// serve, record; top in TestHotplugTop), checked against the kernel's own
// counters.

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netwatch-dev/netwatch/internal/record"
	"github.com/netwatch-dev/netwatch/internal/stats"
	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
)

// Names the hot-plug tests give side A's veth.
const (
	hpRenamed  = "nwhp-ren"
	hpSelector = netnstest.IfNameA + "*,nwhp-*" // globs: a literal name must exist at start
	hpInterval = 250 * time.Millisecond
	hpTimeout  = 15 * time.Second // bound of every wait; no timing is asserted
)

// hpRow is what a surface shows of one interface: its index (0: the
// surface does not say) and counters. For watch and serve the counters are
// the cumulative ones it prints; for record, the sum of the rows recorded
// since the phase began.
type hpRow struct {
	index    int
	counters stats.Counters
	// bins is how many bins serve's bin rate histogram counted for the
	// device (0 elsewhere): a rename must not restart it.
	bins uint64
}

// hpSurface is one way of watching netwatch's output while it runs.
type hpSurface interface {
	// rows returns what the surface shows now, by interface name; rows
	// of record sum what was recorded after since.
	rows(t *testing.T, since time.Time) map[string]hpRow
	// cumulative says whether rows are the backend's cumulative
	// counters (watch, serve) rather than what was recorded since.
	cumulative() bool
	// finish stops netwatch and checks what the surface says overall.
	finish(t *testing.T, total stats.Counters)
}

type hpBackend struct {
	name string
	args []string
	ebpf bool // counters since attach; programs to check on the device
	tc   bool // legacy tc: a clsact qdisc netwatch created
	// watchOnly: run with watch only (the surfaces do not depend on
	// the attach mode; the device's hooks do).
	watchOnly bool
}

var hpBackends = []hpBackend{
	{"ebpf-tcx", []string{"-b", "ebpf", "--attach", "tcx"}, true, false, false},
	{"ebpf-tc", []string{"-b", "ebpf", "--attach", "tc"}, true, true, false},
	{"ebpf-xdp", []string{"-b", "ebpf", "--attach", "xdp", "--xdp-mode", "generic"}, true, false, true},
	{"ebpf-tcx-polled", []string{"-b", "ebpf", "--attach", "tcx", "--resolution", "0"}, true, false, true},
	{"netlink", []string{"-b", "netlink"}, false, false, false},
	{"procfs", []string{"-b", "procfs"}, false, false, false},
}

// TestHotplug: for every backend and surface, side A's veth is created
// after netwatch started, renamed, deleted and created again under the
// new name (a new index), moved into side B's namespace and moved back,
// with exact traffic after each event. Each change shows (the new
// interface has a row, the vanished one none), a rename keeps the
// interface's counters, a recreated or returned interface starts from its
// own counters (a fresh baseline: no spike, no negative rate), and a moved
// interface keeps nothing of netwatch attached in either namespace.
func TestHotplug(t *testing.T) {
	surfaces := []struct {
		name  string
		start func(t *testing.T, p *netnstest.Pair, args []string) hpSurface
	}{
		{"watch", startHPWatch},
		{"serve", startHPServe},
		{"record", startHPRecord},
	}
	for _, be := range hpBackends {
		for _, sf := range surfaces {
			if be.watchOnly && sf.name != "watch" {
				continue
			}
			t.Run(be.name+"/"+sf.name, func(t *testing.T) {
				t.Parallel()
				p := netnstest.NewPair(t)
				if err := p.DeleteA(); err != nil {
					t.Fatal(err)
				}
				s := sf.start(t, p, append(be.args, "-i", hpSelector))
				hotplugScenario(t, p, be, s)
			})
		}
	}
}

// hotplugScenario runs the events against a netwatch started on p's side A
// (without the veth yet) and checks what s shows after each one.
func hotplugScenario(t *testing.T, p *netnstest.Pair, be hpBackend, s hpSurface) {
	var total stats.Counters // all the traffic, over every device
	// base is where the backend's counters of the current device start:
	// the kernel's at attach for ebpf, zero (the device's own) otherwise.
	var base stats.Counters
	traffic := func(phase string, since time.Time, sinceKernel stats.Counters) {
		t.Helper()
		before := kernelNow(t, p)
		p.SendUDP(t, netnstest.A, 40, 700)
		p.SendUDP(t, netnstest.B, 30, 300)
		now := kernelNow(t, p)
		total = add(total, sub(now, before))
		want := sub(now, base)
		if !s.cumulative() {
			want = sub(now, sinceKernel)
		}
		waitRows(t, s, phase+": the kernel's counters", since, func(rows map[string]hpRow) string {
			r, ok := rows[p.IfA]
			if !ok || r.counters != want || (r.index != 0 && r.index != p.IndexA) {
				return fmt.Sprintf("want %s index %d counters %+v, have %+v", p.IfA, p.IndexA, want, rows)
			}
			return ""
		})
	}
	// mark is where the watch stream was when the event began.
	mark := 0
	event := func() time.Time {
		if w, ok := s.(*hpWatch); ok {
			mark = w.samples()
		}
		return time.Now()
	}
	appear := func(phase string, since time.Time) {
		t.Helper()
		began := time.Now()
		after := 0 // samples out when the event was complete
		if w, ok := s.(*hpWatch); ok {
			if be.ebpf && phase != "renamed" {
				// Attaching waits for the kernel (rtnl, which other
				// tests' namespace teardowns hold for long): the event
				// is complete for netwatch once it is attached.
				waitAttached(t, p.A, p.IfA)
			}
			after = w.samples()
		}
		waitRows(t, s, phase+": a row", since, func(rows map[string]hpRow) string {
			if r, ok := rows[p.IfA]; !ok || (r.index != 0 && r.index != p.IndexA) {
				return fmt.Sprintf("no row for %s index %d: %+v", p.IfA, p.IndexA, rows)
			}
			return ""
		})
		t.Logf("%s: shown %v after the event", phase, time.Since(began).Round(time.Millisecond))
		if w, ok := s.(*hpWatch); ok {
			w.checkPrompt(t, phase, mark, after, p.IfA, p.IndexA)
		}
	}
	vanish := func(phase, name string) {
		t.Helper()
		waitRows(t, s, phase+": no row for "+name, time.Now(), func(rows map[string]hpRow) string {
			if _, ok := rows[name]; ok {
				return fmt.Sprintf("%s still shown: %+v", name, rows)
			}
			return ""
		})
	}

	// Samples flow (serve answers, record says it is recording) before
	// the interface exists.
	waitRows(t, s, "output before the interface exists", time.Now(), func(rows map[string]hpRow) string {
		if rows == nil {
			return "no output yet"
		}
		return ""
	})

	// Created.
	since := event()
	if err := p.CreateA(); err != nil {
		t.Fatal(err)
	}
	base = kernelNow(t, p) // zero: a new, quiet device
	appear("created", since)
	traffic("created", since, base)

	// Renamed: the same row under the new name, counters going on.
	old, oldIndex := p.IfA, p.IndexA
	oldBins := s.rows(t, time.Time{})[old].bins
	sinceKernel := kernelNow(t, p)
	since = event()
	if err := p.RenameA(hpRenamed); err != nil {
		t.Fatal(err)
	}
	vanish("renamed", old)
	appear("renamed", since)
	if p.IndexA != oldIndex {
		t.Fatalf("the rename changed the index")
	}
	if bins := s.rows(t, time.Time{})[p.IfA].bins; bins < oldBins {
		t.Errorf("renamed: the bin rate histogram restarted: %d bins under %s, %d before under %s", bins, p.IfA, oldBins, old)
	}
	traffic("renamed", since, sinceKernel)

	// Deleted, then created under the same name with a new index: its
	// counters start afresh.
	if err := p.DeleteA(); err != nil {
		t.Fatal(err)
	}
	vanish("deleted", p.IfA)
	since = event()
	if err := p.CreateA(); err != nil {
		t.Fatal(err)
	}
	if p.IndexA == oldIndex {
		t.Fatalf("recreated with the same index %d", oldIndex)
	}
	base = kernelNow(t, p)
	appear("recreated", since)
	traffic("recreated", since, base)

	// Moved into another namespace: gone, and nothing of netwatch on it
	// there. Its index is free there, so it keeps it, and keeps it again
	// on its return: the same index, a fresh baseline all the same.
	away := netnstest.NewNS(t, "away")
	index := p.IndexA
	moved, err := p.MoveA(away)
	if err != nil {
		t.Fatal(err)
	}
	vanish("moved out", p.IfA)
	if be.ebpf {
		waitNothingAttached(t, away, p.IfA, be)
	}
	// Traffic while it is away: the device counts it, no surface may (a
	// stale baseline on its return would show it as a spike).
	sendAway(t, away, p.IfA, moved, 25)

	// Moved back: shown again, from a fresh baseline.
	since = event()
	if err := p.ReturnA(away); err != nil {
		t.Fatal(err)
	}
	t.Logf("moved out and back: index %d, %d away, %d back", index, moved, p.IndexA)
	sinceKernel = kernelNow(t, p)
	if be.ebpf {
		base = sinceKernel // attached again on its return
	} else {
		base = stats.Counters{} // the device's own counters, kept across namespaces
	}
	appear("moved back", since)
	traffic("moved back", since, sinceKernel)

	s.finish(t, total)
	if be.ebpf {
		waitNothingAttached(t, p.A, p.IfA, be)
	}
}

func add(a, b stats.Counters) stats.Counters {
	return stats.Counters{RxBytes: a.RxBytes + b.RxBytes, RxPackets: a.RxPackets + b.RxPackets,
		TxBytes: a.TxBytes + b.TxBytes, TxPackets: a.TxPackets + b.TxPackets}
}

// waitRows polls s until check returns "" (done).
func waitRows(t *testing.T, s hpSurface, what string, since time.Time, check func(map[string]hpRow) string) {
	t.Helper()
	deadline := time.Now().Add(hpTimeout)
	for {
		msg := check(s.rows(t, since))
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s after %v: %s", what, hpTimeout, msg)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sendAway sends n raw frames out of ifname (index) in ns, which it sets
// up: the moved device counts them in its new namespace.
func sendAway(t *testing.T, ns *netnstest.NS, ifname string, index, n int) {
	t.Helper()
	l, err := ns.Netlink().LinkByName(ifname)
	if err != nil {
		t.Fatal(err)
	}
	if err := ns.Netlink().LinkSetUp(l); err != nil {
		t.Fatal(err)
	}
	before, err := ns.LinkStats(ifname)
	if err != nil {
		t.Fatal(err)
	}
	// Broadcast, ethertype 0x88b5 (local experimental), zero payload.
	frame := append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5}, make([]byte, 486)...)
	err = ns.Do(func() error {
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		for range n {
			if err := unix.Sendto(fd, frame, 0, &unix.SockaddrLinklayer{Ifindex: index}); err != nil {
				return fmt.Errorf("send on %s: %w", ifname, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var st stats.Counters
	deadline := time.Now().Add(hpTimeout)
	for { // sent by the time the counters say so
		if st, err = ns.LinkStats(ifname); err != nil {
			t.Fatal(err)
		}
		if st.TxPackets >= before.TxPackets+uint64(n) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st.TxPackets < before.TxPackets+uint64(n) {
		t.Fatalf("%s in %s counted %d frames sent, want %d", ifname, ns.Name, st.TxPackets-before.TxPackets, n)
	}
}

// waitAttached waits until netwatch's programs are on ifname in ns: tc
// (TCX or filters) at ingress and egress, or XDP and tc egress.
func waitAttached(t *testing.T, ns *netnstest.NS, ifname string) {
	t.Helper()
	deadline := time.Now().Add(hpTimeout)
	for {
		h := hooks(t, ns, ifname)
		tc := append(ours(h.tcx), ours(h.filters)...)
		if attachedBoth(tc) || (h.xdpProg != 0 && len(tc) > 0) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s in %s: netwatch not attached after %v: %v, xdp %d", ifname, ns.Name, hpTimeout, tc, h.xdpProg)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitNothingAttached waits until no netwatch program (TCX or tc filter)
// is on ifname in ns, nor a clsact qdisc that netwatch created.
func waitNothingAttached(t *testing.T, ns *netnstest.NS, ifname string, be hpBackend) {
	t.Helper()
	deadline := time.Now().Add(hpTimeout)
	for {
		h := hooks(t, ns, ifname)
		o := append(ours(h.tcx), ours(h.filters)...)
		if len(o) == 0 && h.xdpProg == 0 && !(be.tc && h.clsact) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s in %s: still attached: %v, xdp %d, clsact %v", ifname, ns.Name, o, h.xdpProg, h.clsact)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ---- watch --json ----

type hpWatch struct {
	c   *child
	col *collector
}

func startHPWatch(t *testing.T, p *netnstest.Pair, args []string) hpSurface {
	c := startNetwatch(t, p.A, append([]string{"watch", "-f", "ndjson", "-n", hpInterval.String()}, args...)...)
	return &hpWatch{c: c, col: collect(c)}
}

func (w *hpWatch) cumulative() bool { return true }

func (w *hpWatch) samples() int {
	w.col.mu.Lock()
	defer w.col.mu.Unlock()
	return len(w.col.samples)
}

// checkPrompt checks that ifname (index) has a row at the latest in the
// second sample emitted after the event was complete (samples mark to
// after-1 came out while it ran; creating a veth and waiting for its
// carrier can take a second): a polled backend reads when the link event
// comes (the baseline) and shows it in the next sample; a second sample
// allows for a tick that fell between the event and that read.
func (w *hpWatch) checkPrompt(t *testing.T, phase string, mark, after int, ifname string, index int) {
	t.Helper()
	w.col.mu.Lock()
	defer w.col.mu.Unlock()
	for i := mark; i < len(w.col.samples); i++ {
		for _, r := range w.col.samples[i].Interfaces {
			if r.Name == ifname && r.Index == index {
				if i >= after+2 {
					t.Errorf("%s: first shown in sample %d after the event was complete, want at most 2", phase, i-after+1)
				}
				return
			}
		}
	}
}

func (w *hpWatch) rows(t *testing.T, _ time.Time) map[string]hpRow {
	t.Helper()
	select {
	case <-w.c.done:
		t.Fatalf("netwatch exited: %s", w.c.stderr.String())
	default:
	}
	w.col.mu.Lock()
	defer w.col.mu.Unlock()
	if len(w.col.samples) == 0 {
		return nil
	}
	out := make(map[string]hpRow)
	for _, r := range w.col.samples[len(w.col.samples)-1].Interfaces {
		out[r.Name] = hpRow{index: r.Index, counters: r.counters()}
	}
	return out
}

// finish checks the whole stream: what the rates add up to is exactly the
// traffic sent (a spike from a stale baseline would add to it, a negative
// rate take from it), and counters never go backwards within an index
// except where a new device took it.
func (w *hpWatch) finish(t *testing.T, total stats.Counters) {
	t.Helper()
	w.c.signal(t, syscall.SIGINT)
	if code := w.c.wait(t); code != 0 {
		t.Fatalf("exit %d: %s", code, w.c.stderr.String())
	}
	<-w.col.done
	if len(w.col.bad) > 0 {
		t.Fatalf("invalid lines: %q", w.col.bad)
	}
	checkQuietStderr(t, w.c.stderr.String())
	var byRates [4]float64
	lost := 0
	for i, s := range w.col.samples {
		names, indexes := map[string]bool{}, map[int]bool{}
		for _, r := range s.Interfaces {
			if names[r.Name] || indexes[r.Index] {
				t.Errorf("sample %d: %s (index %d) twice: %+v", i, r.Name, r.Index, s.Interfaces)
			}
			names[r.Name], indexes[r.Index] = true, true
		}
		for _, r := range s.Interfaces {
			sec := float64(s.IntervalNs) / 1e9
			if r.IntervalNs > 0 { // appeared during the sample: its rates cover less
				sec = float64(r.IntervalNs) / 1e9
			}
			for i, v := range []float64{r.RxBytesPerSec, r.RxPacketsPerSec, r.TxBytesPerSec, r.TxPacketsPerSec} {
				if v < 0 {
					t.Errorf("negative rate: %+v", r)
				}
				byRates[i] += v * sec
			}
			lost += r.LostBins
		}
	}
	// Bins the kernel overwrote before they were read (a reader starved
	// of CPU) are missing from the rates, and say so: then the rates may
	// add up to less, never to more.
	want := [4]uint64{total.RxBytes, total.RxPackets, total.TxBytes, total.TxPackets}
	for i, r := range byRates {
		slack := 1e-6*float64(want[i]) + 0.5
		if r > float64(want[i])+slack || (lost == 0 && r < float64(want[i])-slack) {
			t.Errorf("the rates add up to %v, the traffic sent was %v (%d lost bins)", byRates, want, lost)
			break
		}
	}
}

// checkQuietStderr fails t on any warning or error netwatch logged, but
// lost bins (a reader starved of CPU on a loaded machine: reported, and
// allowed for by the checks).
func checkQuietStderr(t *testing.T, stderr string) {
	t.Helper()
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, "time bins lost") {
			continue
		}
		if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") || strings.Contains(l, "error") {
			t.Errorf("stderr: %s", l)
		}
	}
}

// ---- serve (scrapes) ----

type hpServe struct {
	c *child
	p *netnstest.Pair
}

func startHPServe(t *testing.T, p *netnstest.Pair, args []string) hpSurface {
	c := startNetwatch(t, p.A, append([]string{"serve", "-n", hpInterval.String()}, args...)...)
	return &hpServe{c: c, p: p}
}

func (s *hpServe) cumulative() bool { return true }

func (s *hpServe) rows(t *testing.T, _ time.Time) map[string]hpRow {
	t.Helper()
	select {
	case <-s.c.done:
		t.Fatalf("netwatch exited: %s", s.c.stderr.String())
	default:
	}
	hc := nsClient(s.p.A)
	if _, err := hc.Get("http://127.0.0.1:9977/"); err != nil {
		return nil // not listening yet
	}
	mfs, _ := scrape(t, hc, "")
	out := make(map[string]hpRow)
	if mf := mfs["netwatch_network_receive_bin_rate_bytes_per_second"]; mf != nil {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "device" {
					r := out[l.GetValue()]
					r.bins = m.GetHistogram().GetSampleCount()
					out[l.GetValue()] = r
				}
			}
		}
	}
	names := [4]string{"netwatch_network_receive_bytes_total", "netwatch_network_receive_packets_total",
		"netwatch_network_transmit_bytes_total", "netwatch_network_transmit_packets_total"}
	for i, name := range names {
		mf := mfs[name]
		if mf == nil {
			continue
		}
		for _, m := range mf.GetMetric() {
			dev := ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "device" {
					dev = l.GetValue()
				}
			}
			r := out[dev]
			v := uint64(m.GetCounter().GetValue())
			switch i {
			case 0:
				r.counters.RxBytes = v
			case 1:
				r.counters.RxPackets = v
			case 2:
				r.counters.TxBytes = v
			case 3:
				r.counters.TxPackets = v
			}
			out[dev] = r
		}
	}
	return out
}

func (s *hpServe) finish(t *testing.T, _ stats.Counters) {
	t.Helper()
	s.c.signal(t, syscall.SIGTERM)
	if code := s.c.wait(t); code != 0 {
		t.Fatalf("exit %d: %s", code, s.c.stderr.String())
	}
	checkQuietStderr(t, s.c.stderr.String())
}

// ---- record (the file read back while it grows, and at the end) ----

type hpRecord struct {
	c     *child
	path  string
	mu    sync.Mutex
	ready atomic.Bool // record printed its first line: it samples
}

func startHPRecord(t *testing.T, p *netnstest.Pair, args []string) hpSurface {
	path := filepath.Join(t.TempDir(), "hotplug.ndjson")
	if slices.Contains(args, "ebpf") {
		args = append(args, "-r", "10ms") // fewer rows to read back than 1 ms bins
	}
	c := startNetwatch(t, p.A, append([]string{"record", "-o", path, "-n", hpInterval.String()}, args...)...)
	r := &hpRecord{c: c, path: path}
	go func() {
		for range c.lines { // "recording FILE: ...", at the first sample
			r.ready.Store(true)
		}
	}()
	return r
}

func (r *hpRecord) cumulative() bool { return false }

func (r *hpRecord) read(t *testing.T, fn func(record.Row)) bool {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	_, err := record.Read([]string{r.path}, record.Range{}, func(row record.Row) error {
		fn(row)
		return nil
	})
	return err == nil
}

func (r *hpRecord) rows(t *testing.T, since time.Time) map[string]hpRow {
	t.Helper()
	select {
	case <-r.c.done:
		t.Fatalf("netwatch exited: %s", r.c.stderr.String())
	default:
	}
	if !r.ready.Load() {
		return nil
	}
	out := make(map[string]hpRow)
	r.read(t, func(row record.Row) { // no file yet: no row yet
		if !row.End().After(since) {
			return
		}
		h := out[row.Interface]
		h.index = row.Index
		h.counters = add(h.counters, row.Counters)
		out[row.Interface] = h
	})
	return out
}

// finish checks the whole file: the rows add up to exactly the traffic
// sent (a row from a stale baseline would add to it).
func (r *hpRecord) finish(t *testing.T, total stats.Counters) {
	t.Helper()
	r.c.signal(t, syscall.SIGINT)
	if code := r.c.wait(t); code != 0 {
		t.Fatalf("exit %d: %s", code, r.c.stderr.String())
	}
	checkQuietStderr(t, r.c.stderr.String())
	var sum stats.Counters
	lost := false
	if !r.read(t, func(row record.Row) { sum, lost = add(sum, row.Counters), lost || row.Lost }) {
		t.Fatalf("cannot read %s back", r.path)
	}
	// A lost bin's row is a lower bound (and says so); nothing may add up
	// to more than was sent.
	if sum != total && (!lost || !covers(total, sum)) {
		t.Errorf("the recorded rows add up to %+v, the traffic sent was %+v (lost bins: %v)", sum, total, lost)
	}
}

// focusTotals matches top's focus line: name, index and the rx and tx
// totals in parentheses.
var focusTotals = regexp.MustCompile(`(\S+)  index (\d+)  rx .*? \(([^)]+)\)  tx .*? \(([^)]+)\)`)

// TestHotplugTop runs top in a terminal (tmux) while side A's veth is
// created and then renamed: the new interface shows up, and the rename
// keeps its row, its focus and its totals, under the new name. It ends
// with nothing attached. With procfs, whose totals top counts from the
// row's first sample, a rename that made a new row would show zero.
func TestHotplugTop(t *testing.T) {
	for _, be := range []string{"ebpf", "procfs"} {
		t.Run(be, func(t *testing.T) { hotplugTop(t, be) })
	}
}

func hotplugTop(t *testing.T, be string) {
	p := netnstest.NewPair(t)
	if err := p.DeleteA(); err != nil {
		t.Fatal(err)
	}
	tm := newTmux(t)
	tm.waitFor("the shell prompt", func(s string) bool { return strings.Contains(s, "shell$") })
	tm.keys(fmt.Sprintf("ip netns exec %s %s top -b %s -i '%s' -n %s; echo EXIT=$?", p.A.Name, binary, be, hpSelector, hpInterval), "Enter")
	tm.waitFor("top running, no interface yet", func(s string) bool { return strings.Contains(s, be) && strings.Contains(s, "IFACE") })

	if err := p.CreateA(); err != nil {
		t.Fatal(err)
	}
	tm.waitFor("the new interface", func(s string) bool { return strings.Contains(s, p.IfA+" ") })
	p.SendUDP(t, netnstest.A, 50, 1000)
	p.SendUDP(t, netnstest.B, 20, 500)
	tm.keys("Enter")
	var before []string
	tm.waitFor("the focused interface with its totals", func(s string) bool {
		before = focusTotals.FindStringSubmatch(s)
		return before != nil && before[1] == p.IfA && before[3] != "0 B" && before[4] != "0 B"
	})

	old := p.IfA
	if err := p.RenameA(hpRenamed); err != nil {
		t.Fatal(err)
	}
	screen := tm.waitFor("the renamed interface, still focused", func(s string) bool {
		m := focusTotals.FindStringSubmatch(s)
		return m != nil && m[1] == hpRenamed
	})
	after := focusTotals.FindStringSubmatch(screen)
	if after[2] != before[2] || after[3] != before[3] || after[4] != before[4] {
		t.Errorf("the rename changed the index or the totals: %q before, %q after", before[0], after[0])
	}
	if strings.Contains(screen, old+" ") {
		t.Errorf("the old name %s is still on screen:\n%s", old, screen)
	}
	t.Logf("before: %s\nafter:  %s", before[0], after[0])

	tm.keys("q")
	end := tm.waitFor("the shell after exit", func(s string) bool { return exitLine.MatchString(s) })
	if m := exitLine.FindStringSubmatch(end); m[1] != "0" {
		t.Errorf("exit status: want 0:\n%s", end)
	}
	h := hooks(t, p.A, p.IfA)
	if o := append(ours(h.tcx), ours(h.filters)...); len(o) > 0 || h.xdpProg != 0 {
		t.Errorf("still attached after q: %v (xdp %d)", o, h.xdpProg)
	}
}
