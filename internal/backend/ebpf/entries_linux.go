package ebpf

import (
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/cilium/ebpf"
	"github.com/vishvananda/netlink"
)

// Link-layer header lengths of an ifslots entry (NW_L2_* in netwatch.c): the
// bytes the tc programs see in front of the network header.
const (
	l2None    = 0          // L3 devices: tun, wireguard, ipip, sit, gre, ppp, raw IP
	l2Ether   = 14         // Ethernet and lo: h_proto and VLAN tags are parsed
	l2Unknown = ^uint32(0) // any other link layer: no GSO header arithmetic
)

// l2LenOf maps a link's hardware type, as netlink.LinkAttrs.EncapType names
// ARPHRD_*, to the header length the programs parse.
func l2LenOf(encapType string) uint32 {
	switch encapType {
	case "ether", "loopback":
		return l2Ether
	case "none", "ipip", "tunnel6", "sit", "gre", "ip6gre", "ppp", "unknown519": // 519: ARPHRD_RAWIP
		return l2None
	}
	return l2Unknown
}

// linkL2Len looks ifindex up in the calling thread's network namespace (the
// one the programs are attached in) and returns its header length. An
// interface netlink cannot find is taken to be Ethernet.
func linkL2Len(ifindex int) uint32 {
	l, err := netlink.LinkByIndex(ifindex)
	if err != nil {
		slog.Debug("ebpf: link type unknown, assuming Ethernet", "ifindex", ifindex, "err", err)
		return l2Ether
	}
	return l2LenOf(l.Attrs().EncapType)
}

// addInterface starts counting ifindex in counters slot slot, taking its
// link-layer header length from netlink in the calling thread's namespace.
func (o *objects) addInterface(ifindex int, slot uint32) error {
	return o.addInterfaceL2(ifindex, slot, linkL2Len(ifindex))
}

// addInterfaceL2 is addInterface with the link-layer header length given
// (l2None, l2Ether or l2Unknown): it zeroes the slot's elements and then
// publishes ifindex -> slot to the programs, which ignore an ifindex they
// cannot find.
func (o *objects) addInterfaceL2(ifindex int, slot, l2 uint32) error {
	o.resetSlot(slot)
	return o.publish(ifindex, slot, l2)
}

// resetSlot zeroes the counters elements of slot for an interface that is
// not published yet.
func (o *objects) resetSlot(slot uint32) {
	for _, dir := range []uint32{dirRx, dirTx} {
		for cpu := range o.cpus {
			v := o.value(slot, dir, cpu)
			atomic.StoreUint64(&v.Bytes, 0)
			atomic.StoreUint64(&v.Packets, 0)
			atomic.StoreUint64(&v.CurBytes, 0)
			atomic.StoreUint64(&v.CurPackets, 0)
			atomic.StoreUint64(&v.CurEnd, 0)
			atomic.StoreUint64(&v.LostFirst, 0)
			atomic.StoreUint64(&v.LostLast, 0)
			atomic.StoreUint64(&v.LostAck, 0)
		}
	}
}

// publish makes the programs count ifindex in slot: one map update, so that
// every direction starts counting at the same moment.
func (o *objects) publish(ifindex int, slot, l2 uint32) error {
	ix := uint32(ifindex)
	v := netwatchNwIfslot{Ifindex: ix, Slot: slot, L2Len: l2}
	if k := ix % ifmapSize; o.ifmap[k] == 0 {
		if err := o.Ifslots.Update(&k, &v, ebpf.UpdateAny); err != nil {
			return fmt.Errorf("ebpf: publish ifindex %d: %w", ifindex, err)
		}
		o.ifmap[k] = ix
		return nil
	}
	if err := o.Ifoverflow.Update(&ix, &v, ebpf.UpdateAny); err != nil {
		return fmt.Errorf("ebpf: publish ifindex %d: %w", ifindex, err)
	}
	return nil
}

// removeInterface stops counting ifindex. Its slot must not be reused before
// programs that found it have finished (microseconds): the table hands out
// freed slots last.
func (o *objects) removeInterface(ifindex int) error {
	ix := uint32(ifindex)
	if k := ix % ifmapSize; o.ifmap[k] == ix {
		var zero netwatchNwIfslot
		if err := o.Ifslots.Update(&k, &zero, ebpf.UpdateAny); err != nil {
			return fmt.Errorf("ebpf: unpublish ifindex %d: %w", ifindex, err)
		}
		o.ifmap[k] = 0
		return nil
	}
	if err := o.Ifoverflow.Delete(&ix); err != nil {
		return fmt.Errorf("ebpf: unpublish ifindex %d: %w", ifindex, err)
	}
	return nil
}
