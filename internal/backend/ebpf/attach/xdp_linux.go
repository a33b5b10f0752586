package attach

import (
	"errors"
	"fmt"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

type xdpLink struct {
	once sync.Once
	l    link.Link
	err  error
}

func (x *xdpLink) Mode() Mode { return XDP }

func (x *xdpLink) Close() error {
	x.once.Do(func() {
		if err := x.l.Close(); err != nil {
			x.err = fmt.Errorf("attach: close xdp link: %w", err)
		}
	})
	return x.err
}

// XDPAttach attaches prog to ifindex in driver or generic mode through a
// bpf_link, which the kernel removes when the process exits. It never
// replaces a program: if one is attached (in any mode), it returns an error
// wrapping ErrXDPBusy that names it. The check before attaching gives the
// message; the kernel's refusal to let a bpf_link replace an attached
// program (EBUSY/EEXIST) closes the race with a concurrent attach.
//
// Driver mode on veth needs no program on the peer: it only requires the
// peer's MTU to fit one page with XDP headroom (the default 1500 does)
// and at least as many rx queues as the peer has tx queues.
func XDPAttach(ifindex int, prog *ebpf.Program, mode XDPMode) (Link, error) {
	if prog == nil {
		return nil, errors.New("attach: nil program")
	}
	var flags link.XDPAttachFlags
	switch mode {
	case XDPDriver:
		flags = link.XDPDriverMode
	case XDPGeneric:
		flags = link.XDPGenericMode
	default:
		return nil, fmt.Errorf("attach: unknown XDP mode %q", mode)
	}
	if err := xdpFree(ifindex); err != nil {
		return nil, err
	}
	l, err := link.AttachXDP(link.XDPOptions{Program: prog, Interface: ifindex, Flags: flags})
	if err != nil {
		if errors.Is(err, unix.EBUSY) || errors.Is(err, unix.EEXIST) {
			if berr := xdpFree(ifindex); berr != nil {
				return nil, berr
			}
			return nil, fmt.Errorf("attach: xdp on ifindex %d: %w: %w", ifindex, ErrXDPBusy, err)
		}
		return nil, fmt.Errorf("attach: xdp %s on ifindex %d: %w", mode, ifindex, err)
	}
	return &xdpLink{l: l}, nil
}

// xdpFree returns nil if no XDP program is attached to ifindex, else an
// error wrapping ErrXDPBusy that names the interface and the program.
func xdpFree(ifindex int) error {
	l, err := netlink.LinkByIndex(ifindex)
	if err != nil {
		return fmt.Errorf("attach: xdp: ifindex %d: %w", ifindex, err)
	}
	x := l.Attrs().Xdp
	if x == nil || !x.Attached {
		return nil
	}
	desc := "unknown program"
	if x.ProgId != 0 {
		desc = fmt.Sprintf("program id %d", x.ProgId)
		if p, err := ebpf.NewProgramFromID(ebpf.ProgramID(x.ProgId)); err == nil {
			if info, err := p.Info(); err == nil {
				desc += fmt.Sprintf(" %q", info.Name)
			}
			p.Close()
		}
	}
	return fmt.Errorf("attach: xdp on %s (ifindex %d): %w: %s attached in %s mode",
		l.Attrs().Name, ifindex, ErrXDPBusy, desc, xdpAttachMode(x.AttachMode))
}

// xdpAttachMode names IFLA_XDP_ATTACHED values (enum in
// include/uapi/linux/if_link.h).
func xdpAttachMode(m uint32) string {
	switch m {
	case 1:
		return "driver"
	case 2:
		return "generic"
	case 3:
		return "offload"
	case 4:
		return "several"
	}
	return fmt.Sprintf("unknown (%d)", m)
}

// XDPInUse returns nil when no XDP program is attached to ifindex, else an
// error wrapping ErrXDPBusy that names the program (for `netwatch list`).
func XDPInUse(ifindex int) error { return xdpFree(ifindex) }
