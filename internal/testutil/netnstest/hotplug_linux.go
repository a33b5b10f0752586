//go:build linux

package netnstest

import (
	"fmt"
	"testing"

	"github.com/netwatch-dev/netwatch/internal/testutil/privileged"
)

// NewNS creates a fresh named namespace for t (IPv6 off, lo up) and
// deletes it in t.Cleanup: somewhere to move a Pair's device to.
func NewNS(t testing.TB, tag string) *NS {
	t.Helper()
	privileged.Need(t)
	ns, err := newNS(tag)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ns.close(); err != nil {
			t.Errorf("netnstest: cleanup: %v", err)
		}
	})
	return ns
}

// DeleteA deletes side A's veth (and with it its peer, side B's). IndexA
// and IndexB are 0 until CreateA makes a new pair.
func (p *Pair) DeleteA() error {
	l, err := p.A.nl.LinkByIndex(p.IndexA)
	if err != nil {
		return fmt.Errorf("netnstest: delete: link %d in %s: %w", p.IndexA, p.A.Name, err)
	}
	if err := p.A.nl.LinkDel(l); err != nil {
		return fmt.Errorf("netnstest: delete %s in %s: %w", p.IfA, p.A.Name, err)
	}
	p.IndexA, p.IndexB = 0, 0
	return nil
}

// CreateA creates a new veth pair between A and B, named p.IfA (whatever
// a rename made it) and p.IfB, configured like NewPair's: quiet, up, with
// the same addresses. The new devices get new indexes, and their
// counters start at zero.
func (p *Pair) CreateA() error {
	return p.link()
}

// MoveA moves side A's veth into the namespace to, as `ip link set IfA
// netns to` does: it vanishes from A (its addresses and neighbours with
// it) and appears in to, down. It returns its index there, which differs
// from IndexA when IndexA is taken in to. IndexA is 0 until ReturnA.
func (p *Pair) MoveA(to *NS) (int, error) {
	l, err := p.A.nl.LinkByIndex(p.IndexA)
	if err != nil {
		return 0, fmt.Errorf("netnstest: move: link %d in %s: %w", p.IndexA, p.A.Name, err)
	}
	if err := p.A.nl.LinkSetNsFd(l, int(to.handle)); err != nil {
		return 0, fmt.Errorf("netnstest: move %s from %s to %s: %w", p.IfA, p.A.Name, to.Name, err)
	}
	p.IndexA = 0
	moved, err := to.nl.LinkByName(p.IfA)
	if err != nil {
		return 0, fmt.Errorf("netnstest: moved %s in %s: %w", p.IfA, to.Name, err)
	}
	return moved.Attrs().Index, nil
}

// ReturnA moves side A's veth back from the namespace from (where MoveA
// put it) into A and configures it again (address, permanent neighbour,
// up). The kernel keeps its index unless that index is taken in A; IndexA
// is the one it has now.
func (p *Pair) ReturnA(from *NS) error {
	l, err := from.nl.LinkByName(p.IfA)
	if err != nil {
		return fmt.Errorf("netnstest: return: %s in %s: %w", p.IfA, from.Name, err)
	}
	if err := from.nl.LinkSetNsFd(l, int(p.A.handle)); err != nil {
		return fmt.Errorf("netnstest: move %s from %s back to %s: %w", p.IfA, from.Name, p.A.Name, err)
	}
	la, err := p.A.configure(p.IfA, p.AddrA)
	if err != nil {
		return err
	}
	p.IndexA = la.Attrs().Index
	lb, err := p.B.nl.LinkByIndex(p.IndexB)
	if err != nil {
		return fmt.Errorf("netnstest: return: peer: %w", err)
	}
	err = p.A.permanentNeighbour(la, p.AddrB, lb.Attrs().HardwareAddr)
	if err != nil {
		return fmt.Errorf("netnstest: return: neighbour on %s: %w", p.IfA, err)
	}
	if err := p.A.nl.LinkSetUp(la); err != nil {
		return fmt.Errorf("netnstest: return: set %s up: %w", p.IfA, err)
	}
	if err := p.A.waitOperUp(p.IfA); err != nil {
		return err
	}
	return p.B.waitOperUp(p.IfB)
}
