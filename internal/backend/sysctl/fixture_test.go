package sysctl

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// Go mirrors of the xnu structures, field for field. encoding/binary writes
// them without padding, so the C padding is spelled out as blank fields.

// cIfData64 mirrors struct if_data64 (net/if_var.h).
type cIfData64 struct {
	Type, Typelen, Physical, Addrlen, Hdrlen, Recvquota, Xmitquota, Unused1 uint8
	Mtu, Metric                                                             uint32
	Baudrate, Ipackets, Ierrors, Opackets, Oerrors, Collisions              uint64
	Ibytes, Obytes, Imcasts, Omcasts, Iqdrops, Noproto                      uint64
	Recvtiming, Xmittiming                                                  uint32
	LastchangeSec, LastchangeUsec                                           int32
}

// cIfMsghdr2 mirrors struct if_msghdr2 (net/if.h).
type cIfMsghdr2 struct {
	Msglen                             uint16
	Version, Type                      uint8
	Addrs, Flags                       int32
	Index                              uint16
	_                                  [2]byte
	SndLen, SndMaxlen, SndDrops, Timer int32
	Data                               cIfData64
}

// cIfaMsghdr mirrors struct ifa_msghdr (net/if.h): an RTM_NEWADDR, the
// message IFLIST2 sends after each RTM_IFINFO2, which the parser must skip.
type cIfaMsghdr struct {
	Msglen        uint16
	Version, Type uint8
	Addrs, Flags  int32
	Index         uint16
	_             [2]byte
	Metric        int32
}

// cSockaddrDl mirrors struct sockaddr_dl (net/if_dl.h) with its minimum
// 12-byte sdl_data.
type cSockaddrDl struct {
	Len, Family            uint8
	Index                  uint16
	Type, Nlen, Alen, Slen uint8
	Data                   [12]byte
}

// cIfmibdata mirrors struct ifmibdata (net/if_mib.h).
type cIfmibdata struct {
	Name                                       [16]byte
	Pcount, Flags, SndLen, SndMaxlen, SndDrops uint32
	Filler                                     [4]uint32
	Data                                       cIfData64
}

const rtmNewaddr = 0xc // RTM_NEWADDR

func TestMirrorSizes(t *testing.T) {
	// Sizes from xnu (and x/sys/unix ztypes_darwin_*.go where it has them).
	tests := []struct {
		name string
		v    any
		want int
	}{
		{"if_data64", cIfData64{}, 128},
		{"if_msghdr2", cIfMsghdr2{}, 160},
		{"ifa_msghdr", cIfaMsghdr{}, 20},
		{"sockaddr_dl", cSockaddrDl{}, 20},
		{"ifmibdata", cIfmibdata{}, 180},
	}
	for _, tt := range tests {
		if got := binary.Size(tt.v); got != tt.want {
			t.Errorf("%s: %d bytes, want %d", tt.name, got, tt.want)
		}
	}
	if sizeIfMsghdr2 != 160 || sizeIfmibdata != 180 {
		t.Errorf("parser sizes: if_msghdr2 %d, ifmibdata %d", sizeIfMsghdr2, sizeIfmibdata)
	}
}

// iface describes one interface of a fixture.
type iface struct {
	index                        uint16
	name                         string
	flags                        int32
	typ                          uint8
	mtu                          uint32
	baud                         uint64
	ibytes, ipkts, obytes, opkts uint64
	ierrs, oerrs, iqdrops        uint64
	sndDrops                     int32
}

func (f iface) data() cIfData64 {
	return cIfData64{
		Type: f.typ, Mtu: f.mtu, Baudrate: f.baud,
		Ipackets: f.ipkts, Ierrors: f.ierrs, Opackets: f.opkts, Oerrors: f.oerrs,
		Ibytes: f.ibytes, Obytes: f.obytes, Iqdrops: f.iqdrops,
		Collisions: 0xdead, Imcasts: 0xbeef, Omcasts: 0xcafe, Noproto: 0xf00d,
	}
}

func (f iface) sockaddr() cSockaddrDl {
	sa := cSockaddrDl{Len: 20, Family: afLink, Index: f.index, Type: f.typ, Nlen: uint8(len(f.name))}
	copy(sa.Data[:], f.name)
	return sa
}

func write(t testing.TB, buf *bytes.Buffer, v any) {
	t.Helper()
	if err := binary.Write(buf, binary.LittleEndian, v); err != nil {
		t.Fatal(err)
	}
}

// ifinfo2 returns one RTM_IFINFO2 message: if_msghdr2 and a sockaddr_dl.
func ifinfo2(t testing.TB, f iface) []byte { return ifinfo2With(t, f, nil) }

// ifinfo2With is ifinfo2 with edit applied to the header and sockaddr before
// they are written; extra bytes edit appends go between the two.
func ifinfo2With(t testing.TB, f iface, edit func(h *cIfMsghdr2, sa *cSockaddrDl, extra *[]byte)) []byte {
	var b bytes.Buffer
	h := cIfMsghdr2{
		Msglen: 160 + 20, Version: rtmVersion, Type: rtmIFINFO2,
		Addrs: rtaIFP, Flags: f.flags, Index: f.index,
		SndLen: 1, SndMaxlen: 128, SndDrops: f.sndDrops, Timer: 0, Data: f.data(),
	}
	sa := f.sockaddr()
	var extra []byte
	if edit != nil {
		edit(&h, &sa, &extra)
	}
	write(t, &b, h)
	b.Write(extra)
	write(t, &b, sa)
	return b.Bytes()
}

// newaddr returns one RTM_NEWADDR message with a 16-byte sockaddr_in.
func newaddr(t testing.TB, index uint16) []byte {
	var b bytes.Buffer
	write(t, &b, cIfaMsghdr{Msglen: 20 + 16, Version: rtmVersion, Type: rtmNewaddr, Addrs: 0x20, Index: index})
	write(t, &b, [16]byte{16, 2, 0, 0, 198, 18, 0, 1})
	return b.Bytes()
}

// ifList2 returns an IFLIST2 reply for ifs: each RTM_IFINFO2 followed by an
// RTM_NEWADDR, as the kernel sends them.
func ifList2(t testing.TB, ifs []iface) []byte {
	var b []byte
	for _, f := range ifs {
		b = append(b, ifinfo2(t, f)...)
		b = append(b, newaddr(t, f.index)...)
	}
	return b
}

// ifmib returns a struct ifmibdata for f.
func ifmib(t testing.TB, f iface) []byte {
	var b bytes.Buffer
	m := cIfmibdata{Flags: uint32(f.flags), SndLen: 3, SndMaxlen: 128, SndDrops: uint32(f.sndDrops), Data: f.data()}
	copy(m.Name[:], f.name)
	m.Filler = [4]uint32{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}
	m.Pcount = 7
	write(t, &b, m)
	return b.Bytes()
}

// fixtureIfaces has values above 4 GiB and distinct values everywhere, so a
// wrong offset shows up as a wrong number.
var fixtureIfaces = []iface{
	{index: 1, name: "lo0", flags: 0x8049, typ: 24, mtu: 16384, ibytes: 5 << 32, ipkts: 1_000_001, obytes: 5<<32 + 1, opkts: 1_000_002},
	{index: 4, name: "en0", flags: 0x8863, typ: 6, mtu: 1500, baud: 1_000_000_000,
		ibytes: 0x1_2345_6789, ipkts: 7_000_000_003, obytes: 0x9_8765_4321, opkts: 6_000_000_004,
		ierrs: 11, oerrs: 12, iqdrops: 13, sndDrops: 14},
	{index: 9, name: "utun12345678", flags: 0x8051, typ: 255, mtu: 1380, ibytes: 100, ipkts: 2, obytes: 300, opkts: 4, ierrs: 1, oerrs: 2, iqdrops: 3, sndDrops: 0},
}

func wantEntry(f iface) Entry {
	return Entry{
		Index: int(f.index), Name: f.name, Flags: uint32(f.flags), Type: f.typ, Mtu: f.mtu, Baudrate: f.baud,
		Counters: countersOf(f),
		Errors:   errorsOf(f),
	}
}

func countersOf(f iface) stats.Counters {
	return stats.Counters{RxBytes: f.ibytes, RxPackets: f.ipkts, TxBytes: f.obytes, TxPackets: f.opkts}
}

func errorsOf(f iface) stats.ErrorCounters {
	return stats.ErrorCounters{RxErrors: f.ierrs, RxDrops: f.iqdrops, TxErrors: f.oerrs, TxDrops: uint64(f.sndDrops)}
}
