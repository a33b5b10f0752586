//go:build linux

package netnstest

import (
	"fmt"

	"github.com/vishvananda/netlink"
)

// RenameA renames side A's veth (down, rename, up: Linux renames only
// devices that are down), restores its permanent neighbour entry and waits
// until it is operationally up again. Its ifindex stays. The pair stays
// quiet: no packet is sent by the rename.
func (p *Pair) RenameA(name string) error {
	l, err := p.A.nl.LinkByIndex(p.IndexA)
	if err != nil {
		return fmt.Errorf("netnstest: rename: link %d in %s: %w", p.IndexA, p.A.Name, err)
	}
	if err := p.A.nl.LinkSetDown(l); err != nil {
		return fmt.Errorf("netnstest: rename: set %s down: %w", p.IfA, err)
	}
	if err := p.A.nl.LinkSetName(l, name); err != nil {
		return fmt.Errorf("netnstest: rename %s to %s: %w", p.IfA, name, err)
	}
	p.IfA = name
	if err := p.A.nl.LinkSetUp(l); err != nil {
		return fmt.Errorf("netnstest: rename: set %s up: %w", name, err)
	}
	lb, err := p.B.nl.LinkByIndex(p.IndexB)
	if err != nil {
		return fmt.Errorf("netnstest: rename: peer: %w", err)
	}
	err = p.A.permanentNeighbour(l, p.AddrB, lb.Attrs().HardwareAddr)
	if err != nil {
		return fmt.Errorf("netnstest: rename: neighbour on %s: %w", name, err)
	}
	if err := p.A.waitOperUp(name); err != nil {
		return err
	}
	return p.B.waitOperUp(p.IfB)
}

// KernelCounters returns the kernel's own counters of side A's veth, by
// ifindex (so a rename does not matter).
func (p *Pair) KernelCounters() (netlink.LinkStatistics, error) {
	l, err := p.A.nl.LinkByIndex(p.IndexA)
	if err != nil {
		return netlink.LinkStatistics{}, fmt.Errorf("netnstest: link %d in %s: %w", p.IndexA, p.A.Name, err)
	}
	if l.Attrs().Statistics == nil {
		return netlink.LinkStatistics{}, fmt.Errorf("netnstest: link %d in %s: no statistics", p.IndexA, p.A.Name)
	}
	return *l.Attrs().Statistics, nil
}
