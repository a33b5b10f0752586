package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/netwatch-dev/netwatch/internal/stats"
	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
)

// multiRow is one interface of a JSON sample as the multi-namespace tests
// read it.
type multiRow struct {
	Name      string `json:"name"`
	Index     int    `json:"index"`
	Netns     string `json:"netns"`
	RxBytes   uint64 `json:"rx_bytes"`
	RxPackets uint64 `json:"rx_packets"`
	TxBytes   uint64 `json:"tx_bytes"`
	TxPackets uint64 `json:"tx_packets"`
	// The container labels.
	ContainerID string `json:"container_id"`
	PeerNetns   string `json:"peer_netns"`
}

func (r multiRow) counters() stats.Counters {
	return stats.Counters{RxBytes: r.RxBytes, RxPackets: r.RxPackets, TxBytes: r.TxBytes, TxPackets: r.TxPackets}
}

func parseMultiRows(t *testing.T, line []byte) []multiRow {
	t.Helper()
	var s struct {
		Interfaces []multiRow `json:"interfaces"`
	}
	if err := json.Unmarshal(line, &s); err != nil {
		t.Fatalf("%v: %s", err, line)
	}
	return s.Interfaces
}

// rowIn returns the row of ifname in netns, or false.
func rowIn(rows []multiRow, netns, ifname string) (multiRow, bool) {
	for _, r := range rows {
		if r.Netns == netns && r.Name == ifname {
			return r, true
		}
	}
	return multiRow{}, false
}

// TestNetnsSeveral reads the two namespaces of a veth pair in one run
// (--netns A,B): both ends have the same name and, in fresh namespaces, the
// same ifindex, yet they are two rows, each labelled with its namespace,
// each counting exactly what crossed it (ebpf: the datagrams sent since
// attach; netlink: the kernel's own counters).
func TestNetnsSeveral(t *testing.T) {
	p := netnstest.NewPair(t)
	const n, payload = 40, 300
	frame := uint64(netnstest.UDPFrameLen(payload))
	for _, be := range []string{"ebpf", "netlink"} {
		t.Run(be, func(t *testing.T) {
			nsList := p.A.Name + "," + p.B.Name
			c := startNetwatch(t, p.A, "watch", "--json", "-b", be, "-n", "200ms", "--netns", nsList, "-i", p.IfA, "-i", p.IfB)
			first, _ := c.next(t)
			base := parseMultiRows(t, first)
			if len(base) != 2 {
				t.Fatalf("first sample has %d rows, want 2 (%s in %s, %s in %s): %s", len(base), p.IfA, p.A.Name, p.IfB, p.B.Name, first)
			}
			p.SendUDP(t, netnstest.A, n, payload)
			var last []multiRow
			for range 3 {
				l, _ := c.next(t)
				last = parseMultiRows(t, l)
			}
			c.signal(t, syscall.SIGINT)
			if code := c.wait(t); code != 0 {
				t.Fatalf("exit %d: %s", code, c.stderr.String())
			}
			a, okA := rowIn(last, p.A.Name, p.IfA)
			b, okB := rowIn(last, p.B.Name, p.IfB)
			if !okA || !okB {
				t.Fatalf("last sample %+v: want %s in %s and %s in %s", last, p.IfA, p.A.Name, p.IfB, p.B.Name)
			}
			if a.Index != p.IndexA || b.Index != p.IndexB {
				t.Errorf("indexes %d, %d; want %d, %d (each in its namespace)", a.Index, b.Index, p.IndexA, p.IndexB)
			}
			if be == "ebpf" {
				want := stats.Counters{TxPackets: n, TxBytes: n * frame}
				if got := a.counters(); got != want {
					t.Errorf("%s/%s counted %+v, want %+v", p.A.Name, p.IfA, got, want)
				}
				want = stats.Counters{RxPackets: n, RxBytes: n * frame}
				if got := b.counters(); got != want {
					t.Errorf("%s/%s counted %+v, want %+v", p.B.Name, p.IfB, got, want)
				}
				return
			}
			for _, side := range []struct {
				ns  *netnstest.NS
				ifn string
				row multiRow
			}{{p.A, p.IfA, a}, {p.B, p.IfB, b}} {
				want, err := side.ns.LinkStats(side.ifn)
				if err != nil {
					t.Fatal(err)
				}
				if got := side.row.counters(); got != want {
					t.Errorf("%s/%s: %+v, kernel %+v", side.ns.Name, side.ifn, got, want)
				}
			}
		})
	}
	t.Run("serve", func(t *testing.T) {
		c := startNetwatch(t, p.A, "serve", "-b", "netlink", "-n", "200ms", "--netns", p.A.Name+","+p.B.Name, "-i", p.IfA, "-i", p.IfB)
		hc := nsClient(p.A)
		want, err := p.B.LinkStats(p.IfB)
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "netns labels on /metrics", func() string {
			mfs, _, err := fetchMetrics(hc, "")
			if err != nil {
				return err.Error()
			}
			m := labelled(mfs, "netwatch_network_receive_packets_total", map[string]string{"device": p.IfB, "netns": p.B.Name})
			if m == nil {
				return "no series with device=" + p.IfB + " netns=" + p.B.Name
			}
			if got := num(m); got != float64(want.RxPackets) {
				return fmt.Sprintf("rx packets %v, kernel %d", got, want.RxPackets)
			}
			if labelled(mfs, "netwatch_network_receive_packets_total", map[string]string{"device": p.IfA, "netns": p.A.Name}) == nil {
				return "no series for " + p.IfA + " in " + p.A.Name
			}
			return ""
		})
		c.signal(t, syscall.SIGTERM)
		if code := c.wait(t); code != 0 {
			t.Fatalf("exit %d: %s", code, c.stderr.String())
		}
	})
}

// labelled returns the metric of family name whose labels include want.
func labelled(mfs map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	mf := mfs[name]
	if mf == nil {
		return nil
	}
	for _, m := range mf.GetMetric() {
		got := make(map[string]string)
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			if got[k] != v {
				match = false
			}
		}
		if match {
			return m
		}
	}
	return nil
}

// TestNetnsAllFollows runs --netns all and checks that a namespace created
// while it runs is read within a rescan and an interval, with exact
// counters, and that a deleted one is released: netwatch must not keep a
// dead namespace alive (its sockets there would), so the veth whose other
// end was in it is destroyed by the kernel.
func TestNetnsAllFollows(t *testing.T) {
	home := netnstest.NewPair(t) // netwatch runs in home.A: its "own" namespace
	c := startNetwatch(t, home.A, "watch", "--json", "-b", "netlink", "-n", "250ms", "--netns", "all", "-i", netnstest.IfNameA, "-i", netnstest.IfNameB)
	first, _ := c.next(t)
	if _, ok := rowIn(parseMultiRows(t, first), "", home.IfA); !ok {
		t.Fatalf("first sample lacks netwatch's own namespace's %s (netns \"\"): %s", home.IfA, first)
	}

	p := netnstest.NewPair(t) // appears while netwatch runs
	p.SendUDP(t, netnstest.A, 25, 200)
	want, err := p.A.LinkStats(p.IfA)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		l, _ := c.next(t)
		rows := parseMultiRows(t, l)
		_, inB := rowIn(rows, p.B.Name, p.IfB)
		if r, ok := rowIn(rows, p.A.Name, p.IfA); ok && r.counters() == want && inB {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("namespaces %s (with the kernel's counters %+v) and %s not both read within 10s; last sample %s", p.A.Name, want, p.B.Name, l)
		}
	}

	if err := p.A.Delete(); err != nil {
		t.Fatal(err)
	}
	// Once netwatch lets go of p.A, the kernel frees it and destroys the
	// veth: its other end vanishes from p.B.
	deadline = time.Now().Add(15 * time.Second)
	for {
		l, _ := c.next(t)
		rows := parseMultiRows(t, l)
		_, inA := rowIn(rows, p.A.Name, p.IfA)
		_, inB := rowIn(rows, p.B.Name, p.IfB)
		if !inA && !inB {
			if _, err := p.B.LinkStats(p.IfB); err == nil {
				t.Fatalf("%s still exists in %s after its peer's namespace was deleted and dropped from the output", p.IfB, p.B.Name)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deleted namespace %s still read (or holding its veth) after 15s: %s", p.A.Name, strings.TrimSpace(string(l)))
		}
	}
	c.signal(t, syscall.SIGINT)
	if code := c.wait(t); code != 0 {
		t.Fatalf("exit %d: %s", code, c.stderr.String())
	}
}

// TestNetnsMove moves a veth end from one namespace to another while watch
// reads both with the ebpf backend: it leaves the first namespace's rows and
// shows in the second's (a new interface there: fresh counters), and at
// exit nothing of netwatch is attached to it.
func TestNetnsMove(t *testing.T) {
	p := netnstest.NewPair(t)
	c := startNetwatch(t, p.A, "watch", "--json", "-b", "ebpf", "-n", "200ms", "--netns", p.A.Name+","+p.B.Name, "-i", p.IfA)
	first, _ := c.next(t)
	if _, ok := rowIn(parseMultiRows(t, first), p.A.Name, p.IfA); !ok {
		t.Fatalf("first sample lacks %s in %s: %s", p.IfA, p.A.Name, first)
	}
	l, err := p.A.Netlink().LinkByName(p.IfA)
	if err != nil {
		t.Fatal(err)
	}
	fd, err := syscall.Open("/run/netns/"+p.B.Name, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if err := p.A.Netlink().LinkSetNsFd(l, fd); err != nil {
		t.Fatalf("move %s to %s: %v", p.IfA, p.B.Name, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		line, _ := c.next(t)
		rows := parseMultiRows(t, line)
		_, inA := rowIn(rows, p.A.Name, p.IfA)
		_, inB := rowIn(rows, p.B.Name, p.IfA)
		if !inA && inB {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not moved from %s to %s in the output within 10s: %s", p.IfA, p.A.Name, p.B.Name, line)
		}
	}
	if st := hooks(t, p.B, p.IfA); !attachedBoth(st.tcx) {
		t.Errorf("%s in %s is read but netwatch's programs are not attached there: %+v", p.IfA, p.B.Name, st)
	}
	c.signal(t, syscall.SIGINT)
	if code := c.wait(t); code != 0 {
		t.Fatalf("exit %d: %s", code, c.stderr.String())
	}
	if st := hooks(t, p.B, p.IfA); len(ours(st.tcx)) > 0 || st.xdpProg != 0 {
		t.Errorf("netwatch left attached to %s in %s: %+v", p.IfA, p.B.Name, st)
	}
}
