package attach

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"

	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
)

// xdpAttached returns the id and IFLA_XDP_ATTACHED mode of the XDP program
// on ifindex (0, 0 if none), in the calling thread's namespace.
func xdpAttached(ifindex int) (uint32, uint32, error) {
	l, err := netlink.LinkByIndex(ifindex)
	if err != nil {
		return 0, 0, err
	}
	if x := l.Attrs().Xdp; x != nil && x.Attached {
		return x.ProgId, x.AttachMode, nil
	}
	return 0, 0, nil
}

// Both modes attach on a veth (driver mode with nothing on the peer), see
// exactly the traffic, and leave nothing behind.
func TestXDPAttachModes(t *testing.T) {
	for _, tt := range []struct {
		mode       XDPMode
		attachMode uint32 // IFLA_XDP_ATTACHED
	}{
		{XDPDriver, 1},
		{XDPGeneric, 2},
	} {
		t.Run(string(tt.mode), func(t *testing.T) {
			p := netnstest.NewPair(t)
			c := newCounter(t, "netwatch_xdp", ebpf.XDP)
			var l Link
			do(t, p.B, func() (err error) {
				if l, err = XDPAttach(p.IndexB, c.prog, tt.mode); err != nil {
					return err
				}
				id, mode, err := xdpAttached(p.IndexB)
				if err == nil && (id != uint32(c.id(t)) || mode != tt.attachMode) {
					t.Errorf("attached: program %d mode %d, want %d mode %d", id, mode, c.id(t), tt.attachMode)
				}
				return err
			})
			if l.Mode() != XDP {
				t.Errorf("Mode() = %s, want xdp", l.Mode())
			}
			p.SendUDP(t, netnstest.A, 20, 200)
			if got := c.count(t); got != 20 {
				t.Errorf("program counted %d packets, want 20", got)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if err := l.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
			do(t, p.B, func() error {
				id, _, err := xdpAttached(p.IndexB)
				if err == nil && id != 0 {
					t.Errorf("program %d still attached after Close", id)
				}
				return err
			})
		})
	}
}

// A foreign XDP program, whatever its mode, makes XDPAttach fail with
// ErrXDPBusy and stays attached.
func TestXDPBusy(t *testing.T) {
	flags := map[XDPMode]link.XDPAttachFlags{XDPDriver: link.XDPDriverMode, XDPGeneric: link.XDPGenericMode}
	for _, foreignMode := range []XDPMode{XDPDriver, XDPGeneric} {
		for _, ourMode := range []XDPMode{XDPDriver, XDPGeneric} {
			t.Run(fmt.Sprintf("foreign %s, ours %s", foreignMode, ourMode), func(t *testing.T) {
				p := netnstest.NewPair(t)
				foreign := newCounter(t, "foreign_xdp", ebpf.XDP)
				ours := newCounter(t, "netwatch_xdp", ebpf.XDP)
				do(t, p.B, func() error {
					fl, err := link.AttachXDP(link.XDPOptions{Program: foreign.prog, Interface: p.IndexB, Flags: flags[foreignMode]})
					if err != nil {
						return err
					}
					t.Cleanup(func() { fl.Close() })
					l, err := XDPAttach(p.IndexB, ours.prog, ourMode)
					if err == nil {
						l.Close()
						t.Fatal("XDPAttach succeeded over a foreign program")
					}
					if !errors.Is(err, ErrXDPBusy) {
						t.Errorf("error %v does not wrap ErrXDPBusy", err)
					}
					for _, want := range []string{p.IfB, "foreign_xdp", fmt.Sprint(foreign.id(t))} {
						if !strings.Contains(err.Error(), want) {
							t.Errorf("error %q does not name %q", err, want)
						}
					}
					id, _, err := xdpAttached(p.IndexB)
					if err == nil && id != uint32(foreign.id(t)) {
						t.Errorf("attached program %d, want the foreign %d", id, foreign.id(t))
					}
					return err
				})
				p.SendUDP(t, netnstest.A, 4, 10)
				if f, o := foreign.count(t), ours.count(t); f != 4 || o != 0 {
					t.Errorf("foreign counted %d (want 4), ours %d (want 0)", f, o)
				}
			})
		}
	}
}

func TestXDPAttachErrors(t *testing.T) {
	p := netnstest.NewPair(t)
	c := newCounter(t, "netwatch_xdp", ebpf.XDP)
	tc := newCounter(t, "netwatch_tc", ebpf.SchedCLS)
	for _, tt := range []struct {
		name    string
		ifindex int
		prog    *ebpf.Program
		mode    XDPMode
	}{
		{"missing device", 4242, c.prog, XDPGeneric},
		{"bad mode", p.IndexB, c.prog, "offload"},
		{"nil program", p.IndexB, nil, XDPGeneric},
		{"tc program", p.IndexB, tc.prog, XDPGeneric},
	} {
		t.Run(tt.name, func(t *testing.T) {
			do(t, p.B, func() error {
				l, err := XDPAttach(tt.ifindex, tt.prog, tt.mode)
				if err == nil {
					l.Close()
					t.Error("XDPAttach succeeded")
				} else if errors.Is(err, ErrXDPBusy) {
					t.Errorf("error %v claims busy", err)
				}
				return nil
			})
		})
	}
}
