package ebpf

import (
	"math"
	"testing"
	"time"

	"golang.org/x/sys/unix"

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
	return readWith(t, newBinReader(o), it, first, end)
}

func readWith(t *testing.T, br *binReader, it binIface, first, end uint64) stats.InterfaceBins {
	t.Helper()
	got, err := br.read([]binIface{it}, first, int(end-first))
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
	if err := o.addInterface(p.IndexA, 0); err != nil {
		t.Fatal(err)
	}
	it := binIface{name: p.IfA, index: p.IndexA, slot: 0}
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

// smallRing replaces the objects' ring buffer by one of a page: 128
// records.
func smallRing(t *testing.T, o *objects) uint64 {
	t.Helper()
	if err := o.ring.Close(); err != nil {
		t.Fatal(err)
	}
	if err := o.setRing(uint64(unix.Getpagesize())); err != nil {
		t.Fatal(err)
	}
	o.bins.size = o.ring.size
	return o.bins.records()
}

// pinned runs fn on a thread pinned to one CPU, so that every program run
// counts into the same CPU's elements.
func pinned(t *testing.T, ns *netnstest.NS, fn func() error) {
	t.Helper()
	err := ns.Do(func() error {
		var old, set unix.CPUSet
		if err := unix.SchedGetaffinity(0, &old); err != nil {
			return err
		}
		set.Set(0)
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			return err
		}
		defer unix.SchedSetaffinity(0, &old)
		return fn()
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestBinsPausedReaderReportsExactlyTheLostBins: a reader that does not read
// while a CPU fills the ring buffer finds every bin before the ring buffer
// filled exact, the bins after it reported lost as one run (partial or
// empty, never silently short), the cumulative counters exact; and once it
// has read, the next run of records fits again and nothing more is lost.
func TestBinsPausedReaderReportsExactlyTheLostBins(t *testing.T) {
	p := netnstest.NewPair(t)
	const width = time.Millisecond
	o := testObjects(t, int64(width))
	capacity := smallRing(t, o)
	if err := o.addInterface(p.IndexA, 0); err != nil {
		t.Fatal(err)
	}
	it := binIface{name: p.IfA, index: p.IndexA, slot: 0}
	data := frame{payload: 64}.bytes()
	// send runs a packet about every 300 µs until bins bins have packets
	// (or 10 s passed) and returns the packets per bin, from the clock
	// around each run; a run that straddles a bin edge makes both bins
	// ambiguous.
	send := func(bins int) (truth map[uint64]uint64, ambiguous map[uint64]bool, total uint64) {
		truth, ambiguous = map[uint64]uint64{}, map[uint64]bool{}
		touched := map[uint64]bool{}
		pinned(t, p.A, func() error {
			deadline := clock.Monotonic() + 10*time.Second
			for len(touched) < bins && clock.Monotonic() < deadline {
				t0 := uint64(clock.Monotonic() / width)
				if _, err := o.NetwatchTcIn.Run(&ebpf.RunOptions{Data: data, Context: skbCtx{Ifindex: uint32(p.IndexA)}}); err != nil {
					return err
				}
				t1 := uint64(clock.Monotonic() / width)
				total++
				touched[t0], touched[t1] = true, true
				if t0 == t1 {
					truth[t0]++
				} else {
					ambiguous[t0], ambiguous[t1] = true, true
				}
				time.Sleep(300 * time.Microsecond)
			}
			return nil
		})
		return truth, ambiguous, total
	}

	br := newBinReader(o)
	first := uint64(clock.Monotonic() / width)
	// Three ring buffers' worth of bins with no reader.
	truth, ambiguous, sent := send(3 * int(capacity))
	end := waitComplete(width)
	got := readWith(t, br, it, first, end)
	if got.Lost == nil {
		t.Fatal("a reader that paused for 3 ring buffers' worth of bins saw no lost bin")
	}
	firstLost, lastLost := -1, -1
	for i, bin := range got.Bins {
		w := first + uint64(i)
		if !got.Lost[i] {
			if firstLost >= 0 && lastLost < 0 {
				lastLost = i - 1
			}
			if !ambiguous[w] && bin.RxPackets != truth[w] {
				t.Errorf("bin %d (not lost) holds %d packets, %d were sent in it", w, bin.RxPackets, truth[w])
			}
			continue
		}
		if lastLost >= 0 {
			t.Errorf("bin %d lost after the run of lost bins %d..%d: want one run", w, first+uint64(firstLost), first+uint64(lastLost))
		}
		if firstLost < 0 {
			firstLost = i
		}
		if truth[w] > 0 && bin.RxPackets >= truth[w] && !ambiguous[w] {
			t.Errorf("bin %d reported lost but holds all its %d packets", w, truth[w])
		}
	}
	// The records before the run are the ring buffer's capacity of bins
	// with packets (the last one the CPU's bin in progress at most).
	withPackets := 0
	for i := range firstLost {
		if got.Bins[i].RxPackets > 0 {
			withPackets++
		}
	}
	if withPackets < int(capacity)-1 || withPackets > int(capacity)+1 {
		t.Errorf("%d bins with packets before the first lost one, want the ring buffer's %d records", withPackets, capacity)
	}
	if b, pk := counted(t, o, 0, dirRx); pk != sent || b != sent*uint64(len(data)) {
		t.Errorf("counters %d bytes %d packets, sent %d packets of %d bytes", b, pk, sent, len(data))
	}

	// A reader that keeps up from now on loses nothing.
	first = end
	for range 5 {
		truth, ambiguous, _ = send(int(capacity / 4))
		end = waitComplete(width)
		got = readWith(t, br, it, first, end)
		if got.Lost != nil {
			t.Fatalf("bins %d..%d: lost %v after the reader caught up", first, end, got.Lost)
		}
		for i, bin := range got.Bins {
			if w := first + uint64(i); !ambiguous[w] && truth[w] > 0 && bin.RxPackets != truth[w] {
				t.Errorf("bin %d holds %d packets, %d were sent in it", w, bin.RxPackets, truth[w])
			}
		}
		first = end
	}
}

// TestRingGrowsWithTheRecordRate: a ring buffer that holds less than the
// horizon at the record rate seen is replaced by a larger one, without
// losing a bin, and BinSpan follows.
func TestRingGrowsWithTheRecordRate(t *testing.T) {
	p := netnstest.NewPair(t)
	const width = time.Millisecond
	o := testObjects(t, int64(width))
	capacity := smallRing(t, o)
	if err := o.addInterface(p.IndexA, 0); err != nil {
		t.Fatal(err)
	}
	it := binIface{name: p.IfA, index: p.IndexA, slot: 0}
	br := newBinReader(o)
	data := frame{payload: 64}.bytes()
	first := uint64(clock.Monotonic() / width)
	var sent uint64
	var sum uint64
	for round := range 4 {
		// Half the ring buffer's records per round, one bin each.
		pinned(t, p.A, func() error {
			for range capacity / 2 {
				if _, err := o.NetwatchTcIn.Run(&ebpf.RunOptions{Data: data, Context: skbCtx{Ifindex: uint32(p.IndexA)}}); err != nil {
					return err
				}
				sent++
				time.Sleep(width)
			}
			return nil
		})
		end := waitComplete(width)
		got := readWith(t, br, it, first, end)
		if got.Lost != nil {
			t.Fatalf("round %d: lost %v", round, got.Lost)
		}
		for _, c := range got.Bins {
			sum += c.RxPackets
		}
		first = end
	}
	if o.bins.size <= uint64(unix.Getpagesize()) {
		t.Errorf("ring buffer still %s at %v records/s", formatBytes(o.bins.size), math.Float64frombits(br.rate.Load()))
	}
	if span := br.span(); span < br.horizon {
		t.Errorf("ring buffer of %s holds %v, want at least the horizon %v", formatBytes(o.bins.size), span, br.horizon)
	}
	if sum != sent {
		t.Errorf("bins hold %d packets, sent %d", sum, sent)
	}
}
