// Package chart draws a recording: rx and tx rate over time per
// interface, with the bursts marked. Each pixel column shows the min–max
// envelope of the bins it covers and their mean as a line, so a 1 ms burst
// stays visible in a chart of a day.
package chart

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/netwatch-dev/netwatch/internal/record"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

// Options configure a chart.
type Options struct {
	Range record.Range
	// Width is the chart's width in pixels (at 100 dpi); each interface's
	// panel is PanelHeight pixels high.
	Width, PanelHeight int
	// Format is "svg" or "png".
	Format string
	// Title heads the chart; empty: the files' names.
	Title string
	// Location is the time zone of the time axis (nil: local time).
	Location *time.Location
}

// Chart is what was drawn, for callers and tests.
type Chart struct {
	Recording  *record.Recording
	Interfaces []Panel
	// Columns is the number of time columns the bins were folded into.
	Columns int
}

// Panel is one interface's panel. An interface is its namespace and
// ifindex: two namespaces' "lo" are two panels.
type Panel struct {
	Name  string
	Index int
	Netns string
	// Label names the panel: "name", or "name@netns" in a namespace.
	Label  string
	Rows   int64
	Bursts int
	// Series are the names of the lines and envelopes drawn.
	Series []string
}

const dpi = 100

// column folds the bins of one pixel column, per direction.
type column struct {
	n        int
	min, max [2]float64
	sum      [2]float64
}

type ifaceCols struct {
	name  string
	index int
	netns string
	key   stats.Key
	rows  int64
	cols  []column
}

// Render reads the recording at paths and writes its chart to w.
func Render(w io.Writer, paths []string, opts Options) (*Chart, error) {
	if opts.Width <= 0 {
		opts.Width = 1200
	}
	if opts.PanelHeight <= 0 {
		opts.PanelHeight = 320
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	// First pass: the time span (rows are folded into columns of it).
	var from, to time.Time
	span := func(r record.Row) error {
		if from.IsZero() || r.Time.Before(from) {
			from = r.Time
		}
		if e := r.End(); e.After(to) {
			to = e
		}
		return nil
	}
	if _, err := record.Read(paths, opts.Range, span); err != nil {
		return nil, err
	}
	if !opts.Range.From.IsZero() && opts.Range.From.After(from) {
		from = opts.Range.From
	}
	if !opts.Range.To.IsZero() && opts.Range.To.Before(to) {
		to = opts.Range.To
	}
	if from.IsZero() || !to.After(from) {
		return nil, fmt.Errorf("nothing to plot: the recording holds no rows in the time range")
	}
	ncols := max(opts.Width-150, 50) // about one column per pixel of the plot area
	colDur := to.Sub(from).Seconds() / float64(ncols)
	ifaces := map[stats.Key]*ifaceCols{}
	var order []stats.Key
	fold := func(r record.Row) error {
		key := r.Key()
		ic := ifaces[key]
		if ic == nil {
			ic = &ifaceCols{index: r.Index, netns: r.Netns, key: key, cols: make([]column, ncols)}
			ifaces[key] = ic
			order = append(order, key)
		}
		ic.name = r.Interface
		ic.rows++
		i := int(r.Time.Sub(from).Seconds() / colDur)
		i = min(max(i, 0), ncols-1)
		c := &ic.cols[i]
		sec := r.Duration.Seconds()
		if sec <= 0 {
			return nil
		}
		for d, b := range [2]uint64{r.RxBytes, r.TxBytes} {
			v := float64(b) * 8 / sec // bits per second
			if c.n == 0 || v < c.min[d] {
				c.min[d] = v
			}
			if c.n == 0 || v > c.max[d] {
				c.max[d] = v
			}
			c.sum[d] += v
		}
		c.n++
		return nil
	}
	rec, err := record.Read(paths, opts.Range, fold)
	if err != nil {
		return nil, err
	}
	ch := &Chart{Recording: rec, Columns: ncols}
	var plots [][]*plot.Plot
	title := opts.Title
	if title == "" {
		title = "netwatch recording: " + strings.Join(paths, ", ")
	}
	for i, key := range order {
		ic := ifaces[key]
		p, panel, err := panelPlot(ic, rec.Bursts, from, colDur, opts)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			p.Title.Text = title + "\n" + p.Title.Text
		}
		ch.Interfaces = append(ch.Interfaces, panel)
		plots = append(plots, []*plot.Plot{p})
	}
	width := vg.Length(opts.Width) * vg.Inch / dpi
	height := vg.Length(opts.PanelHeight*len(plots)) * vg.Inch / dpi
	var canvas vg.CanvasWriterTo
	switch opts.Format {
	case "svg":
		canvas = vgsvg.New(width, height)
	case "png":
		canvas = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(dpi),
			vgimg.UseBackgroundColor(color.White))}
	default:
		return nil, fmt.Errorf("unknown chart format %q: want svg or png", opts.Format)
	}
	dc := draw.New(canvas)
	tiles := draw.Tiles{Rows: len(plots), Cols: 1, PadX: vg.Millimeter, PadY: 3 * vg.Millimeter,
		PadTop: 2 * vg.Millimeter, PadBottom: 2 * vg.Millimeter, PadLeft: 2 * vg.Millimeter, PadRight: 4 * vg.Millimeter}
	canvases := plot.Align(plots, tiles, dc)
	for i := range plots {
		plots[i][0].Draw(canvases[i][0])
	}
	if _, err := canvas.WriteTo(w); err != nil {
		return nil, err
	}
	return ch, nil
}

var (
	rxColor = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	txColor = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
)

func withAlpha(c color.RGBA, a uint8) color.RGBA {
	// Premultiplied: scale the channels with the alpha.
	f := float64(a) / 255
	return color.RGBA{R: uint8(float64(c.R) * f), G: uint8(float64(c.G) * f), B: uint8(float64(c.B) * f), A: a}
}

// rateUnit picks the unit for a maximum rate in bits/s.
func rateUnit(maxBits float64) (string, float64) {
	switch {
	case maxBits >= 1e9:
		return "Gbit/s", 1e9
	case maxBits >= 1e6:
		return "Mbit/s", 1e6
	case maxBits >= 1e3:
		return "kbit/s", 1e3
	}
	return "bit/s", 1
}

func unixSec(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func panelPlot(ic *ifaceCols, bursts []record.Burst, from time.Time, colDur float64, opts Options) (*plot.Plot, Panel, error) {
	panel := Panel{Name: ic.name, Index: ic.index, Netns: ic.netns, Label: record.Label(ic.name, ic.netns), Rows: ic.rows}
	var peak float64
	for _, c := range ic.cols {
		if c.n > 0 {
			peak = max(peak, c.max[0], c.max[1])
		}
	}
	unit, scale := rateUnit(peak)
	p := plot.New()
	binsPerCol := float64(ic.rows) / float64(max(1, nonEmpty(ic.cols)))
	p.Title.Text = fmt.Sprintf("%s (ifindex %d): rate per bin, %s", panel.Label, ic.index, foldNote(binsPerCol))
	p.Y.Label.Text = "rate (" + unit + ")"
	p.Y.Min = 0
	start := unixSec(from)
	end := start + colDur*float64(len(ic.cols))
	p.X.Min, p.X.Max = start, end
	zone, _ := from.In(opts.Location).Zone()
	p.X.Label.Text = fmt.Sprintf("time (%s, %s)", zone, from.In(opts.Location).Format("2006-01-02"))
	p.X.Tick.Marker = plot.TimeTicks{Format: timeFormat(end - start), Time: func(t float64) time.Time {
		s := math.Floor(t)
		return time.Unix(int64(s), int64((t-s)*1e9)).In(opts.Location)
	}}
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Y.Max = peak * 1.12 / scale // room for the burst markers
	for d, name := range []string{"rx", "tx"} {
		col := []color.RGBA{rxColor, txColor}[d]
		var upper, lower, mean plotter.XYs
		for i, c := range ic.cols {
			if c.n == 0 {
				continue
			}
			x := start + colDur*(float64(i)+0.5)
			upper = append(upper, plotter.XY{X: x, Y: c.max[d] / scale})
			lower = append(lower, plotter.XY{X: x, Y: c.min[d] / scale})
			mean = append(mean, plotter.XY{X: x, Y: c.sum[d] / float64(c.n) / scale})
		}
		if len(mean) == 0 {
			continue
		}
		if binsPerCol > 1.5 {
			ring := append(slices.Clone(upper), reversed(lower)...)
			poly, err := plotter.NewPolygon(ring)
			if err != nil {
				return nil, panel, err
			}
			poly.Color = withAlpha(col, 0x60)
			// A thin outline keeps a one-column spike (a 1 ms burst in a
			// day) visible.
			poly.LineStyle.Width = vg.Points(0.5)
			poly.LineStyle.Color = withAlpha(col, 0xa0)
			p.Add(poly)
			p.Legend.Add(name+" min-max", poly)
			panel.Series = append(panel.Series, name+" min-max")
		}
		line, err := plotter.NewLine(mean)
		if err != nil {
			return nil, panel, err
		}
		line.Color = col
		line.Width = vg.Points(1)
		p.Add(line)
		p.Legend.Add(name+" mean", line)
		panel.Series = append(panel.Series, name+" mean")
	}
	for d, name := range []string{"rx", "tx"} {
		var pts plotter.XYs
		for _, b := range bursts {
			if b.Key() == ic.key && b.Direction == name {
				pts = append(pts, plotter.XY{X: unixSec(b.Start), Y: b.PeakBytesPerSec * 8 / scale})
			}
		}
		if len(pts) == 0 {
			continue
		}
		panel.Bursts += len(pts)
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, panel, err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: []color.RGBA{rxColor, txColor}[d], Radius: vg.Points(4), Shape: draw.TriangleGlyph{}}
		p.Add(sc)
		label := fmt.Sprintf("%s bursts (%d)", name, len(pts))
		p.Legend.Add(label, sc)
		panel.Series = append(panel.Series, name+" bursts")
	}
	return p, panel, nil
}

func nonEmpty(cols []column) int {
	n := 0
	for _, c := range cols {
		if c.n > 0 {
			n++
		}
	}
	return n
}

func foldNote(binsPerCol float64) string {
	if binsPerCol <= 1.5 {
		return "one line per bin"
	}
	return fmt.Sprintf("~%.0f bins per column: band = min-max, line = mean", binsPerCol)
}

func reversed(xy plotter.XYs) plotter.XYs {
	out := slices.Clone(xy)
	slices.Reverse(out)
	return out
}

// timeFormat picks tick labels for a span in seconds.
func timeFormat(span float64) string {
	switch {
	case span < 10:
		return "15:04:05.000"
	case span < 2*3600:
		return "15:04:05"
	}
	return "Jan 2 15:04"
}
