package main

// Privileged end-to-end tests of container labels: a veth whose peer lives
// in a container's namespace carries that namespace and the container id in
// every output. The containers are fakes (internal/testutil/containertest):
// a process in a namespace of its own and in a docker-<id>.scope cgroup,
// which is all netwatch looks at. netwatch runs inside a test namespace
// playing the host, never in the real host's.

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/netwatch-dev/netwatch/internal/stats"
	"github.com/netwatch-dev/netwatch/internal/testutil/containertest"
	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
)

// Names of the veths the tests add to the host namespace; the container's
// end is eth0, as docker names it.
const (
	ctrVeth  = "nw-ctr0"
	ctrVeth2 = "nw-ctr1"
)

// labels is what a row should carry.
type labels struct{ container, peer string }

func (r multiRow) labels() labels { return labels{r.ContainerID, r.PeerNetns} }

// ctrHost is a test namespace playing a container host: the pair's A, whose
// veth IfA leads to the named namespace B, and ctrVeth, whose peer eth0
// lives in a fake docker container's namespace.
type ctrHost struct {
	p   *netnstest.Pair
	ctr *containertest.Container
	cns *netnstest.NS   // the container's namespace
	v   *netnstest.Pair // ctrVeth in p.A <-> eth0 in cns
}

func newCtrHost(t *testing.T) *ctrHost {
	t.Helper()
	h := &ctrHost{p: netnstest.NewPair(t)}
	h.connectContainer(t)
	return h
}

// connectContainer starts the fake container and wires it to the host.
func (h *ctrHost) connectContainer(t *testing.T) {
	t.Helper()
	h.ctr = containertest.StartDocker(t)
	h.cns = netnstest.Adopt(t, h.ctr.NetnsPath)
	h.v = netnstest.Connect(t, h.p.A, h.cns, ctrVeth, "eth0")
}

// want is the labels of the host's interfaces: ctrVeth leads to the
// container, IfA to the named namespace B (no container), lo nowhere.
func (h *ctrHost) want() map[string]labels {
	return map[string]labels{
		ctrVeth: {h.ctr.ID, h.ctr.Label()},
		h.p.IfA: {"", h.p.B.Name},
		"lo":    {},
	}
}

// checkLabels fails t unless rows hold each interface of want (in
// netwatch's own namespace) with its labels.
func checkLabels(t *testing.T, what string, rows []multiRow, want map[string]labels) {
	t.Helper()
	for ifname, w := range want {
		r, ok := rowIn(rows, "", ifname)
		if !ok {
			t.Errorf("%s: no row for %s: %+v", what, ifname, rows)
			continue
		}
		if got := r.labels(); got != w {
			t.Errorf("%s: %s has container_id %q, peer_netns %q; want %q, %q", what, ifname, got.container, got.peer, w.container, w.peer)
		}
	}
}

// TestContainerLabels: on a host with a container, the host side of the
// container's veth carries container_id and peer_netns (pid:PID) in
// snapshot, watch (JSON, CSV) and serve, with exact counters; the host side
// of a veth into a named namespace carries that name and no container;
// --netns all reads the container's namespace as a member of its own.
func TestContainerLabels(t *testing.T) {
	h := newCtrHost(t)
	sel := []string{"-i", ctrVeth, "-i", h.p.IfA, "-i", "lo"}

	t.Run("snapshot", func(t *testing.T) {
		for _, be := range []string{"ebpf", "netlink"} {
			r := startNetwatch(t, h.p.A, append([]string{"snapshot", "--json", "-b", be, "-w", "300ms"}, sel...)...).run(t)
			if r.code != 0 {
				t.Fatalf("%s: exit %d: %s", be, r.code, r.stderr)
			}
			checkLabels(t, "snapshot -b "+be, parseMultiRows(t, []byte(r.stdout)), h.want())
		}
	})

	t.Run("watch", func(t *testing.T) {
		const n, m, payload = 30, 20, 400
		for _, be := range []string{"ebpf", "netlink"} {
			t.Run(be, func(t *testing.T) {
				c := startNetwatch(t, h.p.A, append([]string{"watch", "--json", "-b", be, "-n", "200ms"}, sel...)...)
				first, _ := c.next(t)
				rows := parseMultiRows(t, first)
				checkLabels(t, "first sample", rows, h.want())
				base, _ := rowIn(rows, "", ctrVeth)

				h.v.SendUDP(t, netnstest.A, n, payload)
				h.v.SendUDP(t, netnstest.B, m, payload)
				want := udpCounters(n, m, payload)
				if be == "netlink" {
					var err error
					if want, err = h.p.A.LinkStats(ctrVeth); err != nil {
						t.Fatal(err)
					}
				}
				got := func(r multiRow) stats.Counters {
					if be == "ebpf" {
						return sub(r.counters(), base.counters()) // counted since attach
					}
					return r.counters() // the kernel's counters
				}
				deadline := time.Now().Add(10 * time.Second)
				for {
					l, _ := c.next(t)
					rows = parseMultiRows(t, l)
					checkLabels(t, "sample", rows, h.want())
					r, _ := rowIn(rows, "", ctrVeth)
					if covers(got(r), want) {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("%s did not count %+v within 10s: %s", ctrVeth, want, l)
					}
				}
				// One more sample: nothing beyond the traffic sent.
				l, _ := c.next(t)
				rows = parseMultiRows(t, l)
				if r, _ := rowIn(rows, "", ctrVeth); got(r) != want {
					t.Errorf("%s counted %+v, want %+v (%d datagrams out, %d in)", ctrVeth, got(r), want, n, m)
				}
				c.signal(t, syscall.SIGINT)
				if code := c.wait(t); code != 0 {
					t.Fatalf("exit %d: %s", code, c.stderr.String())
				}
			})
		}
	})

	t.Run("csv", func(t *testing.T) {
		r := startNetwatch(t, h.p.A, append([]string{"watch", "-f", "csv", "-b", "netlink", "-n", "200ms", "-c", "2"}, sel...)...).run(t)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		recs, err := csv.NewReader(bytes.NewReader([]byte(r.stdout))).ReadAll()
		if err != nil || len(recs) < 2 {
			t.Fatalf("CSV: %v: %q", err, r.stdout)
		}
		hdr := recs[0]
		if len(hdr) < 2 || !slices.Equal(hdr[len(hdr)-2:], []string{"container_id", "peer_netns"}) {
			t.Fatalf("header %v: want container_id,peer_netns at the end", hdr)
		}
		name := slices.Index(hdr, "interface")
		if name < 0 {
			t.Fatalf("header %v has no interface column", hdr)
		}
		seen := map[string]int{}
		want := h.want()
		for _, rec := range recs[1:] {
			w, ok := want[rec[name]]
			if !ok {
				t.Errorf("unselected interface in %v", rec)
				continue
			}
			seen[rec[name]]++
			if got := (labels{rec[len(rec)-2], rec[len(rec)-1]}); got != w {
				t.Errorf("CSV row of %s: container_id %q, peer_netns %q; want %q, %q", rec[name], got.container, got.peer, w.container, w.peer)
			}
		}
		for ifname := range want {
			if seen[ifname] != 2 {
				t.Errorf("%d CSV rows of %s, want 2 (-c 2)", seen[ifname], ifname)
			}
		}
	})

	t.Run("serve", func(t *testing.T) {
		c := startNetwatch(t, h.p.A, append([]string{"serve", "-b", "netlink", "-n", "200ms"}, sel...)...)
		hc := nsClient(h.p.A)
		h.v.SendUDP(t, netnstest.B, 7, 100)
		waitFor(t, "container_id on /metrics", func() string {
			mfs, _, err := fetchMetrics(hc, "")
			if err != nil {
				return err.Error() + "; stderr: " + c.stderrIfDone()
			}
			kernel, err := h.p.A.LinkStats(ctrVeth)
			if err != nil {
				return err.Error()
			}
			const name = "netwatch_network_receive_bytes_total"
			m := labelled(mfs, name, map[string]string{"device": ctrVeth, "container_id": h.ctr.ID})
			if m == nil {
				return fmt.Sprintf("no %s{device=%q,container_id=%q}", name, ctrVeth, h.ctr.ID)
			}
			if got := num(m); got != float64(kernel.RxBytes) {
				return fmt.Sprintf("%s of %s = %v, kernel %d", name, ctrVeth, got, kernel.RxBytes)
			}
			for _, l := range m.GetLabel() {
				if l.GetName() == "netns" {
					return "a netns label without --netns: " + m.String()
				}
			}
			if labelled(mfs, name, map[string]string{"device": h.p.IfA, "container_id": ""}) == nil {
				return fmt.Sprintf("no %s{device=%q} without a container_id", name, h.p.IfA)
			}
			return ""
		})
		c.signal(t, syscall.SIGTERM)
		if code := c.wait(t); code != 0 {
			t.Fatalf("exit %d: %s", code, c.stderr.String())
		}
	})

	t.Run("unprivileged", func(t *testing.T) {
		// Without root netwatch sees only its own processes: not the
		// container's (root's), so no container label; the named
		// namespace's file is world-readable, so its peer still is.
		r := startAsNobody(t, h.p.A, "", append([]string{"snapshot", "--json", "-b", "netlink", "-w", "100ms"}, sel...)...).run(t)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		want := h.want()
		want[ctrVeth] = labels{}
		checkLabels(t, "snapshot as nobody", parseMultiRows(t, []byte(r.stdout)), want)
		if r.stderr != "" {
			t.Errorf("stderr: %s", r.stderr)
		}
	})

	t.Run("netns all", func(t *testing.T) {
		// netlink only reads: other tests' namespaces, which --netns all
		// lists too, are left alone.
		c := startNetwatch(t, h.p.A, "watch", "--json", "-b", "netlink", "-n", "250ms", "--netns", "all", "-i", ctrVeth, "-i", "eth0")
		h.v.SendUDP(t, netnstest.A, 11, 100)
		kernel, err := h.cns.LinkStats("eth0")
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			l, _ := c.next(t)
			rows := parseMultiRows(t, l)
			in, okIn := rowIn(rows, h.ctr.Label(), "eth0")
			host, okHost := rowIn(rows, "", ctrVeth)
			if okIn && okHost {
				if in.ContainerID != h.ctr.ID || in.PeerNetns != "" {
					t.Errorf("eth0 in %s: container_id %q, peer_netns %q; want %q, none", h.ctr.Label(), in.ContainerID, in.PeerNetns, h.ctr.ID)
				}
				if got := in.counters(); got != kernel {
					t.Errorf("eth0 in %s: %+v, kernel %+v", h.ctr.Label(), got, kernel)
				}
				if got := host.labels(); got != (labels{h.ctr.ID, h.ctr.Label()}) {
					t.Errorf("%s: container_id %q, peer_netns %q; want %q, %q", ctrVeth, got.container, got.peer, h.ctr.ID, h.ctr.Label())
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no eth0 in %s and %s in the own namespace within 10s: %s", h.ctr.Label(), ctrVeth, l)
			}
		}
		c.signal(t, syscall.SIGINT)
		if code := c.wait(t); code != 0 {
			t.Fatalf("exit %d: %s", code, c.stderr.String())
		}
	})
}

// peersEvery is how often netwatch rescans for labels when its interfaces
// do not change (backend.MultiOptions.PeersEvery's default).
const peersEvery = 30 * time.Second

// TestContainerLabelsFollow: labels follow the host while netwatch runs,
// through its background rescan. A container started (and wired) after
// netwatch is labelled within a few seconds (its veth appearing starts a
// rescan); a namespace that becomes a container's while its veth stays
// (its process moved into a container's cgroup) is labelled by the
// periodic rescan (every 30 s; skipped with -short).
func TestContainerLabelsFollow(t *testing.T) {
	h := &ctrHost{p: netnstest.NewPair(t)}
	c := startNetwatch(t, h.p.A, "watch", "--json", "-b", "netlink", "-n", "250ms", "-i", "nw-ctr*", "-i", h.p.IfA)
	first, _ := c.next(t)
	checkLabels(t, "before any container", parseMultiRows(t, first), map[string]labels{h.p.IfA: {"", h.p.B.Name}})

	waitLabels := func(ifname string, want labels, within time.Duration) {
		deadline := time.Now().Add(within)
		for {
			l, _ := c.next(t)
			if r, ok := rowIn(parseMultiRows(t, l), "", ifname); ok && r.labels() == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s not labelled %+v within %v: %s", ifname, want, within, l)
			}
		}
	}

	h.connectContainer(t)
	waitLabels(ctrVeth, labels{h.ctr.ID, h.ctr.Label()}, 10*time.Second)

	t.Run("periodic", func(t *testing.T) {
		if testing.Short() {
			t.Skip("waits for the periodic rescan (30 s)")
		}
		// A process in a namespace of no container, wired to the host:
		// its veth has no labels (the namespace is neither named nor a
		// container's) until the process runs in a container's cgroup,
		// which no interface change tells.
		id := containertest.RandomID(t)
		cg := containertest.FakeCgroup(t, "docker-"+id+".scope")
		plain := containertest.StartSleeper(t, "", nil)
		pns := netnstest.Adopt(t, fmt.Sprintf("/proc/%d/ns/net", plain.Process.Pid))
		netnstest.Connect(t, h.p.A, pns, ctrVeth2, "eth0")
		waitLabels(ctrVeth2, labels{}, 10*time.Second)
		// Past the rescans an interface change brings (1 s and 3 s
		// later), only the periodic one is left.
		for end := time.Now().Add(4 * time.Second); time.Now().Before(end); {
			l, _ := c.next(t)
			if r, _ := rowIn(parseMultiRows(t, l), "", ctrVeth2); r.labels() != (labels{}) {
				t.Fatalf("%s labelled before its namespace is a container's: %s", ctrVeth2, l)
			}
		}
		joined := time.Now()
		containertest.Join(t, cg, plain.Process.Pid)
		waitLabels(ctrVeth2, labels{id, fmt.Sprintf("pid:%d", plain.Process.Pid)}, peersEvery+10*time.Second)
		t.Logf("labelled %v after the process joined the container's cgroup", time.Since(joined).Round(100*time.Millisecond))
	})

	c.signal(t, syscall.SIGINT)
	if code := c.wait(t); code != 0 {
		t.Fatalf("exit %d: %s", code, c.stderr.String())
	}
}
