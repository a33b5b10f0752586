package attach

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"

	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
)

const (
	tcActUnspec = -1 // TC_ACT_UNSPEC == TCX_NEXT: let the next program run
	xdpPass     = 2
)

// counter is a tiny program that counts the packets it sees into a
// one-element array map and passes them on.
type counter struct {
	prog *ebpf.Program
	m    *ebpf.Map
}

func newCounter(t testing.TB, name string, typ ebpf.ProgramType) *counter {
	t.Helper()
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	if err != nil {
		t.Fatalf("create map: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	ret := int32(tcActUnspec)
	if typ == ebpf.XDP {
		ret = xdpPass
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:    name,
		Type:    typ,
		License: "GPL",
		Instructions: asm.Instructions{
			asm.StoreImm(asm.RFP, -4, 0, asm.Word),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -4),
			asm.LoadMapPtr(asm.R1, m.FD()),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, "out"),
			asm.Mov.Imm(asm.R1, 1),
			asm.StoreXAdd(asm.R0, asm.R1, asm.DWord),
			asm.Mov.Imm(asm.R0, ret).WithSymbol("out"),
			asm.Return(),
		},
	})
	if err != nil {
		t.Fatalf("load program %s: %v", name, err)
	}
	t.Cleanup(func() { prog.Close() })
	return &counter{prog: prog, m: m}
}

func (c *counter) count(t *testing.T) uint64 {
	t.Helper()
	var v uint64
	if err := c.m.Lookup(uint32(0), &v); err != nil {
		t.Fatalf("read counter: %v", err)
	}
	return v
}

func (c *counter) id(t *testing.T) ebpf.ProgramID {
	t.Helper()
	info, err := c.prog.Info()
	if err != nil {
		t.Fatal(err)
	}
	id, ok := info.ID()
	if !ok {
		t.Fatal("no program id")
	}
	return id
}

// do runs fn inside ns and fails t on error.
func do(t *testing.T, ns *netnstest.NS, fn func() error) {
	t.Helper()
	if err := ns.Do(fn); err != nil {
		t.Fatal(err)
	}
}

// hookState describes everything attached to ifindex in the calling
// thread's namespace: TCX programs, qdiscs, tc filters and XDP.
func hookState(ifindex int) (string, error) {
	var b strings.Builder
	for _, at := range []ebpf.AttachType{ebpf.AttachTCXIngress, ebpf.AttachTCXEgress} {
		res, err := link.QueryPrograms(link.QueryOptions{Target: ifindex, Attach: at})
		if err != nil {
			return "", fmt.Errorf("query %s: %w", at, err)
		}
		fmt.Fprintf(&b, "%s:", at)
		for _, p := range res.Programs {
			fmt.Fprintf(&b, " %d", p.ID)
		}
		b.WriteString("\n")
	}
	dev := &netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: ifindex}}
	qdiscs, err := netlink.QdiscList(dev)
	if err != nil {
		return "", err
	}
	for _, q := range qdiscs {
		fmt.Fprintf(&b, "qdisc %s parent %x handle %x\n", q.Type(), q.Attrs().Parent, q.Attrs().Handle)
	}
	for _, parent := range []uint32{netlink.HANDLE_MIN_INGRESS, netlink.HANDLE_MIN_EGRESS} {
		filters, err := netlink.FilterList(dev, parent)
		if err != nil {
			return "", err
		}
		for _, f := range filters {
			fmt.Fprintf(&b, "filter %s %s\n", f.Type(), filterString(f))
		}
	}
	l, err := netlink.LinkByIndex(ifindex)
	if err != nil {
		return "", err
	}
	if x := l.Attrs().Xdp; x != nil && x.Attached {
		fmt.Fprintf(&b, "xdp prog %d mode %d\n", x.ProgId, x.AttachMode)
	}
	return b.String(), nil
}

func filterString(f netlink.Filter) string {
	a := f.Attrs()
	s := fmt.Sprintf("parent %x prio %d handle %x", a.Parent, a.Priority, a.Handle)
	if bf, ok := f.(*netlink.BpfFilter); ok {
		s += fmt.Sprintf(" name %q id %d", bf.Name, bf.Id)
	}
	return s
}

// tcxIDs lists the program ids attached to ifindex's TCX hook.
func tcxIDs(ifindex int, dir Direction) ([]ebpf.ProgramID, error) {
	at := ebpf.AttachTCXIngress
	if dir == Egress {
		at = ebpf.AttachTCXEgress
	}
	res, err := link.QueryPrograms(link.QueryOptions{Target: ifindex, Attach: at})
	if err != nil {
		return nil, err
	}
	var ids []ebpf.ProgramID
	for _, p := range res.Programs {
		ids = append(ids, p.ID)
	}
	return ids, nil
}

// bpfFilters lists the (non-header) cls_bpf filters on ifindex at dir.
func bpfFilters(ifindex int, dir Direction) ([]*netlink.BpfFilter, error) {
	filters, err := netlink.FilterList(device(ifindex), parentOf(dir))
	if err != nil {
		return nil, err
	}
	var out []*netlink.BpfFilter
	for _, f := range filters {
		if bf, ok := f.(*netlink.BpfFilter); ok && bf.Handle != 0 {
			out = append(out, bf)
		}
	}
	return out, nil
}

func filterNames(fs []*netlink.BpfFilter) []string {
	var names []string
	for _, f := range fs {
		names = append(names, f.Name)
	}
	slices.Sort(names)
	return names
}

// addForeignFilter adds someone else's cls_bpf filter (priority 10, handle
// 1) on clsact at dir; the clsact qdisc must exist.
func addForeignFilter(ifindex int, dir Direction, prog *ebpf.Program, name string) error {
	return netlink.FilterAdd(&netlink.BpfFilter{
		FilterAttrs: netlink.FilterAttrs{
			LinkIndex: ifindex,
			Parent:    parentOf(dir),
			Handle:    1,
			Priority:  10,
			Protocol:  0x0003, // ETH_P_ALL
		},
		Fd:           prog.FD(),
		Name:         name,
		DirectAction: true,
	})
}

func addClsact(ifindex int) error { return netlink.QdiscAdd(clsactQdisc(ifindex)) }

// senderFor returns the side whose traffic crosses side B's hook at dir:
// ingress on B sees A's traffic, egress on B sees B's own.
func senderFor(dir Direction) netnstest.Side {
	if dir == Ingress {
		return netnstest.A
	}
	return netnstest.B
}
