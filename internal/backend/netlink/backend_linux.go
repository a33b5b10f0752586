package netlink

import (
	"context"
	"errors"
	"fmt"
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
// works in the network namespace of the thread that called Open: its
// sockets are created there and stay there. Names come from Links.
type Backend struct {
	sel   ifsel.Selector
	req   *nl.NetlinkRequest // the stats dump, sent again on each Read
	sock  *nl.SocketHandle   // the stats dumps
	links *Links
	stats []Stats // reused across reads

	closeOnce sync.Once
}

// Open opens the sockets in the calling thread's network namespace, lists
// the interfaces and reads the counters once to check that the kernel
// answers RTM_GETSTATS (Linux 4.7 and later). It needs no privilege.
func Open(opts Options) (*Backend, error) {
	links, err := OpenLinks()
	if err != nil {
		return nil, err
	}
	// netns.None(): in the calling thread's namespace, without setns.
	s, err := nl.GetNetlinkSocketAt(netns.None(), netns.None(), unix.NETLINK_ROUTE)
	if err != nil {
		links.Close()
		return nil, fmt.Errorf("netlink: open socket: %w", err)
	}
	// The kernel always answers a dump; the timeout only bounds a wait
	// that would otherwise never end if it did not.
	if err := s.SetReceiveTimeout(&unix.Timeval{Sec: 10}); err != nil {
		links.Close()
		s.Close()
		return nil, fmt.Errorf("netlink: socket timeout: %w", err)
	}
	b := &Backend{
		sel:   opts.Selector,
		sock:  &nl.SocketHandle{Socket: s},
		links: links,
	}
	b.req = nl.NewNetlinkRequest(unix.RTM_GETSTATS, unix.NLM_F_DUMP)
	b.req.AddRawData(statsRequest())
	b.req.Sockets = map[int]*nl.SocketHandle{unix.NETLINK_ROUTE: b.sock}
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

// LinksChanged receives a value when an interface appeared or was renamed
// (see Links.Changed): the sampler reads at once to start its baseline.
func (b *Backend) LinksChanged() <-chan struct{} { return b.links.Changed() }

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

	ifs := make([]stats.InterfaceCounters, 0, len(all))
	errs := make([]stats.ErrorCounters, len(all))
	newer := func(names map[int]string, _ map[string]int) bool {
		for i := range all {
			if _, ok := names[all[i].Index]; !ok {
				return true // an interface newer than its event
			}
		}
		return false
	}
	err = b.links.Lookup(newer, func(names map[int]string, _ map[string]int) {
		for i := range all {
			name, ok := names[all[i].Index]
			if !ok || !b.sel.Match(name) { // !ok: gone between the two dumps
				continue
			}
			errs[i] = all[i].Errors
			ifs = append(ifs, stats.InterfaceCounters{Name: name, Index: all[i].Index, Counters: all[i].Counters, Errors: &errs[i]})
		}
	})
	if err != nil {
		return stats.Snapshot{}, err
	}
	if appeared := b.links.Appeared(); appeared != nil {
		for i := range ifs {
			ifs[i].Appeared = appeared[ifs[i].Index]
		}
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

// Close closes the sockets and waits for the event goroutine.
func (b *Backend) Close() error {
	b.closeOnce.Do(func() {
		b.links.Close()
		b.sock.Close()
	})
	return nil
}
