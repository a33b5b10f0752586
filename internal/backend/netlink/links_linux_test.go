package netlink

import (
	"testing"
	"time"

	vnl "github.com/vishvananda/netlink"

	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
)

// TestLinksChanged: Changed says when an interface appears or is renamed
// (what a reader must take a baseline of), and the names and indexes
// follow: a rename frees the old name, a deletion the index.
func TestLinksChanged(t *testing.T) {
	p := netnstest.NewPair(t)
	var l *Links
	if err := p.A.Do(func() (err error) { l, err = OpenLinks(); return err }); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	drain := func() {
		for {
			select {
			case <-l.Changed():
			default:
				return
			}
		}
	}
	wait := func(what string) {
		t.Helper()
		select {
		case <-l.Changed():
		case <-time.After(10 * time.Second):
			t.Fatalf("no change reported after %s", what)
		}
	}
	lookup := func() (map[int]string, map[string]int) {
		t.Helper()
		names, indexes := map[int]string{}, map[string]int{}
		err := l.Lookup(nil, func(n map[int]string, ix map[string]int) {
			for k, v := range n {
				names[k] = v
			}
			for k, v := range ix {
				indexes[k] = v
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		return names, indexes
	}
	// until waits for the names and indexes to satisfy ok (a veth pair is
	// two events).
	until := func(what string, ok func(names map[int]string, indexes map[string]int) bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			names, indexes := lookup()
			if ok(names, indexes) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %v %v", what, names, indexes)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	drain()
	h := p.A.Netlink()
	if err := h.LinkAdd(&vnl.Veth{LinkAttrs: vnl.LinkAttrs{Name: "nwdummy0"}, PeerName: "nwdummyp"}); err != nil {
		t.Fatal(err)
	}
	wait("a new interface")
	d, err := h.LinkByName("nwdummy0")
	if err != nil {
		t.Fatal(err)
	}
	ix := d.Attrs().Index
	until("after the creation", func(names map[int]string, indexes map[string]int) bool {
		return names[ix] == "nwdummy0" && indexes["nwdummy0"] == ix
	})
	if !l.Appeared()[ix] {
		t.Errorf("the new index %d is not among those that appeared", ix)
	}
	drain()
	if err := h.LinkSetName(d, "nwdummy1"); err != nil {
		t.Fatal(err)
	}
	wait("a rename")
	until("after the rename", func(names map[int]string, indexes map[string]int) bool {
		return names[ix] == "nwdummy1" && indexes["nwdummy1"] == ix && indexes["nwdummy0"] == 0
	})
	if l.Appeared()[ix] {
		t.Errorf("a rename made index %d appear", ix)
	}
	if err := h.LinkDel(d); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		names, indexes := lookup()
		if _, ok := names[ix]; !ok && indexes["nwdummy1"] == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the deletion: %v %v", names, indexes)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
