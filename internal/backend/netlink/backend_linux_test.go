package netlink

import (
	"context"
	"testing"
	"time"

	vnl "github.com/vishvananda/netlink"

	"github.com/netwatch-dev/netwatch/internal/ifsel"
	"github.com/netwatch-dev/netwatch/internal/stats"
	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
)

func openIn(t *testing.T, ns *netnstest.NS, sel ifsel.Selector) *Backend {
	t.Helper()
	var b *Backend
	err := ns.Do(func() (err error) {
		b, err = Open(Options{Selector: sel})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func find(t *testing.T, b *Backend, index int) (stats.InterfaceCounters, bool) {
	t.Helper()
	snap, err := b.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, ic := range snap.Interfaces {
		if ic.Index == index {
			return ic, true
		}
	}
	return stats.InterfaceCounters{}, false
}

// TestCountsEqualKernel: the backend reports exactly the kernel's counters
// of a veth in the namespace it was opened in, names it, and keeps its
// index and counters across a rename.
func TestCountsEqualKernel(t *testing.T) {
	p := netnstest.NewPair(t)
	b := openIn(t, p.A, ifsel.Selector{})
	p.SendUDP(t, netnstest.A, 100, 500)
	p.SendUDP(t, netnstest.B, 7, 1000)
	ic, ok := find(t, b, p.IndexA)
	if !ok {
		t.Fatalf("ifindex %d not in the snapshot", p.IndexA)
	}
	want, err := p.A.LinkStats(p.IfA)
	if err != nil {
		t.Fatal(err)
	}
	if ic.Name != p.IfA || ic.Counters != want {
		t.Fatalf("got %s %+v, want %s %+v", ic.Name, ic.Counters, p.IfA, want)
	}
	if ic.Counters.TxPackets < 100 || ic.Counters.RxPackets < 7 {
		t.Fatalf("counters %+v miss the traffic sent", ic.Counters)
	}

	if err := p.RenameA("nw-renamed"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		ic, ok = find(t, b, p.IndexA)
		if ok && ic.Name == "nw-renamed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a rename: %+v (found %v), want the name nw-renamed", ic, ok)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if ic.Counters.TxPackets < want.TxPackets {
		t.Fatalf("counters went back after a rename: %+v, before %+v", ic.Counters, want)
	}
}

// TestInterfacesComeAndGo: a veth created after Open shows in the next read
// (even before its link event could be handled), and a deleted one is gone;
// the selector applies to new names.
func TestInterfacesComeAndGo(t *testing.T) {
	p := netnstest.NewPair(t)
	sel, err := ifsel.New([]string{"nw-*", "new*"}, []string{"new1", "*p"})
	if err != nil {
		t.Fatal(err)
	}
	b := openIn(t, p.A, sel)
	h := p.A.Netlink()
	for _, name := range []string{"new0", "new1"} {
		if err := h.LinkAdd(&vnl.Veth{LinkAttrs: vnl.LinkAttrs{Name: name}, PeerName: name + "p"}); err != nil {
			t.Fatal(err)
		}
	}
	l, err := h.LinkByName("new0")
	if err != nil {
		t.Fatal(err)
	}
	snap, err := b.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]int{}
	for _, ic := range snap.Interfaces {
		names[ic.Name] = ic.Index
	}
	if names["new0"] != l.Attrs().Index || names[p.IfA] != p.IndexA || len(names) != 2 {
		t.Fatalf("got %v, want new0 (%d) and %s (%d) only", names, l.Attrs().Index, p.IfA, p.IndexA)
	}
	if err := h.LinkDel(l); err != nil {
		t.Fatal(err)
	}
	if _, ok := find(t, b, l.Attrs().Index); ok {
		t.Fatal("a deleted interface is still read")
	}
}

// TestCloseEndsGoroutine: Close returns (the event goroutine ends) and is
// idempotent.
func TestCloseEndsGoroutine(t *testing.T) {
	p := netnstest.NewPair(t)
	var b *Backend
	if err := p.A.Do(func() (err error) { b, err = Open(Options{}); return err }); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		b.Close()
		b.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
}
