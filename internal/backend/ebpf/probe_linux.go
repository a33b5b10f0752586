package ebpf

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/rlimit"
	"github.com/netwatch-dev/netwatch/internal/backend/ebpf/attach"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

// hostError marks an error that means the ebpf backend cannot run on this
// host at all (no privileges, a kernel without what the programs need), as
// opposed to a failure of one attach mode or one interface.
type hostError struct{ err error }

func (e hostError) Error() string { return e.err.Error() }
func (e hostError) Unwrap() error { return e.err }

// CannotRunHere reports whether err (from Check or Probe) means that the
// ebpf backend cannot run on this host at all: the only case in which
// `--backend auto` falls back to another backend.
func CannotRunHere(err error) bool {
	var h hostError
	return errors.As(err, &h)
}

// Check reports how the backend would attach with mode, attaching nothing:
// it loads the maps and the tc programs (which needs CAP_BPF and
// CAP_NET_ADMIN and a kernel whose verifier accepts them; BTF is not
// needed), checks that tc programs can attach (TCX or legacy tc), and with
// mode xdp also loads the XDP program. Errors for which CannotRunHere is true
// mean eBPF cannot run here; others mean mode cannot.
func Check(mode attach.Mode) (stats.Source, error) {
	if mode == "" {
		mode = attach.Auto
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		return stats.Source{}, hostError{memlockError(err)}
	}
	o, err := loadObjectsFor(0, 0, 0, false)
	if err != nil {
		return stats.Source{}, hostError{err}
	}
	o.Close()
	tcMode, err := tcModeFor(mode)
	if err != nil {
		if mode == attach.TCX && errors.Is(err, ebpf.ErrNotSupported) {
			return stats.Source{}, err // the kernel has tc, only not TCX
		}
		return stats.Source{}, hostError{err}
	}
	src := stats.Source{Backend: Name, Attach: string(tcMode)}
	if mode == attach.XDP {
		o, err := loadObjectsFor(0, 0, 0, true)
		if err != nil {
			return stats.Source{}, fmt.Errorf("ebpf: --attach xdp: %w (XDP counting needs Linux 5.18 or newer)", err)
		}
		o.Close()
		src.Attach = string(attach.XDP)
	}
	slog.Debug("ebpf: can run", "attach", src.Attach, "tc", tcMode)
	return src, nil
}

// Probe reports whether the ebpf backend can run here with the default
// attach mode (see Check).
func Probe() error {
	_, err := Check(attach.Auto)
	return err
}

// AttachProblem says why attaching with mode and xdpMode would fail on
// ifindex, without attaching: with XDP, a hook another program holds, or a
// device without native XDP in driver mode. nil when nothing is known to
// stand in the way.
func AttachProblem(mode attach.Mode, xdpMode attach.XDPMode, ifindex int) error {
	if mode != attach.XDP {
		return nil // TCX and legacy tc share the hook with other programs
	}
	if err := attach.XDPInUse(ifindex); err != nil {
		return err
	}
	if xdpMode == attach.XDPGeneric {
		return nil
	}
	if ok, known := attach.NativeXDP(ifindex); known && !ok {
		return attach.ErrNoNativeXDP
	}
	return nil
}
