package tui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/netwatch-dev/netwatch/internal/output"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

// t0 is the end of the first fake sample.
var t0 = time.Date(2026, 11, 23, 10, 0, 1, 0, time.UTC)

const (
	burstSample = 40     // the sample (0-based) with a 5 ms burst on eth0 rx
	steady      = 1e6    // bytes/s, every sample
	burstPeak   = 1.2e9  // the burst's 1 ms bin
	threshold   = 100e6  // bytes/s
	linkSpeed   = 1.25e9 // 10 Gbit/s
	nSamples    = 60     // one minute at 1 s
	resolution  = time.Millisecond
)

// fakeStream is a minute of 1 s ebpf samples of two interfaces with 1 ms
// bins: steady 1 MB/s, and in sample burstSample five 1 ms bins at
// 1.2 GB/s on eth0 rx (the sample's average barely moves: +6 MB/s).
func fakeStream() []stats.Sample {
	var out []stats.Sample
	var rx uint64
	for i := range nSamples {
		s := stats.Sample{
			Time:       t0.Add(time.Duration(i) * time.Second),
			Source:     stats.Source{Backend: "ebpf", Attach: "tcx"},
			Interval:   time.Second,
			Resolution: resolution,
			ExactBins:  true,
		}
		for _, idx := range []int{2, 3} {
			avg, peak, bursts := float64(steady), float64(steady), 0
			if idx == 2 && i == burstSample {
				avg, peak, bursts = steady+5*burstPeak/1000, burstPeak, 5
			}
			if idx == 2 {
				rx += uint64(avg)
			}
			sum := &stats.Summary{Bins: 1000, BurstThreshold: threshold,
				Rx: stats.DirSummary{PeakBytesPerSec: peak, P99BytesPerSec: steady, Bursts: bursts},
				Tx: stats.DirSummary{PeakBytesPerSec: steady / 2, P99BytesPerSec: steady / 2}}
			rates := stats.Rates{RxBytesPerSec: avg, TxBytesPerSec: steady / 2, RxPacketsPerSec: 1000, TxPacketsPerSec: 500}
			sum.SetUtilization(linkSpeed, rates)
			name := "eth0"
			if idx == 3 {
				name = "eth1"
			}
			s.Interfaces = append(s.Interfaces, stats.InterfaceSample{
				Name: name, Index: idx, Rates: rates, Summary: sum,
				Counters: stats.Counters{RxBytes: rx, TxBytes: uint64(i+1) * steady / 2},
			})
		}
		out = append(out, s)
	}
	return out
}

type retimes []time.Duration

func newFed(t *testing.T, w, h int, stream []stats.Sample) (*Model, *retimes) {
	t.Helper()
	var r retimes
	m := New(Options{Interval: time.Second, Retime: func(d time.Duration) { r = append(r, d) }})
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	for _, s := range stream {
		m.Update(SampleMsg(s))
	}
	return m, &r
}

// screen renders m and checks the frame is exactly w x h cells.
func screen(t *testing.T, m *Model) []string {
	t.Helper()
	out := m.View().Content
	lines := strings.Split(out, "\n")
	if len(lines) != m.h {
		t.Fatalf("%d lines, want %d", len(lines), m.h)
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w != m.w {
			t.Fatalf("line %d is %d cells wide, want %d: %q", i, w, m.w, ansi.Strip(l))
		}
	}
	for i := range lines {
		lines[i] = ansi.Strip(lines[i])
	}
	return lines
}

func find(lines []string, sub string) int {
	for i, l := range lines {
		if strings.Contains(l, sub) {
			return i
		}
	}
	return -1
}

func press(m *Model, k string) tea.Cmd {
	var msg tea.KeyPressMsg
	switch k {
	case "enter":
		msg = tea.KeyPressMsg{Code: tea.KeyEnter}
	case "tab":
		msg = tea.KeyPressMsg{Code: tea.KeyTab}
	case "esc":
		msg = tea.KeyPressMsg{Code: tea.KeyEscape}
	case "space":
		msg = tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "down":
		msg = tea.KeyPressMsg{Code: tea.KeyDown}
	case "ctrl+c":
		msg = tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	default:
		msg = tea.KeyPressMsg{Code: rune(k[0]), Text: k}
	}
	_, cmd := m.Update(msg)
	return cmd
}

func TestLayout80x24(t *testing.T) {
	m, _ := newFed(t, 80, 24, fakeStream())
	lines := screen(t, m)
	for _, want := range []string{"netwatch top", "ebpf/tcx", "bins 1ms", "burst > 100.0 MB/s", "PEAK 1ms", "UTIL", "TOTAL", "BURSTS", "rx eth0", "tx eth0", "-1m", "now"} {
		if find(lines, want) < 0 {
			t.Errorf("80x24: %q not on screen:\n%s", want, strings.Join(lines, "\n"))
		}
	}
	// Two rows per interface at 80 columns: eth0 rx then tx.
	i := find(lines, "eth0 ")
	if i < 0 || !strings.Contains(lines[i], " rx ") || !strings.Contains(lines[i+1], " tx ") {
		t.Errorf("80x24: want eth0 on an rx row followed by its tx row:\n%s", strings.Join(lines, "\n"))
	}
	if !strings.Contains(lines[i], "1.0 MB/s") || !strings.Contains(lines[i], "1.2 GB/s") {
		t.Errorf("80x24: eth0 row lacks its rate or its peak bin: %q", lines[i])
	}
	if !strings.Contains(lines[i], "0.1%") { // 1 MB/s of 1.25 GB/s
		t.Errorf("80x24: eth0 row lacks its utilisation: %q", lines[i])
	}
}

func TestLayout200x50(t *testing.T) {
	m, _ := newFed(t, 200, 50, fakeStream())
	lines := screen(t, m)
	h := find(lines, "IFACE")
	if h < 0 || !strings.Contains(lines[h], "RX NOW") || !strings.Contains(lines[h], "TX PEAK 1ms") {
		t.Fatalf("200x50: want one row per interface with RX and TX columns:\n%s", strings.Join(lines, "\n"))
	}
	if i := find(lines, "eth1"); i != h+2 || !strings.Contains(lines[i], "500.0 kB/s") {
		t.Errorf("200x50: eth1 should be the second row with its tx rate:\n%s", strings.Join(lines, "\n"))
	}
	// Taller graphs on a taller screen.
	rows := 0
	for _, l := range lines[find(lines, "rx eth0")+2:] {
		if strings.HasPrefix(l, "tx eth0") {
			break
		}
		rows++
	}
	if rows < 15 {
		t.Errorf("200x50: rx graph has %d rows, want at least 15", rows)
	}
}

// burstColumns are the graph columns (of n over the minute) that overlap the
// burst sample: [t_burst - 1s, t_burst) within [t_last - 60s, t_last).
func burstColumns(n int) map[int]bool {
	left := float64(nSamples - 60)                                       // seconds since t0 - 1s
	start, end := float64(burstSample)-left, float64(burstSample+1)-left // in seconds from the left edge
	slice := 60.0 / float64(n)
	cols := map[int]bool{}
	for x := range n {
		if float64(x)*slice < end && float64(x+1)*slice > start {
			cols[x] = true
		}
	}
	return cols
}

func TestBurstVisibleInItsColumn(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {200, 50}, {137, 31}} {
		m, _ := newFed(t, size[0], size[1], fakeStream())
		lines := screen(t, m)
		title := find(lines, "rx eth0")
		if title < 0 {
			t.Fatalf("%v: no rx graph", size)
		}
		want := burstColumns(m.w)
		marks := []rune(lines[title+1])
		graph := lines[title+2 : find(lines, "tx eth0")]
		for x := range m.w {
			marked := marks[x] == glyphBurst
			if marked != want[x] {
				t.Errorf("%v: column %d: burst marker %v, want %v\n%s", size, x, marked, want[x], lines[title+1])
			}
			// Steady columns are one cell high; the burst's peak line
			// rises over half the graph.
			height, peakLine := 0, false
			for _, row := range graph {
				r := []rune(row)[x]
				if r != ' ' && r != glyphThreshold {
					height++
				}
				peakLine = peakLine || r == glyphPeak
			}
			if tall := height > len(graph)/2 && peakLine; tall != want[x] {
				t.Errorf("%v: column %d: %d cells high (peak line %v), want the peak line only in the burst's columns", size, x, height, peakLine)
			}
		}
		// The average is drawn beside the peak: a bar at the bottom of every column.
		bottom := []rune(lines[find(lines, "tx eth0")-1])
		for x := 2; x < m.w; x++ {
			if bottom[x] == ' ' {
				t.Errorf("%v: column %d has no average bar: %q", size, x, string(bottom))
				break
			}
		}
		if i := find(lines, "rx eth0"); !strings.Contains(lines[i], "bursts 5") {
			t.Errorf("%v: rx title should count the 5 burst bins: %q", size, lines[i])
		}
	}
}

func TestKeys(t *testing.T) {
	m, r := newFed(t, 80, 24, fakeStream())
	if press(m, "j"); m.selected().name != "eth1" || find(screen(t, m), "rx eth1") < 0 {
		t.Errorf("j: selected %s, want eth1 and its graph", m.selected().name)
	}
	if press(m, "k"); m.selected().name != "eth0" {
		t.Errorf("k: selected %s, want eth0", m.selected().name)
	}
	press(m, "down")
	press(m, "down") // stays on the last
	if m.selected().name != "eth1" {
		t.Errorf("down twice: selected %s, want eth1", m.selected().name)
	}
	press(m, "k")

	press(m, "enter")
	if l := screen(t, m); find(l, "IFACE") >= 0 || find(l, "index 2") < 0 {
		t.Errorf("enter: want eth0 focused, without the list:\n%s", strings.Join(l, "\n"))
	}
	press(m, "esc")
	if find(screen(t, m), "IFACE") < 0 {
		t.Errorf("esc: want the list back")
	}

	press(m, "tab")
	if l := screen(t, m); find(l, "sparklines") < 0 || find(l, "eth1") < 0 {
		t.Errorf("tab: want the sparkline view:\n%s", strings.Join(l, "\n"))
	}
	press(m, "tab")
	if l := screen(t, m); find(l, "RX p99") < 0 || find(l, "1.0k") < 0 {
		t.Errorf("tab tab: want the details view:\n%s", strings.Join(l, "\n"))
	}
	press(m, "tab")
	if find(screen(t, m), "PEAK 1ms") < 0 {
		t.Errorf("tab x3: want the graphs view again")
	}

	press(m, "u")
	if l := screen(t, m); find(l, "8.0 Mbit/s") < 0 || find(l, "9.6 Gbit/s") < 0 || find(l, "MB/s") >= 0 {
		t.Errorf("u: want rates in bits:\n%s", strings.Join(l, "\n"))
	}
	press(m, "u")
	if find(screen(t, m), "1.0 MB/s") < 0 {
		t.Errorf("u u: want rates in bytes again")
	}

	press(m, "+")
	press(m, "-")
	press(m, "-")
	if got := *r; len(got) != 3 || got[0] != 2*time.Second || got[1] != time.Second || got[2] != 500*time.Millisecond {
		t.Errorf("+ - -: retimed %v, want [2s 1s 500ms]", got)
	}
	if find(screen(t, m), "refresh 500ms") < 0 {
		t.Errorf("header should show refresh 500ms")
	}

	press(m, "?")
	if l := screen(t, m); find(l, "busiest bin") < 0 {
		t.Errorf("?: want help:\n%s", strings.Join(l, "\n"))
	}
	press(m, "?")
	if find(screen(t, m), "busiest bin") >= 0 {
		t.Errorf("? ?: help should close")
	}

	for _, k := range []string{"q", "ctrl+c"} {
		if cmd := press(m, k); cmd == nil {
			t.Errorf("%s: no command, want quit", k)
		} else if _, ok := cmd().(tea.QuitMsg); !ok {
			t.Errorf("%s: want tea.Quit", k)
		}
	}
}

func TestPause(t *testing.T) {
	stream := fakeStream()
	m, _ := newFed(t, 80, 24, stream[:10])
	press(m, "space")
	before := screen(t, m)
	if find(before, "PAUSED") < 0 {
		t.Fatalf("space: want PAUSED in the header")
	}
	for _, s := range stream[10:] {
		m.Update(SampleMsg(s))
	}
	after := screen(t, m)
	if strings.Join(before, "\n") != strings.Join(after, "\n") {
		t.Errorf("paused: the screen changed with new samples")
	}
	press(m, "space")
	if l := screen(t, m); find(l, "bursts 5") < 0 {
		t.Errorf("unpaused: the samples that came while paused (with the burst) should be shown:\n%s", strings.Join(l, "\n"))
	}
}

func TestResize(t *testing.T) {
	m, _ := newFed(t, 80, 24, fakeStream())
	for _, size := range [][2]int{{200, 50}, {81, 25}, {80, 24}, {120, 30}, {39, 9}, {80, 24}} {
		m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		lines := screen(t, m) // exactly w x h: the frame covers the previous one
		if size[0] < minWidth && find(lines, "needs at least") < 0 {
			t.Errorf("%v: want a too-small notice", size)
		}
	}
}

func TestProcfsHasNoPeakColumn(t *testing.T) {
	stream := fakeStream()
	for i := range stream {
		stream[i].Source = stats.Source{Backend: "procfs"}
		stream[i].ExactBins = false
		stream[i].Resolution = time.Second
		for j := range stream[i].Interfaces {
			stream[i].Interfaces[j].Summary = nil
		}
	}
	m, _ := newFed(t, 80, 24, stream)
	lines := screen(t, m)
	if find(lines, "PEAK") >= 0 || find(lines, "BURSTS") >= 0 {
		t.Errorf("procfs: no peak or burst column:\n%s", strings.Join(lines, "\n"))
	}
	if find(lines, "resolution 1s (poll)") < 0 || find(lines, "peak poll") < 0 {
		t.Errorf("procfs: the header and graphs should say the resolution is the poll:\n%s", strings.Join(lines, "\n"))
	}
	// procfs counters are since boot: totals start at the first sample.
	f := m.hist.order[0]
	if got, want := m.hist.total(f).TxBytes, uint64(nSamples-1)*steady/2; got != want {
		t.Errorf("procfs total tx %d, want %d", got, want)
	}
}

func TestTotalsAreTheCounters(t *testing.T) {
	m, _ := newFed(t, 80, 24, fakeStream())
	f := m.hist.order[0]
	if got, want := m.hist.total(f), f.last.Counters; got != want {
		t.Errorf("ebpf totals %+v, want the counters %+v", got, want)
	}
	if got := m.amount(1_234_567_890); got != "1.2 GB" {
		t.Errorf("amount: %q", got)
	}
	m.units = output.Bits
	if got := m.amount(1_234_567_890); got != "9.9 Gbit" {
		t.Errorf("amount in bits: %q", got)
	}
}

func TestInterfacesComeAndGo(t *testing.T) {
	stream := fakeStream()
	m, _ := newFed(t, 80, 24, stream[:5])
	press(m, "j") // eth1
	s := stream[5]
	s.Interfaces = s.Interfaces[1:] // eth0 vanished
	m.Update(SampleMsg(s))
	if f := m.selected(); f == nil || f.name != "eth1" || len(m.hist.order) != 1 {
		t.Fatalf("after eth0 vanished: want eth1 selected and alone")
	}
	screen(t, m)
}

func TestPanicInViewQuits(t *testing.T) {
	quit := false
	m := New(Options{Interval: time.Second, Quit: func() { quit = true }})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	m.Update(SampleMsg(fakeStream()[0]))
	m.hist.order[0] = nil // a bug in a view
	m.View()
	if !quit || m.Err() == nil || strings.Contains(m.Err().Error(), "\n") {
		t.Errorf("a panic in View: quit=%v err=%v, want quit and a one-line error", quit, m.Err())
	}
}

func TestDoneQuits(t *testing.T) {
	m := New(Options{Interval: time.Second})
	_, cmd := m.Update(DoneMsg{})
	if cmd == nil {
		t.Fatal("DoneMsg: want quit")
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Error("DoneMsg: want tea.Quit")
	}
}

func TestNiceCeil(t *testing.T) {
	for v, want := range map[float64]float64{0: 1, 0.3: 0.5, 1: 1, 1.2e9: 2e9, 3e6: 5e6, 7: 10} {
		if got := niceCeil(v); got != want {
			t.Errorf("niceCeil(%g) = %g, want %g", v, got, want)
		}
	}
}

func TestNamespacesKeepInterfacesApart(t *testing.T) {
	stream := fakeStream()
	for i := range stream {
		s := &stream[i]
		var both []stats.InterfaceSample
		for _, netns := range []string{"blue", "red"} {
			for _, is := range s.Interfaces {
				is.Netns = netns
				both = append(both, is)
			}
		}
		s.Interfaces = both
	}
	m, _ := newFed(t, 120, 30, stream[:3])
	n := len(stream[0].Interfaces)
	if len(m.hist.order) != n {
		t.Fatalf("%d rows, want %d: the same name and index in two namespaces are two interfaces", len(m.hist.order), n)
	}
	press(m, "j")
	want := m.selected().name
	if !strings.Contains(want, "@") {
		t.Fatalf("row name %q does not say its namespace", want)
	}
	m.Update(SampleMsg(stream[3]))
	if got := m.selected().name; got != want {
		t.Errorf("selection moved from %q to %q", want, got)
	}
	if scr := strings.Join(screen(t, m), "\n"); !strings.Contains(scr, "@blue") || !strings.Contains(scr, "@red") {
		t.Errorf("screen does not show both namespaces:\n%s", scr)
	}
}
