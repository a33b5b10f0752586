package ebpf

import (
	"fmt"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/netwatch-dev/netwatch/internal/stats"
	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
	"github.com/netwatch-dev/netwatch/internal/testutil/privileged"
)

// TestTableNeverHandsOutSlotZero: more interfaces than one chunk of
// counters holds get distinct slots, none of them slot 0, all inside the
// chunks, a second chunk added for them. A torn ifslots entry read as {ifindex, slot 0} (the program
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
	const n = chunkSlots + 100
	for i := range n {
		if err := tb.add(fmt.Sprintf("if%d", i), base+i, nil); err != nil {
			t.Fatalf("interface %d of %d: %v", i+1, n, err)
		}
	}
	if len(o.counterMem) != 2 {
		t.Errorf("%d chunks of counters for %d interfaces, want 2", len(o.counterMem), n)
	}
	seen := make(map[uint32]bool)
	for _, w := range tb.ifaces {
		switch {
		case w.slot == 0:
			t.Errorf("%s got slot 0", w.name)
		case w.slot >= o.slotCapacity():
			t.Errorf("%s got slot %d, outside the %d slots of the chunks", w.name, w.slot, o.slotCapacity())
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
	if len(snap.Interfaces) != n {
		t.Errorf("%d interfaces read, want %d", len(snap.Interfaces), n)
	}
	for _, ic := range snap.Interfaces {
		if ic.Counters != (stats.Counters{}) {
			t.Errorf("%s counted a packet of the torn entry: %+v", ic.Name, ic.Counters)
		}
	}
}

// TestSlotsInLaterChunksCount: an interface whose slot lies in a chunk added
// after load is counted there, with its bins, and not in chunk 0's slot of
// the same low bits.
func TestSlotsInLaterChunksCount(t *testing.T) {
	privileged.Need(t)
	p := netnstest.NewPair(t)
	o := testObjects(t, 1_000_000)
	for range 2 {
		if err := o.addChunk(); err != nil {
			t.Fatal(err)
		}
	}
	slot := uint32(2*chunkSlots + 5)
	if err := o.addInterface(p.IndexA, slot); err != nil {
		t.Fatal(err)
	}
	data := frame{payload: 10}.bytes()
	run := func(prog *ebpf.Program, repeat uint32) error {
		_, err := prog.Run(&ebpf.RunOptions{Data: data, Context: skbCtx{Ifindex: uint32(p.IndexA)}, Repeat: repeat})
		return err
	}
	// On one CPU, so that the last packet moves the first ones' bin on.
	pinned(t, p.A, func() error {
		if err := run(o.NetwatchTcIn, 3); err != nil {
			return err
		}
		if err := run(o.NetwatchTcEg, 2); err != nil {
			return err
		}
		time.Sleep(3 * time.Millisecond)
		return run(o.NetwatchTcIn, 1)
	})
	if b, pk := counted(t, o, slot, dirRx); pk != 4 || b != 4*uint64(len(data)) {
		t.Errorf("rx %d bytes %d packets, want 4 packets of %d", b, pk, len(data))
	}
	if _, pk := counted(t, o, slot, dirTx); pk != 2 {
		t.Errorf("tx %d packets, want 2", pk)
	}
	if _, pk := counted(t, o, 5, dirRx); pk != 0 {
		t.Errorf("chunk 0's slot 5 counted %d packets", pk)
	}
	recs, err := o.ring.drain(nil)
	if err != nil {
		t.Fatal(err)
	}
	var got uint32
	for _, r := range recs {
		if int(r.Elem)/(2*o.cpus) == int(slot) && int(r.Elem)/o.cpus%2 == dirRx {
			got += r.Packets
		}
	}
	if got != 3 {
		t.Errorf("records of slot %d hold %d rx packets, want 3 (%+v)", slot, got, recs)
	}
}
