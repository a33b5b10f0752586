package ebpf

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/netwatch-dev/netwatch/internal/backend/ebpf/attach"
	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
	"github.com/netwatch-dev/netwatch/internal/testutil/privileged"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// goneIndex is an ifindex no test namespace has.
const goneIndex = 1 << 20

// TestVanished classifies errors from watching an interface: those of a
// device that is gone are skipped, everything else stays an error.
func TestVanished(t *testing.T) {
	privileged.Need(t)
	p := netnstest.NewPair(t)
	tests := []struct {
		name  string
		err   error
		index int
		want  bool
	}{
		{"nil", nil, goneIndex, false},
		{"ENODEV", fmt.Errorf("attach: tcx: %w", unix.ENODEV), p.IndexA, true},
		{"link not found", fmt.Errorf("attach: xdp: %w", netlink.LinkNotFoundError{}), p.IndexA, true},
		{"EINVAL, device gone", fmt.Errorf("attach: xdp: %w", unix.EINVAL), goneIndex, true},
		{"EINVAL, device there", fmt.Errorf("attach: xdp: %w", unix.EINVAL), p.IndexA, false},
		{"EPERM, device there", fmt.Errorf("attach: tcx: %w", unix.EPERM), p.IndexA, false},
		{"XDP busy", fmt.Errorf("attach: %w", attach.ErrXDPBusy), p.IndexA, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got bool
			if err := p.A.Do(func() error { got = vanished(tt.err, tt.index); return nil }); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("vanished(%v, %d) = %v, want %v", tt.err, tt.index, got, tt.want)
			}
		})
	}
}

// TestWatchAllSkipsVanished: an interface listed at Open but gone before
// its attach is skipped in every attach mode (the real attach errors are
// classified as vanished), while a hard error (a busy XDP hook) still fails.
func TestWatchAllSkipsVanished(t *testing.T) {
	privileged.Need(t)
	gone := &netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Name: "nw-gone", Index: goneIndex}}
	for _, m := range attachModes[:3] {
		t.Run(m.name, func(t *testing.T) {
			p := netnstest.NewPair(t)
			b := openIn(t, p.A, p.IfA, Config{Attach: m.mode, XDPMode: m.xdp})
			err := p.A.Do(func() error {
				if err := b.watch(gone.Name, gone.Index); err == nil || !vanished(err, gone.Index) {
					t.Errorf("watch of a missing interface: %v, want an error classified as vanished", err)
				}
				ns, err := netns.Get()
				if err != nil {
					return err
				}
				defer ns.Close()
				return b.watchAll(context.Background(), ns, []netlink.Link{gone})
			})
			if err != nil {
				t.Fatalf("watchAll with a vanished interface: %v", err)
			}
			if got := names(t, b); !slices.Equal(got, []string{p.IfA}) {
				t.Errorf("watching %v, want [%s]", got, p.IfA)
			}
		})
	}
	t.Run("hard error", func(t *testing.T) {
		p := netnstest.NewPair(t)
		b := openIn(t, p.A, p.IfA, Config{Attach: attach.XDP, XDPMode: attach.XDPGeneric})
		busy := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "nw-busy"}, PeerName: "nw-busy-p"}
		if err := p.A.Netlink().LinkAdd(busy); err != nil {
			t.Fatal(err)
		}
		l, err := p.A.Netlink().LinkByName(busy.Name)
		if err != nil {
			t.Fatal(err)
		}
		prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
			Type: ebpf.XDP, License: "GPL",
			Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 2), asm.Return()}, // XDP_PASS
		})
		if err != nil {
			t.Fatal(err)
		}
		defer prog.Close()
		err = p.A.Do(func() error {
			xl, err := link.AttachXDP(link.XDPOptions{Program: prog, Interface: l.Attrs().Index, Flags: link.XDPGenericMode})
			if err != nil {
				return err
			}
			defer xl.Close()
			ns, err := netns.Get()
			if err != nil {
				return err
			}
			defer ns.Close()
			werr := b.watchAll(context.Background(), ns, []netlink.Link{gone, l})
			if !errors.Is(werr, attach.ErrXDPBusy) {
				t.Errorf("watchAll with a busy XDP hook: %v, want ErrXDPBusy", werr)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
