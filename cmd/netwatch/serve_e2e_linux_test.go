package main

// End-to-end tests of serve and watch --events: known traffic in a
// namespace pair, scraped over HTTP (text and protobuf), checked by
// promtool and by two real Prometheus servers.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/netwatch-dev/netwatch/internal/stats"
	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
	"github.com/netwatch-dev/netwatch/internal/testutil/privileged"
)

// The known traffic: burstCount bursts from A to B, burstPause apart,
// each one UDP datagram of burstPayload bytes, which the kernel sends as
// about 45 IP fragments within one system call: no scheduling delay can
// split a burst, however busy the machine. A burst (about 65 kB in one
// or two 1 ms bins) starts above 1 MB/s (1 kB in a 1 ms bin, less than one
// fragment, so every bin that holds a fragment is above it and the event
// holds the whole datagram) and ends after 50 quiet bins.
const (
	burstCount   = 4
	burstPayload = 65000
	burstPause   = 300 * time.Millisecond
	settle       = 15 * time.Second // bound of every wait for a value
)

var burstFlags = []string{"--burst-threshold", "1MB", "--burst-end", "500kB", "--burst-gap", "50"}

// sendBursts sends the bursts and returns the kernel's own tx counters of
// A's veth for each (nothing else crosses the pair).
func sendBursts(t *testing.T, p *netnstest.Pair) []stats.Counters {
	t.Helper()
	var rx, tx *net.UDPConn
	if err := p.B.Do(func() (err error) {
		rx, err = net.ListenUDP("udp4", &net.UDPAddr{IP: p.AddrB.AsSlice()})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	go func() { // drain, so B's socket buffer never overflows
		buf := make([]byte, 1<<16)
		for {
			if _, err := rx.Read(buf); err != nil {
				return
			}
		}
	}()
	if err := p.A.Do(func() (err error) {
		tx, err = net.DialUDP("udp4", &net.UDPAddr{IP: p.AddrA.AsSlice()}, rx.LocalAddr().(*net.UDPAddr))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	payload := make([]byte, burstPayload)
	var out []stats.Counters
	for i := range burstCount {
		if i > 0 {
			time.Sleep(burstPause)
		}
		before, err := p.A.LinkStats(p.IfA)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Write(payload); err != nil {
			t.Fatal(err)
		}
		after, err := p.A.LinkStats(p.IfA)
		if err != nil {
			t.Fatal(err)
		}
		d, _ := stats.Delta(before, after)
		if d.TxPackets < 40 || d.RxBytes != 0 {
			t.Fatalf("burst %d: the kernel counted %+v, want about 45 fragments out and nothing in", i, d)
		}
		out = append(out, d)
	}
	return out
}

func sum(cs []stats.Counters) (c stats.Counters) {
	for _, d := range cs {
		c.TxBytes += d.TxBytes
		c.TxPackets += d.TxPackets
	}
	return c
}

// nsClient is an HTTP client whose connections are made inside ns.
func nsClient(ns *netnstest.NS) *http.Client {
	dial := func(ctx context.Context, network, addr string) (c net.Conn, err error) {
		err = ns.Do(func() (err error) {
			c, err = (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true}}
}

const protoAccept = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"

// scrape fetches /metrics with accept ("" for the text format) and parses it.
func scrape(t *testing.T, hc *http.Client, accept string) (map[string]*dto.MetricFamily, []byte) {
	t.Helper()
	mfs, body, err := fetchMetrics(hc, accept)
	if err != nil {
		t.Fatal(err)
	}
	return mfs, body
}

// fetchMetrics fetches /metrics with accept ("" for the text format) and
// parses it.
func fetchMetrics(hc *http.Client, accept string) (map[string]*dto.MetricFamily, []byte, error) {
	req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1:9977/metrics", nil)
	if err != nil {
		return nil, nil, err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("scrape: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("scrape: status %d, %v", resp.StatusCode, err)
	}
	mfs := make(map[string]*dto.MetricFamily)
	dec := expfmt.NewDecoder(bytes.NewReader(body), expfmt.ResponseFormat(resp.Header))
	for {
		var mf dto.MetricFamily
		if err := dec.Decode(&mf); err == io.EOF {
			break
		} else if err != nil {
			return nil, nil, fmt.Errorf("parse %s: %w", resp.Header.Get("Content-Type"), err)
		}
		mfs[mf.GetName()] = &mf
	}
	return mfs, body, nil
}

// series returns the metric of family name with device dev ("" for none).
func series(mfs map[string]*dto.MetricFamily, name, dev string) *dto.Metric {
	mf := mfs[name]
	if mf == nil {
		return nil
	}
	for _, m := range mf.GetMetric() {
		d := ""
		for _, l := range m.GetLabel() {
			if l.GetName() == "device" {
				d = l.GetValue()
			}
		}
		if d == dev {
			return m
		}
	}
	return nil
}

func num(m *dto.Metric) float64 {
	switch {
	case m == nil:
		return math.NaN()
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	}
	return math.NaN()
}

// waitFor polls check every 200 ms until it returns "" (done), failing t
// with its last message after settle.
func waitFor(t *testing.T, what string, check func() string) {
	t.Helper()
	deadline := time.Now().Add(settle)
	for {
		msg := check()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s", what, msg)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestServeEndToEnd(t *testing.T) {
	privileged.NeedTool(t, "promtool", "prometheus")
	p := netnstest.NewPair(t)
	hc := nsClient(p.A)
	proms := []*promServer{startPrometheus(t, p.A, 9090), startPrometheus(t, p.A, 9091)}
	srv := startNetwatch(t, p.A, append([]string{"serve", "-i", p.IfA, "-n", "100ms", "--peak-window", "10s"}, burstFlags...)...)
	// The port opens before anything is attached; the device's counters
	// appear with the first sample, once the programs count.
	waitFor(t, "serve counting", func() string {
		if _, err := hc.Get("http://127.0.0.1:9977/"); err != nil {
			return err.Error() + "; stderr: " + srv.stderrIfDone()
		}
		mfs, _ := scrape(t, hc, "")
		if series(mfs, "netwatch_network_transmit_bytes_total", p.IfA) == nil {
			return "no counters for " + p.IfA + " yet"
		}
		return ""
	})
	sent := sum(sendBursts(t, p))
	wantBytes, wantPackets := float64(sent.TxBytes), float64(sent.TxPackets)
	var mfs map[string]*dto.MetricFamily
	waitFor(t, "counters and bursts", func() string {
		mfs, _ = scrape(t, hc, protoAccept)
		got := []float64{
			num(series(mfs, "netwatch_network_transmit_bytes_total", p.IfA)),
			num(series(mfs, "netwatch_network_transmit_packets_total", p.IfA)),
			num(series(mfs, "netwatch_network_receive_bytes_total", p.IfA)),
			num(series(mfs, "netwatch_network_transmit_bursts_total", p.IfA)),
		}
		if want := []float64{wantBytes, wantPackets, 0, burstCount}; fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Sprintf("tx bytes, tx packets, rx bytes, tx bursts = %v, want %v", got, want)
		}
		return ""
	})

	t.Run("exact counters and bursts", func(t *testing.T) {
		if got := num(series(mfs, "netwatch_network_receive_bursts_total", p.IfA)); got != 0 {
			t.Errorf("rx bursts %v, want 0 (A only sends)", got)
		}
		if got := num(series(mfs, "netwatch_network_transmit_bins_above_threshold_total", p.IfA)); got < burstCount {
			t.Errorf("bins above the threshold %v, want at least one per burst", got)
		}
		info := series(mfs, "netwatch_info", "")
		if info == nil || labelsOf(info) != "attach=tcx,backend=ebpf,resolution=1ms" {
			t.Errorf("netwatch_info %v", info)
		}
		if peak := num(series(mfs, "netwatch_network_transmit_peak_bin_rate_bytes_per_second", p.IfA)); peak < burstPayload/2*1000 {
			t.Errorf("peak bin rate %v, want above the threshold", peak)
		}
	})

	t.Run("histograms count every bin", func(t *testing.T) {
		rate := series(mfs, "netwatch_network_transmit_bin_rate_bytes_per_second", p.IfA).GetHistogram()
		bins := num(series(mfs, "netwatch_bins_total", ""))
		if float64(rate.GetSampleCount()) != bins || bins < 1000 {
			t.Errorf("histogram count %d, want netwatch_bins_total %v (the device was there from the start)", rate.GetSampleCount(), bins)
		}
		if got := rate.GetSampleSum() / 1000; got != wantBytes {
			t.Errorf("sum of 1 ms bin rates / 1000 = %v bytes, want exactly %v", got, wantBytes)
		}
		if rate.GetSchema() != 3 || len(rate.GetPositiveSpan()) == 0 {
			t.Errorf("no native histogram in the protobuf exposition: schema %d, spans %v", rate.GetSchema(), rate.GetPositiveSpan())
		}
		native := rate.GetZeroCount()
		var c int64
		for _, d := range rate.GetPositiveDelta() {
			c += d
			native += uint64(c)
		}
		if native != rate.GetSampleCount() {
			t.Errorf("native buckets hold %d observations, count %d", native, rate.GetSampleCount())
		}
		if inf := rate.GetBucket(); len(inf) == 0 || inf[len(inf)-1].GetCumulativeCount() > rate.GetSampleCount() {
			t.Errorf("classic buckets %v", inf)
		}
		dur := series(mfs, "netwatch_network_transmit_burst_duration_seconds", p.IfA).GetHistogram()
		if dur.GetSampleCount() != burstCount || dur.GetSampleSum() <= 0 {
			t.Errorf("burst durations: count %d sum %v, want %d bursts", dur.GetSampleCount(), dur.GetSampleSum(), burstCount)
		}
	})

	t.Run("text format and promtool", func(t *testing.T) {
		text, body := scrape(t, hc, "")
		if got := num(series(text, "netwatch_network_transmit_bytes_total", p.IfA)); got != wantBytes {
			t.Errorf("text format tx bytes %v, want %v", got, wantBytes)
		}
		h := series(text, "netwatch_network_transmit_bin_rate_bytes_per_second", p.IfA).GetHistogram()
		if b := h.GetBucket(); len(b) != 14 || h.GetSampleCount() == 0 { // 13 and +Inf
			t.Errorf("text histogram: %d classic buckets (want 13 and +Inf), count %d", len(b), h.GetSampleCount())
		}
		cmd := exec.Command("promtool", "check", "metrics")
		cmd.Stdin = bytes.NewReader(body)
		if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
	})

	t.Run("two Prometheus servers agree", func(t *testing.T) {
		dev := fmt.Sprintf("{device=%q}", p.IfA)
		queries := map[string]float64{
			"netwatch_network_transmit_bytes_total" + dev:                                        wantBytes,
			"netwatch_network_transmit_packets_total" + dev:                                      wantPackets,
			"netwatch_network_transmit_bursts_total" + dev:                                       burstCount,
			"histogram_count(netwatch_network_transmit_burst_duration_seconds" + dev + ")":       burstCount,
			"histogram_sum(netwatch_network_transmit_bin_rate_bytes_per_second" + dev + ")/1000": wantBytes,
		}
		quantile := "histogram_quantile(0.5, netwatch_network_transmit_burst_duration_seconds" + dev + ")"
		var q [2]float64
		for i, ps := range proms {
			for expr, want := range queries {
				waitFor(t, ps.name+": "+expr, func() string {
					got, err := ps.query(hc, expr)
					if err != nil || math.Abs(got-want) > 1e-9*want {
						return fmt.Sprintf("%v (%v), want %v; stderr: %s", got, err, want, ps.c.stderrIfDone())
					}
					return ""
				})
			}
			var err error
			if q[i], err = ps.query(hc, quantile); err != nil {
				t.Fatalf("%s: %s: %v", ps.name, quantile, err)
			}
		}
		// The median burst took a few milliseconds: within the bounds of
		// the bursts the sender made, and the same on both servers.
		if q[0] != q[1] || q[0] <= 0 || q[0] > 0.5 {
			t.Errorf("median burst duration: %v and %v, want the same, in (0, 0.5s]", q[0], q[1])
		}
	})

	srv.signal(t, syscall.SIGTERM)
	if code := srv.wait(t); code != 0 {
		t.Errorf("serve exit %d after SIGTERM; stderr: %s", code, srv.stderrIfDone())
	}
}

func labelsOf(m *dto.Metric) string {
	var parts []string
	for _, l := range m.GetLabel() {
		parts = append(parts, l.GetName()+"="+l.GetValue())
	}
	return strings.Join(parts, ",")
}

// promServer is a Prometheus server started by a test inside a namespace,
// scraping netwatch at 127.0.0.1:9977 every second.
type promServer struct {
	name string
	port int
	c    *child
}

func startPrometheus(t *testing.T, ns *netnstest.NS, port int) *promServer {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	conf := "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n" +
		"scrape_configs:\n  - job_name: netwatch\n    static_configs:\n      - targets: ['127.0.0.1:9977']\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	c := startIn(t, ns, "prometheus", "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(port), "--enable-feature=native-histograms", "--log.level=warn")
	return &promServer{name: "prometheus :" + strconv.Itoa(port), port: port, c: c}
}

// query evaluates an instant query that returns one sample.
func (ps *promServer) query(hc *http.Client, expr string) (float64, error) {
	u := fmt.Sprintf("http://127.0.0.1:%d/api/v1/query?query=%s", ps.port, url.QueryEscape(expr))
	resp, err := hc.Get(u)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return 0, err
	}
	if r.Status != "success" {
		return 0, fmt.Errorf("query %s: %s", expr, r.Error)
	}
	if len(r.Data.Result) != 1 {
		return 0, fmt.Errorf("query %s: %d series, want 1", expr, len(r.Data.Result))
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	return strconv.ParseFloat(s, 64)
}

// watch --events against real bursts: one line per burst, in order, with
// the exact bytes and packets of each.
func TestWatchEventsEndToEnd(t *testing.T) {
	p := netnstest.NewPair(t)
	c := startNetwatch(t, p.A, append([]string{"watch", "--events", "-i", p.IfA, "-n", "100ms"}, burstFlags...)...)
	// watch --events prints nothing until a burst ends, so probe bursts
	// are sent until one is seen (the first may have started before the
	// programs were attached); the real ones follow.
	for probes := 0; ; probes++ {
		if probes == 20 {
			t.Fatalf("no event after %d probe bursts; stderr: %s", probes, c.stderrIfDone())
		}
		p.SendUDP(t, netnstest.A, 100, 1400)
		select {
		case line, ok := <-c.lines:
			if !ok {
				t.Fatalf("stream ended; stderr: %s", c.stderrIfDone())
			}
			t.Logf("probe event: %s", line)
		case <-time.After(time.Second):
			continue
		}
		break
	}
	time.Sleep(burstPause)
	sent := sendBursts(t, p)
	type event struct {
		Interface, Direction, Reason, Start, End string
		Bytes, Packets, Bins                     uint64
		DurationNs                               int64 `json:"duration_ns"`
		LostBins                                 int   `json:"lost_bins"`
	}
	var evs []event
	for len(evs) < burstCount {
		line, ok := c.next(t)
		if !ok {
			t.Fatalf("stream ended after %d events; stderr: %s", len(evs), c.stderrIfDone())
		}
		var e event
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("not an event: %q: %v", line, err)
		}
		evs = append(evs, e)
	}
	c.signal(t, syscall.SIGTERM)
	if code := c.wait(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	prevEnd := ""
	for i, e := range evs {
		if e.Interface != p.IfA || e.Direction != "tx" || e.Reason != "quiet" || e.LostBins != 0 {
			t.Errorf("event %d: %+v", i, e)
		}
		if e.Bytes != sent[i].TxBytes || e.Packets != sent[i].TxPackets {
			t.Errorf("event %d: %d bytes, %d packets; want exactly the burst's: %d, %d", i, e.Bytes, e.Packets, sent[i].TxBytes, sent[i].TxPackets)
		}
		if e.DurationNs != int64(e.Bins)*int64(time.Millisecond) || e.Bins == 0 {
			t.Errorf("event %d: duration %d ns over %d bins", i, e.DurationNs, e.Bins)
		}
		if e.Start <= prevEnd {
			t.Errorf("event %d starts %s, before the previous end %s", i, e.Start, prevEnd)
		}
		prevEnd = e.End
	}
	// Nothing else on stdout: the rest of the stream is empty.
	for line := range c.lines {
		t.Errorf("extra output after the bursts: %q", line)
	}
}

// Without eBPF, serve runs on procfs: the kernel's counters, no bins, and
// a metric that says so.
func TestServeProcfs(t *testing.T) {
	p := netnstest.NewPair(t)
	hc := nsClient(p.A)
	srv := startNetwatch(t, p.A, "serve", "-b", "procfs", "-i", p.IfA, "-n", "100ms")
	p.SendUDP(t, netnstest.A, 10, 100)
	want, err := p.A.LinkStats(p.IfA)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "procfs counters", func() string {
		if _, err := hc.Get("http://127.0.0.1:9977/"); err != nil {
			return err.Error()
		}
		mfs, _ := scrape(t, hc, "")
		got := num(series(mfs, "netwatch_network_transmit_bytes_total", p.IfA))
		if got != float64(want.TxBytes) || num(series(mfs, "netwatch_time_bins_enabled", "")) != 0 {
			return fmt.Sprintf("tx bytes %v (kernel %d), time_bins_enabled %v", got, want.TxBytes, num(series(mfs, "netwatch_time_bins_enabled", "")))
		}
		for name := range mfs {
			if strings.Contains(name, "bin_rate") || strings.Contains(name, "burst") {
				return name + " exposed without bins"
			}
		}
		return ""
	})
	srv.signal(t, syscall.SIGTERM)
	if code := srv.wait(t); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// A busy port fails before anything is attached: exit 1, one line.
func TestServePortBusy(t *testing.T) {
	p := netnstest.NewPair(t)
	var ln net.Listener
	if err := p.A.Do(func() (err error) { ln, err = net.Listen("tcp", "127.0.0.1:9977"); return err }); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c := startNetwatch(t, p.A, "serve", "-i", p.IfA)
	if code := c.wait(t); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if msg := c.stderrIfDone(); !strings.HasPrefix(msg, "netwatch: listen: ") || strings.Count(msg, "\n") != 1 {
		t.Errorf("stderr %q, want one line about the port", msg)
	}
}
