package attach

import (
	"encoding/binary"
	"log/slog"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// Generic netlink "netdev" family (include/uapi/linux/netdev.h, Linux 6.3).
const (
	netdevCmdDevGet       = 1
	netdevAttrIfindex     = 1
	netdevAttrXDPFeatures = 3
	netdevXDPActBasic     = 1 // XDP_PASS, XDP_DROP, XDP_TX: native XDP
)

// NativeXDP reports whether the driver of ifindex, in the calling thread's
// network namespace, runs XDP programs natively (driver mode), from the
// kernel's netdev xdp-features. known is false when the kernel does not say
// (before Linux 6.3, or the device is not listed).
func NativeXDP(ifindex int) (ok, known bool) {
	features, err := xdpFeatures()
	if err != nil {
		slog.Debug("attach: netdev xdp-features unavailable", "err", err)
		return false, false
	}
	f, known := features[ifindex]
	return f&netdevXDPActBasic != 0, known
}

// xdpFeatures dumps the xdp-features bitmask of every device.
func xdpFeatures() (map[int]uint64, error) {
	fam, err := netlink.GenlFamilyGet("netdev")
	if err != nil {
		return nil, err
	}
	req := nl.NewNetlinkRequest(int(fam.ID), unix.NLM_F_DUMP)
	req.AddData(&nl.Genlmsg{Command: netdevCmdDevGet, Version: 1})
	msgs, err := req.Execute(unix.NETLINK_GENERIC, 0)
	if err != nil {
		return nil, err
	}
	out := make(map[int]uint64, len(msgs))
	for _, m := range msgs {
		if len(m) < nl.SizeofGenlmsg {
			continue
		}
		attrs, err := nl.ParseRouteAttr(m[nl.SizeofGenlmsg:])
		if err != nil {
			return nil, err
		}
		ifindex, features, haveIndex := 0, uint64(0), false
		for _, a := range attrs {
			switch {
			case a.Attr.Type == netdevAttrIfindex && len(a.Value) >= 4:
				ifindex, haveIndex = int(binary.NativeEndian.Uint32(a.Value)), true
			case a.Attr.Type == netdevAttrXDPFeatures && len(a.Value) >= 8:
				features = binary.NativeEndian.Uint64(a.Value)
			}
		}
		if haveIndex {
			out[ifindex] = features
		}
	}
	return out, nil
}
