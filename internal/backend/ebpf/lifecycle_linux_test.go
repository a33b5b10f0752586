package ebpf

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cilium/ebpf/link"
	"github.com/netwatch-dev/netwatch/internal/backend/ebpf/attach"
	"github.com/netwatch-dev/netwatch/internal/stats"
	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// TestIfindexCollision: two watched ifindexes with the same low bits share
// an ifslots entry; the second goes through ifoverflow, and each keeps its
// own counters, also after the first is removed.
func TestIfindexCollision(t *testing.T) {
	p := netnstest.NewPair(t)
	o := testObjects(t, 0)
	other := p.IndexA + ifmapSize
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "nw-coll", Index: other}, PeerName: "nw-coll-p"}
	if err := p.A.Netlink().LinkAdd(veth); err != nil {
		t.Fatal(err)
	}
	if err := o.addInterface(p.IndexA, 0); err != nil {
		t.Fatal(err)
	}
	if err := o.addInterface(other, 1); err != nil {
		t.Fatal(err)
	}
	data := frame{payload: 10}.bytes()
	frameLen := uint64(len(data))
	runSKB(t, p.A, o.NetwatchTcIn, data, skbCtx{Ifindex: uint32(p.IndexA)}, 1)
	runSKB(t, p.A, o.NetwatchTcIn, data, skbCtx{Ifindex: uint32(other)}, 2)
	if b, n := counted(t, o, 0, dirRx); b != frameLen || n != 1 {
		t.Errorf("ifindex %d: %d bytes %d packets, want %d and 1", p.IndexA, b, n, frameLen)
	}
	if b, n := counted(t, o, 1, dirRx); b != 2*frameLen || n != 2 {
		t.Errorf("ifindex %d: %d bytes %d packets, want %d and 2", other, b, n, 2*frameLen)
	}

	if err := o.removeInterface(p.IndexA); err != nil {
		t.Fatal(err)
	}
	runSKB(t, p.A, o.NetwatchTcIn, data, skbCtx{Ifindex: uint32(p.IndexA)}, 1)
	runSKB(t, p.A, o.NetwatchTcIn, data, skbCtx{Ifindex: uint32(other)}, 1)
	if b, n := counted(t, o, 0, dirRx); b != frameLen || n != 1 {
		t.Errorf("removed ifindex %d still counted: %d bytes %d packets", p.IndexA, b, n)
	}
	if b, n := counted(t, o, 1, dirRx); b != 3*frameLen || n != 3 {
		t.Errorf("ifindex %d after the other left: %d bytes %d packets, want %d and 3", other, b, n, 3*frameLen)
	}
}

// names returns the interface names of one read.
func names(t *testing.T, b *Backend) []string {
	t.Helper()
	snap, err := b.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ic := range snap.Interfaces {
		out = append(out, ic.Name)
	}
	return out
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestInterfacesComeAndGo: an interface created while the backend runs and
// matching the selector is attached and counted; one that vanishes is
// released; one that does not match is left alone.
func TestInterfacesComeAndGo(t *testing.T) {
	p := netnstest.NewPair(t)
	b := openIn(t, p.A, "nw-*", Config{})
	if got := names(t, b); !slices.Equal(got, []string{p.IfA}) {
		t.Fatalf("watching %v, want [%s]", got, p.IfA)
	}
	nl := p.A.Netlink()
	if err := nl.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "nw-new"}, PeerName: "other-new"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "nw-new to be watched", func() bool { return slices.Contains(names(t, b), "nw-new") })
	if got := names(t, b); slices.Contains(got, "other-new") {
		t.Errorf("watching unselected interface: %v", got)
	}
	l, err := nl.LinkByName("nw-new")
	if err != nil {
		t.Fatal(err)
	}
	if err := nl.LinkDel(l); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "nw-new to be released", func() bool { return !slices.Contains(names(t, b), "nw-new") })
	if got := names(t, b); !slices.Equal(got, []string{p.IfA}) {
		t.Errorf("watching %v after the new interface left, want [%s]", got, p.IfA)
	}
}

// TestXDPBusy: with a foreign XDP program on the interface, Open with
// --attach xdp fails with ErrXDPBusy, leaves the foreign program in place
// and attaches nothing of its own.
func TestXDPBusy(t *testing.T) {
	needTools(t, "bpftool")
	p := netnstest.NewPair(t)
	var foreign benchObjects
	if err := loadBenchObjects(&foreign, nil); err != nil {
		t.Fatal(err)
	}
	defer foreign.Close()
	var l link.Link
	if err := p.A.Do(func() (err error) {
		l, err = link.AttachXDP(link.XDPOptions{Program: foreign.EmptyXdp, Interface: p.IndexA, Flags: link.XDPGenericMode})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	before := hooks(t, p.A, p.IndexA)

	sel := mustSelector(t, p.IfA)
	err := p.A.Do(func() error {
		b, err := Open(context.Background(), Config{Selector: sel, Attach: attach.XDP, XDPMode: attach.XDPGeneric})
		if err == nil {
			b.Close()
		}
		return err
	})
	if !errors.Is(err, attach.ErrXDPBusy) {
		t.Fatalf("Open on a busy XDP hook: %v, want ErrXDPBusy", err)
	}
	t.Logf("error: %v", err)
	if after := hooks(t, p.A, p.IndexA); after != before {
		t.Errorf("hooks changed by a failed Open:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func TestProbe(t *testing.T) {
	netnstest.NewPair(t) // privileged.Need, and a namespace to be in
	if err := Probe(); err != nil {
		t.Fatalf("Probe as root: %v", err)
	}
}

// TestLateInterfacesHaveBins: 40 interfaces created after Open (more than
// the 32 spare rings of the old design) are watched and their bins count
// every frame sent on them exactly, none lost.
func TestLateInterfacesHaveBins(t *testing.T) {
	p := netnstest.NewPair(t)
	const width = time.Millisecond
	b := openIn(t, p.A, "late*", Config{Resolution: width})
	nl := p.A.Netlink()
	const n, frames = 40, 5
	for i := range n {
		veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: fmt.Sprintf("late%d", i)}, PeerName: fmt.Sprintf("peer%d", i)}
		if err := nl.LinkAdd(veth); err != nil {
			t.Fatal(err)
		}
		if err := nl.LinkSetUp(veth); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "40 late interfaces watched", func() bool { return len(names(t, b)) == n })
	if _, err := b.ReadBins(); err != nil { // what came before the frames
		t.Fatal(err)
	}
	data := frame{payload: 50}.bytes()
	if err := p.A.Do(func() error {
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		for i := range n {
			l, err := nl.LinkByName(fmt.Sprintf("late%d", i))
			if err != nil {
				return err
			}
			for range frames {
				if err := unix.Sendto(fd, data, 0, &unix.SockaddrLinklayer{Ifindex: l.Attrs().Index}); err != nil {
					return fmt.Errorf("send on late%d: %w", i, err)
				}
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(width + 2*binGuard)
	bins, err := b.ReadBins()
	if err != nil {
		t.Fatal(err)
	}
	snap, err := b.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(bins.Interfaces) != n {
		t.Fatalf("bins of %d interfaces, want %d", len(bins.Interfaces), n)
	}
	for _, ib := range bins.Interfaces {
		var sum stats.Counters
		for _, c := range ib.Bins {
			sum.TxBytes += c.TxBytes
			sum.TxPackets += c.TxPackets
		}
		want := stats.Counters{TxBytes: frames * uint64(len(data)), TxPackets: frames}
		if ib.Lost != nil || sum != want {
			t.Errorf("%s: bins hold %+v (lost %v), sent %+v", ib.Name, sum, ib.Lost, want)
		}
		if c := ifCounters(t, snap, ib.Index); c.TxPackets != frames {
			t.Errorf("%s: counters %+v, sent %d frames", ib.Name, c, frames)
		}
	}
}
