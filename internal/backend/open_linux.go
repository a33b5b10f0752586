package backend

import (
	"context"
	"fmt"

	"github.com/netwatch-dev/netwatch/internal/backend/ebpf"
	"github.com/netwatch-dev/netwatch/internal/backend/ebpf/attach"
	"github.com/netwatch-dev/netwatch/internal/backend/procfs"
	"github.com/netwatch-dev/netwatch/internal/backend/sysctl"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

// preference is the order auto tries.
var preference = []string{EBPF, Procfs}

func openNamed(ctx context.Context, name string, opts Options) (Backend, error) {
	switch name {
	case EBPF:
		return ebpf.Open(ctx, ebpf.Config{
			Selector:   opts.Selector,
			Attach:     opts.Attach,
			XDPMode:    opts.XDPMode,
			Resolution: opts.Resolution,
			BinsMemory: opts.BinsMemory,
		})
	case Procfs:
		return procfs.Open(procfs.Options{Root: opts.ProcRoot, Selector: opts.Selector})
	case Sysctl:
		return sysctl.Open(opts.Selector)
	}
	return nil, fmt.Errorf("unknown backend %q", name)
}

// canFallBack reports whether err, from hostCheck of the named backend,
// lets auto move on to the next backend: only when the backend cannot run
// on this host at all. An attach mode the host lacks is an error.
func canFallBack(name string, err error) bool {
	return name != EBPF || ebpf.CannotRunHere(err)
}

// hostCheck checks that the named backend can run as opts ask, without
// attaching, and says how (for ebpf: the attach mode).
func hostCheck(name string, opts Options) (stats.Source, error) {
	switch name {
	case EBPF:
		return ebpf.Check(opts.Attach)
	case Procfs:
		b, err := procfs.Open(procfs.Options{Root: opts.ProcRoot, Selector: opts.Selector})
		if err != nil {
			return stats.Source{}, err
		}
		return b.Source(), b.Close()
	case Sysctl:
		_, err := sysctl.Open(opts.Selector)
		return stats.Source{}, err // never succeeds on Linux
	}
	return stats.Source{}, fmt.Errorf("unknown backend %q", name)
}

// AttachProblem says why Open with plan would fail on the interface ifindex
// (a busy XDP hook, a device without native XDP), without attaching; nil
// when nothing is known to stand in the way.
func AttachProblem(plan Plan, opts Options, ifindex int) error {
	if plan.Source.Backend != EBPF {
		return nil
	}
	return ebpf.AttachProblem(attach.Mode(plan.Source.Attach), opts.XDPMode, ifindex)
}
