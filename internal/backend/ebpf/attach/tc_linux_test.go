package attach

import (
	"errors"
	"slices"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
)

func TestTCXSupported(t *testing.T) {
	netnstest.NewPair(t) // privileged gate
	if err := TCXSupported(); err != nil {
		t.Fatalf("TCXSupported on a kernel with TCX: %v", err)
	}
}

// Each mode attaches on B, the program sees exactly the test traffic, and
// Close leaves the device as it was.
func TestTCAttachModes(t *testing.T) {
	for _, tt := range []struct {
		mode, want Mode
		dir        Direction
	}{
		{Auto, TCX, Ingress},
		{Auto, TCX, Egress},
		{TCX, TCX, Ingress},
		{TCX, TCX, Egress},
		{TC, TC, Ingress},
		{TC, TC, Egress},
	} {
		t.Run(string(tt.mode)+"/"+tt.dir.String(), func(t *testing.T) {
			p := netnstest.NewPair(t)
			c := newCounter(t, "netwatch_tc", ebpf.SchedCLS)
			var before string
			var l Link
			do(t, p.B, func() (err error) {
				if before, err = hookState(p.IndexB); err != nil {
					return err
				}
				l, err = TCAttach(p.IndexB, tt.dir, c.prog, tt.mode)
				return err
			})
			if l.Mode() != tt.want {
				t.Errorf("Mode() = %s, want %s", l.Mode(), tt.want)
			}
			do(t, p.B, func() error {
				during, err := hookState(p.IndexB)
				if err == nil && during == before {
					t.Errorf("device state unchanged while attached:\n%s", during)
				}
				return err
			})
			p.SendUDP(t, senderFor(tt.dir), 10, 100)
			if got := c.count(t); got != 10 {
				t.Errorf("program counted %d packets, want 10", got)
			}
			if err := l.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := l.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
			do(t, p.B, func() error {
				after, err := hookState(p.IndexB)
				if err == nil && after != before {
					t.Errorf("device state after Close:\n%s\nwant as before attach:\n%s", after, before)
				}
				return err
			})
			p.SendUDP(t, senderFor(tt.dir), 5, 100)
			if got := c.count(t); got != 10 {
				t.Errorf("program counted %d packets after Close, want still 10", got)
			}
		})
	}
}

func TestTCAttachErrors(t *testing.T) {
	p := netnstest.NewPair(t)
	c := newCounter(t, "netwatch_tc", ebpf.SchedCLS)
	const missing = 4242
	for _, tt := range []struct {
		name  string
		mode  Mode
		dir   Direction
		prog  *ebpf.Program
		errno error // nil: any error
	}{
		// A missing device is an error, not a reason to fall back.
		{"auto missing device", Auto, Ingress, c.prog, unix.ENODEV},
		{"tcx missing device", TCX, Egress, c.prog, unix.ENODEV},
		{"tc missing device", TC, Ingress, c.prog, nil},
		{"xdp is no tc mode", XDP, Ingress, c.prog, nil},
		{"bad direction", TCX, Direction(7), c.prog, nil},
		{"nil program", TCX, Ingress, nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			do(t, p.B, func() error {
				l, err := TCAttach(missing, tt.dir, tt.prog, tt.mode)
				if err == nil {
					l.Close()
					t.Fatal("attach succeeded")
				}
				if errors.Is(err, ebpf.ErrNotSupported) {
					t.Errorf("error claims not supported: %v", err)
				}
				if tt.errno != nil && !errors.Is(err, tt.errno) {
					t.Errorf("error %v, want %v", err, tt.errno)
				}
				return nil
			})
		})
	}
}

// Legacy tc next to someone else's clsact qdisc and filter: both remain
// and keep counting after our Close.
func TestTCLegacyForeignFilterSurvives(t *testing.T) {
	p := netnstest.NewPair(t)
	ours := newCounter(t, "netwatch_tc_in", ebpf.SchedCLS)
	foreign := newCounter(t, "foreign_tc", ebpf.SchedCLS)
	var l Link
	var before string
	do(t, p.B, func() (err error) {
		if err = addClsact(p.IndexB); err != nil {
			return err
		}
		if err = addForeignFilter(p.IndexB, Ingress, foreign.prog, "foreign_tc"); err != nil {
			return err
		}
		if before, err = hookState(p.IndexB); err != nil {
			return err
		}
		l, err = TCAttach(p.IndexB, Ingress, ours.prog, TC)
		return err
	})
	p.SendUDP(t, netnstest.A, 10, 64)
	if o, f := ours.count(t), foreign.count(t); o != 10 || f != 10 {
		t.Errorf("while attached: ours %d, foreign %d; want 10 and 10", o, f)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	do(t, p.B, func() error {
		after, err := hookState(p.IndexB)
		if err == nil && after != before {
			t.Errorf("after Close:\n%s\nwant:\n%s", after, before)
		}
		return err
	})
	p.SendUDP(t, netnstest.A, 10, 64)
	if o, f := ours.count(t), foreign.count(t); o != 10 || f != 20 {
		t.Errorf("after Close: ours %d, foreign %d; want 10 and 20", o, f)
	}
}

// Ingress and egress links share the clsact qdisc we created: it stays
// until the last of them closes.
func TestTCLegacySharedQdisc(t *testing.T) {
	p := netnstest.NewPair(t)
	in := newCounter(t, "netwatch_tc_in", ebpf.SchedCLS)
	eg := newCounter(t, "netwatch_tc_eg", ebpf.SchedCLS)
	var before string
	var lin, leg Link
	do(t, p.B, func() (err error) {
		if before, err = hookState(p.IndexB); err != nil {
			return err
		}
		if lin, err = TCAttach(p.IndexB, Ingress, in.prog, TC); err != nil {
			return err
		}
		leg, err = TCAttach(p.IndexB, Egress, eg.prog, TC)
		return err
	})
	if err := lin.Close(); err != nil {
		t.Fatal(err)
	}
	p.SendUDP(t, netnstest.B, 3, 10)
	if got := eg.count(t); got != 3 {
		t.Errorf("egress program counted %d after the ingress link closed, want 3", got)
	}
	if err := leg.Close(); err != nil {
		t.Fatal(err)
	}
	do(t, p.B, func() error {
		after, err := hookState(p.IndexB)
		if err == nil && after != before {
			t.Errorf("after both Close:\n%s\nwant:\n%s", after, before)
		}
		return err
	})
}

// A foreign TCX program keeps its place and keeps counting before, during
// and after ours.
func TestTCXCoexistence(t *testing.T) {
	p := netnstest.NewPair(t)
	ours := newCounter(t, "netwatch_tc_in", ebpf.SchedCLS)
	foreign := newCounter(t, "foreign_tcx", ebpf.SchedCLS)
	var fl link.Link
	do(t, p.B, func() (err error) {
		fl, err = link.AttachTCX(link.TCXOptions{Interface: p.IndexB, Program: foreign.prog, Attach: ebpf.AttachTCXIngress})
		return err
	})
	defer fl.Close()
	ids := func() []ebpf.ProgramID {
		var ids []ebpf.ProgramID
		do(t, p.B, func() (err error) {
			ids, err = tcxIDs(p.IndexB, Ingress)
			return err
		})
		return ids
	}

	p.SendUDP(t, netnstest.A, 5, 10)
	var l Link
	do(t, p.B, func() (err error) {
		l, err = TCAttach(p.IndexB, Ingress, ours.prog, TCX)
		return err
	})
	if got, want := ids(), []ebpf.ProgramID{ours.id(t), foreign.id(t)}; !slices.Equal(got, want) {
		t.Errorf("tcx ingress programs %v, want ours first %v", got, want)
	}
	p.SendUDP(t, netnstest.A, 7, 10)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	p.SendUDP(t, netnstest.A, 3, 10)
	if o, f := ours.count(t), foreign.count(t); o != 7 || f != 15 {
		t.Errorf("ours counted %d (want 7), foreign %d (want 15)", o, f)
	}
	if got, want := ids(), []ebpf.ProgramID{foreign.id(t)}; !slices.Equal(got, want) {
		t.Errorf("tcx ingress programs after Close %v, want %v", got, want)
	}
}
