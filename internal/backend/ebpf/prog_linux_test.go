package ebpf

import (
	"testing"

	"github.com/cilium/ebpf"
	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
)

// testObjects loads the programs with bins of width (0 = off), sized for a
// few interfaces, and closes them at the end of the test.
func testObjects(t testing.TB, width int64) *objects {
	t.Helper()
	o, err := loadObjects(durationNs(width), 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

// counted returns what counters slot slot holds for dir, summed over CPUs.
func counted(t testing.TB, o *objects, slot, dir uint32) (bytes, packets uint64) {
	t.Helper()
	return o.dirCounts(slot, dir)
}

// runSKB runs prog once per repeat on data with the ctx, inside ns, and
// checks the verdict is TC_ACT_UNSPEC (-1).
func runSKB(t testing.TB, ns *netnstest.NS, prog *ebpf.Program, data []byte, ctx skbCtx, repeat uint32) {
	t.Helper()
	err := ns.Do(func() error {
		ret, err := prog.Run(&ebpf.RunOptions{Data: data, Context: ctx, Repeat: repeat})
		if err != nil {
			return err
		}
		if int32(ret) != -1 {
			t.Errorf("verdict %d, want TC_ACT_UNSPEC (-1)", int32(ret))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("test run: %v", err)
	}
}

func TestTCCountsWireBytes(t *testing.T) {
	p := netnstest.NewPair(t)
	o := testObjects(t, 0)
	if err := o.addInterface(p.IndexA, 0); err != nil {
		t.Fatal(err)
	}

	// test_run takes at most a page of linear data: the crafted super-packets
	// are small, with gso_size to match.
	tests := []struct {
		name    string
		f       frame
		segs    uint32 // gso_segs in the ctx
		size    uint32 // gso_size in the ctx
		wantSeg uint64 // segments on the wire
	}{
		{name: "ipv4 udp", f: frame{payload: 100}, wantSeg: 1},
		{name: "ipv4 udp min", f: frame{payload: 0}, wantSeg: 1},
		{name: "ipv6 tcp", f: frame{ipv6: true, tcp: true, payload: 1000}, wantSeg: 1},
		{name: "gso_segs 1 is one packet", f: frame{tcp: true, payload: 1448}, segs: 1, size: 1448, wantSeg: 1},
		{name: "gso ipv4 tcp", f: frame{tcp: true, tcpOpts: 12, payload: 2 * 1448}, segs: 2, size: 1448, wantSeg: 2},
		{name: "gso ipv4 options tcp", f: frame{ipOpts: 8, tcp: true, payload: 10 * 300}, segs: 10, size: 300, wantSeg: 10},
		{name: "gso ipv6 tcp", f: frame{ipv6: true, tcp: true, tcpOpts: 12, payload: 45 * 64}, segs: 45, size: 64, wantSeg: 45},
		{name: "gso ipv6 hop-by-hop udp", f: frame{ipv6: true, ext: 16, payload: 4 * 700}, segs: 4, size: 700, wantSeg: 4},
		{name: "gso vlan ipv4 udp", f: frame{vlans: 1, payload: 2 * 1400}, segs: 2, size: 1400, wantSeg: 2},
		{name: "gso qinq ipv6 tcp", f: frame{vlans: 2, ipv6: true, tcp: true, payload: 5 * 500}, segs: 5, size: 500, wantSeg: 5},
		{name: "gso last segment short", f: frame{tcp: true, payload: 2*1448 + 100}, segs: 3, size: 1448, wantSeg: 3},
		{name: "gso dodgy without segs", f: frame{tcp: true, payload: 3*900 + 1}, segs: 0, size: 900, wantSeg: 4},
	}
	progs := []struct {
		name string
		prog *ebpf.Program
		dir  uint32
	}{
		{"ingress", o.NetwatchTcIn, dirRx},
		{"egress", o.NetwatchTcEg, dirTx},
	}
	const repeat = 3
	for _, pr := range progs {
		for _, tt := range tests {
			t.Run(pr.name+"/"+tt.name, func(t *testing.T) {
				data := tt.f.bytes()
				if len(data) != tt.f.hdrLen()+tt.f.payload {
					t.Fatalf("frame builder: %d bytes, want %d", len(data), tt.f.hdrLen()+tt.f.payload)
				}
				// What the wire carries: the frame, plus the headers of
				// every segment after the first.
				wantBytes := uint64(len(data)) + (tt.wantSeg-1)*uint64(tt.f.hdrLen())
				b0, p0 := counted(t, o, 0, pr.dir)
				o0b, o0p := counted(t, o, 0, 1-pr.dir)
				runSKB(t, p.A, pr.prog, data, skbCtx{Ifindex: uint32(p.IndexA), GsoSegs: tt.segs, GsoSize: tt.size}, repeat)
				b1, p1 := counted(t, o, 0, pr.dir)
				if b1-b0 != repeat*wantBytes || p1-p0 != repeat*tt.wantSeg {
					t.Errorf("counted %d bytes %d packets, want %d and %d", b1-b0, p1-p0, repeat*wantBytes, repeat*tt.wantSeg)
				}
				if ob, op := counted(t, o, 0, 1-pr.dir); ob != o0b || op != o0p {
					t.Errorf("other direction moved by %d bytes %d packets", ob-o0b, op-o0p)
				}
			})
		}
	}
}

func TestUnknownIfindexIsNotCounted(t *testing.T) {
	p := netnstest.NewPair(t)
	o := testObjects(t, 0)
	if err := o.addInterface(p.IndexA, 0); err != nil {
		t.Fatal(err)
	}
	data := frame{payload: 64}.bytes()
	// ifindex 1 is the namespace's lo, which has no entries.
	runSKB(t, p.A, o.NetwatchTcIn, data, skbCtx{Ifindex: 1}, 5)
	if b, n := counted(t, o, 0, dirRx); b != 0 || n != 0 {
		t.Errorf("watched interface counted %d bytes %d packets of another's traffic", b, n)
	}
	// Nothing anywhere in the counters moved, and the program published
	// nothing for ifindex 1.
	for slot := range o.slotCapacity() {
		for _, dir := range []uint32{dirRx, dirTx} {
			if b, n := counted(t, o, slot, dir); b != 0 || n != 0 {
				t.Errorf("slot %d dir %d counted %d bytes %d packets", slot, dir, b, n)
			}
		}
	}
	var is netwatchNwIfslot
	k := uint32(1)
	if err := o.Ifslots.Lookup(&k, &is); err != nil {
		t.Fatal(err)
	}
	if is != (netwatchNwIfslot{}) {
		t.Errorf("ifslots[1] = %+v, want empty", is)
	}
}

func TestXDPCountsFrames(t *testing.T) {
	p := netnstest.NewPair(t)
	o := testObjects(t, 0)
	if err := o.addInterface(p.IndexA, 0); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    frame
	}{
		{"ipv4 udp", frame{payload: 18}},
		{"ipv6 tcp", frame{ipv6: true, tcp: true, payload: 1400}},
		// Larger than a page: a multi-buffer frame, all fragments count.
		{"multi-buffer", frame{payload: 9000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.f.bytes()
			b0, p0 := counted(t, o, 0, dirRx)
			err := p.A.Do(func() error {
				ret, err := o.NetwatchXdp.Run(&ebpf.RunOptions{
					Data:    data,
					Context: xdpCtx{DataEnd: uint32(len(data)), IngressIfindex: uint32(p.IndexA)},
					Repeat:  2,
				})
				if err != nil {
					return err
				}
				if ret != 2 {
					t.Errorf("verdict %d, want XDP_PASS (2)", ret)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("test run: %v", err)
			}
			b1, p1 := counted(t, o, 0, dirRx)
			if b1-b0 != 2*uint64(len(data)) || p1-p0 != 2 {
				t.Errorf("counted %d bytes %d packets, want %d and 2", b1-b0, p1-p0, 2*len(data))
			}
			if b, n := counted(t, o, 0, dirTx); b != 0 || n != 0 {
				t.Errorf("xdp counted %d bytes %d packets as tx", b, n)
			}
		})
	}
}
