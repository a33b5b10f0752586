package attach

import (
	"slices"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/vishvananda/netlink"

	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
)

// crash forgets a legacy tc link the way a killed process does: the filter,
// the qdisc and its record stay; the process's bookkeeping, sockets and
// locks are gone.
func crash(t *testing.T, l Link) {
	t.Helper()
	tl := l.(*tcLink)
	clsacts.Lock()
	if use := clsacts.m[tl.key]; use != nil && use.rec != nil {
		use.rec.close()
	}
	delete(clsacts.m, tl.key)
	clsacts.Unlock()
	tl.nl.Close()
}

// ourSlotFilter adds a filter at netwatch's priority and handle with the
// given filter name, like an older netwatch might have.
func ourSlotFilter(ifindex int, dir Direction, prog *ebpf.Program, name string) error {
	return netlink.FilterAdd(&netlink.BpfFilter{
		FilterAttrs: netlink.FilterAttrs{LinkIndex: ifindex, Parent: parentOf(dir),
			Handle: FilterHandle, Priority: FilterPriority, Protocol: 0x0003},
		Fd: prog.FD(), Name: name, DirectAction: true,
	})
}

func TestCleanStale(t *testing.T) {
	for _, tt := range []struct {
		name string
		// setup runs inside B with a foreign filter on ingress; it returns
		// the programs that play netwatch's.
		setup       func(t *testing.T, p *netnstest.Pair) []*counter
		keepOpen    bool // our programs stay open: a live netwatch
		wantRemoved int
		wantIngress []string // filter names left, sorted
		wantEgress  []string
	}{
		{
			name: "crashed netwatch on both hooks",
			setup: func(t *testing.T, p *netnstest.Pair) []*counter {
				in, eg := newCounter(t, "netwatch_tc_in", ebpf.SchedCLS), newCounter(t, "netwatch_tc_eg", ebpf.SchedCLS)
				for _, x := range []struct {
					dir Direction
					c   *counter
				}{{Ingress, in}, {Egress, eg}} {
					l, err := TCAttach(p.IndexB, x.dir, x.c.prog, TC)
					if err != nil {
						t.Fatal(err)
					}
					crash(t, l)
				}
				return []*counter{in, eg}
			},
			wantRemoved: 2,
			wantIngress: []string{"foreign_tc"},
		},
		{
			name: "live netwatch is left alone",
			setup: func(t *testing.T, p *netnstest.Pair) []*counter {
				in := newCounter(t, "netwatch_tc_in", ebpf.SchedCLS)
				l, err := TCAttach(p.IndexB, Ingress, in.prog, TC)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { l.Close() })
				return []*counter{in}
			},
			keepOpen:    true,
			wantIngress: []string{"foreign_tc", "netwatch_tc_in"},
		},
		{
			name: "recognised by program name",
			setup: func(t *testing.T, p *netnstest.Pair) []*counter {
				c := newCounter(t, "netwatch_tc_eg", ebpf.SchedCLS)
				if err := ourSlotFilter(p.IndexB, Egress, c.prog, "renamed"); err != nil {
					t.Fatal(err)
				}
				return []*counter{c}
			},
			wantRemoved: 1,
			wantIngress: []string{"foreign_tc"},
		},
		{
			name: "recognised by filter name",
			setup: func(t *testing.T, p *netnstest.Pair) []*counter {
				c := newCounter(t, "other_prog", ebpf.SchedCLS)
				if err := ourSlotFilter(p.IndexB, Ingress, c.prog, "netwatch_tc_in"); err != nil {
					t.Fatal(err)
				}
				return []*counter{c}
			},
			wantRemoved: 1,
			wantIngress: []string{"foreign_tc"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := netnstest.NewPair(t)
			foreign := newCounter(t, "foreign_tc", ebpf.SchedCLS)
			do(t, p.B, func() error {
				if err := addClsact(p.IndexB); err != nil {
					return err
				}
				return addForeignFilter(p.IndexB, Ingress, foreign.prog, "foreign_tc")
			})
			var ours []*counter
			do(t, p.B, func() error {
				ours = tt.setup(t, p)
				return nil
			})
			if !tt.keepOpen {
				// The filters keep the programs loaded; no process holds them.
				for _, c := range ours {
					c.prog.Close()
				}
			}
			do(t, p.B, func() error {
				removed, err := CleanStale(p.IndexB, DefaultNamePrefix)
				if err != nil {
					return err
				}
				if removed != tt.wantRemoved {
					t.Errorf("removed %d, want %d", removed, tt.wantRemoved)
				}
				for _, x := range []struct {
					dir  Direction
					want []string
				}{{Ingress, tt.wantIngress}, {Egress, tt.wantEgress}} {
					fs, err := bpfFilters(p.IndexB, x.dir)
					if err != nil {
						return err
					}
					if got := filterNames(fs); !slices.Equal(got, x.want) {
						t.Errorf("%s filters left: %v, want %v", x.dir, got, x.want)
					}
				}
				return nil
			})
			p.SendUDP(t, netnstest.A, 6, 10)
			if got := foreign.count(t); got != 6 {
				t.Errorf("foreign filter counted %d after CleanStale, want 6", got)
			}
		})
	}
}

func TestCleanStaleNothingToDo(t *testing.T) {
	p := netnstest.NewPair(t)
	do(t, p.B, func() error {
		if _, err := CleanStale(p.IndexB, ""); err == nil {
			t.Error("empty prefix accepted")
		}
		before, err := hookState(p.IndexB)
		if err != nil {
			return err
		}
		removed, err := CleanStale(p.IndexB, DefaultNamePrefix)
		if err != nil || removed != 0 {
			t.Errorf("without clsact: removed %d, err %v; want 0, nil", removed, err)
		}
		after, err := hookState(p.IndexB)
		if err == nil && after != before {
			t.Errorf("CleanStale changed the device:\n%s\nwas:\n%s", after, before)
		}
		return err
	})
}
