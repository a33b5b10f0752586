//go:build linux

package netnstest

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/netwatch-dev/netwatch/internal/testutil/privileged"
)

// Side names one end of a Pair.
type Side int

const (
	A Side = iota
	B
)

func (s Side) String() string {
	if s == A {
		return "A"
	}
	return "B"
}

// Names of the veth ends. Each lives in its own namespace, so every Pair
// can use the same names.
const (
	IfNameA = "nw-veth-a"
	IfNameB = "nw-veth-b"
)

// Pair is two fresh network namespaces joined by a quiet veth pair (see
// the package documentation).
type Pair struct {
	A, B           *NS
	IfA, IfB       string
	IndexA, IndexB int
	AddrA, AddrB   netip.Addr // 198.18.<n>.1 and .2, prefix /30
	MTU            int
}

// NewPair creates a Pair for t and deletes it in t.Cleanup. It calls
// privileged.Need(t) first, and fails t on any setup error.
func NewPair(t testing.TB) *Pair {
	t.Helper()
	privileged.Need(t)
	p, err := newPair()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.close(); err != nil {
			t.Errorf("netnstest: cleanup: %v", err)
		}
	})
	return p
}

func newPair() (p *Pair, err error) {
	n := byte(nsCounter.Load() % 256)
	p = &Pair{
		IfA:   IfNameA,
		IfB:   IfNameB,
		AddrA: netip.AddrFrom4([4]byte{198, 18, n, 1}),
		AddrB: netip.AddrFrom4([4]byte{198, 18, n, 2}),
	}
	defer func() {
		if err != nil {
			p.close()
		}
	}()
	if p.A, err = newNS("a"); err != nil {
		return p, err
	}
	if p.B, err = newNS("b"); err != nil {
		return p, err
	}
	return p, p.link()
}

// link creates the veth pair between A and B with the names p.IfA and
// p.IfB, configures both ends (addresses, permanent neighbours, up) and
// records their indexes.
func (p *Pair) link() error {
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: p.IfA},
		PeerName:      p.IfB,
		PeerNamespace: netlink.NsFd(int(p.B.handle)),
	}
	if err := p.A.nl.LinkAdd(veth); err != nil {
		return fmt.Errorf("netnstest: add veth in %s: %w", p.A.Name, err)
	}
	la, err := p.A.configure(p.IfA, p.AddrA)
	if err != nil {
		return err
	}
	lb, err := p.B.configure(p.IfB, p.AddrB)
	if err != nil {
		return err
	}
	p.IndexA, p.IndexB = la.Attrs().Index, lb.Attrs().Index
	p.MTU = la.Attrs().MTU
	if err := p.A.permanentNeighbour(la, p.AddrB, lb.Attrs().HardwareAddr); err != nil {
		return err
	}
	if err := p.B.permanentNeighbour(lb, p.AddrA, la.Attrs().HardwareAddr); err != nil {
		return err
	}
	for _, side := range []struct {
		ns *NS
		l  netlink.Link
	}{{p.A, la}, {p.B, lb}} {
		if err := side.ns.nl.LinkSetUp(side.l); err != nil {
			return fmt.Errorf("netnstest: set %s up in %s: %w", side.l.Attrs().Name, side.ns.Name, err)
		}
	}
	if err := p.A.waitOperUp(p.IfA); err != nil {
		return err
	}
	if err := p.B.waitOperUp(p.IfB); err != nil {
		return err
	}
	return nil
}

// configure disables IPv6 on ifname (still down) and gives it addr/30.
func (ns *NS) configure(ifname string, addr netip.Addr) (netlink.Link, error) {
	err := ns.Do(func() error {
		return setSysctl("net/ipv6/conf/"+ifname+"/disable_ipv6", "1")
	})
	if err != nil {
		return nil, err
	}
	l, err := ns.nl.LinkByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("netnstest: link %s in %s: %w", ifname, ns.Name, err)
	}
	ipnet := &net.IPNet{IP: addr.AsSlice(), Mask: net.CIDRMask(30, 32)}
	if err := ns.nl.AddrAdd(l, &netlink.Addr{IPNet: ipnet}); err != nil {
		return nil, fmt.Errorf("netnstest: address %s on %s in %s: %w", ipnet, ifname, ns.Name, err)
	}
	return l, nil
}

func (ns *NS) permanentNeighbour(l netlink.Link, ip netip.Addr, mac net.HardwareAddr) error {
	err := ns.nl.NeighSet(&netlink.Neigh{
		LinkIndex:    l.Attrs().Index,
		Family:       netlink.FAMILY_V4,
		State:        netlink.NUD_PERMANENT,
		IP:           ip.AsSlice(),
		HardwareAddr: mac,
	})
	if err != nil {
		return fmt.Errorf("netnstest: neighbour %s on %s in %s: %w", ip, l.Attrs().Name, ns.Name, err)
	}
	return nil
}

func (p *Pair) close() error {
	var errs []error
	for _, ns := range []*NS{p.A, p.B} {
		if ns != nil {
			if err := ns.close(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// NS returns the namespace of side s.
func (p *Pair) NS(s Side) *NS {
	if s == A {
		return p.A
	}
	return p.B
}

// If returns the veth name and ifindex of side s (in its own namespace).
func (p *Pair) If(s Side) (string, int) {
	if s == A {
		return p.IfA, p.IndexA
	}
	return p.IfB, p.IndexB
}

// Addr returns the address of side s.
func (p *Pair) Addr(s Side) netip.Addr {
	if s == A {
		return p.AddrA
	}
	return p.AddrB
}

// offloadFeatures are the ethtool -K features SetOffloads switches.
var offloadFeatures = []string{"tx", "rx", "sg", "tso", "gso", "gro"}

// SetOffloads switches checksum, scatter-gather, TSO, GSO and GRO on or off
// on both veth ends, with the ethtool binary. With offloads off every packet
// the stack sends is at most one MTU, so tc sees one skb per wire packet.
func (p *Pair) SetOffloads(on bool) error {
	state := "off"
	if on {
		state = "on"
	}
	for _, s := range []Side{A, B} {
		ifname, _ := p.If(s)
		args := []string{"-K", ifname}
		for _, f := range offloadFeatures {
			args = append(args, f, state)
		}
		if _, err := p.NS(s).Exec("ethtool", args...); err != nil {
			return err
		}
	}
	return nil
}

// operUpTimeout bounds the wait for the kernel's link watcher; under rtnl
// contention (another test creating or deleting thousands of devices) it
// can take seconds.
const operUpTimeout = 30 * time.Second

// waitOperUp waits until ifname is operationally up. The kernel's link
// watcher marks the carrier up and activates the device's qdisc
// (dev_activate) asynchronously after "ip link set up"; until then the
// device has the noop qdisc, which drops every packet sent, so a test that
// sends right after NewPair would lose its first datagrams.
func (ns *NS) waitOperUp(ifname string) error {
	deadline := time.Now().Add(operUpTimeout)
	for {
		l, err := ns.nl.LinkByName(ifname)
		if err != nil {
			return fmt.Errorf("netnstest: %s in %s: %w", ifname, ns.Name, err)
		}
		if l.Attrs().OperState == netlink.OperUp {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("netnstest: %s in %s not operationally up after %v (state %s)", ifname, ns.Name, operUpTimeout, l.Attrs().OperState)
		}
		time.Sleep(time.Millisecond)
	}
}
