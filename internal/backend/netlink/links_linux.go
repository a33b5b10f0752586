package netlink

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Links knows the name of every interface of one network namespace by
// ifindex, and the index of every name, kept current by rtnetlink link
// events (RTNLGRP_LINK): an interface created, renamed, deleted or moved
// to another namespace is known as soon as its event is handled, not on
// some later relisting. When events were lost (ENOBUFS), could not be
// read, or the caller meets an interface the events did not announce yet,
// the next lookup lists the links again (RTM_GETLINK). It needs no
// privilege. The netlink and procfs backends both use it.
type Links struct {
	sock *nl.SocketHandle  // RTM_GETLINK dumps
	sub  *nl.NetlinkSocket // link events
	done chan struct{}     // closed when the event goroutine ends
	// closed is closed when Close begins.
	closed    chan struct{}
	closeOnce sync.Once

	mu      sync.Mutex
	names   map[int]string // ifindex -> name
	indexes map[string]int // name -> ifindex
	stale   bool           // events were lost: list the links again
	// deaf is set when the subscription failed for good: every lookup
	// lists the links.
	deaf bool

	changed chan struct{} // see Changed
	// appeared holds the indexes that appeared since the last Appeared,
	// also an index that was deleted and came back (a device moved out
	// of the namespace and back in).
	appeared map[int]bool
}

// OpenLinks subscribes to link events and opens a socket for dumps, both
// in the calling thread's network namespace, where they stay, and lists
// the links once.
func OpenLinks() (*Links, error) {
	sub, err := nl.Subscribe(unix.NETLINK_ROUTE, unix.RTNLGRP_LINK)
	if err != nil {
		return nil, fmt.Errorf("netlink: subscribe to interface changes: %w", err)
	}
	// netns.None(): in the calling thread's namespace, without setns.
	s, err := nl.GetNetlinkSocketAt(netns.None(), netns.None(), unix.NETLINK_ROUTE)
	if err != nil {
		sub.Close()
		return nil, fmt.Errorf("netlink: open socket: %w", err)
	}
	// The kernel always answers a dump; the timeout only bounds a wait
	// that would otherwise never end if it did not.
	if err := s.SetReceiveTimeout(&unix.Timeval{Sec: 10}); err != nil {
		sub.Close()
		s.Close()
		return nil, fmt.Errorf("netlink: socket timeout: %w", err)
	}
	l := &Links{
		sock:     &nl.SocketHandle{Socket: s},
		sub:      sub,
		done:     make(chan struct{}),
		closed:   make(chan struct{}),
		names:    make(map[int]string),
		indexes:  make(map[string]int),
		stale:    true,
		changed:  make(chan struct{}, 1),
		appeared: make(map[int]bool),
	}
	go l.follow()
	if err := l.Lookup(nil, func(map[int]string, map[string]int) {}); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// Changed receives a value after an interface appeared (created, or moved
// into the namespace), was renamed, or events were lost: a reader that
// reads at once catches the new interface's counters close to its start.
// Values do not queue up: several changes before a receive are one.
func (l *Links) Changed() <-chan struct{} { return l.changed }

func (l *Links) notify() {
	select {
	case l.changed <- struct{}{}:
	default:
	}
}

// Appeared returns the indexes that appeared since its last call (see
// stats.InterfaceCounters.Appeared) and forgets them.
func (l *Links) Appeared() map[int]bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.appeared) == 0 {
		return nil
	}
	a := l.appeared
	l.appeared = make(map[int]bool)
	return a
}

// Lookup calls fn with the names by index and the indexes by name, which
// fn must not keep or change. The links are listed first when events were
// lost, or when missing (if not nil) says that something the caller saw
// is not in them yet: an interface newer than its event.
func (l *Links) Lookup(missing func(names map[int]string, indexes map[string]int) bool, fn func(names map[int]string, indexes map[string]int)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.stale && !l.deaf && missing != nil && missing(l.names, l.indexes) {
		l.stale = true
	}
	if l.stale || l.deaf {
		if err := l.list(); err != nil {
			return err
		}
	}
	fn(l.names, l.indexes)
	return nil
}

// list replaces the names with an RTM_GETLINK dump. l.mu is held.
func (l *Links) list() error {
	req := nl.NewNetlinkRequest(unix.RTM_GETLINK, unix.NLM_F_DUMP)
	req.AddRawData(make([]byte, sizeofIfInfoMsg))
	req.Sockets = map[int]*nl.SocketHandle{unix.NETLINK_ROUTE: l.sock}
	var err error
	for range dumpAttempts {
		names := make(map[int]string, len(l.names))
		var perr error
		err = req.ExecuteIter(unix.NETLINK_ROUTE, unix.RTM_NEWLINK, func(msg []byte) bool {
			ix, name, err := ParseLink(msg)
			if err != nil {
				perr = err
				return false
			}
			names[ix] = name
			return true
		})
		if perr != nil {
			return fmt.Errorf("netlink: RTM_GETLINK: %w", perr)
		}
		if !errors.Is(err, nl.ErrDumpInterrupted) {
			if err != nil {
				return fmt.Errorf("netlink: RTM_GETLINK dump: %w", err)
			}
			for ix := range names {
				if _, ok := l.names[ix]; !ok {
					l.appeared[ix] = true
				}
			}
			l.names, l.stale = names, false
			clear(l.indexes)
			for ix, name := range names {
				l.indexes[name] = ix
			}
			return nil
		}
	}
	return fmt.Errorf("netlink: RTM_GETLINK dump: %w (%d attempts)", err, dumpAttempts)
}

// follow applies link events until the subscription socket is closed.
// Lost events (ENOBUFS) mark the names stale: the next Lookup lists the
// links again. A device moved to another namespace is an RTM_DELLINK here
// (and an RTM_NEWLINK there).
func (l *Links) follow() {
	defer close(l.done)
	for {
		msgs, _, err := l.sub.Receive()
		if err != nil {
			select {
			case <-l.closed:
				return
			default:
			}
			if errors.Is(err, unix.ENOBUFS) || errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				l.mu.Lock()
				l.stale = true
				l.mu.Unlock()
				l.notify()
				continue
			}
			slog.Warn("netlink: interface events ended; interfaces are listed on each read", "err", err)
			l.mu.Lock()
			l.deaf = true
			l.mu.Unlock()
			return
		}
		l.mu.Lock()
		news := false
		for _, m := range msgs {
			if m.Header.Type != unix.RTM_NEWLINK && m.Header.Type != unix.RTM_DELLINK {
				continue
			}
			ix, name, err := ParseLink(m.Data)
			if err != nil {
				slog.Debug("netlink: unreadable link event", "err", err)
				l.stale, news = true, true
				continue
			}
			if l.apply(m.Header.Type == unix.RTM_DELLINK, ix, name) {
				news = true
			}
		}
		l.mu.Unlock()
		if news {
			l.notify()
		}
	}
}

// apply takes one event and reports whether it is news to a reader: an
// index it did not know, or a new name. l.mu is held.
func (l *Links) apply(deleted bool, ix int, name string) bool {
	old, known := l.names[ix]
	if known && l.indexes[old] == ix {
		delete(l.indexes, old) // renamed or gone: the old name is free
	}
	if deleted {
		delete(l.names, ix)
		return false
	}
	if name == "" {
		l.stale = true // an event without a name: list to be sure
		return true
	}
	l.names[ix] = name
	l.indexes[name] = ix
	if !known {
		l.appeared[ix] = true
	}
	return !known || old != name
}

// Close closes both sockets and waits for the event goroutine. It is
// idempotent.
func (l *Links) Close() error {
	l.closeOnce.Do(func() {
		close(l.closed)
		l.sub.Close()
		<-l.done
		l.sock.Close()
	})
	return nil
}
