package sysctl

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/netwatch-dev/netwatch/internal/ifsel"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

// errGone is returned by a mibFunc when the interface index no longer exists
// (the interface went away between the list and the counter read).
var errGone = errors.New("interface gone")

// mibFunc reads the ifmibdata of one interface index.
type mibFunc func(index int) (MibData, error)

// assemble turns the IFLIST2 entries into the selected interfaces' counters,
// in index order. All counters come from mib (one 64-bit, consistent read
// per interface); the entries only say which interfaces exist and their
// names. An interface that vanished before its mib read, or whose index now
// belongs to another name, is left out of this read.
func assemble(ctx context.Context, entries []Entry, sel ifsel.Selector, mib mibFunc) ([]stats.InterfaceCounters, error) {
	entries = slices.Clone(entries)
	slices.SortStableFunc(entries, func(a, b Entry) int { return a.Index - b.Index })
	out := make([]stats.InterfaceCounters, 0, len(entries))
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// Without a sockaddr_dl name the selection has to wait for ifmd_name.
		if e.Name != "" && !sel.Match(e.Name) {
			continue
		}
		m, err := mib(e.Index)
		if errors.Is(err, errGone) {
			slog.Debug("sysctl: interface vanished during read", "index", e.Index, "name", e.Name)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("sysctl: ifmibdata of %q (index %d): %w", e.Name, e.Index, err)
		}
		name := e.Name
		switch {
		case name == "":
			if m.Name == "" || !sel.Match(m.Name) {
				continue
			}
			name = m.Name
		case m.Name != "" && m.Name != name:
			slog.Debug("sysctl: interface index reused during read", "index", e.Index, "listed", name, "now", m.Name)
			continue
		}
		errs := m.Errors
		out = append(out, stats.InterfaceCounters{
			Name:     name,
			Index:    e.Index,
			Counters: m.Counters,
			Errors:   &errs,
		})
	}
	return out, nil
}
