package ebpf

import (
	"fmt"
	"log/slog"
	"runtime"
	"sync"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// watcher follows interfaces appearing, being renamed and vanishing in one
// network namespace, through an rtnetlink link subscription; when the
// subscription reports an error (lost messages) it rescans instead.
type watcher struct {
	ns      netns.NsHandle
	updates chan netlink.LinkUpdate
	errs    chan error
	done    chan struct{}
	wg      sync.WaitGroup
	once    sync.Once
}

func startWatcher(ns netns.NsHandle) (*watcher, error) {
	w := &watcher{
		ns:      ns,
		updates: make(chan netlink.LinkUpdate, 64),
		errs:    make(chan error, 1),
		done:    make(chan struct{}),
	}
	// The socket is created in this thread's namespace, the one Open runs
	// in (ns). Passing ns as an option would make netlink setns into it
	// even when already there, which needs CAP_SYS_ADMIN; netwatch needs
	// only CAP_BPF and CAP_NET_ADMIN.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	err := netlink.LinkSubscribeWithOptions(w.updates, w.done, netlink.LinkSubscribeOptions{
		ErrorCallback: func(err error) {
			select {
			case w.errs <- err:
			default:
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("ebpf: subscribe to interface changes: %w", err)
	}
	return w, nil
}

// run handles changes for b until stop. The goroutine's thread is moved into
// the watched namespace, because attaching works in the caller's namespace;
// it stays locked so that the runtime discards it when the goroutine ends.
func (w *watcher) run(b *Backend) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		runtime.LockOSThread()
		if err := enterNetns(w.ns); err != nil {
			slog.Error("ebpf: enter namespace: not following interface changes", "err", err)
			return
		}
		for {
			select {
			case <-w.done:
				return
			case u, ok := <-w.updates:
				if !ok {
					slog.Warn("ebpf: interface subscription ended: no longer following interface changes")
					return
				}
				w.handle(b, u)
			case err := <-w.errs:
				slog.Debug("ebpf: interface subscription error, rescanning", "err", err)
				w.rescan(b)
			}
		}
	}()
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
		}
	}
}

func (w *watcher) release(b *Backend, name string, index int) {
	// Links of a vanished device are already gone with it: errors here
	// are expected and only worth a debug line.
	if err := b.t.remove(index); err != nil {
		slog.Debug("ebpf: release interface", "interface", name, "err", err)
	}
}

// rescan reconciles the watched set with the namespace's interfaces.
func (w *watcher) rescan(b *Backend) {
	links, err := netlink.LinkList()
	if err != nil {
		slog.Warn("ebpf: rescan interfaces", "err", err)
		return
	}
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

// stop ends the subscription and the goroutine and releases the namespace
// handle. It is idempotent.
func (w *watcher) stop() {
	w.once.Do(func() {
		close(w.done)
		w.wg.Wait()
		// The subscription closes updates once its socket is closed; drain
		// it so that its goroutine is never stuck on a send.
		go func() {
			for range w.updates {
			}
		}()
		w.ns.Close()
	})
}
