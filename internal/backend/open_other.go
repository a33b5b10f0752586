//go:build !linux && !darwin

package backend

import (
	"context"
	"fmt"

	"github.com/netwatch-dev/netwatch/internal/backend/procfs"
)

// preference is the order auto tries: a procfs mount is the only source
// netwatch knows outside Linux and macOS.
var preference = []string{Procfs}

func openNamed(_ context.Context, name string, opts Options) (Backend, error) {
	switch name {
	case Procfs:
		return procfs.Open(procfs.Options{Root: opts.ProcRoot, Selector: opts.Selector})
	case EBPF, Netlink, Sysctl:
		return nil, fmt.Errorf("%w: %s", ErrUnavailable, name)
	}
	return nil, fmt.Errorf("unknown backend %q", name)
}
