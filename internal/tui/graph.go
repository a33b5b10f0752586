package tui

import (
	"math"
	"strings"
)

// Cell kinds of a graph, each drawn with its own style.
const (
	cellEmpty = iota
	cellAvg
	cellPeak
	cellThresh
	cellBurst
	nCellKinds
)

// eighths are the lower block elements, 1/8 to 8/8 of a cell.
var eighths = []rune{' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'}

// Glyphs of the graph. The average is a solid bar; the peak bin above it a
// thin line, so the two read apart without colour too (NO_COLOR).
const (
	glyphPeak      = '│'
	glyphPeakTop   = '╷' // a peak that ends in the lower half of its cell
	glyphThreshold = '┈'
	glyphBurst     = '▼'
)

// cell is one character of a graph and its kind.
type cell struct {
	r    rune
	kind int
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten, for the scale.
func niceCeil(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	e := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*e*(1+1e-9) {
			return m * e
		}
	}
	return 10 * e
}

// graphScale is the top of a graph's scale: the largest peak of its
// columns, rounded up, and at least the burst threshold when that is near.
func graphScale(cols []column, threshold float64) float64 {
	var top float64
	for _, c := range cols {
		top = max(top, c.peak)
	}
	if threshold > 0 && threshold < 2*top {
		top = max(top, threshold)
	}
	return niceCeil(top)
}

// plot lays out cols in rows x len(cols) cells, row 0 at the top: in each
// column a solid bar up to the slice's average and a line from there up to
// its peak bin, the burst threshold as a dotted line where nothing else is
// drawn. It returns the cells and the burst row (one marker above each
// column that holds a burst).
func plot(cols []column, rows int, top, threshold float64) (grid [][]cell, marks []cell) {
	grid = make([][]cell, rows)
	for r := range grid {
		grid[r] = make([]cell, len(cols))
	}
	marks = make([]cell, len(cols))
	threshRow := -1
	// The threshold line is drawn from the second row up: on the bottom row
	// it would only hide the smallest bars.
	if h := int(threshold / top * float64(rows)); threshold > 0 && threshold <= top && h >= 1 {
		threshRow = rows - 1 - min(rows-1, h)
	}
	for x, c := range cols {
		marks[x] = cell{' ', cellEmpty}
		if c.bursts > 0 {
			marks[x] = cell{glyphBurst, cellBurst}
		}
		avgE := eighthsOf(c.avg, top, rows)
		peakE := eighthsOf(c.peak, top, rows)
		if c.has && c.peak > 0 && peakE == 0 {
			peakE = 1 // traffic, however little, is never an empty column
		}
		if c.has && c.avg > 0 && avgE == 0 {
			avgE = 1
		}
		for r := 0; r < rows; r++ {
			lo := (rows - 1 - r) * 8 // eighths below this cell
			g := cell{' ', cellEmpty}
			switch {
			case avgE >= lo+8:
				g = cell{'█', cellAvg}
			case avgE > lo:
				g = cell{eighths[avgE-lo], cellAvg}
			case peakE >= lo+4:
				g = cell{glyphPeak, cellPeak}
			case peakE > lo:
				g = cell{glyphPeakTop, cellPeak}
			case r == threshRow:
				g = cell{glyphThreshold, cellThresh}
			}
			grid[r][x] = g
		}
	}
	return grid, marks
}

// eighthsOf is v on a scale of rows cells of 8 eighths each.
func eighthsOf(v, top float64, rows int) int {
	if top <= 0 || v <= 0 {
		return 0
	}
	return min(rows*8, int(math.Round(v/top*float64(rows*8))))
}

// renderCells draws a row of cells, one style per run of the same kind, so
// that a row costs a few style renders rather than one per cell.
func renderCells(b *strings.Builder, cells []cell, st *styles) {
	var run strings.Builder
	kind := -1
	flush := func() {
		if run.Len() > 0 {
			b.WriteString(st.cell[kind].Render(run.String()))
			run.Reset()
		}
	}
	for _, c := range cells {
		if c.kind != kind {
			flush()
			kind = c.kind
		}
		run.WriteRune(c.r)
	}
	flush()
}
