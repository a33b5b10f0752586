package main

// End-to-end tests of what netwatch decides at start: which backend and
// attach mode, whether `list` predicts it, what a second instance or a
// signal during start-up does, and that rx and tx start together.

import (
	"encoding/json"
	"fmt"
	"math"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"

	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
)

// loTraffic sends UDP datagrams over lo in ns at about pps until stop is
// called, and returns how many it sent.
func loTraffic(t *testing.T, ns *netnstest.NS, pps int) (stop func() int) {
	t.Helper()
	var rx *net.UDPConn
	var tx *net.UDPConn
	err := ns.Do(func() (err error) {
		if rx, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
			return err
		}
		tx, err = net.DialUDP("udp4", nil, rx.LocalAddr().(*net.UDPAddr))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	go func() { // drain
		buf := make([]byte, 2048)
		for {
			if _, err := rx.Read(buf); err != nil {
				return
			}
		}
	}()
	var quit atomic.Bool
	var sent atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		gap := time.Second / time.Duration(pps)
		next := time.Now()
		for !quit.Load() {
			if _, err := tx.Write(make([]byte, 64)); err == nil {
				sent.Add(1)
			}
			next = next.Add(gap)
			time.Sleep(time.Until(next))
		}
	}()
	return func() int {
		quit.Store(true)
		<-done
		tx.Close()
		time.Sleep(20 * time.Millisecond) // let the last datagrams arrive
		rx.Close()
		return int(sent.Load())
	}
}

// TestLoRxTxStartTogether: on lo every packet is sent and received once, so
// rx and tx must agree although traffic flows while netwatch attaches
// ingress and egress one after the other (they differed by ~50 packets at
// 2,000 pps when each hook started counting as it was attached).
func TestLoRxTxStartTogether(t *testing.T) {
	for _, mode := range []string{"tcx", "tc"} {
		t.Run(mode, func(t *testing.T) {
			p := netnstest.NewPair(t)
			stop := loTraffic(t, p.A, 2000)
			c := startNetwatch(t, p.A, "watch", "--backend", "ebpf", "--attach", mode, "-i", "lo", "-f", "ndjson", "-n", "50ms")
			col := collect(c)
			col.waitFor(t, c, 1, lineTimeout, "a first sample", func(streamIface) bool { return true })
			time.Sleep(300 * time.Millisecond)
			stop()
			time.Sleep(100 * time.Millisecond)
			r, _, _ := col.last(1)
			c.signal(t, syscall.SIGINT)
			if code := c.wait(t); code != 0 {
				t.Fatalf("exit %d: %s", code, c.stderr.String())
			}
			if r.TxPackets < 500 {
				t.Fatalf("only %d packets counted on lo", r.TxPackets)
			}
			// A packet between the egress and the ingress hook at
			// the moment of publishing is counted on one side only.
			if d := math.Abs(float64(r.RxPackets) - float64(r.TxPackets)); d > 2 {
				t.Errorf("lo rx %d packets, tx %d: rx and tx did not start counting together", r.RxPackets, r.TxPackets)
			}
		})
	}
}

// TestTwoTCInstances: two netwatch instances with legacy tc on one
// interface both count exactly, and both clean up.
func TestTwoTCInstances(t *testing.T) {
	const n, m, payload = 30, 20, 700
	p := netnstest.NewPair(t)
	var cols []*collector
	var children []*child
	for range 2 {
		c := startNetwatch(t, p.A, "watch", "--attach", "tc", "-i", p.IfA, "-f", "ndjson", "-n", "50ms")
		col := collect(c)
		col.waitFor(t, c, p.IndexA, lineTimeout, "a first sample", func(streamIface) bool { return true })
		children, cols = append(children, c), append(cols, col)
	}
	p.SendUDP(t, netnstest.A, n, payload)
	p.SendUDP(t, netnstest.B, m, payload)
	want := udpCounters(n, m, payload)
	for i, col := range cols {
		col.waitFor(t, children[i], p.IndexA, lineTimeout, fmt.Sprintf("instance %d counting %+v", i+1, want), func(r streamIface) bool {
			return r.counters() == want
		})
	}
	for i, c := range children {
		c.signal(t, syscall.SIGINT)
		if code := c.wait(t); code != 0 {
			t.Errorf("instance %d: exit %d: %s", i+1, code, c.stderr.String())
		}
	}
	// The first instance created the clsact qdisc and left first; the
	// second found it recorded as a netwatch's and removed it on its exit.
	if h := hooks(t, p.A, p.IfA); ours(h.filters) != nil || h.clsact {
		t.Errorf("left after both instances exited: filters %v, clsact qdisc %v", h.filters, h.clsact)
	}
}

// listProblem runs `list --json` with args and returns the problem it
// predicts for ifname.
func listProblem(t *testing.T, ns *netnstest.NS, ifname string, args ...string) (backend, attachMode, problem string) {
	t.Helper()
	r := startNetwatch(t, ns, append([]string{"list", "--json", "-i", ifname}, args...)...).run(t)
	if r.code != 0 {
		t.Fatalf("list: exit %d: %s", r.code, r.stderr)
	}
	var l listJSON
	if err := json.Unmarshal([]byte(r.stdout), &l); err != nil || len(l.Interfaces) != 1 {
		t.Fatalf("list --json: %v: %s", err, r.stdout)
	}
	return l.Interfaces[0].Backend, l.Interfaces[0].Attach, l.Interfaces[0].Problem
}

// TestListPredictsWatch: `list` shows what `watch`/`snapshot` with the same
// flags do: where list names a problem, snapshot fails with exit 1 (auto
// never falls back to procfs over one interface); where it names none,
// snapshot runs with the backend and attach mode list showed.
func TestListPredictsWatch(t *testing.T) {
	p := netnstest.NewPair(t)
	prog := foreignXDP(t)
	tests := []struct {
		name, ifname string
		setup        func(t *testing.T) func()
		args         []string
		fails        bool
	}{
		{"lo without native XDP", "lo", nil, []string{"--attach", "xdp"}, true},
		{"lo, generic XDP", "lo", nil, []string{"--attach", "xdp", "--xdp-mode", "generic"}, false},
		{"veth, native XDP", p.IfA, nil, []string{"--attach", "xdp"}, false},
		{"veth, busy XDP hook", p.IfA, func(t *testing.T) func() {
			var l link.Link
			err := p.A.Do(func() (err error) {
				l, err = link.AttachXDP(link.XDPOptions{Program: prog, Interface: p.IndexA, Flags: link.XDPGenericMode})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return func() { l.Close() }
		}, []string{"--attach", "xdp", "--xdp-mode", "generic"}, true},
		{"veth, tc beside another netwatch", p.IfA, func(t *testing.T) func() {
			c := startNetwatch(t, p.A, "watch", "--attach", "tc", "-i", p.IfA, "-f", "ndjson", "-n", "1s")
			if _, ok := c.next(t); !ok {
				t.Fatalf("first instance: %s", c.stderr.String())
			}
			return func() { c.signal(t, syscall.SIGINT); c.wait(t) }
		}, []string{"--attach", "tc"}, false},
		{"veth, tcx", p.IfA, nil, []string{"--attach", "auto"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				defer tt.setup(t)()
			}
			backend, attachMode, problem := listProblem(t, p.A, tt.ifname, tt.args...)
			r := startNetwatch(t, p.A, append([]string{"snapshot", "--json", "-w", "50ms", "-i", tt.ifname}, tt.args...)...).run(t)
			if (problem != "") != tt.fails || (r.code != 0) != tt.fails {
				t.Fatalf("list problem %q, snapshot exit %d (stderr %q); want failure: %v", problem, r.code, r.stderr, tt.fails)
			}
			if tt.fails {
				if r.stdout != "" {
					t.Errorf("a failed snapshot printed %q (a silent fallback?)", r.stdout)
				}
				oneLineStderr(t, r.stderr)
				return
			}
			if backend != "ebpf" {
				t.Errorf("list backend %q, want ebpf", backend)
			}
			parseEBPF(t, []byte(r.stdout), attachMode, tt.ifname)
		})
	}
}

// TestProcRootOnlyForProcfs: a --proc-root that does not exist is no error
// for the ebpf backend (which never reads it), only for procfs.
func TestProcRootOnlyForProcfs(t *testing.T) {
	p := netnstest.NewPair(t)
	for _, b := range []string{"auto", "ebpf"} {
		r := startNetwatch(t, p.A, "snapshot", "--json", "-w", "20ms", "-i", "lo", "-b", b, "--proc-root", "/nonexistent").run(t)
		if r.code != 0 {
			t.Errorf("-b %s --proc-root /nonexistent: exit %d: %s", b, r.code, r.stderr)
		}
	}
	r := startNetwatch(t, p.A, "snapshot", "--json", "-w", "20ms", "-i", "lo", "-b", "procfs", "--proc-root", "/nonexistent").run(t)
	if r.code != 1 {
		t.Errorf("-b procfs --proc-root /nonexistent: exit %d, want 1: %s", r.code, r.stderr)
	}
	oneLineStderr(t, r.stderr)
}

// TestSignalDuringStartup: SIGTERM or SIGINT while netwatch is still
// attaching to 40 interfaces ends it with exit 0 after cleanup, never with
// "context canceled", and leaves nothing attached.
func TestSignalDuringStartup(t *testing.T) {
	p := netnstest.NewPair(t)
	h := p.A.Netlink()
	var names []string
	for i := range 20 { // 20 veth pairs inside the namespace: 40 interfaces
		a, b := fmt.Sprintf("nwd%d", i), fmt.Sprintf("nwe%d", i)
		v := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: a}, PeerName: b}
		if err := h.LinkAdd(v); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{a, b} {
			l, err := h.LinkByName(name)
			if err == nil {
				err = h.LinkSetUp(l)
			}
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, name)
		}
	}
	for _, mode := range []string{"tcx", "tc"} {
		for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
			// Delays from the moment the first interface is attached:
			// the signal lands while the others are being attached.
			for _, delay := range []time.Duration{0, time.Millisecond, 3 * time.Millisecond, 10 * time.Millisecond} {
				c := startNetwatch(t, p.A, "watch", "--attach", mode, "-i", "nwd*,nwe*", "-n", "1s", "-f", "ndjson")
				for deadline := time.Now().Add(lineTimeout); ; {
					hs := hooks(t, p.A, names[0])
					if ours(hs.tcx) != nil || ours(hs.filters) != nil {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("netwatch never attached to %s: %s", names[0], c.stderr.String())
					}
					time.Sleep(200 * time.Microsecond)
				}
				time.Sleep(delay)
				c.signal(t, sig)
				code := c.wait(t)
				stderr := c.stderr.String()
				if code != 0 || strings.Contains(stderr, "canceled") {
					t.Errorf("%s %v after %v: exit %d, stderr %q; want 0 and no error", mode, sig, delay, code, stderr)
				}
				for _, name := range names {
					if hs := hooks(t, p.A, name); ours(hs.tcx) != nil || ours(hs.filters) != nil {
						t.Fatalf("%s %v after %v: left on %s: %+v", mode, sig, delay, name, hs)
					}
				}
			}
		}
	}
}
