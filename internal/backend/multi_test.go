package backend

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// fakeBins is a member backend that returns scripted runs of bins.
type fakeBins struct {
	runs   []stats.Bins
	ifaces []stats.InterfaceCounters
	closed bool
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

// fakeOwn is netwatch's own namespace as a member: its interfaces and read
// time are set by the test.
type fakeOwn struct {
	mono   time.Duration
	ifaces []stats.InterfaceCounters
}

func (f *fakeOwn) Source() stats.Source { return stats.Source{Backend: Netlink} }
func (f *fakeOwn) Read(context.Context) (stats.Snapshot, error) {
	return stats.Snapshot{Mono: f.mono, Interfaces: slices.Clone(f.ifaces)}, nil
}
func (f *fakeOwn) Close() error { return nil }

// TestMultiPeerLabels: the veths of the own namespace carry the labels the
// scan found, from the first read on (even when the scan is slower than a
// snapshot's window), and /proc is scanned again only when the interfaces
// change or the last scan is older than PeersEvery.
func TestMultiPeerLabels(t *testing.T) {
	own := &fakeOwn{mono: time.Hour, ifaces: []stats.InterfaceCounters{{Name: "lo", Index: 1}, {Name: "veth1", Index: 7}}}
	scans := make(chan struct{}, 100)
	find := func() (map[int]stats.Labels, error) {
		time.Sleep(50 * time.Millisecond) // slower than the reads
		scans <- struct{}{}
		return map[int]stats.Labels{7: {PeerNetns: "pid:42", Container: "abc"}}, nil
	}
	m := &Multi{plan: Plan{Source: stats.Source{Backend: Netlink}}, peers: peerLabels{find: find, every: 5 * time.Second}}
	m.members = []*member{{be: own}}
	read := func() stats.Snapshot {
		t.Helper()
		snap, err := m.Read(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return snap
	}
	// settled waits for a scan in the background to end and returns how
	// many ran since the last call.
	settled := func() int {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			m.peers.mu.Lock()
			running := m.peers.running
			m.peers.mu.Unlock()
			if !running {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("scan still running after 10s")
			}
			time.Sleep(time.Millisecond)
		}
		n := len(scans)
		for range n {
			<-scans
		}
		return n
	}

	snap := read()
	want := []stats.Labels{{}, {PeerNetns: "pid:42", Container: "abc"}}
	for i, ic := range snap.Interfaces {
		if ic.Labels != want[i] {
			t.Errorf("first read: %s has %+v, want %+v", ic.Name, ic.Labels, want[i])
		}
	}
	if n := settled(); n != 1 {
		t.Fatalf("first read: %d scans, want 1", n)
	}

	steps := []struct {
		name  string
		after time.Duration // since the last scan
		add   bool          // an interface appears
		scans int
	}{
		{"same interfaces, 1s later", time.Second, false, 0},
		{"same interfaces, 4.9s later", 4900 * time.Millisecond, false, 0},
		{"same interfaces, 5s later", 5 * time.Second, false, 1},
		{"an interface appears", time.Millisecond, true, 1},
		{"then quiet again", time.Second, false, 0},
	}
	last := own.mono
	for _, st := range steps {
		own.mono = last + st.after
		if st.add {
			own.ifaces = append(own.ifaces, stats.InterfaceCounters{Name: "veth2", Index: 9})
		}
		read()
		n := settled()
		if n != st.scans {
			t.Errorf("%s: %d scans, want %d", st.name, n, st.scans)
		}
		if n > 0 {
			last = own.mono
		}
	}
	if snap := read(); snap.Interfaces[1].Labels != want[1] {
		t.Errorf("later read: veth1 has %+v, want %+v", snap.Interfaces[1].Labels, want[1])
	}
}
