// Package tui is the full-screen view of netwatch top: a bubbletea model fed
// with the samples of the one pipeline (cmd/netwatch runs the sampler and
// sends each sample in as a SampleMsg). It draws what the samples say —
// rates, peak bins, burst counts, counters — and computes nothing a sample
// does not carry, except how to lay it out over time.
package tui

import (
	"fmt"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/netwatch-dev/netwatch/internal/output"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

// SampleMsg carries one sample of the pipeline into the program.
type SampleMsg stats.Sample

// NoticeMsg is a line the pipeline wrote for the user (a notice, a
// warning); the view shows the latest one in its status line.
type NoticeMsg string

// DoneMsg says the pipeline ended (--count, --duration, or an error): the
// program quits and Err is what the command returns.
type DoneMsg struct{ Err error }

// Options configure a Model.
type Options struct {
	// Interval is the refresh interval at start (the sampler's interval).
	Interval time.Duration
	Units    output.Units
	IEC      bool
	// Span is how much time the graphs show; 0 means one minute.
	Span time.Duration
	// Retime asks the pipeline for a new interval (+/-); nil disables the
	// keys. It must not block.
	Retime func(time.Duration)
	// Quit ends the program from outside Update (a crash in View); it must
	// not block. Nil: nothing.
	Quit func()
}

// Views that Tab cycles through.
const (
	viewGraphs  = iota // the list and the selected interface's graphs
	viewSparks         // one sparkline row per interface and direction
	viewDetails        // packets, p99, lost bins, errors, link speed
	nViews
)

var viewNames = [nViews]string{"graphs", "sparklines", "details"}

// refreshSteps are the intervals +/- step through.
var refreshSteps = []time.Duration{
	100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second,
}

type keyMap struct {
	Quit, Up, Down, Focus, Back, View, Units, Slower, Faster, Pause, Help key.Binding
}

func newKeyMap(retime bool) keyMap {
	k := keyMap{
		Quit:   key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Up:     key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:   key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Focus:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "focus")),
		Back:   key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		View:   key.NewBinding(key.WithKeys("tab", "shift+tab"), key.WithHelp("tab", "view")),
		Units:  key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "bits/bytes")),
		Slower: key.NewBinding(key.WithKeys("+", "="), key.WithHelp("+", "refresh slower")),
		Faster: key.NewBinding(key.WithKeys("-", "_"), key.WithHelp("-", "refresh faster")),
		Pause:  key.NewBinding(key.WithKeys("space"), key.WithHelp("space", "pause")),
		Help:   key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
	}
	if !retime {
		k.Slower.SetEnabled(false)
		k.Faster.SetEnabled(false)
	}
	return k
}

func (k keyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Quit, k.Down, k.Focus, k.View, k.Units, k.Slower, k.Faster, k.Pause, k.Help}
}

func (k keyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.Focus, k.Back}, {k.View, k.Units, k.Pause}, {k.Slower, k.Faster, k.Help, k.Quit}}
}

// Model is the state of the view. Use it through a pointer: *Model is the
// tea.Model.
type Model struct {
	opts     Options
	keys     keyMap
	help     help.Model
	st       *styles
	dark     bool
	w, h     int
	hist     *history
	pending  []stats.Sample // samples that came while paused
	sel      int            // selected interface (position in hist.order)
	selKey   stats.Key      // its key, to follow it when others come and go
	selSet   bool
	focus    bool
	view     int
	units    output.Units
	interval time.Duration
	paused   bool
	showHelp bool
	notice   string
	err      error
}

// New returns a model for opts.
func New(opts Options) *Model {
	if opts.Span <= 0 {
		opts.Span = time.Minute
	}
	m := &Model{
		opts:     opts,
		keys:     newKeyMap(opts.Retime != nil),
		help:     help.New(),
		dark:     true,
		hist:     newHistory(opts.Span),
		units:    opts.Units,
		interval: opts.Interval,
		w:        80,
		h:        24,
	}
	m.setStyles(true)
	return m
}

func (m *Model) setStyles(dark bool) {
	m.dark = dark
	m.st = newStyles(dark)
	m.help.Styles = help.DefaultStyles(dark)
}

// Err is the error the program ended with: the pipeline's, or a crash of
// the view.
func (m *Model) Err() error { return m.err }

// Init asks the terminal for its background colour.
func (m *Model) Init() tea.Cmd { return tea.RequestBackgroundColor }

// Update handles a message. A panic in it ends the program with an error
// instead of a stack trace over the screen.
func (m *Model) Update(msg tea.Msg) (_ tea.Model, cmd tea.Cmd) {
	defer func() {
		if r := recover(); r != nil {
			m.err = fmt.Errorf("top: internal error: %v", r)
			cmd = tea.Quit
		}
	}()
	return m, m.update(msg)
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case SampleMsg:
		if m.paused {
			m.pending = append(m.pending, stats.Sample(msg))
			m.trimPending()
			return nil
		}
		m.addSample(stats.Sample(msg))
	case NoticeMsg:
		m.notice = string(msg)
	case DoneMsg:
		m.err = msg.Err
		return tea.Quit
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
		m.help.SetWidth(msg.Width)
	case tea.BackgroundColorMsg:
		m.setStyles(msg.IsDark())
	case tea.KeyPressMsg:
		return m.key(msg)
	}
	return nil
}

// trimPending keeps the paused samples within the graphs' span.
func (m *Model) trimPending() {
	if len(m.pending) < 2 {
		return
	}
	newest := m.pending[len(m.pending)-1].Time
	cut := 0
	for cut < len(m.pending) && newest.Sub(m.pending[cut].Time) > m.opts.Span {
		cut++
	}
	m.pending = m.pending[cut:]
}

func (m *Model) addSample(s stats.Sample) {
	m.hist.add(s)
	if s.Interval > 0 && m.opts.Retime == nil {
		m.interval = s.Interval
	}
	m.follow()
}

// follow keeps the selection on the same interface when others come and go.
func (m *Model) follow() {
	for i, f := range m.hist.order {
		if m.selSet && f.key == m.selKey {
			m.sel = i
			return
		}
	}
	m.sel = min(max(m.sel, 0), max(len(m.hist.order)-1, 0))
	if f := m.selected(); f != nil {
		m.selKey, m.selSet = f.key, true
	}
}

func (m *Model) selected() *iface {
	if m.sel < 0 || m.sel >= len(m.hist.order) {
		return nil
	}
	return m.hist.order[m.sel]
}

func (m *Model) move(d int) {
	if n := len(m.hist.order); n > 0 {
		m.sel = min(max(m.sel+d, 0), n-1)
		m.selKey, m.selSet = m.hist.order[m.sel].key, true
	}
}

func (m *Model) key(k tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(k, m.keys.Quit):
		return tea.Quit
	case m.showHelp && (key.Matches(k, m.keys.Help) || key.Matches(k, m.keys.Back)):
		m.showHelp = false
	case key.Matches(k, m.keys.Help):
		m.showHelp = true
	case key.Matches(k, m.keys.Up):
		m.move(-1)
	case key.Matches(k, m.keys.Down):
		m.move(1)
	case key.Matches(k, m.keys.Focus):
		m.focus = !m.focus
		m.view = viewGraphs
	case key.Matches(k, m.keys.Back):
		m.focus = false
	case key.Matches(k, m.keys.View):
		d := 1
		if k.String() == "shift+tab" {
			d = nViews - 1
		}
		m.view = (m.view + d) % nViews
		m.focus = false
	case key.Matches(k, m.keys.Units):
		m.units = 1 - m.units
	case key.Matches(k, m.keys.Pause):
		m.paused = !m.paused
		if !m.paused {
			for _, s := range m.pending {
				m.hist.add(s)
			}
			m.pending = m.pending[:0]
			m.follow()
		}
	case key.Matches(k, m.keys.Slower):
		m.retime(+1)
	case key.Matches(k, m.keys.Faster):
		m.retime(-1)
	}
	return nil
}

// retime steps the refresh interval one step up (+1) or down (-1).
func (m *Model) retime(dir int) {
	next := m.interval
	if dir > 0 {
		for _, d := range refreshSteps {
			if d > m.interval {
				next = d
				break
			}
		}
	} else {
		for i := len(refreshSteps) - 1; i >= 0; i-- {
			if refreshSteps[i] < m.interval {
				next = refreshSteps[i]
				break
			}
		}
	}
	if next != m.interval {
		m.interval = next
		m.opts.Retime(next)
	}
}

// View draws the screen. A panic while drawing ends the program (through
// Options.Quit) with an error, and the terminal is restored.
func (m *Model) View() (v tea.View) {
	defer func() {
		if r := recover(); r != nil {
			m.err = fmt.Errorf("top: internal error while drawing: %v", r)
			if m.opts.Quit != nil {
				m.opts.Quit()
			}
			v = tea.NewView("")
			v.AltScreen = true
		}
	}()
	v = tea.NewView(m.Render())
	v.AltScreen = true
	v.WindowTitle = "netwatch top"
	return v
}
