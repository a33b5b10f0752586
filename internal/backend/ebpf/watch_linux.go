package ebpf

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// watcher follows interfaces appearing, being renamed and vanishing in one
// network namespace, through an rtnetlink link subscription; when the
// subscription reports an error (lost messages) it rescans instead. When the
// subscription ends (netlink closes it after a failed receive, such as
// ENOBUFS when a burst of changes overflows the socket), it subscribes again
// and rescans. When netlink keeps failing (maxFailures resubscribes or
// rescans in a row) or the namespace cannot be entered, the watcher stops
// and records why: Read returns that error from then on, so the run ends
// with it (and detaches) instead of silently no longer following
// interfaces.
type watcher struct {
	ns   netns.NsHandle
	sub  *subscription // nil while resubscribing; owned by run once started
	errs chan error
	done chan struct{}
	// changed receives a value (without queueing up) after an interface
	// was attached: see Backend.LinksChanged.
	changed chan struct{}
	wg      sync.WaitGroup
	once    sync.Once

	again        <-chan time.Time // retry a failed resubscribe or rescan
	failures     int              // failed resubscribes and rescans in a row
	resubscribes atomic.Int64     // subscriptions after the first, for tests
	failed       atomic.Pointer[error]
}

// Subscription and listing parameters.
const (
	// subscribeBuffer is the receive buffer of the subscription socket:
	// room for a few thousand link messages before the kernel drops them.
	subscribeBuffer = 1 << 20
	// dumpAttempts bounds the retries of an interface dump that changes
	// underneath (ErrDumpInterrupted).
	dumpAttempts = 5
	// retryDelay is the pause before retrying a failed resubscribe or
	// rescan.
	retryDelay = time.Second
	// maxFailures is how many resubscribes or rescans in a row may fail
	// before the watcher gives up: netlink is broken, not busy.
	maxFailures = 3
)

// linkFault, when set, makes every subscription and interface dump of the
// watcher fail with it: a netlink that broke for good. Tests set it.
var linkFault atomic.Pointer[error]

// subscription is one rtnetlink link subscription.
type subscription struct {
	updates chan netlink.LinkUpdate
	done    chan struct{}
	once    sync.Once
}

// subscribe subscribes to link changes in the namespace of the calling
// thread, which must be locked. Passing the namespace as an option would make
// netlink setns into it even when already there, which needs CAP_SYS_ADMIN;
// netwatch needs only CAP_BPF and CAP_NET_ADMIN. Errors are reported to errs
// without blocking.
func subscribe(errs chan<- error) (*subscription, error) {
	if f := linkFault.Load(); f != nil {
		return nil, fmt.Errorf("ebpf: subscribe to interface changes: %w", *f)
	}
	s := &subscription{updates: make(chan netlink.LinkUpdate, 64), done: make(chan struct{})}
	opts := netlink.LinkSubscribeOptions{
		ErrorCallback: func(err error) {
			select {
			case errs <- err:
			default:
			}
		},
		ReceiveBufferSize: subscribeBuffer,
		// Above net.core.rmem_max: needs CAP_NET_ADMIN, else the
		// sysctl's bound applies.
		ReceiveBufferForceSize: true,
	}
	err := netlink.LinkSubscribeWithOptions(s.updates, s.done, opts)
	if errors.Is(err, unix.EPERM) {
		opts.ReceiveBufferForceSize = false
		err = netlink.LinkSubscribeWithOptions(s.updates, s.done, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("ebpf: subscribe to interface changes: %w", err)
	}
	return s, nil
}

// close ends the subscription: netlink closes its socket, then updates;
// draining it keeps netlink's goroutine from blocking on a send. It is
// idempotent.
func (s *subscription) close() {
	s.once.Do(func() {
		close(s.done)
		go func() {
			for range s.updates {
			}
		}()
	})
}

// startWatcher subscribes in the calling thread's namespace, the one Open
// runs in (ns).
func startWatcher(ns netns.NsHandle) (*watcher, error) {
	w := &watcher{ns: ns, errs: make(chan error, 1), done: make(chan struct{}), changed: make(chan struct{}, 1)}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	sub, err := subscribe(w.errs)
	if err != nil {
		return nil, err
	}
	w.sub = sub
	return w, nil
}

// run handles changes for b until stop. The goroutine's thread is moved into
// the watched namespace, because attaching works in the caller's namespace
// and a new subscription is made in it; it stays locked so that the runtime
// discards it when the goroutine ends.
func (w *watcher) run(b *Backend) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		runtime.LockOSThread()
		if err := enterNetns(w.ns); err != nil {
			w.fail(fmt.Errorf("ebpf: following interface changes: enter namespace: %w", err))
			return
		}
		for w.failed.Load() == nil {
			var updates <-chan netlink.LinkUpdate
			if w.sub != nil {
				updates = w.sub.updates
			}
			select {
			case <-w.done:
				return
			case u, ok := <-updates:
				if !ok {
					slog.Warn("ebpf: interface subscription ended: subscribing again")
					w.sub.close()
					w.sub = nil
					w.resubscribe(b)
					continue
				}
				w.handle(b, u)
			case err := <-w.errs:
				slog.Debug("ebpf: interface subscription error, rescanning", "err", err)
				w.rescan(b)
			case <-w.again:
				w.again = nil
				if w.sub == nil {
					w.resubscribe(b)
				} else {
					w.rescan(b)
				}
			}
		}
	}()
}

// resubscribe subscribes again from run's thread, which is in the watched
// namespace, and rescans for what changed meanwhile. On failure it retries
// after retryDelay.
func (w *watcher) resubscribe(b *Backend) {
	sub, err := subscribe(w.errs)
	if err != nil {
		w.retry(err)
		return
	}
	w.sub = sub
	w.resubscribes.Add(1)
	w.rescan(b)
}

// enterNetns moves the locked thread into ns unless it is there already:
// setns needs CAP_SYS_ADMIN, which a netwatch running with only CAP_BPF and
// CAP_NET_ADMIN in its own namespace does not have and does not need.
func enterNetns(ns netns.NsHandle) error {
	cur, err := netns.Get()
	if err != nil {
		return err
	}
	defer cur.Close()
	if cur.Equal(ns) {
		return nil
	}
	return netns.Set(ns)
}

func (w *watcher) handle(b *Backend, u netlink.LinkUpdate) {
	name, index := u.Attrs().Name, u.Attrs().Index
	if u.Header.Type == unix.RTM_DELLINK {
		w.release(b, name, index)
		return
	}
	watched, match := b.t.has(index), b.cfg.Selector.Match(name)
	switch {
	case watched && match:
		b.t.rename(index, name)
	case watched:
		w.release(b, name, index)
	case match:
		if err := b.watch(name, index); err != nil {
			if vanished(err, index) {
				slog.Debug("ebpf: new interface vanished before attaching", "interface", name, "err", err)
			} else {
				slog.Warn("ebpf: cannot watch new interface", "interface", name, "err", err)
			}
		} else {
			slog.Debug("ebpf: watching new interface", "interface", name, "ifindex", index)
			w.notify()
		}
	}
}

// notify tells a reader waiting on changed, if any.
func (w *watcher) notify() {
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

func (w *watcher) release(b *Backend, name string, index int) {
	// Links of a vanished device are already gone with it: errors here
	// are expected and only worth a debug line.
	if err := b.t.remove(index); err != nil {
		slog.Debug("ebpf: release interface", "interface", name, "err", err)
	}
}

// rescan reconciles the watched set with the namespace's interfaces. When
// the interfaces cannot be listed it tries again after retryDelay.
func (w *watcher) rescan(b *Backend) {
	links, err := listLinks(netlink.LinkList)
	if err != nil {
		w.retry(err)
		return
	}
	w.failures = 0
	present := make(map[int]bool, len(links))
	for _, l := range links {
		present[l.Attrs().Index] = true
		w.handle(b, netlink.LinkUpdate{Header: unix.NlMsghdr{Type: unix.RTM_NEWLINK}, Link: l})
	}
	for _, ix := range b.t.indexes() {
		if !present[ix] {
			w.release(b, "", ix)
		}
	}
}

// retry schedules another attempt after a failed resubscribe or rescan, or
// gives up after maxFailures in a row.
func (w *watcher) retry(err error) {
	w.failures++
	if w.failures >= maxFailures {
		w.fail(fmt.Errorf("ebpf: following interface changes: %w (%d attempts in a row failed)", err, w.failures))
		return
	}
	slog.Warn("ebpf: following interface changes: retrying", "err", err, "in", retryDelay)
	w.again = time.After(retryDelay)
}

// fail records why the watcher stopped; err reports it.
func (w *watcher) fail(err error) {
	w.failed.CompareAndSwap(nil, &err)
}

// err is why the watcher stopped following interfaces, nil while it runs.
func (w *watcher) err() error {
	if p := w.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// listLinks calls list (netlink.LinkList) until its dump is not
// interrupted by a concurrent change, at most dumpAttempts times: an
// interrupted dump may miss interfaces.
func listLinks(list func() ([]netlink.Link, error)) ([]netlink.Link, error) {
	if f := linkFault.Load(); f != nil {
		return nil, fmt.Errorf("ebpf: list interfaces: %w", *f)
	}
	var err error
	for range dumpAttempts {
		var links []netlink.Link
		links, err = list()
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			if err != nil {
				return nil, fmt.Errorf("ebpf: list interfaces: %w", err)
			}
			return links, nil
		}
		slog.Debug("ebpf: interface dump interrupted, listing again")
	}
	return nil, fmt.Errorf("ebpf: list interfaces: %w (%d attempts)", err, dumpAttempts)
}

// stop ends the subscription and the goroutine and releases the namespace
// handle. It is idempotent.
func (w *watcher) stop() {
	w.once.Do(func() {
		close(w.done)
		w.wg.Wait()
		if w.sub != nil {
			w.sub.close()
		}
		w.ns.Close()
	})
}
