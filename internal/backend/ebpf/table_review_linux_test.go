package ebpf

import (
	"fmt"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/netwatch-dev/netwatch/internal/stats"
	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
	"github.com/netwatch-dev/netwatch/internal/testutil/privileged"
)

// TestTableNeverHandsOutSlotZero: MaxInterfaces interfaces get distinct
// slots, none of them slot 0, all inside the counters map; one more is
// refused. A torn ifslots entry read as {ifindex, slot 0} (the program
// reads the two fields apart while userspace rewrites the entry) must then
// count into no watched interface.
func TestTableNeverHandsOutSlotZero(t *testing.T) {
	privileged.Need(t)
	p := netnstest.NewPair(t)
	o := testObjects(t, 0)
	tb := newTable(o, 0)
	t.Cleanup(func() {
		if err := tb.removeAll(); err != nil {
			t.Errorf("remove all: %v", err)
		}
	})
	// Fake ifindexes above the pair's, each in its own ifslots entry.
	base := p.IndexA + 1
	for i := range MaxInterfaces {
		if err := tb.add(fmt.Sprintf("if%d", i), base+i, nil); err != nil {
			t.Fatalf("interface %d of %d: %v", i+1, MaxInterfaces, err)
		}
	}
	if err := tb.add("one-too-many", base+MaxInterfaces, nil); err == nil {
		t.Errorf("interface %d accepted, want the maximum of %d", MaxInterfaces+1, MaxInterfaces)
	}
	seen := make(map[uint32]bool)
	for _, w := range tb.ifaces {
		switch {
		case w.slot == 0:
			t.Errorf("%s got slot 0", w.name)
		case w.slot >= counterSlots || int(w.slot)*2*o.cpus >= int(o.Counters.MaxEntries()):
			t.Errorf("%s got slot %d, outside the counters map of %d entries", w.name, w.slot, o.Counters.MaxEntries())
		case seen[w.slot]:
			t.Errorf("slot %d handed out twice", w.slot)
		}
		seen[w.slot] = true
	}

	// The torn read, made permanent: the pair's ifindex with slot 0.
	k := uint32(p.IndexA) % ifmapSize
	torn := netwatchNwIfslot{Ifindex: uint32(p.IndexA), Slot: 0}
	if err := o.Ifslots.Update(&k, &torn, ebpf.UpdateAny); err != nil {
		t.Fatal(err)
	}
	runSKB(t, p.A, o.NetwatchTcIn, frame{payload: 10}.bytes(), skbCtx{Ifindex: uint32(p.IndexA)}, 3)
	runSKB(t, p.A, o.NetwatchTcEg, frame{payload: 10}.bytes(), skbCtx{Ifindex: uint32(p.IndexA)}, 3)
	snap, err := tb.read()
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Interfaces) != MaxInterfaces {
		t.Errorf("%d interfaces read, want %d", len(snap.Interfaces), MaxInterfaces)
	}
	for _, ic := range snap.Interfaces {
		if ic.Counters != (stats.Counters{}) {
			t.Errorf("%s counted a packet of the torn entry: %+v", ic.Name, ic.Counters)
		}
	}
}
