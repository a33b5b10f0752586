package tui

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/netwatch-dev/netwatch/internal/output"
)

// Smallest screen the view draws on.
const (
	minWidth  = 40
	minHeight = 10
	// wideList is the width from which the list shows rx and tx of an
	// interface on one row.
	wideList = 140
)

// Render returns the screen: exactly h lines, none wider than w, so that a
// frame always overwrites the whole previous one (no garbage on resize).
func (m *Model) Render() string {
	w, h := m.w, m.h
	if w < minWidth || h < minHeight {
		return fit([]string{fmt.Sprintf("netwatch top needs at least %dx%d (this is %dx%d)", minWidth, minHeight, w, h)}, w, h)
	}
	lines := []string{m.headerLine()}
	body := h - 2
	switch {
	case m.showHelp:
		lines = append(lines, m.helpLines(body)...)
	case m.hist.n == 0:
		lines = append(lines, m.st.dim.Render(fmt.Sprintf("waiting for the first sample (refresh %v)…", m.interval)))
	case m.focus:
		lines = append(lines, m.graphLines(m.selected(), body, true)...)
	case m.view == viewSparks:
		lines = append(lines, m.sparkLines(body)...)
	case m.view == viewDetails:
		lines = append(lines, m.detailLines(body)...)
	default:
		list := m.listLines(body)
		lines = append(lines, list...)
		lines = append(lines, m.graphLines(m.selected(), body-len(list), false)...)
	}
	return fit(lines, w, h-1) + "\n" + fit([]string{m.statusLine()}, w, 1)
}

// fit pads or cuts lines to exactly h lines of at most w cells.
func fit(lines []string, w, h int) string {
	var b strings.Builder
	for i := 0; i < h; i++ {
		if i > 0 {
			b.WriteByte('\n')
		}
		if i < len(lines) {
			l := ansi.Truncate(lines[i], w, "")
			b.WriteString(l)
			if pad := w - ansi.StringWidth(l); pad > 0 {
				b.WriteString(strings.Repeat(" ", pad))
			}
		} else {
			b.WriteString(strings.Repeat(" ", w))
		}
	}
	return b.String()
}

func (m *Model) rate(v float64) string { return output.FormatByteRate(v, m.units, m.opts.IEC) }

// amount formats a byte count in the chosen units: "1.2 GB", "9.6 Gbit".
func (m *Model) amount(bytes uint64) string {
	x := float64(bytes)
	units := []string{"B", "kB", "MB", "GB", "TB", "PB", "EB"}
	if m.units == output.Bits {
		x *= 8
		units = []string{"bit", "kbit", "Mbit", "Gbit", "Tbit", "Pbit", "Ebit"}
	}
	base := 1000.0
	if m.opts.IEC {
		base = 1024
		if m.units == output.Bits {
			units = []string{"bit", "Kibit", "Mibit", "Gibit", "Tibit", "Pibit", "Eibit"}
		} else {
			units = []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
		}
	}
	i := 0
	for i < len(units)-1 && math.Round(x*10)/10 >= base {
		x /= base
		i++
	}
	if i == 0 {
		return strconv.FormatFloat(x, 'f', 0, 64) + " " + units[0]
	}
	return strconv.FormatFloat(x, 'f', 1, 64) + " " + units[i]
}

func (m *Model) headerLine() string {
	h := m.hist
	parts := []string{m.st.title.Render("netwatch top")}
	if h.src.Backend != "" {
		src := h.src.Backend
		if h.src.Attach != "" {
			src += "/" + h.src.Attach
		}
		parts = append(parts, src)
	}
	parts = append(parts, "refresh "+m.interval.String())
	if h.n > 0 {
		if h.bins {
			parts = append(parts, "bins "+h.res.String())
		} else {
			parts = append(parts, "resolution "+h.ival.Round(time.Millisecond).String()+" (poll)")
		}
	}
	if h.thresh > 0 {
		parts = append(parts, "burst > "+m.rate(h.thresh))
	}
	parts = append(parts, viewNames[m.view])
	if m.paused {
		parts = append(parts, m.st.warn.Render("PAUSED"))
	}
	return strings.Join(parts, "  ")
}

func (m *Model) statusLine() string {
	if m.notice != "" {
		return ansi.Truncate(m.st.warn.Render(m.notice), m.w, "…")
	}
	m.help.SetWidth(m.w)
	return m.help.ShortHelpView(m.keys.ShortHelp())
}

func (m *Model) helpLines(n int) []string {
	text := m.help.FullHelpView(m.keys.FullHelp()) + "\n\n" +
		"Graphs: each column is one slice of the last " + m.opts.Span.String() + ": a solid bar\n" +
		"up to the slice's average rate, a thin line │ up to its busiest bin\n" +
		"(the peak), ▼ above a column that holds bins over --burst-threshold,\n" +
		"┈ the threshold itself. Without bins (procfs, --resolution 0) the\n" +
		"peak is the busiest poll interval.   ? or esc closes this help."
	lines := strings.Split(m.st.help.Render(text), "\n")
	return lines[:min(n, len(lines))]
}

// listCol is one column of the interface list.
type listCol struct {
	title string
	width int
	cell  func(f *iface, tx bool) string
}

func (m *Model) listCols(wide bool) []listCol {
	h := m.hist
	cols := []listCol{
		{"NOW", 12, func(f *iface, tx bool) string {
			if tx {
				return m.rate(f.last.TxBytesPerSec)
			}
			return m.rate(f.last.RxBytesPerSec)
		}},
		{"AVG 1m", 12, func(f *iface, tx bool) string { a, _, _ := h.window(f, tx); return m.rate(a) }},
	}
	if h.bins {
		cols = append(cols, listCol{"PEAK " + h.res.String(), 12, func(f *iface, tx bool) string {
			_, p, _ := h.window(f, tx)
			return m.rate(p)
		}})
	}
	cols = append(cols,
		listCol{"UTIL", 6, func(f *iface, tx bool) string {
			if f.last.Summary == nil || f.last.Summary.LinkBytesPerSec <= 0 {
				return "-"
			}
			u := f.last.Summary.Rx.Utilization
			if tx {
				u = f.last.Summary.Tx.Utilization
			}
			return strconv.FormatFloat(u*100, 'f', 1, 64) + "%"
		}},
		listCol{"TOTAL", 10, func(f *iface, tx bool) string {
			t := h.total(f)
			if tx {
				return m.amount(t.TxBytes)
			}
			return m.amount(t.RxBytes)
		}},
	)
	if h.thresh > 0 {
		cols = append(cols, listCol{"BURSTS", 7, func(f *iface, tx bool) string {
			_, _, b := h.window(f, tx)
			return strconv.Itoa(b)
		}})
	}
	if wide {
		for i := range cols {
			cols[i].width = max(cols[i].width, len(cols[i].title)+3)
		}
	}
	return cols
}

func pad(s string, w int, right bool) string {
	n := ansi.StringWidth(s)
	if n >= w {
		return ansi.Truncate(s, w, "")
	}
	if right {
		return strings.Repeat(" ", w-n) + s
	}
	return s + strings.Repeat(" ", w-n)
}

// listLines is the interface list, at most about a third of the body, with
// the selection kept in sight.
func (m *Model) listLines(body int) []string {
	wide := m.w >= wideList
	cols := m.listCols(wide)
	nameW := 11
	per := 2 // lines per interface
	if wide {
		nameW, per = 16, 1
	}
	var head strings.Builder
	head.WriteString(pad("IFACE", nameW, false))
	if wide {
		for _, dir := range []string{"RX ", "TX "} {
			for _, c := range cols {
				head.WriteString(" " + pad(dir+c.title, c.width, true))
			}
		}
	} else {
		head.WriteString("    ")
		for _, c := range cols {
			head.WriteString(" " + pad(c.title, c.width, true))
		}
	}
	out := []string{m.st.header.Render(pad(head.String(), m.w, false))}
	maxRows := max(1, (body/3)/per)
	if m.focus {
		maxRows = 1
	}
	order := m.hist.order
	first := 0
	if m.sel >= maxRows {
		first = m.sel - maxRows + 1
	}
	for i := first; i < len(order) && i < first+maxRows; i++ {
		f := order[i]
		var rows []string
		if wide {
			var b strings.Builder
			b.WriteString(pad(f.name, nameW, false))
			for _, tx := range []bool{false, true} {
				for _, c := range cols {
					b.WriteString(" " + pad(c.cell(f, tx), c.width, true))
				}
			}
			rows = append(rows, b.String())
		} else {
			for d, tx := range []bool{false, true} {
				var b strings.Builder
				name, dir := f.name, " rx"
				if d == 1 {
					name, dir = "", " tx"
				}
				b.WriteString(pad(name, nameW, false) + " " + dir)
				for _, c := range cols {
					b.WriteString(" " + pad(c.cell(f, tx), c.width, true))
				}
				rows = append(rows, b.String())
			}
		}
		for _, r := range rows {
			if i == m.sel {
				r = m.st.selected.Render(pad(r, m.w, false))
			}
			out = append(out, r)
		}
	}
	if hidden := len(order) - maxRows; hidden > 0 {
		out = append(out, m.st.dim.Render(fmt.Sprintf("  %d of %d interfaces shown (j/k scroll)", maxRows, len(order))))
	}
	return out
}

// graphLines draws the rx and tx graphs of f in n lines.
func (m *Model) graphLines(f *iface, n int, focus bool) []string {
	if f == nil {
		return nil
	}
	var out []string
	if focus {
		out = append(out, m.focusLine(f))
		n--
	}
	// Per direction: title, burst marks, rows; then one time axis.
	rows := (n - 1 - 4) / 2
	if rows < 1 {
		return out
	}
	for _, tx := range []bool{false, true} {
		out = append(out, m.graph(f, tx, rows)...)
	}
	out = append(out, m.timeAxis(m.w))
	return out
}

func (m *Model) focusLine(f *iface) string {
	t := m.hist.total(f)
	return fmt.Sprintf("%s  index %d  rx %s (%s)  tx %s (%s)  pkt/s rx %s tx %s",
		m.st.title.Render(f.name), f.index, m.rate(f.last.RxBytesPerSec), m.amount(t.RxBytes),
		m.rate(f.last.TxBytesPerSec), m.amount(t.TxBytes),
		output.FormatCount(f.last.RxPacketsPerSec), output.FormatCount(f.last.TxPacketsPerSec))
}

// graph is one direction's title, burst marks and rows.
func (m *Model) graph(f *iface, tx bool, rows int) []string {
	h := m.hist
	cols := h.columns(f, tx, m.w)
	top := graphScale(cols, h.thresh)
	grid, marks := plot(cols, rows, top, h.thresh)
	avg, peak, bursts := h.window(f, tx)
	dir, st := "rx", m.st.rx
	if tx {
		dir, st = "tx", m.st.tx
	}
	title := st.Render(dir+" "+f.name) + fmt.Sprintf("  avg %s", m.rate(avg))
	if h.bins {
		title += fmt.Sprintf("  peak %s bin %s", h.res, m.rate(peak))
	} else {
		title += fmt.Sprintf("  peak poll %s", m.rate(peak))
	}
	if h.thresh > 0 {
		title += fmt.Sprintf("  bursts %d", bursts)
	}
	title += m.st.dim.Render("  scale " + m.rate(top))
	out := []string{title}
	cst := m.st.withBar(tx)
	var b strings.Builder
	renderCells(&b, marks, cst)
	out = append(out, b.String())
	for _, r := range grid {
		b.Reset()
		renderCells(&b, r, cst)
		out = append(out, b.String())
	}
	return out
}

// timeAxis labels the graphs' time: the span ago on the left, now on the right.
func (m *Model) timeAxis(w int) string {
	left := "-" + shortDur(m.opts.Span)
	mid := "-" + shortDur(m.opts.Span/2)
	right := "now"
	s := left
	gap := w/2 - len(left) - len(mid)/2
	if gap > 0 {
		s += strings.Repeat(" ", gap) + mid
	}
	if g := w - ansi.StringWidth(s) - len(right); g > 0 {
		s += strings.Repeat(" ", g) + right
	}
	return m.st.dim.Render(s)
}

func shortDur(d time.Duration) string {
	s := d.String()
	s = strings.TrimSuffix(s, "0s")
	if strings.HasSuffix(s, "m") || strings.HasSuffix(s, "h") {
		return s
	}
	return d.String()
}

// sparkLines: one row per interface and direction, the peak of each column
// as a block, bursts in the burst colour.
func (m *Model) sparkLines(body int) []string {
	const nameW = 16
	valW := 12
	plotW := m.w - nameW - 4 - valW - 1
	var out []string
	for i, f := range m.hist.order {
		for _, tx := range []bool{false, true} {
			if len(out) >= body-1 {
				break
			}
			cols := m.hist.columns(f, tx, plotW)
			top := graphScale(cols, m.hist.thresh)
			cells := make([]cell, len(cols))
			for x, c := range cols {
				e := eighthsOf(c.peak, top, 1)
				if c.has && c.peak > 0 && e == 0 {
					e = 1
				}
				cells[x] = cell{eighths[e], cellAvg}
				if c.bursts > 0 {
					cells[x].kind = cellBurst
				}
			}
			name, dir, now := f.name, "rx", f.last.RxBytesPerSec
			if tx {
				name, dir, now = "", "tx", f.last.TxBytesPerSec
			}
			var b strings.Builder
			b.WriteString(pad(name, nameW, false) + " " + dir + " ")
			renderCells(&b, cells, m.st.withBar(tx))
			b.WriteString(" " + pad(m.rate(now), valW, true))
			line := b.String()
			if i == m.sel {
				line = m.st.selected.Render(ansi.Strip(line))
			}
			out = append(out, line)
		}
	}
	return append(out, m.timeAxis(m.w))
}

// detailLines: what the samples carry beyond the rates.
func (m *Model) detailLines(body int) []string {
	head := fmt.Sprintf("%-16s %9s %9s %12s %12s %6s %10s %11s %11s", "IFACE", "RX pkt/s", "TX pkt/s", "RX p99", "TX p99", "LOST", "LINK", "RX err/drop", "TX err/drop")
	out := []string{m.st.header.Render(pad(head, m.w, false))}
	for i, f := range m.hist.order {
		if len(out) >= body {
			break
		}
		l := f.last
		p99rx, p99tx, link := "-", "-", "-"
		if s := l.Summary; s != nil {
			p99rx, p99tx = m.rate(s.Rx.P99BytesPerSec), m.rate(s.Tx.P99BytesPerSec)
			if s.LinkBytesPerSec > 0 {
				link = m.rate(s.LinkBytesPerSec)
			}
		}
		errRx, errTx := "-", "-"
		if e := l.Errors; e != nil {
			errRx = fmt.Sprintf("%d/%d", e.RxErrors, e.RxDrops)
			errTx = fmt.Sprintf("%d/%d", e.TxErrors, e.TxDrops)
		}
		lost := 0
		for _, p := range f.points {
			lost += p.lost
		}
		line := fmt.Sprintf("%-16s %9s %9s %12s %12s %6d %10s %11s %11s", ansi.Truncate(f.name, 16, ""),
			output.FormatCount(l.RxPacketsPerSec), output.FormatCount(l.TxPacketsPerSec), p99rx, p99tx, lost, link, errRx, errTx)
		if i == m.sel {
			line = m.st.selected.Render(pad(line, m.w, false))
		}
		out = append(out, line)
	}
	return out
}
