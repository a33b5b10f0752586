package ebpf

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/netwatch-dev/netwatch/internal/backend/ebpf/attach"
	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// TestTunCountsL3Packets attaches the tc programs to a real TUN device (no
// link-layer header) in a throwaway namespace. Egress: one UDP GSO
// super-packet (UDP_SEGMENT) must be counted as the segments the device
// hands to its reader, each with its own 28 header bytes; ingress: packets
// written into the device are counted at their length.
func TestTunCountsL3Packets(t *testing.T) {
	p := newPairWithTun(t)
	o := testObjects(t, 0)
	const slot = 1
	err := p.ns.Do(func() error {
		if err := o.addInterface(p.tun, slot); err != nil {
			return err
		}
		for dir, prog := range map[attach.Direction]*ebpf.Program{attach.Ingress: o.NetwatchTcIn, attach.Egress: o.NetwatchTcEg} {
			l, err := attach.TCAttach(p.tun, dir, prog, attach.Auto)
			if err != nil {
				return err
			}
			t.Cleanup(func() { l.Close() })
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("egress udp gso", func(t *testing.T) {
		const size, segs = 500, 10
		b0, p0 := counted(t, o, slot, dirTx)
		var sock int
		err := p.ns.Do(func() (err error) {
			sock, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(sock)
		if err := unix.SetsockoptInt(sock, unix.SOL_UDP, unix.UDP_SEGMENT, size); err != nil {
			t.Fatalf("UDP_SEGMENT: %v", err)
		}
		to := &unix.SockaddrInet4{Port: 9, Addr: [4]byte{198, 18, 9, 2}}
		if err := unix.Sendto(sock, make([]byte, size*segs), 0, to); err != nil {
			t.Fatalf("send: %v", err)
		}
		got, n := p.readUDP(t, segs)
		b1, p1 := counted(t, o, slot, dirTx)
		if want := uint64(segs * (20 + 8 + size)); got != want || n != segs {
			t.Errorf("device handed out %d packets, %d bytes; want %d and %d", n, got, segs, want)
		}
		if b1-b0 != got || p1-p0 != n {
			t.Errorf("counted %d bytes %d packets, the device handed out %d and %d", b1-b0, p1-p0, got, n)
		}
	})

	t.Run("ingress", func(t *testing.T) {
		b0, p0 := counted(t, o, slot, dirRx)
		var want uint64
		for _, payload := range []int{0, 100, 1400} {
			pkt := udp4(netip.MustParseAddr("198.18.9.2"), netip.MustParseAddr("198.18.9.1"), payload)
			if _, err := unix.Write(p.fd, pkt); err != nil {
				t.Fatalf("write to tun: %v", err)
			}
			want += uint64(len(pkt))
		}
		// tun usually receives in the writer's context; allow for a
		// softirq that runs later.
		deadline := time.Now().Add(5 * time.Second)
		for {
			b1, p1 := counted(t, o, slot, dirRx)
			if b1-b0 == want && p1-p0 == 3 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("counted %d bytes %d packets, want %d and 3", b1-b0, p1-p0, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

type tunPair struct {
	ns  *netnstest.NS
	tun int // ifindex
	fd  int
}

// newPairWithTun creates a namespace with a TUN device nwtun0 at
// 198.18.9.1/24, up, its reader non-blocking.
func newPairWithTun(t *testing.T) *tunPair {
	t.Helper()
	p := netnstest.NewPair(t)
	index, fd := addTun(t, p.A, "nwtun0")
	if err := unix.SetNonblock(fd, true); err != nil {
		t.Fatal(err)
	}
	h := p.A.Netlink()
	l, err := h.LinkByIndex(index)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := netlink.ParseAddr("198.18.9.1/24")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.AddrAdd(l, addr); err != nil {
		t.Fatal(err)
	}
	if err := h.LinkSetUp(l); err != nil {
		t.Fatal(err)
	}
	return &tunPair{ns: p.A, tun: index, fd: fd}
}

// readUDP reads packets from the tun device until want UDP datagrams to
// port 9 have come, and returns the bytes and packets read in all.
func (p *tunPair) readUDP(t *testing.T, want uint64) (bytes, packets uint64) {
	t.Helper()
	buf := make([]byte, 65536)
	deadline := time.Now().Add(5 * time.Second)
	var ours uint64
	for ours < want {
		n, err := unix.Read(p.fd, buf)
		if errors.Is(err, unix.EAGAIN) {
			if time.Now().After(deadline) {
				t.Fatalf("read %d of %d datagrams from the tun device", ours, want)
			}
			fds := []unix.PollFd{{Fd: int32(p.fd), Events: unix.POLLIN}}
			if _, err := unix.Poll(fds, 100); err != nil && !errors.Is(err, unix.EINTR) {
				t.Fatal(err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		bytes += uint64(n)
		packets++
		if n >= 28 && buf[0]>>4 == 4 && buf[9] == unix.IPPROTO_UDP && binary.BigEndian.Uint16(buf[22:]) == 9 {
			ours++
		}
	}
	return bytes, packets
}

// udp4 builds an IPv4/UDP packet from src to dst port 9 (checksums zero:
// tc runs before the stack checks them).
func udp4(src, dst netip.Addr, payload int) []byte {
	b := []byte{0x45, 0}
	b = binary.BigEndian.AppendUint16(b, uint16(28+payload))
	b = append(b, 0, 0, 0x40, 0, 64, unix.IPPROTO_UDP, 0, 0)
	b = append(b, src.AsSlice()...)
	b = append(b, dst.AsSlice()...)
	b = binary.BigEndian.AppendUint16(b, 40000)
	b = binary.BigEndian.AppendUint16(b, 9)
	b = binary.BigEndian.AppendUint16(b, uint16(8+payload))
	b = append(b, 0, 0)
	return append(b, make([]byte, payload)...)
}
