package ebpf

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/rlimit"
	"github.com/netwatch-dev/netwatch/internal/backend/ebpf/attach"
	"github.com/netwatch-dev/netwatch/internal/clock"
	"github.com/netwatch-dev/netwatch/internal/stats"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Backend counts packets with the BPF programs attached to every selected
// interface of the network namespace Open ran in.
type Backend struct {
	cfg     Config
	o       *objects
	t       *table
	tcMode  attach.Mode // TCX or TC: how tc programs attach
	source  stats.Source
	watcher *watcher

	closeOnce sync.Once
	closeErr  error
}

// LinksChanged receives a value after an interface that appeared (created,
// moved into the namespace, renamed into the selection) was attached: a
// polling reader (--resolution 0) reads at once to take its baseline.
func (b *Backend) LinksChanged() <-chan struct{} { return b.watcher.changed }

// Open loads the programs, removes what a crashed netwatch left on the
// selected interfaces, and attaches to every one of them: tc ingress and
// egress, or XDP ingress and tc egress with Attach xdp. It works in the
// network namespace of the calling OS thread, and keeps attaching interfaces
// that appear there (and releasing those that vanish) until Close. On any
// failure it detaches what it attached and says what failed and why.
func Open(ctx context.Context, cfg Config) (*Backend, error) {
	if cfg.Attach == "" {
		cfg.Attach = attach.Auto
	}
	if cfg.XDPMode == "" {
		cfg.XDPMode = attach.XDPDriver
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, memlockError(err)
	}
	tcMode, err := tcModeFor(cfg.Attach)
	if err != nil {
		return nil, err
	}
	ns, err := netns.Get()
	if err != nil {
		return nil, fmt.Errorf("ebpf: current network namespace: %w", err)
	}
	// Subscribe before listing, so that no interface slips between the two.
	w, err := startWatcher(ns)
	if err != nil {
		ns.Close()
		return nil, err
	}
	links, err := listLinks(netlink.LinkList)
	if err != nil {
		w.stop()
		return nil, err
	}
	var selected []netlink.Link
	for _, l := range links {
		if cfg.Selector.Match(l.Attrs().Name) {
			selected = append(selected, l)
		}
	}
	o, err := loadObjectsFor(cfg.Resolution, len(selected), cfg.BinsMemory, cfg.Attach == attach.XDP)
	if err != nil {
		w.stop()
		return nil, err
	}
	b := &Backend{
		cfg:    cfg,
		o:      o,
		t:      newTable(o, clock.Monotonic()),
		tcMode: tcMode,
		source: stats.Source{Backend: Name, Attach: string(tcMode)},
	}
	if cfg.Attach == attach.XDP {
		b.source.Attach = string(attach.XDP)
	}
	if err := b.watchAll(ctx, ns, selected); err != nil {
		w.stop()
		return nil, errors.Join(err, b.closeObjects())
	}
	b.watcher = w
	w.run(b)
	return b, nil
}

// watchAll watches every link of the list, several at once (see
// parallelism), each from a thread in the namespace ns. A link that vanished
// since the list was taken is skipped (the watcher releases it when its
// deletion arrives); any other failure is returned, and the links not
// started yet are skipped.
func (b *Backend) watchAll(ctx context.Context, ns netns.NsHandle, links []netlink.Link) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	err := parallelSetup(len(links), func() error {
		// The thread stays locked: the runtime discards it when the
		// goroutine ends, namespace and all.
		runtime.LockOSThread()
		return enterNetns(ns)
	}, func(i int) {
		if ctx.Err() != nil {
			return
		}
		name, index := links[i].Attrs().Name, links[i].Attrs().Index
		if err := b.watch(name, index); err != nil {
			if vanished(err, index) {
				slog.Debug("ebpf: interface vanished before attaching; skipped", "interface", name, "ifindex", index, "err", err)
				return
			}
			cancel(err)
		}
	})
	if err != nil {
		return fmt.Errorf("ebpf: enter namespace: %w", err)
	}
	return context.Cause(ctx)
}

// vanished reports whether err, from watching ifindex, comes from the
// interface having disappeared: ENODEV or netlink's link-not-found, or any
// error while ifindex no longer exists (XDP link creation says EINVAL for a
// missing device).
func vanished(err error, ifindex int) bool {
	if err == nil {
		return false
	}
	var nf netlink.LinkNotFoundError
	if errors.Is(err, unix.ENODEV) || errors.As(err, &nf) {
		return true
	}
	_, lerr := netlink.LinkByIndex(ifindex)
	return errors.As(lerr, &nf)
}

// tcModeFor resolves how tc programs attach: TCX when the kernel has it (or
// when asked), legacy tc when asked or when TCX is missing.
func tcModeFor(m attach.Mode) (attach.Mode, error) {
	switch m {
	case attach.TC:
		return attach.TC, nil
	case attach.TCX:
		if err := attach.TCXSupported(); err != nil {
			return "", fmt.Errorf("ebpf: --attach tcx: %w", explainAttachError(err))
		}
		return attach.TCX, nil
	case attach.Auto, attach.XDP:
		err := attach.TCXSupported()
		switch {
		case err == nil:
			return attach.TCX, nil
		case errors.Is(err, ebpf.ErrNotSupported):
			slog.Debug("ebpf: TCX not supported, using legacy tc", "reason", err)
			return attach.TC, nil
		}
		return "", fmt.Errorf("ebpf: probe TCX: %w", explainAttachError(err))
	}
	return "", fmt.Errorf("ebpf: unknown attach mode %q", m)
}

// watch starts counting on an interface: it removes a crashed netwatch's
// leftovers there, creates the map entries and attaches the programs.
func (b *Backend) watch(name string, index int) error {
	if n, err := attach.CleanStale(index, attach.DefaultNamePrefix); err != nil {
		if !vanished(err, index) {
			slog.Warn("ebpf: clean stale programs", "interface", name, "err", err)
		}
	} else if n > 0 {
		slog.Info("ebpf: removed programs a previous netwatch left behind", "interface", name, "count", n)
	}
	err := b.t.add(name, index, func() ([]func() error, error) {
		return b.attachAll(name, index)
	})
	if err == nil {
		slog.Debug("ebpf: counting", "interface", name, "ifindex", index, "attach", b.source.Attach, "tc", b.tcMode)
	}
	return err
}

// attachAll attaches the programs to one interface and returns how to detach
// them. On failure nothing stays attached.
func (b *Backend) attachAll(name string, index int) ([]func() error, error) {
	var links []attach.Link
	fail := func(what string, err error) ([]func() error, error) {
		for i := len(links) - 1; i >= 0; i-- {
			if cerr := links[i].Close(); cerr != nil {
				slog.Warn("ebpf: detach after failed attach", "interface", name, "err", cerr)
			}
		}
		return nil, fmt.Errorf("ebpf: attach %s to %s (ifindex %d): %w", what, name, index, explainAttachError(err))
	}
	if b.cfg.Attach == attach.XDP {
		l, err := attach.XDPAttach(index, b.o.NetwatchXdp, b.cfg.XDPMode)
		if err != nil {
			if b.cfg.XDPMode == attach.XDPDriver && errors.Is(err, unix.EOPNOTSUPP) {
				err = fmt.Errorf("%w: %w", attach.ErrNoNativeXDP, err)
			}
			return fail("xdp ("+string(b.cfg.XDPMode)+")", err)
		}
		links = append(links, l)
	} else {
		l, err := attach.TCAttach(index, attach.Ingress, b.o.NetwatchTcIn, b.tcMode)
		if err != nil {
			return fail(string(b.tcMode)+" ingress", err)
		}
		links = append(links, l)
	}
	l, err := attach.TCAttach(index, attach.Egress, b.o.NetwatchTcEg, b.tcMode)
	if err != nil {
		return fail(string(b.tcMode)+" egress", err)
	}
	links = append(links, l)
	detach := make([]func() error, len(links))
	for i, l := range links {
		detach[i] = l.Close
	}
	return detach, nil
}

// explainAttachError says which capability a permission error lacks.
// ErrXDPBusy and everything else pass through wrapped.
func explainAttachError(err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("%w (attaching needs CAP_NET_ADMIN, and CAP_BPF for bpf links)", err)
	}
	return err
}

// Source implements backend.Backend: ebpf and how it attached.
func (b *Backend) Source() stats.Source { return b.source }

// Read implements backend.Backend: the counters of every watched interface
// since it was attached, summed over CPUs.
func (b *Backend) Read(ctx context.Context) (stats.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return stats.Snapshot{}, err
	}
	if err := b.followErr(); err != nil {
		return stats.Snapshot{}, err
	}
	return b.t.read()
}

// followErr is why the backend stopped following interface changes (nil
// while it follows them): the run must end with it rather than go on
// counting a set of interfaces that no longer tracks the system's.
func (b *Backend) followErr() error {
	if b.watcher == nil {
		return nil
	}
	return b.watcher.err()
}

// Resolution is the bin width chosen at Open, 0 when bins are off.
func (b *Backend) Resolution() time.Duration { return b.o.bins.width }

// ReadBins implements stats.BinSource: the bins completed since the previous
// call, merged over CPUs, with those whose records did not fit in the ring
// buffer marked lost.
func (b *Backend) ReadBins() (stats.Bins, error) {
	if err := b.followErr(); err != nil {
		return stats.Bins{}, err
	}
	return b.t.readBins()
}

// BinSpan implements stats.BinSource: how long the bins can go unread
// without loss at the record rate seen lately (the highest, forgotten with
// a 10 s half-life): the ring buffer's capacity over that rate. An hour
// when nothing is written; 0 when bins are off.
func (b *Backend) BinSpan() time.Duration {
	if b.o.bins.width == 0 {
		return 0
	}
	return b.t.bins.span()
}

// SizeBins sizes the ring buffer of bins for a reader that reads once per
// interval: enough for the interval plus a margin with every watched
// interface active in both directions on every CPU, within bound bytes
// (DefaultBinsMemory if 0), growing later with the record rate up to the
// bound. It fails when the bound cannot hold one interval even with each
// interface's traffic on one CPU. The string says what the sizing allows,
// e.g. "1ms bins, 1,000 interfaces × 2 CPUs active: 1s of history (...)".
func (b *Backend) SizeBins(interval time.Duration, bound uint64) (string, error) {
	sz, err := b.t.sizeBins(interval, bound)
	if err != nil {
		return "", err
	}
	return sz.String(), nil
}

// Close detaches every program and releases the maps. It is idempotent.
func (b *Backend) Close() error {
	b.closeOnce.Do(func() {
		if b.watcher != nil {
			b.watcher.stop()
		}
		b.closeErr = b.closeObjects()
	})
	return b.closeErr
}

func (b *Backend) closeObjects() error {
	err := b.t.removeAll()
	if cerr := b.o.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("ebpf: close objects: %w", cerr))
	}
	return err
}
