package backend

import (
	"context"
	"fmt"

	"github.com/netwatch-dev/netwatch/internal/backend/sysctl"
)

// preference is the order auto tries.
var preference = []string{Sysctl}

func openNamed(_ context.Context, name string, opts Options) (Backend, error) {
	switch name {
	case Sysctl:
		return sysctl.Open(opts.Selector)
	case EBPF, Netlink, Procfs:
		return nil, fmt.Errorf("%w: %s needs Linux", ErrUnavailable, name)
	}
	return nil, fmt.Errorf("unknown backend %q", name)
}
