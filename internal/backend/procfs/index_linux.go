package procfs

import (
	"log/slog"
	"time"

	"github.com/netwatch-dev/netwatch/internal/backend/netlink"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

// linkIndexes gives names their indexes from the calling thread's
// namespace's links, kept current by link events (netlink.Links, which the
// netlink backend uses too): an interface renamed, deleted and created
// again under its name, or moved away and back, has its current index at
// the very next read.
type linkIndexes struct {
	links *netlink.Links
	// listed is when a name missing from the links last made them be
	// listed again: at most once per indexRefresh, so that a file that
	// keeps naming what the namespace does not have (a --proc-root of
	// another namespace) costs no dump per read.
	listed time.Duration
}

// openLinks is netlink.OpenLinks; tests make it fail.
var openLinks = netlink.OpenLinks

// systemIndexer follows link events; where rtnetlink cannot be used (a
// seccomp profile without netlink sockets: procfs is the last resort then)
// it falls back to listing the interfaces every indexRefresh (indexes 0
// where that fails too).
func systemIndexer() (indexer, error) {
	l, err := openLinks()
	if err != nil {
		slog.Debug("procfs: no link events; interface indexes are listed every second", "err", err)
		return listedIndexes(), nil
	}
	return &linkIndexes{links: l, listed: -indexRefresh}, nil
}

func (li *linkIndexes) fill(ifs []stats.InterfaceCounters, now time.Duration) error {
	// A name the events did not announce yet (the file is newer than its
	// event): the links are listed again.
	missing := func(_ map[int]string, indexes map[string]int) bool {
		if now-li.listed < indexRefresh {
			return false
		}
		for i := range ifs {
			if _, ok := indexes[ifs[i].Name]; !ok {
				li.listed = now
				return true
			}
		}
		return false
	}
	err := li.links.Lookup(missing, func(_ map[int]string, indexes map[string]int) {
		for i := range ifs {
			ifs[i].Index = indexes[ifs[i].Name] // 0: gone since the file was read
		}
	})
	if appeared := li.links.Appeared(); appeared != nil {
		for i := range ifs {
			ifs[i].Appeared = appeared[ifs[i].Index]
		}
	}
	return err
}

func (li *linkIndexes) close() error { return li.links.Close() }

func (li *linkIndexes) changed() <-chan struct{} { return li.links.Changed() }
