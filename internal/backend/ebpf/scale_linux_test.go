package ebpf

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/netwatch-dev/netwatch/internal/backend/ebpf/attach"
	"github.com/netwatch-dev/netwatch/internal/ifsel"
	"github.com/netwatch-dev/netwatch/internal/stats"
	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
	"github.com/netwatch-dev/netwatch/internal/testutil/privileged"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// TestFourThousandInterfaces: 4,096 interfaces (2,048 veth pairs in a
// namespace of the test's own) attach — four chunks of counters, most of
// them past the 4,096-entry ifslots table's direct entries in ifoverflow —
// and count exactly: a frame sent on each s<i> is one tx packet there and
// one rx packet on its peer t<i>, in the counters and in the bins. Nothing
// stays attached: the namespace goes with the test.
//
// Legacy tc: a TCX attach or detach waits for an RCU grace period under the
// rtnl lock (about 15 ms on a small VM), so 8,192 hooks would take four
// minutes; cls_bpf filters attach 4,096 interfaces in seconds. The counting
// is the same program either way.
func TestFourThousandInterfaces(t *testing.T) {
	privileged.Need(t)
	const pairs = 2048
	p := netnstest.NewPair(t)
	nl := p.A.Netlink()
	t0 := time.Now()
	for i := range pairs {
		veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: fmt.Sprintf("s%d", i)}, PeerName: fmt.Sprintf("t%d", i)}
		if err := nl.LinkAdd(veth); err != nil {
			t.Fatalf("veth pair %d: %v", i, err)
		}
	}
	links, err := nl.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		if n := l.Attrs().Name; n[0] == 's' || n[0] == 't' {
			if err := nl.LinkSetUp(l); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("%d interfaces created in %v", 2*pairs, time.Since(t0).Round(time.Millisecond))

	sel, err := ifsel.New([]string{"s*", "t*"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const width = 10 * time.Millisecond
	var b *Backend
	t1 := time.Now()
	if err := p.A.Do(func() (err error) {
		b, err = Open(context.Background(), Config{Selector: sel, Resolution: width, Attach: attach.TC})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	t.Logf("%d interfaces attached in %v", 2*pairs, time.Since(t1).Round(time.Millisecond))
	if got := len(b.t.indexes()); got != 2*pairs {
		t.Fatalf("watching %d interfaces, want %d", got, 2*pairs)
	}
	if got := len(b.o.counterMem); got != (2*pairs)/chunkSlots+1 {
		t.Errorf("%d chunks of counters, want %d", got, (2*pairs)/chunkSlots+1)
	}
	if _, err := b.ReadBins(); err != nil { // what came before the frames
		t.Fatal(err)
	}
	start, err := b.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	data := frame{payload: 50}.bytes()
	index := map[string]int{}
	if err := p.A.Do(func() error {
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		links, err := netlink.LinkList()
		if err != nil {
			return err
		}
		for _, l := range links {
			index[l.Attrs().Name] = l.Attrs().Index
		}
		for i := range pairs {
			if err := unix.Sendto(fd, data, 0, &unix.SockaddrLinklayer{Ifindex: index[fmt.Sprintf("s%d", i)]}); err != nil {
				return fmt.Errorf("send on s%d: %w", i, err)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(width + 2*binGuard)
	bins, err := b.ReadBins()
	if err != nil {
		t.Fatal(err)
	}
	end, err := b.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	binSum := map[int]stats.Counters{}
	for _, ib := range bins.Interfaces {
		if ib.Lost != nil {
			t.Errorf("%s: bins lost", ib.Name)
		}
		var c stats.Counters
		for _, x := range ib.Bins {
			c.RxBytes += x.RxBytes
			c.RxPackets += x.RxPackets
			c.TxBytes += x.TxBytes
			c.TxPackets += x.TxPackets
		}
		binSum[ib.Index] = c
	}
	size := uint64(len(data))
	bad := 0
	for i := range pairs {
		s, tt := index[fmt.Sprintf("s%d", i)], index[fmt.Sprintf("t%d", i)]
		ds, _ := stats.Delta(ifCounters(t, start, s), ifCounters(t, end, s))
		dt, _ := stats.Delta(ifCounters(t, start, tt), ifCounters(t, end, tt))
		wantS := stats.Counters{TxBytes: size, TxPackets: 1}
		wantT := stats.Counters{RxBytes: size, RxPackets: 1}
		if ds != wantS || dt != wantT || binSum[s] != wantS || binSum[tt] != wantT {
			if bad++; bad <= 5 {
				t.Errorf("pair %d: counters s %+v t %+v, bins s %+v t %+v; want %+v and %+v", i, ds, dt, binSum[s], binSum[tt], wantS, wantT)
			}
		}
	}
	if bad > 5 {
		t.Errorf("%d of %d pairs wrong", bad, pairs)
	}
}
