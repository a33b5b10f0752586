package main

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/term"
	"github.com/urfave/cli/v2"

	"github.com/netwatch-dev/netwatch/internal/stats"
	"github.com/netwatch-dev/netwatch/internal/tui"
)

// topFPS is the most frames per second top draws.
const topFPS = 20

func topCommand() *cli.Command {
	return &cli.Command{
		Name:  "top",
		Usage: "full-screen live view: rates, peak bins and bursts per interface",
		Description: "The same pipeline and flags as watch, drawn full screen: a list of interfaces (current,\n" +
			"1-minute average and peak-bin rates, utilisation, totals) and rx/tx graphs of the last minute\n" +
			"where each column shows the busiest bin of its slice beside the average, so a 5 ms burst\n" +
			"stays visible. --interval is the refresh (+/- change it). Keys: q quit, j/k select, Enter\n" +
			"focus, Tab view, u bits/bytes, space pause, ? help. When stdout is not a terminal it prints\n" +
			"watch's output instead.",
		Flags:        watchFlags(),
		Action:       topAction,
		OnUsageError: onUsageError,
	}
}

func topAction(c *cli.Context) error {
	out, ok := c.App.Writer.(*os.File)
	if !ok || !term.IsTerminal(out.Fd()) {
		return watchAction(c)
	}
	interval, err := parseStreamArgs(c, "netwatch top")
	if err != nil {
		return err
	}
	if _, err := streamFormat(c); err != nil { // used only without a terminal, checked alike
		return err
	}
	// Everything the pipeline writes for the user (notices, log lines)
	// goes to the status line while the screen is ours, and to stderr
	// once the terminal is restored.
	stderr := c.App.ErrWriter
	notes := &noticeWriter{}
	c.App.ErrWriter = notes
	defer func() {
		c.App.ErrWriter = stderr
		notes.replay(stderr)
	}()
	smp, err := parseSampling(c)
	if err != nil {
		return err
	}
	retime := make(chan time.Duration, 1)
	smp.retime = retime

	var p *tea.Program
	m := tui.New(tui.Options{
		Interval: interval,
		Units:    smp.table.Units,
		IEC:      smp.table.IEC,
		Retime: func(d time.Duration) {
			select { // only the newest request counts
			case <-retime:
			default:
			}
			retime <- d
		},
		Quit: func() { go p.Quit() },
	})
	// The renderer wakes fps times a second even when nothing changed: 60
	// (bubbletea's default) cost 4x watch's CPU at 1s; 20 frames a second
	// still answers a key within 50 ms.
	opts := []tea.ProgramOption{tea.WithOutput(out), tea.WithoutSignalHandler(), tea.WithFPS(topFPS)}
	if os.Getenv("NO_COLOR") != "" {
		opts = append(opts, tea.WithColorProfile(colorprofile.Ascii))
	}
	p = tea.NewProgram(m, opts...)
	notes.attach(func(line string) { go p.Send(tui.NoticeMsg(line)) })

	// SIGINT, SIGTERM and SIGHUP cancel c.Context (see run): the program
	// quits, the sampler returns and the backend is closed.
	ctx, cancel := context.WithCancel(c.Context)
	defer cancel()
	c.Context = ctx
	go func() {
		<-ctx.Done()
		p.Quit()
	}()
	done := make(chan error, 1)
	go func() {
		err := smp.run(c, interval, c.Int("count"), c.Duration("duration"), func(s stats.Sample) error {
			p.Send(tui.SampleMsg(s))
			return nil
		})
		done <- err
		p.Send(tui.DoneMsg{Err: err})
	}()
	_, perr := p.Run()
	cancel()
	serr := <-done // the backend is closed: nothing is attached any more
	switch {
	case m.Err() != nil:
		return m.Err()
	case serr != nil:
		return serr
	case perr != nil && !errors.Is(perr, tea.ErrProgramKilled):
		return perr
	}
	return nil
}

// noticeWriter takes what the pipeline writes to stderr while top owns
// the terminal: each line goes to the view's status line and is printed
// again after the terminal is restored.
type noticeWriter struct {
	mu    sync.Mutex
	lines []string
	part  string
	send  func(string)
}

func (w *noticeWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.part += string(b)
	for {
		i := strings.IndexByte(w.part, '\n')
		if i < 0 {
			break
		}
		line := w.part[:i]
		w.part = w.part[i+1:]
		w.lines = append(w.lines, line)
		if w.send != nil {
			w.send(line)
		}
	}
	return len(b), nil
}

func (w *noticeWriter) attach(send func(string)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.send = send
	if n := len(w.lines); n > 0 {
		send(w.lines[n-1])
	}
}

func (w *noticeWriter) replay(to io.Writer) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, l := range w.lines {
		io.WriteString(to, l+"\n")
	}
	if w.part != "" {
		io.WriteString(to, w.part+"\n")
	}
}
