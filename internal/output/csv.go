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
}

// csvStream renders RFC 4180 CSV: the header before the first sample, then
// one row per interface. A sample without interfaces adds no row.
type csvStream struct {
	w      *csv.Writer
	header bool
	record []string
	num    []byte
}

func newCSV(buf *bytes.Buffer) *csvStream {
	return &csvStream{w: csv.NewWriter(buf), record: make([]string, len(csvHeader))}
}

func (c *csvStream) render(s stats.Sample) error {
	if !c.header {
		if err := c.w.Write(csvHeader); err != nil {
			return err
		}
		c.header = true
	}
	c.num = appendTime(c.num[:0], s.Time)
	t := string(c.num)
	interval := strconv.FormatInt(int64(s.Interval), 10)
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
		if err := c.w.Write(r); err != nil {
			return err
		}
	}
	c.w.Flush()
	return c.w.Error()
}

func (c *csvStream) rate(x float64) string {
	c.num = appendRate(c.num[:0], x)
	return string(c.num)
}
