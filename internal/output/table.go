package output

import (
	"bytes"
	"cmp"
	"slices"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// Table layout. Rate columns have fixed widths that hold every value up to
// "1023.9 Yibit/s"; IFACE is sized from the names (see the package comment).
const (
	tableTimeLayout = "15:04:05.000"
	timeWidth       = len(tableTimeLayout)
	rateWidth       = len("1023.9 Kibit/s")
	countWidth      = len("RX pkt/s") + 1
	minNameWidth    = len("IFACE")
	columnGap       = "  "
	rowsPerHeader   = 40
	burstWidth      = len("BURSTS rx/tx")
)

// table renders aligned, human-readable rows.
type table struct {
	buf   *bytes.Buffer
	opts  TableOptions
	loc   *time.Location
	names []string // the interface names under the current header
	sums  bool     // the current header has the bin summary columns
	burst bool     // ... and the BURSTS column
	shown []string // names made safe for a terminal, same order
	width int      // IFACE column width under the current header
	rows  int      // rows printed since the last header; -1 before the first
	line  []byte   // the row being built
	num   []byte   // the value being formatted
}

func newTable(buf *bytes.Buffer, opts TableOptions) *table {
	loc := opts.Location
	if loc == nil {
		loc = time.Local
	}
	return &table{buf: buf, opts: opts, loc: loc, rows: -1}
}

func (t *table) render(s stats.Sample) error {
	if len(s.Interfaces) == 0 {
		return nil // nothing to show; the next sample decides on a header
	}
	sums := s.Interfaces[0].Summary != nil
	burst := sums && countsBursts(s.Interfaces)
	if t.rows < 0 || t.rows >= rowsPerHeader || !t.sameNames(s.Interfaces) || sums != t.sums || burst != t.burst {
		t.sums, t.burst = sums, burst
		t.header(s.Interfaces)
	}
	for i, in := range s.Interfaces {
		b := t.line[:0]
		b = s.Time.In(t.loc).AppendFormat(b, tableTimeLayout)
		b = append(b, columnGap...)
		b = padRight(b, t.shown[i], t.width)
		b = append(b, columnGap...)
		t.num = appendByteRate(t.num[:0], in.RxBytesPerSec, t.opts.Units, t.opts.IEC)
		b = padLeft(b, t.num, rateWidth)
		b = append(b, columnGap...)
		t.num = appendByteRate(t.num[:0], in.TxBytesPerSec, t.opts.Units, t.opts.IEC)
		b = padLeft(b, t.num, rateWidth)
		b = append(b, columnGap...)
		t.num = appendCount(t.num[:0], in.RxPacketsPerSec)
		b = padLeft(b, t.num, countWidth)
		b = append(b, columnGap...)
		t.num = appendCount(t.num[:0], in.TxPacketsPerSec)
		b = padLeft(b, t.num, countWidth)
		if t.sums {
			b = t.appendSummary(b, in.Summary)
		}
		if t.opts.Containers {
			b = append(b, columnGap...)
			b = padRight(b, ShortID(in.Container), containerWidth)
		}
		if t.opts.Netns {
			b = append(b, columnGap...)
			b = append(b, printable(cmp.Or(in.Netns, "-"))...)
		}
		b = append(b, '\n')
		t.buf.Write(b)
		t.line = b
	}
	t.rows += len(s.Interfaces)
	return nil
}

// sameNames reports whether ifaces has the names under the current header,
// in the same order.
func (t *table) sameNames(ifaces []stats.InterfaceSample) bool {
	return slices.EqualFunc(t.names, ifaces, func(n string, in stats.InterfaceSample) bool {
		return n == in.Name
	})
}

// countsBursts reports whether bursts were counted for any interface: the
// BURSTS column is left out when no interface has a burst threshold.
func countsBursts(ifaces []stats.InterfaceSample) bool {
	for _, in := range ifaces {
		if in.Summary != nil && in.Summary.BurstThreshold > 0 {
			return true
		}
	}
	return false
}

// header records ifaces as the current interface list and writes the header
// line, after a blank line unless it is the first.
func (t *table) header(ifaces []stats.InterfaceSample) {
	t.names = t.names[:0]
	t.shown = t.shown[:0]
	t.width = minNameWidth
	for _, in := range ifaces {
		t.names = append(t.names, in.Name)
		shown := printable(in.Name)
		t.shown = append(t.shown, shown)
		t.width = max(t.width, utf8.RuneCountInString(shown))
	}
	b := t.line[:0]
	if t.rows >= 0 {
		b = append(b, '\n')
	}
	if t.burst && t.opts.Bursts != "" {
		b = append(b, "bursts: "...)
		b = append(b, t.opts.Bursts...)
		b = append(b, '\n')
	}
	b = padRight(b, "TIME", timeWidth)
	b = append(b, columnGap...)
	b = padRight(b, "IFACE", t.width)
	b = append(b, columnGap...)
	b = padLeft(b, "RX", rateWidth)
	b = append(b, columnGap...)
	b = padLeft(b, "TX", rateWidth)
	b = append(b, columnGap...)
	b = padLeft(b, "RX pkt/s", countWidth)
	b = append(b, columnGap...)
	b = padLeft(b, "TX pkt/s", countWidth)
	if t.sums {
		for _, h := range []string{"RX peak", "RX p99", "TX peak", "TX p99"} {
			b = append(b, columnGap...)
			b = padLeft(b, h, rateWidth)
		}
		if t.burst {
			b = append(b, columnGap...)
			b = padLeft(b, "BURSTS rx/tx", burstWidth)
		}
	}
	if t.opts.Containers {
		b = append(b, columnGap...)
		b = padRight(b, "CONTAINER", containerWidth)
	}
	if t.opts.Netns {
		b = append(b, columnGap...)
		b = append(b, "NETNS"...)
	}
	b = append(b, '\n')
	t.buf.Write(b)
	t.line = b
	t.rows = 0
}

// appendSummary appends the peak, p99 and (with the BURSTS column) burst
// columns; a row without a summary (rare: mixed samples) gets dashes, and so
// does the burst count of an interface without a burst threshold (a
// percentage of an unknown link speed).
func (t *table) appendSummary(b []byte, sum *stats.Summary) []byte {
	if sum == nil {
		for range 4 {
			b = append(b, columnGap...)
			b = padLeft(b, "-", rateWidth)
		}
		if !t.burst {
			return b
		}
		b = append(b, columnGap...)
		return padLeft(b, "-", burstWidth)
	}
	for _, v := range []float64{sum.Rx.PeakBytesPerSec, sum.Rx.P99BytesPerSec, sum.Tx.PeakBytesPerSec, sum.Tx.P99BytesPerSec} {
		b = append(b, columnGap...)
		t.num = appendByteRate(t.num[:0], v, t.opts.Units, t.opts.IEC)
		b = padLeft(b, t.num, rateWidth)
	}
	if !t.burst {
		return b
	}
	b = append(b, columnGap...)
	if sum.BurstThreshold <= 0 {
		return padLeft(b, "-", burstWidth)
	}
	t.num = strconv.AppendInt(t.num[:0], int64(sum.Rx.Bursts), 10)
	t.num = append(t.num, '/')
	t.num = strconv.AppendInt(t.num, int64(sum.Tx.Bursts), 10)
	return padLeft(b, t.num, burstWidth)
}

// padRight appends s left-aligned in width columns.
func padRight(b []byte, s string, width int) []byte {
	b = append(b, s...)
	for n := utf8.RuneCountInString(s); n < width; n++ {
		b = append(b, ' ')
	}
	return b
}

// padLeft appends s right-aligned in width columns. s must be ASCII (labels
// and formatted numbers are); longer values are not cut.
func padLeft[S string | []byte](b []byte, s S, width int) []byte {
	for n := len(s); n < width; n++ {
		b = append(b, ' ')
	}
	return append(b, s...)
}

// printable returns name with invalid UTF-8 and non-printable runes
// escaped (\x01, \u200b), so a name cannot move the cursor or break a row.
func printable(name string) string {
	clean := true
	for _, r := range name {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			clean = false
			break
		}
	}
	if clean {
		return name
	}
	var b []byte
	for i := 0; i < len(name); {
		r, size := utf8.DecodeRuneInString(name[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\x`...)
			b = append(b, "0123456789abcdef"[name[i]>>4], "0123456789abcdef"[name[i]&0xf])
		case unicode.IsPrint(r):
			b = append(b, name[i:i+size]...)
		default:
			q := strconv.QuoteRuneToASCII(r) // e.g. '\x01'
			b = append(b, q[1:len(q)-1]...)
		}
		i += size
	}
	return string(b)
}

// containerWidth is the table's CONTAINER column: a short id, as docker ps
// shows it.
const containerWidth = 12

// ShortID is a container id cut to 12 characters, as docker ps shows it
// ("-" when none).
func ShortID(id string) string {
	if id == "" {
		return "-"
	}
	return printable(id[:min(len(id), containerWidth)])
}
