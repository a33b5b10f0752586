//go:build linux

package netnstest

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/netwatch-dev/netwatch/internal/testutil/privileged"
)

// Adopt returns an NS for a network namespace the test did not create with
// this package: the namespace of a process (/proc/PID/ns/net), such as a
// fake container's (see containertest). Its Name is path. t.Cleanup lets go
// of it (closes the handles) but never deletes it: it lives as long as its
// processes. Nothing is changed in it until Connect adds a veth end.
func Adopt(t testing.TB, path string) *NS {
	t.Helper()
	privileged.Need(t)
	h, err := netns.GetFromPath(path)
	if err != nil {
		t.Fatalf("netnstest: open namespace %s: %v", path, err)
	}
	ns := &NS{Name: path, handle: h, adopted: true}
	ns.nl, err = netlink.NewHandleAt(h)
	if err != nil {
		ns.close()
		t.Fatalf("netnstest: netlink handle in %s: %v", path, err)
	}
	t.Cleanup(func() {
		if err := ns.close(); err != nil {
			t.Errorf("netnstest: cleanup: %v", err)
		}
	})
	return ns
}

// Connect joins two namespaces that already exist (of a Pair, or adopted)
// by another quiet veth pair, like the one of NewPair: ifA in a with its
// peer ifB in b, an address /30 each from a subnet of its own (198.19.x.y,
// apart from NewPair's), permanent neighbours, IPv6 off on both ends. The
// returned Pair sends traffic like any other (SendUDP, TCPTransfer); its A
// and B are a and b. t.Cleanup deletes the veth, not the namespaces.
//
// This is how a container runtime wires a container: a veth on the host
// whose peer (eth0) is in the container's namespace.
func Connect(t testing.TB, a, b *NS, ifA, ifB string) *Pair {
	t.Helper()
	privileged.Need(t)
	n := nsCounter.Add(1) % (1 << 14) // 64 subnets /30 per third octet
	third, fourth := byte(n>>6), byte(n&63)<<2
	p := &Pair{
		A: a, B: b, IfA: ifA, IfB: ifB,
		AddrA: netip.AddrFrom4([4]byte{198, 19, third, fourth + 1}),
		AddrB: netip.AddrFrom4([4]byte{198, 19, third, fourth + 2}),
	}
	err := p.link()
	t.Cleanup(func() {
		if err := p.disconnect(); err != nil {
			t.Errorf("netnstest: cleanup: %v", err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// disconnect deletes the veth of a Connect pair; it may be gone with a
// namespace already.
func (p *Pair) disconnect() error {
	for _, side := range []struct {
		ns     *NS
		ifname string
	}{{p.A, p.IfA}, {p.B, p.IfB}} {
		if side.ns.deleted {
			continue
		}
		l, err := side.ns.nl.LinkByName(side.ifname)
		var notFound netlink.LinkNotFoundError
		if errors.As(err, &notFound) {
			continue
		}
		if err == nil {
			err = side.ns.nl.LinkDel(l)
		}
		if err != nil {
			return fmt.Errorf("netnstest: delete veth %s in %s: %w", side.ifname, side.ns.Name, err)
		}
		return nil // the other end goes with it
	}
	return nil
}
