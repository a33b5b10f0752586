// Package netlink is the unprivileged fast path on Linux: one rtnetlink
// RTM_GETSTATS dump (IFLA_STATS_LINK_64, the kernel's own 64-bit interface
// counters) per read, with interface names kept up to date by a link
// subscription. The parsers here are portable and kept apart from the
// socket code so that fixtures test them on any OS.
package netlink

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// Name is the backend's name in output and on the command line.
const Name = "netlink"

// Netlink message layouts (linux/if_link.h, linux/rtnetlink.h). Netlink
// speaks the host's byte order.
const (
	// sizeofIfStatsMsg is struct if_stats_msg: family u8, pad1 u8,
	// pad2 u16, ifindex u32, filter_mask u32.
	sizeofIfStatsMsg = 12
	// sizeofIfInfoMsg is struct ifinfomsg: family u8, pad u8, type u16,
	// index s32, flags u32, change u32.
	sizeofIfInfoMsg = 16
	sizeofRtAttr    = 4

	// iflaStatsLink64 is IFLA_STATS_LINK_64: struct rtnl_link_stats64.
	iflaStatsLink64 = 1
	// iflaIfname is IFLA_IFNAME: the interface name, NUL-terminated.
	iflaIfname = 3
	// minLinkStats64 is the part of struct rtnl_link_stats64 netwatch
	// reads: rx/tx packets, bytes, errors and drops (8 × u64). Kernels
	// append fields; none removes one.
	minLinkStats64 = 8 * 8
	// maxNameLen is IFNAMSIZ-1: the kernel refuses longer names.
	maxNameLen = 15
)

var byteOrder = binary.NativeEndian

// Stats is one interface's counters from an RTM_NEWSTATS message.
type Stats struct {
	Index    int
	Counters stats.Counters
	Errors   stats.ErrorCounters
}

// errNoLink64 says an RTM_NEWSTATS message has no IFLA_STATS_LINK_64: the
// kernel answers that way only if the filter mask did not ask for it.
var errNoLink64 = errors.New("no IFLA_STATS_LINK_64 attribute")

// ParseStats parses the payload (after the netlink header) of one
// RTM_NEWSTATS message.
func ParseStats(msg []byte) (Stats, error) {
	if len(msg) < sizeofIfStatsMsg {
		return Stats{}, fmt.Errorf("stats message of %d bytes, shorter than if_stats_msg (%d)", len(msg), sizeofIfStatsMsg)
	}
	index := byteOrder.Uint32(msg[4:8])
	if index == 0 || index > 1<<31-1 {
		return Stats{}, fmt.Errorf("stats message with ifindex %d", index)
	}
	var (
		s     = Stats{Index: int(index)}
		found bool
	)
	err := walkAttrs(msg[sizeofIfStatsMsg:], func(typ uint16, data []byte) error {
		if typ != iflaStatsLink64 {
			return nil
		}
		if found {
			return fmt.Errorf("ifindex %d: IFLA_STATS_LINK_64 twice", index)
		}
		if len(data) < minLinkStats64 {
			return fmt.Errorf("ifindex %d: IFLA_STATS_LINK_64 of %d bytes, want at least %d", index, len(data), minLinkStats64)
		}
		found = true
		u := func(i int) uint64 { return byteOrder.Uint64(data[8*i:]) }
		// struct rtnl_link_stats64: rx_packets, tx_packets, rx_bytes,
		// tx_bytes, rx_errors, tx_errors, rx_dropped, tx_dropped, ...
		s.Counters = stats.Counters{RxPackets: u(0), TxPackets: u(1), RxBytes: u(2), TxBytes: u(3)}
		s.Errors = stats.ErrorCounters{RxErrors: u(4), TxErrors: u(5), RxDrops: u(6), TxDrops: u(7)}
		return nil
	})
	if err != nil {
		return Stats{}, err
	}
	if !found {
		return Stats{}, fmt.Errorf("ifindex %d: %w", index, errNoLink64)
	}
	return s, nil
}

// ParseLink parses the payload of one RTM_NEWLINK or RTM_DELLINK message:
// the interface's index and name. A message without a name (some
// RTM_DELLINK) returns an empty name.
func ParseLink(msg []byte) (index int, name string, err error) {
	if len(msg) < sizeofIfInfoMsg {
		return 0, "", fmt.Errorf("link message of %d bytes, shorter than ifinfomsg (%d)", len(msg), sizeofIfInfoMsg)
	}
	ix := int32(byteOrder.Uint32(msg[4:8]))
	if ix <= 0 {
		return 0, "", fmt.Errorf("link message with ifindex %d", ix)
	}
	err = walkAttrs(msg[sizeofIfInfoMsg:], func(typ uint16, data []byte) error {
		if typ != iflaIfname {
			return nil
		}
		// NUL-terminated, but accept a missing NUL.
		for i, c := range data {
			if c == 0 {
				data = data[:i]
				break
			}
		}
		if len(data) == 0 || len(data) > maxNameLen {
			return fmt.Errorf("ifindex %d: interface name of %d bytes", ix, len(data))
		}
		name = string(data)
		return nil
	})
	if err != nil {
		return 0, "", err
	}
	return int(ix), name, nil
}

// walkAttrs calls fn for each route attribute in b (4-byte aligned
// struct rtattr{len u16, type u16} + data). The nested flag bits of the type
// are cleared. A truncated attribute is an error.
func walkAttrs(b []byte, fn func(typ uint16, data []byte) error) error {
	for len(b) > 0 {
		if len(b) < sizeofRtAttr {
			return fmt.Errorf("%d trailing bytes, too short for an attribute", len(b))
		}
		l := int(byteOrder.Uint16(b[0:2]))
		typ := byteOrder.Uint16(b[2:4]) &^ (1<<15 | 1<<14) // NLA_F_NESTED, NLA_F_NET_BYTEORDER
		if l < sizeofRtAttr || l > len(b) {
			return fmt.Errorf("attribute type %d of length %d in %d bytes", typ, l, len(b))
		}
		if err := fn(typ, b[sizeofRtAttr:l]); err != nil {
			return err
		}
		next := (l + 3) &^ 3
		if next > len(b) {
			next = len(b)
		}
		b = b[next:]
	}
	return nil
}
