package ebpf

import (
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/netwatch-dev/netwatch/internal/clock"
	"github.com/netwatch-dev/netwatch/internal/stats"
	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
)

// waitComplete sleeps until every bin that has begun by now is complete, and
// returns the first bin that is not.
func waitComplete(width time.Duration) uint64 {
	time.Sleep(width + 2*binGuard)
	return completeBefore(clock.Monotonic(), width)
}

func readTestBins(t *testing.T, o *objects, it binIface, first, end uint64) stats.InterfaceBins {
	t.Helper()
	got, err := newBinReader(o).read([]binIface{it}, first, int(end-first))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("read %d interfaces, want 1", len(got))
	}
	return got[0]
}

func TestBinsPlaceBurstsExactly(t *testing.T) {
	p := netnstest.NewPair(t)
	const width = time.Millisecond
	o := testObjects(t, int64(width))
	if err := o.addInterface(p.IndexA, 0, 0); err != nil {
		t.Fatal(err)
	}
	it := binIface{name: p.IfA, index: p.IndexA, slot: 0, pair: 0}
	first := uint64(clock.Monotonic() / width)

	type burst struct {
		from, to uint64 // bins covering the burst's run time
		rx, tx   uint64 // bytes
	}
	var bursts []burst
	for i := range 6 {
		data := frame{payload: 100 * (i + 1)}.bytes()
		n := uint32(i + 1)
		from := uint64(clock.Monotonic() / width)
		runSKB(t, p.A, o.NetwatchTcIn, data, skbCtx{Ifindex: uint32(p.IndexA)}, n)
		runSKB(t, p.A, o.NetwatchTcEg, data, skbCtx{Ifindex: uint32(p.IndexA)}, 2*n)
		to := uint64(clock.Monotonic() / width)
		bursts = append(bursts, burst{from, to, uint64(n) * uint64(len(data)), 2 * uint64(n) * uint64(len(data))})
		time.Sleep(3 * width) // idle bins between bursts
	}
	end := waitComplete(width)
	got := readTestBins(t, o, it, first, end)

	if got.Lost != nil {
		t.Fatalf("bins lost: %v", got.Lost)
	}
	var sum stats.Counters
	covered := make([]bool, len(got.Bins))
	for _, b := range got.Bins {
		sum.RxBytes += b.RxBytes
		sum.RxPackets += b.RxPackets
		sum.TxBytes += b.TxBytes
		sum.TxPackets += b.TxPackets
	}
	for _, bu := range bursts {
		var rx, tx uint64
		for w := bu.from; w <= bu.to; w++ {
			rx += got.Bins[w-first].RxBytes
			tx += got.Bins[w-first].TxBytes
			covered[w-first] = true
		}
		if rx != bu.rx || tx != bu.tx {
			t.Errorf("bins %d..%d hold rx %d tx %d bytes, burst sent rx %d tx %d", bu.from, bu.to, rx, tx, bu.rx, bu.tx)
		}
	}
	for i, b := range got.Bins {
		if !covered[i] && b != (stats.Counters{}) {
			t.Errorf("idle bin %d holds %+v", first+uint64(i), b)
		}
	}
	rxB, rxP := counted(t, o, 0, dirRx)
	txB, txP := counted(t, o, 0, dirTx)
	if want := (stats.Counters{RxBytes: rxB, RxPackets: rxP, TxBytes: txB, TxPackets: txP}); sum != want {
		t.Errorf("sum of bins %+v != counters %+v", sum, want)
	}
}

func TestBinsSlowReaderSeesOverrun(t *testing.T) {
	p := netnstest.NewPair(t)
	const width = time.Millisecond // ring of 256 bins: 256 ms
	o := testObjects(t, int64(width))
	if err := o.addInterface(p.IndexA, 0, 0); err != nil {
		t.Fatal(err)
	}
	ring := o.bins.ring
	it := binIface{name: p.IfA, index: p.IndexA, slot: 0, pair: 0}
	first := uint64(clock.Monotonic() / width)
	data := frame{payload: 64}.bytes()
	// The truth: packets per bin, from the clock around each run; a run
	// that straddles a bin edge makes both bins ambiguous.
	truth := map[uint64]uint64{}
	ambiguous := map[uint64]bool{}
	// A packet about every 300 µs for 3 ring lengths, with no reader.
	err := p.A.Do(func() error {
		deadline := clock.Monotonic() + 3*time.Duration(ring)*width
		for clock.Monotonic() < deadline {
			t0 := uint64(clock.Monotonic() / width)
			if _, err := o.NetwatchTcIn.Run(&ebpf.RunOptions{Data: data, Context: skbCtx{Ifindex: uint32(p.IndexA)}}); err != nil {
				return err
			}
			t1 := uint64(clock.Monotonic() / width)
			if t0 == t1 {
				truth[t0]++
			} else {
				ambiguous[t0], ambiguous[t1] = true, true
			}
			time.Sleep(300 * time.Microsecond)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	end := waitComplete(width)
	got := readTestBins(t, o, it, first, end)
	if got.Lost == nil {
		t.Fatal("a reader that paused for 3 ring lengths saw no lost bin")
	}
	old, lostOld := 0, 0
	var exact stats.Counters
	for i, bin := range got.Bins {
		w := first + uint64(i)
		age := end - w
		if age > ring+16 && truth[w] > 0 {
			old++
			if got.Lost[i] {
				lostOld++
			}
		}
		if age < ring/2 && got.Lost[i] {
			t.Errorf("bin %d, %d bins old, reported lost", w, age)
		}
		if got.Lost[i] {
			continue
		}
		// A bin not reported lost must be exact: never a silent partial.
		if !ambiguous[w] && bin.RxPackets != truth[w] {
			t.Errorf("bin %d (%d bins old, not lost) holds %d packets, %d were sent in it", w, age, bin.RxPackets, truth[w])
		}
		exact.RxBytes += bin.RxBytes
		exact.RxPackets += bin.RxPackets
	}
	// Most old bins that had packets were overwritten since.
	if lostOld < old/2 {
		t.Errorf("%d of %d bins with packets older than the ring reported lost, want most", lostOld, old)
	}
	b, pk := counted(t, o, 0, dirRx)
	if exact.RxBytes >= b || exact.RxPackets >= pk {
		t.Errorf("bins not lost hold %d bytes %d packets, want fewer than the counters' %d and %d", exact.RxBytes, exact.RxPackets, b, pk)
	}
}
