package exporter

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/netwatch-dev/netwatch/internal/bursts"
	"github.com/netwatch-dev/netwatch/internal/sampler"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

const ms = time.Millisecond

func gather(t *testing.T, reg *prometheus.Registry) map[string][]*dto.Metric {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string][]*dto.Metric)
	for _, mf := range mfs {
		out[mf.GetName()] = mf.GetMetric()
	}
	return out
}

// value returns the value of the series of name with device dev ("" for
// none): counter, gauge, or a histogram's count.
func value(t *testing.T, m map[string][]*dto.Metric, name, dev string) float64 {
	t.Helper()
	for _, s := range m[name] {
		d := ""
		for _, l := range s.GetLabel() {
			if l.GetName() == "device" {
				d = l.GetValue()
			}
		}
		if d != dev {
			continue
		}
		switch {
		case s.Counter != nil:
			return s.GetCounter().GetValue()
		case s.Gauge != nil:
			return s.GetGauge().GetValue()
		case s.Histogram != nil:
			return float64(s.GetHistogram().GetSampleCount())
		}
	}
	t.Fatalf("no series %s{device=%q}", name, dev)
	return 0
}

func has(m map[string][]*dto.Metric, name, dev string) bool {
	for _, s := range m[name] {
		for _, l := range s.GetLabel() {
			if l.GetName() == "device" && l.GetValue() == dev {
				return true
			}
		}
	}
	return false
}

func newReg(t *testing.T, opts Options) (*Exporter, *prometheus.Registry) {
	e := New(opts)
	reg := prometheus.NewPedanticRegistry()
	if err := e.Register(reg); err != nil {
		t.Fatal(err)
	}
	return e, reg
}

func TestExporterBinsBurstsCounters(t *testing.T) {
	e, reg := newReg(t, Options{PeakWindow: 60 * ms, Bursts: true}) // 60 slots of one bin
	e.Started(stats.Source{Backend: "ebpf", Attach: "tcx"}, ms, 10*ms)
	for n := uint64(100); n < 110; n++ {
		c := stats.Counters{RxBytes: 10, TxBytes: 1}
		if n == 103 {
			c.RxBytes = 5000
		}
		e.Bin(sampler.Bin{Interface: "eth0", Index: 2, Number: n, Width: ms, Counters: c,
			Bursts: bursts.Step{Above: [2]bool{n == 103, false}}, Lost: n == 105})
		e.Bin(sampler.Bin{Interface: "eth1", Index: 3, Number: n, Width: ms})
	}
	if err := e.Burst(bursts.Event{Interface: "eth0", Index: 2, Direction: bursts.Rx, Duration: ms, Thresholds: bursts.Thresholds{Start: 1e6, End: 5e5}}); err != nil {
		t.Fatal(err)
	}
	e.Poll(300 * time.Microsecond)
	if err := e.Sample(stats.Sample{Interfaces: []stats.InterfaceSample{
		{Name: "eth0", Index: 2, Counters: stats.Counters{RxBytes: 1 << 40, RxPackets: 7, TxBytes: 10, TxPackets: 1}},
		{Name: "eth1", Index: 3},
	}}); err != nil {
		t.Fatal(err)
	}
	m := gather(t, reg)
	for _, c := range []struct {
		name, dev string
		want      float64
	}{
		{"netwatch_network_receive_bytes_total", "eth0", 1 << 40},
		{"netwatch_network_receive_packets_total", "eth0", 7},
		{"netwatch_network_transmit_bytes_total", "eth0", 10},
		{"netwatch_network_transmit_packets_total", "eth0", 1},
		{"netwatch_network_receive_bin_rate_bytes_per_second", "eth0", 10},
		{"netwatch_network_transmit_bin_rate_bytes_per_second", "eth1", 10},
		{"netwatch_bins_total", "", 10},
		{"netwatch_network_receive_bursts_total", "eth0", 1},
		{"netwatch_network_transmit_bursts_total", "eth0", 0},
		{"netwatch_network_receive_burst_duration_seconds", "eth0", 1},
		{"netwatch_network_receive_bins_above_threshold_total", "eth0", 1},
		{"netwatch_network_lost_bins_total", "eth0", 1},
		{"netwatch_network_receive_peak_bin_rate_bytes_per_second", "eth0", 5e6},
		{"netwatch_network_transmit_peak_bin_rate_bytes_per_second", "eth0", 1000},
		{"netwatch_network_burst_threshold_bytes_per_second", "eth0", 1e6},
		{"netwatch_network_burst_end_threshold_bytes_per_second", "eth0", 5e5},
		{"netwatch_poll_duration_seconds", "", 1},
		{"netwatch_time_bins_enabled", "", 1},
		{"netwatch_peak_window_seconds", "", 0.06},
	} {
		if got := value(t, m, c.name, c.dev); got != c.want {
			t.Errorf("%s{device=%q} = %v, want %v", c.name, c.dev, got, c.want)
		}
	}
	for _, s := range m["netwatch_network_receive_bin_rate_bytes_per_second"] {
		if h := s.GetHistogram(); s.GetLabel()[0].GetValue() == "eth0" && h.GetSampleSum()*0.001 != 10*9+5000 {
			t.Errorf("rx rate sum*width = %v, want the bins' bytes", h.GetSampleSum()*0.001)
		}
	}
	info := m["netwatch_info"][0]
	if got := labels(info); got != "attach=tcx,backend=ebpf,resolution=1ms" {
		t.Errorf("info labels %s", got)
	}

	// The peak moves with the bins, not with scrapes: every scrape sees
	// the same value until more bins come; 60 bins later the burst left.
	for range 3 {
		if got := value(t, gather(t, reg), "netwatch_network_receive_peak_bin_rate_bytes_per_second", "eth0"); got != 5e6 {
			t.Fatalf("peak changed between scrapes: %v", got)
		}
	}
	for n := uint64(110); n < 163; n++ {
		e.Bin(sampler.Bin{Interface: "eth0", Index: 2, Number: n, Width: ms, Counters: stats.Counters{RxBytes: 20}})
	}
	if got := value(t, gather(t, reg), "netwatch_network_receive_peak_bin_rate_bytes_per_second", "eth0"); got != 5e6 {
		t.Errorf("peak at bin 162 (burst at 103, window 60 bins) = %v, want 5e6", got)
	}
	e.Bin(sampler.Bin{Interface: "eth0", Index: 2, Number: 163, Width: ms, Counters: stats.Counters{RxBytes: 20}})
	if got := value(t, gather(t, reg), "netwatch_network_receive_peak_bin_rate_bytes_per_second", "eth0"); got != 20e3 {
		t.Errorf("peak at bin 163 = %v, want 20e3 (the burst left the window)", got)
	}

	// eth1 vanishes (no bins, not in the sample), eth0 is renamed: its
	// series continue under the new name only, with the values they had.
	binsBefore := value(t, gather(t, reg), "netwatch_network_receive_bin_rate_bytes_per_second", "eth0")
	e.Bin(sampler.Bin{Interface: "wan0", Index: 2, Number: 164, Width: ms})
	if err := e.Sample(stats.Sample{Interfaces: []stats.InterfaceSample{{Name: "wan0", Index: 2, Counters: stats.Counters{RxBytes: 1 << 41}}}}); err != nil {
		t.Fatal(err)
	}
	m = gather(t, reg)
	for _, name := range []string{"netwatch_network_receive_bytes_total", "netwatch_network_receive_bin_rate_bytes_per_second", "netwatch_network_lost_bins_total"} {
		if has(m, name, "eth1") || has(m, name, "eth0") || !has(m, name, "wan0") {
			t.Errorf("%s: vanished or renamed device still exposed, or the new name missing", name)
		}
	}
	if got := value(t, m, "netwatch_network_receive_bytes_total", "wan0"); got != 1<<41 {
		t.Errorf("renamed counter %v", got)
	}
	if got := value(t, m, "netwatch_network_receive_bin_rate_bytes_per_second", "wan0"); got != binsBefore+1 {
		t.Errorf("renamed: the bin rate histogram counts %v bins, want %v (it went on from %v)", got, binsBefore+1, binsBefore)
	}
}

// TestRecreatedUnderSameName: an interface deleted and created again
// under its name (a new index) is a new device from its first bin, with
// fresh histograms; until the sample drops the old one, both exist and a
// scrape must still succeed, exposing the new one.
func TestRecreatedUnderSameName(t *testing.T) {
	e := New(Options{})
	reg := prometheus.NewPedanticRegistry()
	if err := e.Register(reg); err != nil {
		t.Fatal(err)
	}
	e.Started(stats.Source{Backend: "ebpf", Attach: "tcx"}, ms, 0)
	for n := uint64(1); n <= 5; n++ {
		e.Bin(sampler.Bin{Interface: "eth0", Index: 2, Number: n, Width: ms, Counters: stats.Counters{RxBytes: 100}})
	}
	if err := e.Sample(stats.Sample{Interfaces: []stats.InterfaceSample{{Name: "eth0", Index: 2, Counters: stats.Counters{RxBytes: 500}}}}); err != nil {
		t.Fatal(err)
	}
	e.Bin(sampler.Bin{Interface: "eth0", Index: 7, Number: 6, Width: ms, Counters: stats.Counters{RxBytes: 10}})
	m := gather(t, reg) // both devices named eth0 exist now
	if got := value(t, m, "netwatch_network_receive_bin_rate_bytes_per_second", "eth0"); got != 1 {
		t.Errorf("between the new device's first bin and the sample: %v bins, want the new device's 1", got)
	}
	if err := e.Sample(stats.Sample{Interfaces: []stats.InterfaceSample{{Name: "eth0", Index: 7, Counters: stats.Counters{RxBytes: 10}}}}); err != nil {
		t.Fatal(err)
	}
	m = gather(t, reg)
	if got := value(t, m, "netwatch_network_receive_bytes_total", "eth0"); got != 10 {
		t.Errorf("recreated: receive bytes %v, want the new device's 10", got)
	}
	if got := value(t, m, "netwatch_network_receive_bin_rate_bytes_per_second", "eth0"); got != 1 {
		t.Errorf("recreated: %v bins, want 1 (a fresh histogram)", got)
	}
}

func labels(m *dto.Metric) string {
	var parts []string
	for _, l := range m.GetLabel() {
		parts = append(parts, l.GetName()+"="+l.GetValue())
	}
	return strings.Join(parts, ",")
}

// Without bins (procfs): counters (with errors and drops), no histogram
// series, no peak or burst metrics, and a metric that says so.
func TestExporterWithoutBins(t *testing.T) {
	e, reg := newReg(t, Options{})
	if n, err := testutil.GatherAndCount(reg, "netwatch_info", "netwatch_time_bins_enabled"); err != nil || n != 0 {
		t.Fatalf("before start: %d info series (%v), want none", n, err)
	}
	e.Started(stats.Source{Backend: "procfs"}, 0, time.Second)
	if err := e.Sample(stats.Sample{Interfaces: []stats.InterfaceSample{{Name: "eth0", Index: 2,
		Counters: stats.Counters{RxBytes: 5}, Errors: &stats.ErrorCounters{RxDrops: 3}}}}); err != nil {
		t.Fatal(err)
	}
	m := gather(t, reg)
	if got := value(t, m, "netwatch_time_bins_enabled", ""); got != 0 {
		t.Errorf("time_bins_enabled %v", got)
	}
	if got := value(t, m, "netwatch_network_receive_drop_total", "eth0"); got != 3 {
		t.Errorf("drops %v", got)
	}
	if got := labels(m["netwatch_info"][0]); got != "attach=,backend=procfs,resolution=1s" {
		t.Errorf("info %s", got)
	}
	for name := range m {
		if strings.Contains(name, "bin_rate") || strings.Contains(name, "peak") || strings.Contains(name, "burst") || name == "netwatch_bins_total" {
			t.Errorf("%s exposed without bins", name)
		}
	}
}

// BenchmarkScrape measures one scrape of /metrics (gather and text
// encoding through promhttp, as a Prometheus server would get it) after
// every interface saw 1,000 bins with a spread of rates and a few bursts.
// The scrape copies the state under the lock and reads nothing else: its
// cost depends on the number of series, never on the bins or the kernel.
func BenchmarkScrape(b *testing.B) {
	for _, n := range []int{4, 1000} {
		b.Run(strconv.Itoa(n)+"_interfaces", func(b *testing.B) {
			e := New(Options{Bursts: true})
			reg := prometheus.NewRegistry()
			if err := e.Register(reg); err != nil {
				b.Fatal(err)
			}
			e.Started(stats.Source{Backend: "ebpf", Attach: "tcx"}, ms, time.Second)
			var s stats.Sample
			for i := range n {
				name := "veth" + strconv.Itoa(i)
				for bin := uint64(0); bin < 1000; bin++ {
					e.Bin(sampler.Bin{Interface: name, Index: i + 2, Number: bin, Width: ms,
						Counters: stats.Counters{RxBytes: bin * 100, TxBytes: bin}})
				}
				for d := range 2 {
					if err := e.Burst(bursts.Event{Interface: name, Index: i + 2, Direction: bursts.Direction(d), Duration: 3 * ms}); err != nil {
						b.Fatal(err)
					}
				}
				s.Interfaces = append(s.Interfaces, stats.InterfaceSample{Name: name, Index: i + 2})
			}
			if err := e.Sample(s); err != nil {
				b.Fatal(err)
			}
			h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			var size int
			cpu0 := cpuTime(b)
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				size = w.Body.Len()
			}
			// CPU time, unlike ns/op, does not count waiting for a CPU on a
			// busy machine (it includes the GC's share).
			cpu := float64((cpuTime(b) - cpu0).Microseconds()) / float64(b.N)
			b.ReportMetric(cpu, "cpu-us/op")
			b.ReportMetric(cpu/float64(n), "cpu-us/interface")
			b.ReportMetric(float64(size), "bytes/scrape")
		})
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Two namespaces' lo (same name, same index) are two devices, told apart by
// the netns label; a container's veth carries its container_id.
func TestExporterNamespaceLabels(t *testing.T) {
	e, reg := newReg(t, Options{Netns: true})
	e.Started(stats.Source{Backend: "ebpf", Attach: "tcx"}, ms, 10*ms)
	for n := uint64(1); n <= 3; n++ {
		e.Bin(sampler.Bin{Interface: "lo", Index: 1, Labels: stats.Labels{Netns: "blue"}, Number: n, Width: ms, Counters: stats.Counters{RxBytes: 1}})
		e.Bin(sampler.Bin{Interface: "lo", Index: 1, Labels: stats.Labels{Netns: "red"}, Number: n, Width: ms, Counters: stats.Counters{RxBytes: 2}})
	}
	if err := e.Sample(stats.Sample{Interfaces: []stats.InterfaceSample{
		{Name: "lo", Index: 1, Counters: stats.Counters{RxBytes: 3}, Labels: stats.Labels{Netns: "blue"}},
		{Name: "lo", Index: 1, Counters: stats.Counters{RxBytes: 6}, Labels: stats.Labels{Netns: "red"}},
		{Name: "veth1", Index: 7, Counters: stats.Counters{RxBytes: 9}, Labels: stats.Labels{Container: "abc123", PeerNetns: "pid:42"}},
	}}); err != nil {
		t.Fatal(err)
	}
	m := gather(t, reg)
	got := map[string]float64{}
	for _, s := range m["netwatch_network_receive_bytes_total"] {
		got[labels(s)] = s.GetCounter().GetValue()
	}
	want := map[string]float64{
		"container_id=,device=lo,netns=blue":      3,
		"container_id=,device=lo,netns=red":       6,
		"container_id=abc123,device=veth1,netns=": 9,
	}
	if len(got) != len(want) {
		t.Fatalf("series %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
	for _, s := range m["netwatch_network_receive_bin_rate_bytes_per_second"] {
		if l := labels(s); strings.Contains(l, "device=lo") && s.GetHistogram().GetSampleCount() != 3 {
			t.Errorf("%s: %d bins, want 3 (each namespace's own)", l, s.GetHistogram().GetSampleCount())
		}
	}
}
