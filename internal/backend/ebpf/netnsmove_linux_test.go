package ebpf

import (
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/netwatch-dev/netwatch/internal/backend/ebpf/attach"
	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
)

// TestKernelKeepsLinksOnNamespaceMove pins down what the kernel does to
// attachments when a device moves to another namespace (`ip link set X
// netns other`), which is why the backend must release an interface on
// the RTM_DELLINK its old namespace sees: the move drops the device's
// qdiscs (the clsact, and legacy tc filters with it), but TCX and XDP
// links stay attached to the device in its new namespace until their
// owner closes them (they are only removed when the device is
// unregistered).
func TestKernelKeepsLinksOnNamespaceMove(t *testing.T) {
	p := netnstest.NewPair(t)
	o := testObjects(t, 0)
	var links []attach.Link
	err := p.A.Do(func() error {
		for _, a := range []func() (attach.Link, error){
			func() (attach.Link, error) {
				return attach.TCAttach(p.IndexA, attach.Ingress, o.NetwatchTcIn, attach.TCX)
			},
			func() (attach.Link, error) {
				return attach.TCAttach(p.IndexA, attach.Egress, o.NetwatchTcEg, attach.TC)
			},
			func() (attach.Link, error) { return attach.XDPAttach(p.IndexA, o.NetwatchXdp, attach.XDPGeneric) },
		} {
			l, err := a()
			if err != nil {
				return err
			}
			links = append(links, l)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ifname := p.IfA
	moved, err := p.MoveA(p.B)
	if err != nil {
		t.Fatal(err)
	}
	tcx, xdp, clsact := attachedIn(t, p.B, ifname, moved)
	if tcx != 1 || !xdp || clsact {
		t.Errorf("after the move: %d TCX programs (want 1), XDP attached %v (want true), clsact %v (want false: dropped with the device's qdiscs)", tcx, xdp, clsact)
	}
	for _, l := range links {
		if err := l.Close(); err != nil {
			t.Errorf("close %v link after the move: %v", l.Mode(), err)
		}
	}
	if tcx, xdp, clsact := attachedIn(t, p.B, ifname, moved); tcx != 0 || xdp || clsact {
		t.Errorf("after closing the links: %d TCX programs, XDP %v, clsact %v; want nothing", tcx, xdp, clsact)
	}
}

// attachedIn says what is attached to ifname (index) in ns: how many TCX
// ingress programs, whether an XDP program, whether a clsact qdisc.
func attachedIn(t *testing.T, ns *netnstest.NS, ifname string, index int) (tcx int, xdp, clsact bool) {
	t.Helper()
	l, err := ns.Netlink().LinkByName(ifname)
	if err != nil {
		t.Fatal(err)
	}
	xdp = l.Attrs().Xdp != nil && l.Attrs().Xdp.Attached
	qdiscs, err := ns.Netlink().QdiscList(l)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qdiscs {
		clsact = clsact || q.Type() == "clsact"
	}
	err = ns.Do(func() error {
		res, err := link.QueryPrograms(link.QueryOptions{Target: index, Attach: ebpf.AttachTCXIngress})
		if err == nil {
			tcx = len(res.Programs)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return tcx, xdp, clsact
}
