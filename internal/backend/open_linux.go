package backend

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strconv"

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
	var ne netnsError
	return name != EBPF || ebpf.CannotRunHere(err) || errors.As(err, &ne)
}

// netnsError is a failure to open or enter --netns (no CAP_SYS_ADMIN, no
// CAP_SYS_PTRACE for another user's pid:PID): auto moves on, since procfs
// may read pid:PID without entering.
type netnsError struct{ err error }

func (e netnsError) Error() string { return e.err.Error() }
func (e netnsError) Unwrap() error { return e.err }

// hostCheck checks that the named backend can run as opts ask, without
// attaching, and says how (for ebpf: the attach mode).
func hostCheck(name string, opts Options) (stats.Source, error) {
	switch name {
	case EBPF:
		// In the namespace it will attach in: entering it is the first
		// thing that needs a privilege there.
		var src stats.Source
		var err error
		ran := false
		if nerr := opts.Netns.Do(func() error {
			ran = true
			src, err = ebpf.Check(opts.Attach)
			return nil
		}); nerr != nil && !ran {
			return src, netnsError{nerr}
		}
		return src, err
	case Netlink, Procfs:
		var src stats.Source
		err := opts.enter(name, func() error {
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

// openProcfs opens /proc/net/dev, of opts.Netns when one is named. For
// pid:PID it reads /proc/PID/net/dev from where it is, entering nothing
// (see openProcfsPID). Otherwise the calling thread is in the namespace
// (Netns.Do), so /proc/thread-self/net/dev is the namespace's, and the file
// stays bound to it once open; indexes come from link events subscribed to
// in the same namespace (procfs.Open).
func openProcfs(opts Options) (Backend, error) {
	o := procfs.Options{Root: opts.ProcRoot, Selector: opts.Selector}
	if !opts.Netns.Set() {
		return procfs.Open(o)
	}
	if opts.Netns.PID != 0 {
		return openProcfsPID(o, opts.Netns)
	}
	if o.Root == "" || o.Root == procfs.DefaultRoot {
		o.Root = "/proc/thread-self"
	}
	return procfs.Open(o)
}

// openProcfsPID opens /proc/PID/net/dev: any process's namespace, as any
// user, with no capability and no setns. The file (and the dev_snmp6
// directory) stay bound to the namespace even after the process exits.
// Indexes come from /proc/PID/net/dev_snmp6, never from netwatch's own
// namespace; an interface that has no file there (no IPv6 on it, or a kernel
// without IPv6) has index 0 and is known by its name, so a rename of it
// reads as one interface vanishing and another appearing.
func openProcfsPID(o procfs.Options, ns Netns) (Backend, error) {
	if o.Root == "" {
		o.Root = procfs.DefaultRoot
	}
	o.Root = filepath.Join(o.Root, strconv.Itoa(ns.PID))
	closeIx := func() {}
	if ix, err := procfs.OpenSNMP6Index(filepath.Join(o.Root, "net", "dev_snmp6")); err == nil {
		o.IndexOf, closeIx = ix.IndexOf, func() { ix.Close() }
	} else {
		slog.Info("procfs: interface indexes unknown; interfaces are known by name", "netns", ns.Label, "err", err)
		o.IndexOf = func(string) int { return 0 }
	}
	b, err := procfs.Open(o)
	if err != nil {
		closeIx()
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("netns %s: no such process", ns.Label)
		}
		return nil, err
	}
	return closeAlso{b, closeIx}, nil
}

// closeAlso is a Backend that runs one more clean-up on Close.
type closeAlso struct {
	Backend
	also func()
}

func (c closeAlso) Close() error {
	err := c.Backend.Close()
	c.also()
	return err
}
