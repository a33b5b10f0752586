package ebpf

import (
	"testing"

	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

func TestL2LenOf(t *testing.T) {
	tests := []struct {
		encap string
		want  uint32
	}{
		{"ether", l2Ether},
		{"loopback", l2Ether},
		{"none", l2None}, // tun, wireguard
		{"ipip", l2None},
		{"tunnel6", l2None},
		{"sit", l2None},
		{"gre", l2None},
		{"ip6gre", l2None},
		{"ppp", l2None},
		{"unknown519", l2None}, // ARPHRD_RAWIP
		{"infiniband", l2Unknown},
		{"ieee802.11", l2Unknown},
		{"", l2Unknown},
	}
	for _, tt := range tests {
		if got := l2LenOf(tt.encap); got != tt.want {
			t.Errorf("l2LenOf(%q) = %d, want %d", tt.encap, got, tt.want)
		}
	}
}

// addTun creates a TUN device (no link-layer header, ARPHRD_NONE) in ns and
// returns its index and a file descriptor attached to it; the device goes
// away with the descriptor.
func addTun(t *testing.T, ns *netnstest.NS, name string) (index, fd int) {
	t.Helper()
	err := ns.Do(func() error {
		var err error
		fd, err = unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		ifr, err := unix.NewIfreq(name)
		if err != nil {
			return err
		}
		ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
		if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
			unix.Close(fd)
			return err
		}
		l, err := netlink.LinkByName(name)
		if err != nil {
			unix.Close(fd)
			return err
		}
		index = l.Attrs().Index
		return nil
	})
	if err != nil {
		t.Fatalf("create tun %s: %v", name, err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return index, fd
}

// TestLinkL2Len checks the header length userspace publishes per link type,
// read in the namespace the interfaces live in.
func TestLinkL2Len(t *testing.T) {
	p := netnstest.NewPair(t)
	tun, _ := addTun(t, p.A, "nwtun0")
	o := testObjects(t, 0)
	tests := []struct {
		name  string
		index int
		want  uint32
	}{
		{"lo", 1, l2Ether},
		{"veth", p.IndexA, l2Ether},
		{"tun", tun, l2None},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.A.Do(func() error {
				if got := linkL2Len(tt.index); got != tt.want {
					t.Errorf("linkL2Len = %d, want %d", got, tt.want)
				}
				return o.addInterface(tt.index, uint32(i))
			})
			if err != nil {
				t.Fatal(err)
			}
			var is netwatchNwIfslot
			k := uint32(tt.index) % ifmapSize
			if err := o.Ifslots.Lookup(&k, &is); err != nil {
				t.Fatal(err)
			}
			want := netwatchNwIfslot{Ifindex: uint32(tt.index), L2Len: tt.want, Slot: uint32(i)}
			if is != want {
				t.Errorf("ifslots[%d] = %+v, want %+v", k, is, want)
			}
		})
	}
}

// l3Packet is f without its Ethernet header: the IP packet a device without
// a link-layer header carries. test_run always runs eth_type_trans on the
// data, so the bytes at offset 12 (inside the source address) are set to
// the EtherType, which makes skb->protocol what the device would have set.
func l3Packet(f frame) []byte {
	b := f.bytes()[14:]
	if f.ipv6 {
		b[12], b[13] = 0x86, 0xdd // source address fd00:0:86dd::
		b[8] = 0xfd
	} else {
		b[12], b[13] = 0x08, 0x00 // source address 8.0.0.1, never sent anywhere
	}
	return b
}

// TestTCGSOHeaderLenPerLinkType runs the tc programs on the same packets as
// seen on an Ethernet device and on an L3 device (and on a link type
// netwatch cannot parse) and checks each extra GSO segment is counted with
// the headers the device really transmits.
func TestTCGSOHeaderLenPerLinkType(t *testing.T) {
	p := netnstest.NewPair(t)
	tun, _ := addTun(t, p.A, "nwtun0")
	o := testObjects(t, 0)
	const (
		slotEther = iota
		slotL3
		slotUnknown
	)
	for _, e := range []struct {
		index    int
		slot, l2 uint32
	}{
		{p.IndexA, slotEther, l2Ether},
		{tun, slotL3, l2None},
		{1, slotUnknown, l2Unknown}, // lo, entered as a link type netwatch cannot parse
	} {
		if err := o.addInterfaceL2(e.index, e.slot, e.l2); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name      string
		f         frame
		l3        bool // an L3 packet on the tun entry, else an Ethernet frame
		unknown   bool // the frame on the unparsable entry
		segs      uint32
		size      uint32
		wantSegs  uint64
		wantExtra uint64 // header bytes per extra segment
	}{
		{name: "ether ipv4 tcp gso", f: frame{tcp: true, payload: 2 * 1448}, segs: 2, size: 1448, wantSegs: 2, wantExtra: 54},
		{name: "l3 ipv4 tcp gso", l3: true, f: frame{tcp: true, payload: 2 * 1448}, segs: 2, size: 1448, wantSegs: 2, wantExtra: 40},
		{name: "l3 ipv4 tcp options gso", l3: true, f: frame{ipOpts: 8, tcp: true, tcpOpts: 12, payload: 10 * 300}, segs: 10, size: 300, wantSegs: 10, wantExtra: 28 + 32},
		{name: "l3 ipv4 udp gso", l3: true, f: frame{payload: 4 * 700}, segs: 4, size: 700, wantSegs: 4, wantExtra: 28},
		{name: "l3 ipv6 tcp gso", l3: true, f: frame{ipv6: true, tcp: true, tcpOpts: 12, payload: 45 * 64}, segs: 45, size: 64, wantSegs: 45, wantExtra: 72},
		{name: "l3 ipv6 hop-by-hop udp gso", l3: true, f: frame{ipv6: true, ext: 16, payload: 3 * 500}, segs: 3, size: 500, wantSegs: 3, wantExtra: 64},
		{name: "l3 dodgy gso without segs", l3: true, f: frame{tcp: true, payload: 3*900 + 1}, segs: 0, size: 900, wantSegs: 4, wantExtra: 40},
		{name: "l3 ipv4 tcp not gso", l3: true, f: frame{tcp: true, payload: 1000}, wantSegs: 1},
		{name: "l3 ipv6 udp not gso", l3: true, f: frame{ipv6: true, payload: 10}, wantSegs: 1},
		{name: "unknown link gso", unknown: true, f: frame{tcp: true, payload: 2 * 1448}, segs: 2, size: 1448, wantSegs: 2, wantExtra: 0},
	}
	const repeat = 2
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, ifindex, slot := tt.f.bytes(), p.IndexA, uint32(slotEther)
			switch {
			case tt.l3:
				data, ifindex, slot = l3Packet(tt.f), tun, slotL3
			case tt.unknown:
				ifindex, slot = 1, slotUnknown
			}
			want := uint64(len(data)) + (tt.wantSegs-1)*tt.wantExtra
			b0, p0 := counted(t, o, slot, dirTx)
			runSKB(t, p.A, o.NetwatchTcEg, data, skbCtx{Ifindex: uint32(ifindex), GsoSegs: tt.segs, GsoSize: tt.size}, repeat)
			b1, p1 := counted(t, o, slot, dirTx)
			if b1-b0 != repeat*want || p1-p0 != repeat*tt.wantSegs {
				t.Errorf("counted %d bytes %d packets, want %d and %d", b1-b0, p1-p0, repeat*want, repeat*tt.wantSegs)
			}
		})
	}
}
