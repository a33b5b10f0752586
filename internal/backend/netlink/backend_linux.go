package netlink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/netwatch-dev/netwatch/internal/clock"
	"github.com/netwatch-dev/netwatch/internal/ifsel"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

// dumpAttempts bounds the retries of a dump that changed underneath
// (NLM_F_DUMP_INTR): an interrupted dump may miss interfaces.
const dumpAttempts = 5

// Options configure the netlink backend.
type Options struct {
	Selector ifsel.Selector
}

// Backend reads interface counters with one RTM_GETSTATS dump per Read. It
// works in the network namespace of the thread that called Open: both its
// sockets are created there and stay there.
type Backend struct {
	sel  ifsel.Selector
	req  *nl.NetlinkRequest // the stats dump, sent again on each Read
	sock *nl.SocketHandle   // requests (stats and link dumps)
	sub  *nl.NetlinkSocket  // link events: names of new and renamed interfaces
	done chan struct{}      // closed when the event goroutine ends
	// closed is closed when Close begins.
	closed chan struct{}

	mu    sync.Mutex
	names map[int]string // ifindex -> name
	stale bool           // events were lost: list the links again
	// deaf is set when the subscription failed for good: every Read
	// lists the links.
	deaf bool

	stats []Stats // reused across reads

	closeOnce sync.Once
}

// Open opens the sockets in the calling thread's network namespace, lists
// the interfaces and reads the counters once to check that the kernel
// answers RTM_GETSTATS (Linux 4.7 and later). It needs no privilege.
func Open(opts Options) (*Backend, error) {
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
	b := &Backend{
		sel:    opts.Selector,
		sock:   &nl.SocketHandle{Socket: s},
		sub:    sub,
		done:   make(chan struct{}),
		closed: make(chan struct{}),
		names:  make(map[int]string),
		stale:  true,
	}
	b.req = b.newRequest(unix.RTM_GETSTATS, statsRequest())
	go b.follow()
	if _, err := b.Read(context.Background()); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// statsRequest is struct if_stats_msg asking for IFLA_STATS_LINK_64 of
// every interface.
func statsRequest() []byte {
	m := make([]byte, sizeofIfStatsMsg)
	byteOrder.PutUint32(m[8:12], 1<<(iflaStatsLink64-1)) // IFLA_STATS_FILTER_BIT
	return m
}

func (b *Backend) newRequest(typ int, data []byte) *nl.NetlinkRequest {
	req := nl.NewNetlinkRequest(typ, unix.NLM_F_DUMP)
	req.AddRawData(data)
	req.Sockets = map[int]*nl.SocketHandle{unix.NETLINK_ROUTE: b.sock}
	return req
}

// Source implements backend.Backend.
func (b *Backend) Source() stats.Source { return stats.Source{Backend: Name} }

// Read dumps every interface's counters. The snapshot's time is the
// midpoint of the dump.
func (b *Backend) Read(ctx context.Context) (stats.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return stats.Snapshot{}, err
	}
	before := clock.Monotonic()
	all, err := b.dumpStats()
	if err != nil {
		return stats.Snapshot{}, err
	}
	now := clock.Now()
	b.stats = all

	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.stale {
		for i := range all {
			if _, ok := b.names[all[i].Index]; !ok {
				b.stale = true // an interface newer than its event
				break
			}
		}
	}
	if b.stale || b.deaf {
		if err := b.listLinks(); err != nil {
			return stats.Snapshot{}, err
		}
	}
	ifs := make([]stats.InterfaceCounters, 0, len(all))
	errs := make([]stats.ErrorCounters, len(all))
	for i := range all {
		name, ok := b.names[all[i].Index]
		if !ok || !b.sel.Match(name) { // !ok: gone between the two dumps
			continue
		}
		errs[i] = all[i].Errors
		ifs = append(ifs, stats.InterfaceCounters{Name: name, Index: all[i].Index, Counters: all[i].Counters, Errors: &errs[i]})
	}
	mid := before + (now.Mono-before)/2
	return stats.Snapshot{Mono: mid, Wall: now.WallAt(mid), Interfaces: ifs}, nil
}

// dumpStats runs the RTM_GETSTATS dump, again if it was interrupted.
func (b *Backend) dumpStats() ([]Stats, error) {
	var err error
	for range dumpAttempts {
		all := b.stats[:0]
		var perr error
		err = b.req.ExecuteIter(unix.NETLINK_ROUTE, unix.RTM_NEWSTATS, func(msg []byte) bool {
			s, err := ParseStats(msg)
			if err != nil {
				perr = err
				return false
			}
			all = append(all, s)
			return true
		})
		if perr != nil {
			return nil, fmt.Errorf("netlink: RTM_GETSTATS: %w", perr)
		}
		if !errors.Is(err, nl.ErrDumpInterrupted) {
			if err != nil {
				return nil, fmt.Errorf("netlink: RTM_GETSTATS dump: %w", err)
			}
			return all, nil
		}
	}
	return nil, fmt.Errorf("netlink: RTM_GETSTATS dump: %w (%d attempts)", err, dumpAttempts)
}

// listLinks replaces the names with an RTM_GETLINK dump. b.mu is held.
func (b *Backend) listLinks() error {
	req := b.newRequest(unix.RTM_GETLINK, make([]byte, sizeofIfInfoMsg))
	var err error
	for range dumpAttempts {
		names := make(map[int]string, len(b.names))
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
			b.names, b.stale = names, false
			return nil
		}
	}
	return fmt.Errorf("netlink: RTM_GETLINK dump: %w (%d attempts)", err, dumpAttempts)
}

// follow applies link events to the names until the subscription socket is
// closed. Lost events (ENOBUFS) mark the names stale: the next Read lists
// the links again.
func (b *Backend) follow() {
	defer close(b.done)
	for {
		msgs, _, err := b.sub.Receive()
		if err != nil {
			select {
			case <-b.closed:
				return
			default:
			}
			if errors.Is(err, unix.ENOBUFS) || errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				b.markStale()
				continue
			}
			slog.Warn("netlink: interface events ended; names are listed on each read", "err", err)
			b.mu.Lock()
			b.deaf = true
			b.mu.Unlock()
			return
		}
		b.mu.Lock()
		for _, m := range msgs {
			if m.Header.Type != unix.RTM_NEWLINK && m.Header.Type != unix.RTM_DELLINK {
				continue
			}
			ix, name, err := ParseLink(m.Data)
			if err != nil {
				slog.Debug("netlink: unreadable link event", "err", err)
				b.stale = true
				continue
			}
			if m.Header.Type == unix.RTM_DELLINK {
				delete(b.names, ix)
			} else if name != "" {
				b.names[ix] = name
			}
		}
		b.mu.Unlock()
	}
}

func (b *Backend) markStale() {
	b.mu.Lock()
	b.stale = true
	b.mu.Unlock()
}

// Close closes both sockets and waits for the event goroutine.
func (b *Backend) Close() error {
	b.closeOnce.Do(func() {
		close(b.closed)
		b.sub.Close()
		<-b.done
		b.sock.Close()
	})
	return nil
}
