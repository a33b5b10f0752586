package tui

import (
	"image/color"

	"charm.land/lipgloss/v2"
)

// styles are the colours of the view, chosen for the terminal's background
// (dark or light). Without colour (NO_COLOR) the renderer drops the
// colours and keeps bold and reverse, and the graph's glyphs still tell
// average, peak, threshold and bursts apart.
type styles struct {
	title, dim, header, selected, warn, rx, tx lipgloss.Style
	cell                                       [nCellKinds]lipgloss.Style
	help                                       lipgloss.Style
}

func newStyles(dark bool) *styles {
	ld := lipgloss.LightDark(dark)
	c := func(light, dark string) color.Color { return ld(lipgloss.Color(light), lipgloss.Color(dark)) }
	rx := c("#005f87", "#5fafff")   // blue
	tx := c("#875f00", "#ffaf5f")   // amber
	peak := c("#5f87af", "#87afd7") // lighter than the bars
	dim := c("#6c6c6c", "#8a8a8a")
	burst := c("#d70000", "#ff5f5f")
	s := &styles{
		title:    lipgloss.NewStyle().Bold(true),
		dim:      lipgloss.NewStyle().Foreground(dim),
		header:   lipgloss.NewStyle().Bold(true).Underline(true),
		selected: lipgloss.NewStyle().Reverse(true),
		warn:     lipgloss.NewStyle().Foreground(burst).Bold(true),
		rx:       lipgloss.NewStyle().Foreground(rx).Bold(true),
		tx:       lipgloss.NewStyle().Foreground(tx).Bold(true),
		help:     lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).Padding(0, 1),
	}
	s.cell[cellEmpty] = lipgloss.NewStyle()
	s.cell[cellAvg] = lipgloss.NewStyle().Foreground(rx)
	s.cell[cellPeak] = lipgloss.NewStyle().Foreground(peak)
	s.cell[cellThresh] = lipgloss.NewStyle().Foreground(burst).Faint(true)
	s.cell[cellBurst] = lipgloss.NewStyle().Foreground(burst).Bold(true)
	return s
}

// withBar returns s with the average bars in the colour of a direction.
func (s *styles) withBar(tx bool) *styles {
	t := *s
	fg := s.rx.GetForeground()
	if tx {
		fg = s.tx.GetForeground()
	}
	t.cell[cellAvg] = lipgloss.NewStyle().Foreground(fg)
	return &t
}
