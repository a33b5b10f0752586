package backend

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/netwatch-dev/netwatch/internal/backend/ebpf/attach"
	"github.com/netwatch-dev/netwatch/internal/backend/procfs"
	"github.com/netwatch-dev/netwatch/internal/iface"
	"github.com/netwatch-dev/netwatch/internal/ifsel"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

// Backend names.
const (
	Auto    = "auto"
	EBPF    = "ebpf"
	Netlink = "netlink"
	Procfs  = "procfs"
	Sysctl  = "sysctl"
)

// Names lists the values --backend accepts.
var Names = []string{Auto, EBPF, Netlink, Procfs, Sysctl}

// ErrUnavailable is wrapped by errors for a backend that cannot run on this
// system at all (wrong OS).
var ErrUnavailable = errors.New("backend not available on this system")

// Options say which backend to open and how.
type Options struct {
	// Name is one of Names.
	Name     string
	Selector ifsel.Selector
	// Attach and XDPMode configure the ebpf backend.
	Attach  attach.Mode
	XDPMode attach.XDPMode
	// Resolution is the ebpf backend's in-kernel time-bin width; 0 = no bins.
	Resolution time.Duration
	// BinsMemory bounds the ebpf backend's ring buffer of bins, in bytes;
	// 0 = its default.
	BinsMemory uint64
	// ProcRoot is where procfs is mounted ("" = /proc). Only the procfs
	// backend uses it.
	ProcRoot string
	// Netns is the network namespace to sample (--netns); zero: ours.
	// When several are read it is the first, the one the backend is
	// decided in.
	Netns Netns
	// Namespaces, when set, are several namespaces to read at once (--netns
	// a,b or all), each by its own backend of the planned kind.
	Namespaces []Netns
	// Discover, when set (--netns all), lists the namespaces to follow
	// while running: new ones are added, gone ones released.
	Discover func() ([]Netns, error)
	// Peers, when set, labels the veths of netwatch's own namespace with
	// their peer's namespace and container (see MultiOptions.Peers).
	Peers func() (map[int]stats.Labels, error)
}

// NetnsGiven reports whether --netns named any namespace: every interface
// then carries its namespace's label.
func (o Options) NetnsGiven() bool {
	return o.Netns.Set() || len(o.Namespaces) > 0 || o.Discover != nil
}

// PerNamespace returns a copy of o for each namespace it reads (o itself
// when it reads one).
func (o Options) PerNamespace() []Options {
	if len(o.Namespaces) == 0 {
		return []Options{o}
	}
	out := make([]Options, len(o.Namespaces))
	for i, ns := range o.Namespaces {
		out[i] = o.single(ns)
	}
	return out
}

// single returns o reading only ns.
func (o Options) single(ns Netns) Options {
	o.Netns, o.Namespaces, o.Discover, o.Peers = ns, nil, nil, nil
	return o
}

// ValidateName checks a --backend value.
func ValidateName(name string) error {
	if !slices.Contains(Names, name) {
		return fmt.Errorf("unknown backend %q (want one of: %s)", name, strings.Join(Names, ", "))
	}
	return nil
}

// Open opens the backend plan names (see Decide). Any failure is an error:
// the plan already made every fallback there is.
func Open(ctx context.Context, plan Plan, opts Options) (Backend, error) {
	if opts.NetnsGiven() || opts.Peers != nil {
		// Even one namespace: the labels then come with the counters,
		// so bins and bursts carry them too.
		nss := opts.Namespaces
		if len(nss) == 0 {
			nss = []Netns{opts.Netns}
		}
		return OpenMulti(ctx, plan, opts, MultiOptions{Namespaces: nss, Discover: opts.Discover, Peers: opts.Peers})
	}
	return openOne(ctx, plan, opts)
}

// openOne opens the planned backend in opts.Netns.
func openOne(ctx context.Context, plan Plan, opts Options) (Backend, error) {
	var b Backend
	err := opts.enter(plan.Source.Backend, func() (err error) {
		b, err = openNamed(ctx, plan.Source.Backend, opts)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s backend: %w", plan.Source.Backend, err)
	}
	return b, nil
}

// enter runs fn in opts.Netns for the named backend (Netns.Do), except for
// procfs with pid:PID, which reads /proc/PID/net/dev from where it is: no
// setns, so no CAP_SYS_ADMIN.
func (o Options) enter(name string, fn func() error) error {
	if name == Procfs && o.Netns.PID != 0 {
		return fn()
	}
	return o.Netns.Do(fn)
}

// InterfaceNames lists the interfaces the planned backend can see: those of
// the procfs tree at opts.ProcRoot for procfs (PROC/PID with pid:PID), the
// system's otherwise.
func InterfaceNames(plan Plan, opts Options) ([]string, error) {
	if len(opts.Namespaces) > 0 {
		var names []string
		for _, o := range opts.PerNamespace() {
			n, err := InterfaceNames(plan, o)
			if err != nil {
				return nil, err
			}
			names = append(names, n...)
		}
		return names, nil
	}
	infos, err := ListPlanned(plan, opts)
	if plan.Source.Backend == Procfs && opts.Netns.PID == 0 && opts.ProcRoot != "" && opts.ProcRoot != procfs.DefaultRoot {
		b, err := procfs.Open(procfs.Options{Root: opts.ProcRoot, IndexOf: func(string) int { return 0 }})
		if err != nil {
			return nil, err
		}
		defer b.Close()
		snap, err := b.Read(context.Background())
		if err != nil {
			return nil, err
		}
		names := make([]string, len(snap.Interfaces))
		for i, ic := range snap.Interfaces {
			names[i] = ic.Name
		}
		return names, nil
	}
	if err != nil {
		return nil, err
	}
	return iface.Names(infos), nil
}

// ListPlanned lists the interfaces the planned backend sees: those of
// /proc/PID/net/dev for procfs with pid:PID (names and, where known,
// indexes: state "unknown", no MTU, since only entering the namespace would
// tell), ListInterfaces otherwise.
func ListPlanned(plan Plan, opts Options) ([]iface.Info, error) {
	if plan.Source.Backend != Procfs || opts.Netns.PID == 0 {
		return ListInterfaces(opts)
	}
	b, err := openNamed(context.Background(), Procfs, opts)
	if err != nil {
		return nil, fmt.Errorf("%s backend: %w", Procfs, err)
	}
	defer b.Close()
	snap, err := b.Read(context.Background())
	if err != nil {
		return nil, err
	}
	infos := make([]iface.Info, len(snap.Interfaces))
	for i, ic := range snap.Interfaces {
		infos[i] = iface.Info{Name: ic.Name, Index: ic.Index, State: "unknown"}
	}
	return infos, nil
}

// ListInterfaces lists the interfaces of opts' namespace. In another
// namespace, state comes from the interface flags: /sys/class/net shows
// netwatch's own namespace.
func ListInterfaces(opts Options) ([]iface.Info, error) {
	if !opts.Netns.Set() {
		return iface.List()
	}
	var infos []iface.Info
	err := opts.Netns.Do(func() (err error) {
		infos, err = iface.ListFlags()
		return err
	})
	return infos, err
}

func joinReasons(reasons []string) string { return strings.Join(reasons, "; ") }

// oneLine keeps a multi-line error (such as a verifier log) to its first line.
func oneLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
