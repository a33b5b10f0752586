package sysctl

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/netwatch-dev/netwatch/internal/ifsel"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

// fakeMib serves ifmibdata from a table keyed by index, going through the
// real parser; a missing index is errGone, as ENOENT is on darwin.
func fakeMib(t *testing.T, byIndex map[int]iface, calls *[]int) mibFunc {
	return func(index int) (MibData, error) {
		*calls = append(*calls, index)
		f, ok := byIndex[index]
		if !ok {
			return MibData{}, errGone
		}
		return ParseIfmibData(ifmib(t, f))
	}
}

func TestAssemble(t *testing.T) {
	lo, en, ut := fixtureIfaces[0], fixtureIfaces[1], fixtureIfaces[2]
	// IFLIST2 truncates bytes at 32 bits; the mib side has the real values.
	trunc := func(f iface) iface { f.ibytes &= 0xffffffff; f.obytes &= 0xffffffff; return f }
	listed := []Entry{wantEntry(trunc(ut)), wantEntry(trunc(lo)), wantEntry(trunc(en))}
	all := map[int]iface{1: lo, 4: en, 9: ut}
	ic := func(f iface) stats.InterfaceCounters {
		e := errorsOf(f)
		return stats.InterfaceCounters{Name: f.name, Index: int(f.index), Counters: countersOf(f), Errors: &e}
	}
	sel := func(inc, exc []string) ifsel.Selector {
		s, err := ifsel.New(inc, exc)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	renamed := en
	renamed.name = "bridge0"
	tests := []struct {
		name      string
		entries   []Entry
		sel       ifsel.Selector
		mib       map[int]iface
		want      []stats.InterfaceCounters
		wantCalls []int
	}{
		{"all, index order, 64-bit bytes from mib", listed, ifsel.Selector{}, all,
			[]stats.InterfaceCounters{ic(lo), ic(en), ic(ut)}, []int{1, 4, 9}},
		{"include glob", listed, sel([]string{"en*,utun*"}, nil), all,
			[]stats.InterfaceCounters{ic(en), ic(ut)}, []int{4, 9}},
		{"exclude", listed, sel(nil, []string{"lo0"}), all,
			[]stats.InterfaceCounters{ic(en), ic(ut)}, []int{4, 9}},
		{"nothing selected, no mib reads", listed, sel([]string{"wlan*"}, nil), all,
			[]stats.InterfaceCounters{}, nil},
		{"vanished interface skipped", listed, ifsel.Selector{}, map[int]iface{1: lo, 9: ut},
			[]stats.InterfaceCounters{ic(lo), ic(ut)}, []int{1, 4, 9}},
		{"index reused by another name skipped", listed, ifsel.Selector{}, map[int]iface{1: lo, 4: renamed, 9: ut},
			[]stats.InterfaceCounters{ic(lo), ic(ut)}, []int{1, 4, 9}},
		{"no sockaddr name: ifmd_name used and selected on", []Entry{{Index: 4}, {Index: 1}},
			sel([]string{"en0"}, nil), all, []stats.InterfaceCounters{ic(en)}, []int{1, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls []int
			got, err := assemble(context.Background(), tt.entries, tt.sel, fakeMib(t, tt.mib, &calls))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got, tt.want, equalIC) {
				t.Errorf("got  %s\nwant %s", fmtIC(got), fmtIC(tt.want))
			}
			if !slices.Equal(calls, tt.wantCalls) {
				t.Errorf("mib reads %v, want %v", calls, tt.wantCalls)
			}
		})
	}
}

func TestAssembleErrors(t *testing.T) {
	entries := []Entry{wantEntry(fixtureIfaces[0]), wantEntry(fixtureIfaces[1])}
	boom := errors.New("EPERM")
	_, err := assemble(context.Background(), entries, ifsel.Selector{}, func(int) (MibData, error) {
		return MibData{}, boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("mib failure: error %v, want it to wrap %v", err, boom)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = assemble(ctx, entries, ifsel.Selector{}, func(int) (MibData, error) {
		t.Error("mib read after cancel")
		return MibData{}, nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: error %v, want context.Canceled", err)
	}
}

func equalIC(a, b stats.InterfaceCounters) bool {
	if a.Name != b.Name || a.Index != b.Index || a.Counters != b.Counters || (a.Errors == nil) != (b.Errors == nil) {
		return false
	}
	return a.Errors == nil || *a.Errors == *b.Errors
}

func fmtIC(ics []stats.InterfaceCounters) string {
	s := "["
	for _, c := range ics {
		s += fmt.Sprintf("{%s %d %+v %+v} ", c.Name, c.Index, c.Counters, *c.Errors)
	}
	return s + "]"
}
