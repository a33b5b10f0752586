package attach

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

var tcxProbe struct {
	sync.Mutex
	done bool
	err  error
}

// TCXSupported returns nil when the kernel can attach TCX links, an error
// wrapping ebpf.ErrNotSupported when it cannot, and any other error (for
// example EPERM) when the probe itself failed. Only conclusive results are
// cached.
func TCXSupported() error {
	tcxProbe.Lock()
	defer tcxProbe.Unlock()
	if tcxProbe.done {
		return tcxProbe.err
	}
	err := probeTCX()
	if err == nil || errors.Is(err, ebpf.ErrNotSupported) {
		tcxProbe.done, tcxProbe.err = true, err
	}
	return err
}

// probeTCX creates a TCX link to an interface index that cannot exist:
// ENODEV means the kernel understood the attach type, EINVAL that it did
// not (like cilium/ebpf's internal probe, but without turning EPERM into
// "not supported").
func probeTCX() error {
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:         "netwatch_probe",
		Type:         ebpf.SchedCLS,
		License:      "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, -1), asm.Return()},
	})
	if err != nil {
		return fmt.Errorf("attach: tcx probe: load program: %w", err)
	}
	defer prog.Close()
	l, err := link.AttachRawLink(link.RawLinkOptions{
		Target:  math.MaxInt32, // fits int on 32-bit GOARCHes
		Program: prog,
		Attach:  ebpf.AttachTCXIngress,
	})
	switch {
	case err == nil:
		l.Close()
		return errors.New("attach: tcx probe: attach to ifindex 2^31-1 succeeded unexpectedly")
	case errors.Is(err, unix.ENODEV):
		return nil
	case errors.Is(err, unix.EINVAL), errors.Is(err, ebpf.ErrNotSupported):
		return fmt.Errorf("attach: tcx: %w", ebpf.ErrNotSupported)
	}
	return fmt.Errorf("attach: tcx probe: %w", err)
}

type tcxLink struct {
	once sync.Once
	l    link.Link
	err  error
}

func (t *tcxLink) Mode() Mode { return TCX }

func (t *tcxLink) Close() error {
	t.once.Do(func() {
		if err := t.l.Close(); err != nil {
			t.err = fmt.Errorf("attach: close tcx link: %w", err)
		}
	})
	return t.err
}

// attachTCX attaches prog at the head of the TCX chain, so it sees every
// packet before another program can end the chain (TCX_PASS, TCX_DROP).
func attachTCX(ifindex int, dir Direction, prog *ebpf.Program) (Link, error) {
	at := ebpf.AttachTCXIngress
	if dir == Egress {
		at = ebpf.AttachTCXEgress
	}
	l, err := link.AttachTCX(link.TCXOptions{
		Interface: ifindex,
		Program:   prog,
		Attach:    at,
		Anchor:    link.Head(),
	})
	if err != nil {
		return nil, fmt.Errorf("attach: tcx %s on ifindex %d: %w", dir, ifindex, err)
	}
	return &tcxLink{l: l}, nil
}
