//go:build darwin

package sysctl

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/netwatch-dev/netwatch/internal/clock"
	"github.com/netwatch-dev/netwatch/internal/ifsel"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

// MIB levels below "net" (CTL_NET) for the IFMIB_IFDATA sysctl
// (net/if_mib.h); x/sys/unix does not export them.
const (
	netlinkGeneric = 0 // NETLINK_GENERIC: net.link.generic
	ifmibIfdata    = 2 // IFMIB_IFDATA: per-interface table, indexed by ifindex
	ifdataGeneral  = 1 // IFDATA_GENERAL: struct ifmibdata
)

// listRetries bounds the retries when the interface list grows between
// sysctl's size query and its read (ENOMEM).
const listRetries = 3

// Backend reads macOS interface counters with sysctl.
type Backend struct {
	sel ifsel.Selector
}

// Open checks that the sysctls answer and returns a Backend reading the
// interfaces sel matches.
func Open(sel ifsel.Selector) (*Backend, error) {
	b := &Backend{sel: sel}
	if _, err := b.Read(context.Background()); err != nil {
		return nil, fmt.Errorf("sysctl: open: %w", err)
	}
	return b, nil
}

// Read lists the interfaces and reads each selected one's counters. The
// snapshot is stamped at the midpoint of the counter reads.
func (b *Backend) Read(ctx context.Context) (stats.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return stats.Snapshot{}, err
	}
	buf, err := fetchIfList2()
	if err != nil {
		return stats.Snapshot{}, err
	}
	entries, err := ParseIfList2(buf)
	if err != nil {
		return stats.Snapshot{}, fmt.Errorf("sysctl: NET_RT_IFLIST2: %w", err)
	}
	start := clock.Now()
	ifs, err := assemble(ctx, entries, b.sel, fetchIfmib)
	if err != nil {
		return stats.Snapshot{}, err
	}
	end := clock.Now()
	half := (end.Mono - start.Mono) / 2
	return stats.Snapshot{
		Mono:       start.Mono + half,
		Wall:       start.Wall.Add(half),
		Interfaces: ifs,
	}, nil
}

// fetchIfList2 returns the NET_RT_IFLIST2 reply:
// CTL_NET, PF_ROUTE, 0, 0 (all families), NET_RT_IFLIST2, 0 (all interfaces).
func fetchIfList2() ([]byte, error) {
	var err error
	for range listRetries {
		var buf []byte
		buf, err = unix.SysctlRaw("net", unix.AF_ROUTE, 0, 0, unix.NET_RT_IFLIST2, 0)
		if err == nil {
			return buf, nil
		}
		if !errors.Is(err, unix.ENOMEM) {
			break
		}
	}
	return nil, fmt.Errorf("sysctl: NET_RT_IFLIST2: %w", err)
}

// fetchIfmib reads net.link.generic.ifdata.<index>.general:
// CTL_NET, PF_LINK, NETLINK_GENERIC, IFMIB_IFDATA, index, IFDATA_GENERAL.
// ENOENT (no such index any more) becomes errGone.
func fetchIfmib(index int) (MibData, error) {
	buf, err := unix.SysctlRaw("net", unix.AF_LINK, netlinkGeneric, ifmibIfdata, index, ifdataGeneral)
	if errors.Is(err, unix.ENOENT) {
		return MibData{}, errGone
	}
	if err != nil {
		return MibData{}, fmt.Errorf("IFMIB_IFDATA: %w", err)
	}
	return ParseIfmibData(buf)
}
