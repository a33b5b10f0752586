package ebpf

import (
	"fmt"
	"slices"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// binIface is an interface whose bins are read.
type binIface struct {
	name  string
	index int
	pair  uint32 // ring pair, noSlot for none
}

// binReader merges the per-CPU bins of the counters and bins maps.
type binReader struct {
	o    *objects
	r    *counterReader
	keys []netwatchNwKey
	cur  map[netwatchNwKey][]binEntry
	ring []netwatchNwBin
	conv []binEntry
	rx   []binCount
	tx   []binCount
	lost []bool
}

func newBinReader(o *objects) *binReader {
	return &binReader{
		o:    o,
		r:    newCounterReader(o.Counters, o.cpus),
		cur:  make(map[netwatchNwKey][]binEntry),
		ring: make([]netwatchNwBin, o.cpus),
		conv: make([]binEntry, o.cpus),
	}
}

// read returns bins [first, first+count) of ifaces. Every one of them must be
// complete at a time taken before read is called (see mergeBins). An
// interface whose entries vanished meanwhile is left out.
func (br *binReader) read(ifaces []binIface, first uint64, count int) ([]stats.InterfaceBins, error) {
	br.keys = br.keys[:0]
	for _, it := range ifaces {
		br.keys = append(br.keys,
			netwatchNwKey{Ifindex: uint32(it.index), Dir: dirRx},
			netwatchNwKey{Ifindex: uint32(it.index), Dir: dirTx})
	}
	clear(br.cur)
	err := br.r.read(br.keys, func(k netwatchNwKey, perCPU []netwatchNwValue) {
		cur := make([]binEntry, len(perCPU))
		for i, v := range perCPU {
			cur[i] = binEntry{Bin: v.CurBin, Bytes: v.CurBytes, Packets: v.CurPackets}
		}
		br.cur[k] = cur
	})
	if err != nil {
		return nil, err
	}

	br.rx = slices.Grow(br.rx[:0], count)[:count]
	br.tx = slices.Grow(br.tx[:0], count)[:count]
	br.lost = slices.Grow(br.lost[:0], count)[:count]
	out := make([]stats.InterfaceBins, 0, len(ifaces))
	for _, it := range ifaces {
		curRx, okRx := br.cur[netwatchNwKey{Ifindex: uint32(it.index), Dir: dirRx}]
		curTx, okTx := br.cur[netwatchNwKey{Ifindex: uint32(it.index), Dir: dirTx}]
		if !okRx || !okTx {
			continue
		}
		clear(br.lost)
		if err := mergeBins(first, curRx, br.ringFunc(ringSlot(it.pair, dirRx)), br.rx, br.lost); err != nil {
			return nil, err
		}
		if err := mergeBins(first, curTx, br.ringFunc(ringSlot(it.pair, dirTx)), br.tx, br.lost); err != nil {
			return nil, err
		}
		ib := stats.InterfaceBins{Name: it.name, Index: it.index, Bins: make([]stats.Counters, count)}
		for i := range count {
			ib.Bins[i] = stats.Counters{
				RxBytes: br.rx[i].Bytes, RxPackets: br.rx[i].Packets,
				TxBytes: br.tx[i].Bytes, TxPackets: br.tx[i].Packets,
			}
		}
		if slices.Contains(br.lost, true) {
			ib.Lost = slices.Clone(br.lost)
		}
		out = append(out, ib)
	}
	return out, nil
}

// ringFunc reads the ring entries of slot for a bin.
func (br *binReader) ringFunc(slot uint32) ringFunc {
	if slot == noSlot || br.o.bins.width == 0 {
		return func(uint64) ([]binEntry, error) { return nil, nil }
	}
	return func(bin uint64) ([]binEntry, error) {
		idx := slot<<br.o.bins.shift | uint32(bin&(br.o.bins.ring-1))
		if err := br.o.Bins.Lookup(&idx, br.ring); err != nil {
			return nil, fmt.Errorf("ebpf: read bin %d of ring %d: %w", bin, slot, err)
		}
		for i, b := range br.ring {
			br.conv[i] = binEntry{Bin: b.Bin, Bytes: b.Bytes, Packets: b.Packets}
		}
		return br.conv, nil
	}
}
