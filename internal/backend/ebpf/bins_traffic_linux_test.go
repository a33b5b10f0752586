package ebpf

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netwatch-dev/netwatch/internal/clock"
	"github.com/netwatch-dev/netwatch/internal/ifsel"
	"github.com/netwatch-dev/netwatch/internal/stats"
	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
	"github.com/netwatch-dev/netwatch/internal/testutil/privileged"
)

// TestBinsRealTrafficAcrossCPUs sends bursts of real UDP traffic through a
// veth pair, each burst from threads pinned to every CPU at once, with idle
// gaps between bursts. Through the backend's public API: every burst's
// bytes land in the bins covering its send time, idle bins are zero, no bin
// is lost, and the bins add up to the cumulative counters (nothing counted
// twice or dropped when per-CPU bins are merged).
func TestBinsRealTrafficAcrossCPUs(t *testing.T) {
	privileged.Need(t)
	cpus := runtime.NumCPU()
	if cpus < 2 {
		privileged.Skip(t, "needs at least 2 CPUs to merge bins across CPUs")
	}
	p := netnstest.NewPair(t)
	const width = time.Millisecond
	const payload = 200
	frame := uint64(netnstest.UDPFrameLen(payload))

	// A listener in B absorbs the datagrams, so no ICMP comes back to A.
	var ln *net.UDPConn
	if err := p.B.Do(func() (err error) {
		ln, err = net.ListenUDP("udp4", &net.UDPAddr{IP: p.AddrB.AsSlice(), Port: 9999})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, err := ln.Read(buf); err != nil {
				return
			}
		}
	}()

	sel, err := ifsel.New([]string{p.IfA}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var b *Backend
	if err := p.A.Do(func() (err error) {
		b, err = Open(context.Background(), Config{Selector: sel, Resolution: width})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	start, err := b.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	type burst struct{ from, to, bytes uint64 }
	var bursts []burst
	for i := range 5 {
		perCPU := 10 * (i + 1)
		from := uint64(clock.Monotonic() / width)
		var wg sync.WaitGroup
		errs := make(chan error, cpus)
		for cpu := range cpus {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- p.A.Do(func() error { return sendPinned(cpu, p, perCPU, payload) })
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		to := uint64(clock.Monotonic() / width)
		bursts = append(bursts, burst{from, to, uint64(cpus*perCPU) * frame})
		time.Sleep(5 * width)
	}
	time.Sleep(3 * width) // let the last bins complete

	var all stats.InterfaceBins
	var first uint64
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(width) {
		bins, err := b.ReadBins()
		if err != nil {
			t.Fatal(err)
		}
		if len(all.Bins) == 0 {
			first = bins.First
		}
		for _, ib := range bins.Interfaces {
			if ib.Index != p.IndexA {
				continue
			}
			all.Bins = append(all.Bins, ib.Bins...)
			if ib.Lost != nil {
				t.Fatalf("bins lost: %v", ib.Lost)
			}
		}
		if first+uint64(len(all.Bins)) > bursts[len(bursts)-1].to+2 {
			break
		}
	}
	end, err := b.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	inBurst := func(bin uint64) int {
		for i, bu := range bursts {
			if bin >= bu.from && bin <= bu.to {
				return i
			}
		}
		return -1
	}
	got := make([]uint64, len(bursts))
	var total stats.Counters
	for i, c := range all.Bins {
		bin := first + uint64(i)
		total.TxBytes += c.TxBytes
		total.TxPackets += c.TxPackets
		total.RxBytes += c.RxBytes
		total.RxPackets += c.RxPackets
		if j := inBurst(bin); j >= 0 {
			got[j] += c.TxBytes
		} else if c.TxBytes != 0 || c.TxPackets != 0 {
			t.Errorf("bin %d between bursts counted %d bytes", bin, c.TxBytes)
		}
	}
	for i, bu := range bursts {
		if got[i] != bu.bytes {
			t.Errorf("burst %d (bins %d..%d): %d bytes in its bins, sent %d", i, bu.from, bu.to, got[i], bu.bytes)
		}
	}
	d, ok := stats.Delta(ifCounters(t, start, p.IndexA), ifCounters(t, end, p.IndexA))
	if !ok || total != d {
		t.Errorf("bins add up to %+v, counters moved %+v", total, d)
	}
	if total.RxPackets != 0 {
		t.Errorf("A received %d packets: the link was not quiet", total.RxPackets)
	}
}

// sendPinned sends n datagrams from A to B from a thread pinned to cpu.
func sendPinned(cpu int, p *netnstest.Pair, n, payload int) error {
	return sendPinnedEvery(cpu, p, n, payload, 0)
}

// sendPinnedEvery is sendPinned with a pause between datagrams.
func sendPinnedEvery(cpu int, p *netnstest.Pair, n, payload int, gap time.Duration) error {
	var old, set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return err
	}
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("pin to CPU %d: %w", cpu, err)
	}
	// The thread goes back to the runtime's pool afterwards: unpin it.
	defer unix.SchedSetaffinity(0, &old)
	c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: p.AddrB.AsSlice(), Port: 9999})
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, payload)
	for range n {
		if _, err := c.Write(buf); err != nil {
			return err
		}
		if gap > 0 {
			time.Sleep(gap)
		}
	}
	return nil
}

func ifCounters(t *testing.T, s stats.Snapshot, index int) stats.Counters {
	t.Helper()
	for _, ic := range s.Interfaces {
		if ic.Index == index {
			return ic.Counters
		}
	}
	t.Fatalf("interface %d not in snapshot %+v", index, s.Interfaces)
	return stats.Counters{}
}

// TestBinsPausedReaderRealTraffic: real traffic from every CPU into a ring
// buffer of one page (128 records) that nobody reads for longer than it
// holds. The read after the pause reports lost bins, bins not reported lost
// add up to no more than the counters moved, and the cumulative counters
// are exact; once the reader keeps up, bins are exact again and add up to
// the counters.
func TestBinsPausedReaderRealTraffic(t *testing.T) {
	privileged.Need(t)
	cpus := runtime.NumCPU()
	p := netnstest.NewPair(t)
	const width = time.Millisecond
	const payload = 100
	frame := uint64(netnstest.UDPFrameLen(payload))
	var ln *net.UDPConn
	if err := p.B.Do(func() (err error) {
		ln, err = net.ListenUDP("udp4", &net.UDPAddr{IP: p.AddrB.AsSlice(), Port: 9999})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, err := ln.Read(buf); err != nil {
				return
			}
		}
	}()
	sel, err := ifsel.New([]string{p.IfA}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var b *Backend
	if err := p.A.Do(func() (err error) {
		b, err = Open(context.Background(), Config{Selector: sel, Resolution: width})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	capacity := int(smallRing(t, b.o))

	// spread sends n datagrams per CPU from every CPU, one every ~1 ms.
	spread := func(n int) uint64 {
		var wg sync.WaitGroup
		errs := make(chan error, cpus)
		for cpu := range cpus {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- p.A.Do(func() error { return sendPinnedEvery(cpu, p, n, payload, time.Millisecond) })
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		return uint64(cpus * n)
	}
	collect := func() (sum stats.Counters, lost int) {
		time.Sleep(width + 2*binGuard)
		bins, err := b.ReadBins()
		if err != nil {
			t.Fatal(err)
		}
		for _, ib := range bins.Interfaces {
			if ib.Index != p.IndexA {
				continue
			}
			for i, c := range ib.Bins {
				if ib.Lost != nil && ib.Lost[i] {
					lost++
				}
				sum.TxBytes += c.TxBytes
				sum.TxPackets += c.TxPackets
			}
		}
		return sum, lost
	}
	if _, err := b.ReadBins(); err != nil { // start of the run
		t.Fatal(err)
	}
	start, err := b.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Sends in twice as many bins as the ring buffer has records.
	sent := spread(2 * capacity / cpus)
	sum, lost := collect()
	mid, err := b.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	d, _ := stats.Delta(ifCounters(t, start, p.IndexA), ifCounters(t, mid, p.IndexA))
	if d.TxPackets != sent || d.TxBytes != sent*frame {
		t.Errorf("counters moved %d packets %d bytes, sent %d of %d bytes", d.TxPackets, d.TxBytes, sent, frame)
	}
	if lost == 0 {
		t.Fatalf("no bin lost after %d sends into %d records", sent, capacity)
	}
	if sum.TxPackets >= d.TxPackets {
		t.Errorf("bins hold %d packets with %d bins lost, counters %d", sum.TxPackets, lost, d.TxPackets)
	}

	// Caught up: exact again.
	for range 3 {
		sent = spread(capacity / (4 * cpus))
		sum, lost = collect()
		end, err := b.Read(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		d, _ = stats.Delta(ifCounters(t, mid, p.IndexA), ifCounters(t, end, p.IndexA))
		mid = end
		if lost != 0 || sum.TxPackets != d.TxPackets || sum.TxBytes != d.TxBytes || d.TxPackets != sent {
			t.Errorf("after catching up: %d bins lost, bins %d packets %d bytes, counters %d packets %d bytes, sent %d",
				lost, sum.TxPackets, sum.TxBytes, d.TxPackets, d.TxBytes, sent)
		}
	}
}

// TestBinsExactAcrossRingReplacement: SizeBins and growth replace the ring
// buffer while traffic flows from every CPU; records left in the replaced
// one are still read, so the bins stay exact and add up to the counters.
// A bound that cannot hold one interval is refused with the figure.
func TestBinsExactAcrossRingReplacement(t *testing.T) {
	privileged.Need(t)
	cpus := runtime.NumCPU()
	p := netnstest.NewPair(t)
	const width = 100 * time.Microsecond
	sel, err := ifsel.New([]string{p.IfA}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var b *Backend
	if err := p.A.Do(func() (err error) {
		b, err = Open(context.Background(), Config{Selector: sel, Resolution: width})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	defer listenB(t, p).Close()
	if _, err := b.SizeBins(time.Second, minRingBytes); err == nil || !strings.Contains(err.Error(), "less than one interval") {
		t.Errorf("SizeBins with 64KiB for 1s of 100µs bins: %v, want a refusal", err)
	}
	if _, err := b.ReadBins(); err != nil {
		t.Fatal(err)
	}
	start, err := b.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var sum stats.Counters
	collect := func() {
		bins, err := b.ReadBins()
		if err != nil {
			t.Fatal(err)
		}
		for _, ib := range bins.Interfaces {
			if ib.Lost != nil {
				t.Errorf("bins lost: %v", ib.Lost)
			}
			for _, c := range ib.Bins {
				sum.TxBytes += c.TxBytes
				sum.TxPackets += c.TxPackets
			}
		}
	}
	send := func() {
		var wg sync.WaitGroup
		for cpu := range cpus {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := p.A.Do(func() error { return sendPinnedEvery(cpu, p, 200, 64, 50*time.Microsecond) }); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	sizes := []uint64{b.o.bins.size}
	// Replace while records sit in the ring buffer: at 10 ms the ring
	// buffer shrinks to hold 0.26 s (from 2 s at load).
	send()
	plan, err := b.SizeBins(10*time.Millisecond, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(plan)
	sizes = append(sizes, b.o.bins.size)
	send()
	collect()
	// At 1 s it is sized for 2 s: replaced again, larger.
	send()
	if _, err := b.SizeBins(time.Second, 0); err != nil {
		t.Fatal(err)
	}
	sizes = append(sizes, b.o.bins.size)
	send()
	time.Sleep(20 * time.Millisecond) // past retireGrace: the old ones are closed
	collect()
	time.Sleep(width + 2*binGuard)
	collect()
	if sizes[0] == sizes[1] || sizes[1] == sizes[2] {
		t.Errorf("ring buffer sizes %v: want a replacement at each SizeBins", sizes)
	}
	if n := len(b.o.retired); n != 0 {
		t.Errorf("%d replaced ring buffers still open", n)
	}
	end, err := b.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	d, _ := stats.Delta(ifCounters(t, start, p.IndexA), ifCounters(t, end, p.IndexA))
	if want := uint64(4 * 200 * cpus); d.TxPackets != want {
		t.Errorf("counters moved %d packets, sent %d", d.TxPackets, want)
	}
	if sum.TxPackets != d.TxPackets || sum.TxBytes != d.TxBytes {
		t.Errorf("bins add up to %d packets %d bytes, counters moved %d and %d", sum.TxPackets, sum.TxBytes, d.TxPackets, d.TxBytes)
	}
}

// listenB listens on B's UDP port 9999 and discards what arrives, so that
// no ICMP comes back to A.
func listenB(t *testing.T, p *netnstest.Pair) *net.UDPConn {
	t.Helper()
	var ln *net.UDPConn
	if err := p.B.Do(func() (err error) {
		ln, err = net.ListenUDP("udp4", &net.UDPAddr{IP: p.AddrB.AsSlice(), Port: 9999})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, err := ln.Read(buf); err != nil {
				return
			}
		}
	}()
	return ln
}
