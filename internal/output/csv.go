package output

import (
	"bytes"
	"encoding/csv"
	"strconv"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// csvHeader is the CSV column list; rows follow it field for field.
var csvHeader = []string{
	"time", "backend", "attach", "interval_ns", "interface", "index",
	"rx_bytes", "rx_packets", "tx_bytes", "tx_packets",
	"rx_bytes_per_sec", "rx_packets_per_sec", "tx_bytes_per_sec", "tx_packets_per_sec",
	// Added with in-kernel time bins; the summary columns are empty when a
	// sample covers a single bin or comes from a polling backend, the burst
	// columns also when no burst threshold applied.
	"resolution_ns", "exact_bins", "lost_bins",
	"rx_peak_bytes_per_sec", "rx_p99_bytes_per_sec", "rx_bursts",
	"tx_peak_bytes_per_sec", "tx_p99_bytes_per_sec", "tx_bursts",
	// Added with container labels; empty when none.
	"container_id", "peer_netns",
}

// csvStream renders RFC 4180 CSV: the header before the first sample, then
// one row per interface. A sample without interfaces adds no row.
type csvStream struct {
	w      *csv.Writer
	netns  bool // a netns column at the end
	header bool
	record []string
	num    []byte
}

func newCSV(buf *bytes.Buffer, netns bool) *csvStream {
	n := len(csvHeader)
	if netns {
		n++
	}
	return &csvStream{w: csv.NewWriter(buf), netns: netns, record: make([]string, n)}
}

func (c *csvStream) render(s stats.Sample) error {
	if !c.header {
		header := csvHeader
		if c.netns {
			header = append(header[:len(header):len(header)], "netns")
		}
		if err := c.w.Write(header); err != nil {
			return err
		}
		c.header = true
	}
	c.num = appendTime(c.num[:0], s.Time)
	t := string(c.num)
	interval := strconv.FormatInt(int64(s.Interval), 10)
	resolution := strconv.FormatInt(int64(s.Resolution), 10)
	exact := strconv.FormatBool(s.ExactBins)
	for _, in := range s.Interfaces {
		r := c.record
		r[0], r[1], r[2], r[3] = t, s.Backend, s.Attach, interval
		r[4] = in.Name
		r[5] = strconv.Itoa(in.Index)
		r[6] = strconv.FormatUint(in.RxBytes, 10)
		r[7] = strconv.FormatUint(in.RxPackets, 10)
		r[8] = strconv.FormatUint(in.TxBytes, 10)
		r[9] = strconv.FormatUint(in.TxPackets, 10)
		r[10] = c.rate(in.RxBytesPerSec)
		r[11] = c.rate(in.RxPacketsPerSec)
		r[12] = c.rate(in.TxBytesPerSec)
		r[13] = c.rate(in.TxPacketsPerSec)
		r[14], r[15], r[16] = resolution, exact, strconv.Itoa(in.LostBins)
		c.summary(r[17:len(csvHeader)-2], in.Summary)
		r[len(csvHeader)-2], r[len(csvHeader)-1] = in.Container, in.PeerNetns
		if c.netns {
			r[len(csvHeader)] = in.Netns
		}
		if err := c.w.Write(r); err != nil {
			return err
		}
	}
	c.w.Flush()
	return c.w.Error()
}

// summary fills the six summary columns, or empties them; the burst
// columns are empty when no burst threshold applied.
func (c *csvStream) summary(r []string, sum *stats.Summary) {
	if sum == nil {
		clear(r)
		return
	}
	r[0] = c.rate(sum.Rx.PeakBytesPerSec)
	r[1] = c.rate(sum.Rx.P99BytesPerSec)
	r[3] = c.rate(sum.Tx.PeakBytesPerSec)
	r[4] = c.rate(sum.Tx.P99BytesPerSec)
	r[2], r[5] = "", "" // no burst count without a burst threshold
	if sum.BurstThreshold > 0 {
		r[2] = strconv.Itoa(sum.Rx.Bursts)
		r[5] = strconv.Itoa(sum.Tx.Bursts)
	}
}

func (c *csvStream) rate(x float64) string {
	c.num = appendRate(c.num[:0], x)
	return string(c.num)
}
