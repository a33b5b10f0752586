package ebpf

import (
	"slices"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// binIface is an interface whose bins are read.
type binIface struct {
	name  string
	index int
	slot  uint32 // counters slot
	pair  uint32 // ring pair, noSlot for none
}

// binReader merges the per-CPU bins of the counters and bins maps.
type binReader struct {
	o      *objects
	curRx  []binEntry
	curTx  []binEntry
	ring   []binEntry
	rx, tx []binCount
	lost   []bool
}

func newBinReader(o *objects) *binReader {
	return &binReader{
		o:     o,
		curRx: make([]binEntry, o.cpus),
		curTx: make([]binEntry, o.cpus),
		ring:  make([]binEntry, o.cpus),
	}
}

// read returns bins [first, first+count) of ifaces. Every one of them must be
// complete at a time taken before read is called (see mergeBins).
func (br *binReader) read(ifaces []binIface, first uint64, count int) ([]stats.InterfaceBins, error) {
	br.rx = slices.Grow(br.rx[:0], count)[:count]
	br.tx = slices.Grow(br.tx[:0], count)[:count]
	br.lost = slices.Grow(br.lost[:0], count)[:count]
	out := make([]stats.InterfaceBins, 0, len(ifaces))
	for _, it := range ifaces {
		br.o.curBins(it.slot, dirRx, br.curRx)
		br.o.curBins(it.slot, dirTx, br.curTx)
		clear(br.lost)
		if err := mergeBins(first, br.curRx, br.ringFunc(ringSlot(it.pair, dirRx)), br.rx, br.lost); err != nil {
			return nil, err
		}
		if err := mergeBins(first, br.curTx, br.ringFunc(ringSlot(it.pair, dirTx)), br.tx, br.lost); err != nil {
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

// ringFunc reads the ring entries of ring for a bin.
func (br *binReader) ringFunc(ring uint32) ringFunc {
	if ring == noSlot || br.o.bins.width == 0 {
		return func(uint64) ([]binEntry, error) { return nil, nil }
	}
	return func(bin uint64) ([]binEntry, error) {
		br.o.ringBins(ring, bin, br.ring)
		return br.ring, nil
	}
}
