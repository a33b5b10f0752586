package backend

import (
	"context"
	"fmt"

	"github.com/netwatch-dev/netwatch/internal/backend/ebpf"
	"github.com/netwatch-dev/netwatch/internal/backend/ebpf/attach"
	"github.com/netwatch-dev/netwatch/internal/backend/netlink"
	"github.com/netwatch-dev/netwatch/internal/backend/procfs"
	"github.com/netwatch-dev/netwatch/internal/backend/sysctl"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

// preference is the order auto tries: exact per-packet counters, then the
// kernel's counters in one netlink dump, then /proc/net/dev as the last
// resort (a kernel before 4.7, a seccomp filter without netlink sockets).
var preference = []string{EBPF, Netlink, Procfs}

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
	case Netlink:
		return netlink.Open(netlink.Options{Selector: opts.Selector})
	case Procfs:
		return openProcfs(opts)
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
	case Netlink, Procfs:
		var src stats.Source
		err := opts.Netns.Do(func() error {
			b, err := openNamed(context.Background(), name, opts)
			if err != nil {
				return err
			}
			src = b.Source()
			return b.Close()
		})
		return src, err
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
	var err error
	if nerr := opts.Netns.Do(func() error {
		err = ebpf.AttachProblem(attach.Mode(plan.Source.Attach), opts.XDPMode, ifindex)
		return nil
	}); nerr != nil {
		return nerr
	}
	return err
}

// openProcfs opens /proc/net/dev, of opts.Netns when one is named: the
// calling thread is then in it (Netns.Do), so /proc/thread-self/net/dev is
// the namespace's, and the file stays bound to it once open. Indexes come
// from link events subscribed to in the same namespace (procfs.Open).
func openProcfs(opts Options) (Backend, error) {
	o := procfs.Options{Root: opts.ProcRoot, Selector: opts.Selector}
	if opts.Netns.Set() && (o.Root == "" || o.Root == procfs.DefaultRoot) {
		o.Root = "/proc/thread-self"
	}
	return procfs.Open(o)
}
