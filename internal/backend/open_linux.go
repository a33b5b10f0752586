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

// probe checks whether the named backend could run, without attaching.
func probe(name string, opts Options) (stats.Source, error) {
	switch name {
	case EBPF:
		if err := ebpf.Probe(); err != nil {
			return stats.Source{}, err
		}
		mode := opts.Attach
		if mode == attach.Auto {
			mode = attach.TCX
			if attach.TCXSupported() != nil {
				mode = attach.TC
			}
		}
		return stats.Source{Backend: EBPF, Attach: string(mode)}, nil
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
