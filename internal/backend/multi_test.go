package backend

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// fakeBins is a member backend that returns scripted runs of bins.
type fakeBins struct {
	runs    []stats.Bins
	pending int // bins the benchmark's member returned beyond the last horizon
	ifaces  []stats.InterfaceCounters
	closed  bool
}

func (f *fakeBins) Source() stats.Source { return stats.Source{Backend: EBPF} }
func (f *fakeBins) Read(context.Context) (stats.Snapshot, error) {
	return stats.Snapshot{Mono: time.Second, Interfaces: append([]stats.InterfaceCounters(nil), f.ifaces...)}, nil
}
func (f *fakeBins) Close() error              { f.closed = true; return nil }
func (f *fakeBins) Resolution() time.Duration { return time.Millisecond }
func (f *fakeBins) BinSpan() time.Duration    { return time.Second }
func (f *fakeBins) ReadBins() (stats.Bins, error) {
	b := f.runs[0]
	f.runs = f.runs[1:]
	return b, nil
}

// run makes a run of bins from first: for each interface index, its bins'
// rx packet counts.
func run(first uint64, count int, ifs map[int][]uint64) stats.Bins {
	b := stats.Bins{Width: time.Millisecond, First: first, Count: count}
	for idx, pk := range ifs {
		ib := stats.InterfaceBins{Name: "if", Index: idx, Bins: make([]stats.Counters, count)}
		for i, p := range pk {
			ib.Bins[i].RxPackets = p
		}
		b.Interfaces = append(b.Interfaces, ib)
	}
	return b
}

func rxOf(b stats.Bins, netns string, index int) []uint64 {
	for _, ib := range b.Interfaces {
		if ib.Netns == netns && ib.Index == index {
			out := make([]uint64, len(ib.Bins))
			for i, c := range ib.Bins {
				out[i] = c.RxPackets
			}
			return out
		}
	}
	return nil
}

func newTestMulti(members ...*fakeBins) *Multi {
	m := &Multi{plan: Plan{Source: stats.Source{Backend: EBPF}}, opts: Options{Resolution: time.Millisecond}}
	for i, f := range members {
		label := string(rune('a' + i))
		m.members = append(m.members, &member{ns: Netns{Label: label, Container: "c" + label}, id: nsID{ino: uint64(i + 1)}, be: f})
	}
	return m
}

func TestMultiReadBinsMerges(t *testing.T) {
	// a and b both have ifindex 1. b's first read passes a bin edge a's
	// did not; c starts counting two bins later than a.
	a := &fakeBins{runs: []stats.Bins{
		run(10, 3, map[int][]uint64{1: {1, 2, 3}}),
		run(13, 2, map[int][]uint64{1: {4, 5}}),
	}}
	b := &fakeBins{runs: []stats.Bins{
		run(10, 4, map[int][]uint64{1: {10, 20, 30, 40}}),
		run(14, 1, map[int][]uint64{1: {50}, 2: {7}}), // ifindex 2 appears
	}}
	c := &fakeBins{runs: []stats.Bins{
		run(12, 1, map[int][]uint64{1: {100}}),
		run(13, 2, map[int][]uint64{1: {200, 300}}),
	}}
	m := newTestMulti(a, b, c)

	first, err := m.ReadBins()
	if err != nil {
		t.Fatal(err)
	}
	if first.First != 10 || first.Count != 3 {
		t.Fatalf("first run [%d, +%d), want [10, +3): the horizon all members reached", first.First, first.Count)
	}
	for _, tc := range []struct {
		netns string
		index int
		want  []uint64
	}{
		{"a", 1, []uint64{1, 2, 3}},
		{"b", 1, []uint64{10, 20, 30}},
		{"c", 1, []uint64{0, 0, 100}},
	} {
		if got := rxOf(first, tc.netns, tc.index); !slices.Equal(got, tc.want) {
			t.Errorf("first run %s/%d = %v, want %v", tc.netns, tc.index, got, tc.want)
		}
	}
	second, err := m.ReadBins()
	if err != nil {
		t.Fatal(err)
	}
	if second.First != 13 || second.Count != 2 {
		t.Fatalf("second run [%d, +%d), want [13, +2): contiguous", second.First, second.Count)
	}
	for _, tc := range []struct {
		netns string
		index int
		want  []uint64
	}{
		{"a", 1, []uint64{4, 5}},
		{"b", 1, []uint64{40, 50}}, // bin 13 was held from the first read
		{"b", 2, []uint64{0, 7}},
		{"c", 1, []uint64{200, 300}},
	} {
		if got := rxOf(second, tc.netns, tc.index); !slices.Equal(got, tc.want) {
			t.Errorf("second run %s/%d = %v, want %v", tc.netns, tc.index, got, tc.want)
		}
	}
}

func TestMultiReadBinsKeepsLost(t *testing.T) {
	lost := run(5, 2, map[int][]uint64{3: {1, 1}})
	lost.Interfaces[0].Lost = []bool{false, true}
	a := &fakeBins{runs: []stats.Bins{run(5, 1, map[int][]uint64{3: {9}}), run(6, 2, map[int][]uint64{3: {1, 1}})}}
	b := &fakeBins{runs: []stats.Bins{lost, run(7, 1, map[int][]uint64{3: {2}})}}
	m := newTestMulti(a, b)
	got1, _ := m.ReadBins()
	got2, _ := m.ReadBins()
	if got1.Count != 1 || got2.First != 6 || got2.Count != 2 {
		t.Fatalf("runs [%d,+%d) [%d,+%d), want [5,+1) [6,+2)", got1.First, got1.Count, got2.First, got2.Count)
	}
	for _, ib := range got2.Interfaces {
		if ib.Netns == "b" && (ib.Lost == nil || !ib.Lost[0] || ib.Lost[1]) {
			t.Errorf("b's lost bin 6 not kept: %v", ib.Lost)
		}
	}
}

func TestMultiReadLabels(t *testing.T) {
	a := &fakeBins{ifaces: []stats.InterfaceCounters{{Name: "lo", Index: 1}}}
	b := &fakeBins{ifaces: []stats.InterfaceCounters{{Name: "lo", Index: 1}, {Name: "eth0", Index: 2}}}
	m := newTestMulti(a, b)
	snap, err := m.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Interfaces) != 3 {
		t.Fatalf("%d interfaces, want 3 (each namespace's lo is its own)", len(snap.Interfaces))
	}
	want := []stats.Labels{{Netns: "a", Container: "ca"}, {Netns: "b", Container: "cb"}, {Netns: "b", Container: "cb"}}
	for i, ic := range snap.Interfaces {
		if ic.Labels != want[i] {
			t.Errorf("interface %d labels %+v, want %+v", i, ic.Labels, want[i])
		}
	}
	if err := m.Close(); err != nil || !a.closed || !b.closed {
		t.Errorf("Close: err %v, closed %v %v", err, a.closed, b.closed)
	}
}

func TestMultiOneMemberPassesThrough(t *testing.T) {
	a := &fakeBins{runs: []stats.Bins{run(10, 2, map[int][]uint64{1: {1, 2}}), run(12, 1, map[int][]uint64{1: {3}})}}
	m := newTestMulti(a)
	for _, want := range []struct {
		first uint64
		rx    []uint64
	}{{10, []uint64{1, 2}}, {12, []uint64{3}}} {
		b, err := m.ReadBins()
		if err != nil {
			t.Fatal(err)
		}
		if b.First != want.first || !slices.Equal(rxOf(b, "a", 1), want.rx) {
			t.Errorf("run from %d: %v, want from %d: %v", b.First, rxOf(b, "a", 1), want.first, want.rx)
		}
	}
}

func TestMultiPeerLabels(t *testing.T) {
	own := &fakeBins{ifaces: []stats.InterfaceCounters{{Name: "veth1", Index: 5}, {Name: "eth0", Index: 2}}}
	m := &Multi{plan: Plan{Source: stats.Source{Backend: Netlink}}, members: []*member{{be: own}}}
	scans := 0
	m.peers = peerLabels{every: time.Hour, find: func() (map[int]stats.Labels, error) {
		scans++
		return map[int]stats.Labels{5: {PeerNetns: "pid:42", Container: "abc"}}, nil
	}}
	deadline := time.Now().Add(5 * time.Second)
	for {
		snap, err := m.Read(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if snap.Interfaces[0].PeerNetns != "" {
			if got := snap.Interfaces[0].Labels; got != (stats.Labels{PeerNetns: "pid:42", Container: "abc"}) {
				t.Errorf("veth1 labels %+v", got)
			}
			if got := snap.Interfaces[1].Labels; got != (stats.Labels{}) {
				t.Errorf("eth0 labels %+v, want none", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("peer labels never applied")
		}
		time.Sleep(time.Millisecond)
	}
	m.peers.mu.Lock()
	n := scans
	m.peers.mu.Unlock()
	for range 100 {
		m.Read(context.Background())
	}
	m.peers.mu.Lock()
	defer m.peers.mu.Unlock()
	if scans != n {
		t.Errorf("%d scans after 100 reads of unchanged interfaces within a second, want %d (no rescan before 1 s)", scans, n)
	}
}

// TestMultiPeerLabelsFirstRead: the first read carries the labels even when
// the scan is slower than a snapshot's window (snapshot -w 1ms), and that
// is the only scan it makes.
func TestMultiPeerLabelsFirstRead(t *testing.T) {
	own := &fakeBins{ifaces: []stats.InterfaceCounters{{Name: "lo", Index: 1}, {Name: "veth1", Index: 7}}}
	var scans atomic.Int32
	find := func() (map[int]stats.Labels, error) {
		time.Sleep(50 * time.Millisecond)
		scans.Add(1)
		return map[int]stats.Labels{7: {PeerNetns: "pid:42", Container: "abc"}}, nil
	}
	m := &Multi{plan: Plan{Source: stats.Source{Backend: Netlink}}, members: []*member{{be: own}}}
	m.peers = peerLabels{every: time.Hour, find: find}
	snap, err := m.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []stats.Labels{{}, {PeerNetns: "pid:42", Container: "abc"}}
	for i, ic := range snap.Interfaces {
		if ic.Labels != want[i] {
			t.Errorf("first read: %s has %+v, want %+v", ic.Name, ic.Labels, want[i])
		}
	}
	if n := scans.Load(); n != 1 {
		t.Errorf("%d scans by the first read, want 1", n)
	}
}

// notifying is a member backend that follows link events.
type notifying struct {
	fakeBins
	changed chan struct{}
}

func (n *notifying) LinksChanged() <-chan struct{} { return n.changed }

// TestMultiForwardsLinkChanges: an interface appearing in any member wakes
// whoever waits on the Multi's LinksChanged (the polling sampler), and a
// member closed stops forwarding.
func TestMultiForwardsLinkChanges(t *testing.T) {
	m := &Multi{changed: make(chan struct{}, 1)}
	a := &notifying{changed: make(chan struct{}, 1)}
	b := &notifying{changed: make(chan struct{}, 1)}
	ma, mb := m.newMember(Netns{Label: "a"}, nsID{ino: 1}, a), m.newMember(Netns{Label: "b"}, nsID{ino: 2}, b)
	for _, n := range []*notifying{a, b, a} {
		n.changed <- struct{}{}
		select {
		case <-m.LinksChanged():
		case <-time.After(10 * time.Second):
			t.Fatal("a member's link change was not forwarded")
		}
	}
	if err := ma.close(); err != nil || !a.closed {
		t.Fatalf("close: %v, backend closed %v", err, a.closed)
	}
	a.changed <- struct{}{} // nobody forwards it now
	select {
	case <-m.LinksChanged():
		t.Fatal("a closed member's change was forwarded")
	case <-time.After(50 * time.Millisecond):
	}
	mb.close()
	if f := m.newMember(Netns{Label: "c"}, nsID{ino: 3}, &fakeBins{}); f.stop != nil {
		t.Error("a backend without link events got a forwarder")
	}
}

// BenchmarkMultiReadBins merges 1 s of 1 ms bins from 50 namespaces of 3
// interfaces each (netns.sh's largest case), the members' runs ending one
// bin apart as when a bin edge passes while they are read.
func BenchmarkMultiReadBins(b *testing.B) {
	const members, ifaces, bins = 50, 3, 1000
	runs := func(first uint64, count int) stats.Bins {
		r := stats.Bins{Width: time.Millisecond, First: first, Count: count}
		for i := range ifaces {
			r.Interfaces = append(r.Interfaces, stats.InterfaceBins{Name: "if", Index: i + 1, Bins: make([]stats.Counters, count)})
		}
		return r
	}
	fakes := make([]*fakeBins, members)
	for i := range fakes {
		fakes[i] = &fakeBins{}
	}
	m := newTestMulti(fakes...)
	next := uint64(1000)
	b.ReportAllocs()
	for b.Loop() {
		for i, f := range fakes {
			// Every other member has read one bin more than the rest.
			held := uint64(f.pending)
			extra := i % 2
			f.runs = append(f.runs[:0], runs(next+held, bins-int(held)+extra))
			f.pending = extra
		}
		if _, err := m.ReadBins(); err != nil {
			b.Fatal(err)
		}
		next += bins
	}
}
