package ebpf

import "encoding/binary"

// frame describes a crafted Ethernet frame for BPF_PROG_TEST_RUN.
type frame struct {
	vlans   int  // 802.1Q tags in the data
	ipv6    bool // IPv6 instead of IPv4
	ipOpts  int  // IPv4 option bytes (multiple of 4)
	ext     int  // IPv6 hop-by-hop extension header bytes (multiple of 8, 0 = none)
	tcp     bool // TCP instead of UDP
	tcpOpts int  // TCP option bytes (multiple of 4)
	payload int  // L4 payload bytes
}

// hdrLen is the L2+L3+L4 header length of the frame.
func (f frame) hdrLen() int {
	n := 14 + 4*f.vlans
	if f.ipv6 {
		n += 40 + f.ext
	} else {
		n += 20 + f.ipOpts
	}
	if f.tcp {
		n += 20 + f.tcpOpts
	} else {
		n += 8
	}
	return n
}

// bytes builds the frame. Checksums are left zero: the programs never look.
func (f frame) bytes() []byte {
	b := make([]byte, 0, f.hdrLen()+f.payload)
	b = append(b, 0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1) // dst, src MAC
	for range f.vlans {
		b = binary.BigEndian.AppendUint16(b, 0x8100)
		b = binary.BigEndian.AppendUint16(b, 42) // TCI
	}
	l4 := byte(17)
	if f.tcp {
		l4 = 6
	}
	l4len := 8 + f.payload
	if f.tcp {
		l4len = 20 + f.tcpOpts + f.payload
	}
	if f.ipv6 {
		b = binary.BigEndian.AppendUint16(b, 0x86dd)
		next := l4
		if f.ext > 0 {
			next = 0 // hop-by-hop
		}
		b = append(b, 0x60, 0, 0, 0)
		b = binary.BigEndian.AppendUint16(b, uint16(f.ext+l4len))
		b = append(b, next, 64)
		b = append(b, make([]byte, 32)...) // addresses
		if f.ext > 0 {
			ext := make([]byte, f.ext)
			ext[0] = l4
			ext[1] = byte(f.ext/8 - 1)
			ext[2] = 1 // PadN
			ext[3] = byte(f.ext - 4)
			b = append(b, ext...)
		}
	} else {
		b = binary.BigEndian.AppendUint16(b, 0x0800)
		ihl := (20 + f.ipOpts) / 4
		b = append(b, 0x40|byte(ihl), 0)
		b = binary.BigEndian.AppendUint16(b, uint16(20+f.ipOpts+l4len))
		b = append(b, 0, 0, 0x40, 0, 64, l4, 0, 0)
		b = append(b, 198, 18, 0, 1, 198, 18, 0, 2)
		opts := make([]byte, f.ipOpts)
		for i := range opts {
			opts[i] = 1 // NOP
		}
		b = append(b, opts...)
	}
	b = binary.BigEndian.AppendUint16(b, 40000)
	b = binary.BigEndian.AppendUint16(b, 5201)
	if f.tcp {
		b = append(b, 0, 0, 0, 1, 0, 0, 0, 1)
		b = append(b, byte((20+f.tcpOpts)/4)<<4, 0x10)
		b = append(b, 0xff, 0xff, 0, 0, 0, 0)
		opts := make([]byte, f.tcpOpts)
		for i := range opts {
			opts[i] = 1 // NOP
		}
		b = append(b, opts...)
	} else {
		b = binary.BigEndian.AppendUint16(b, uint16(l4len))
		b = append(b, 0, 0)
	}
	return append(b, make([]byte, f.payload)...)
}

// skbCtx mirrors struct __sk_buff (linux/bpf.h) for BPF_PROG_TEST_RUN's ctx.
type skbCtx struct {
	Len            uint32
	PktType        uint32
	Mark           uint32
	QueueMapping   uint32
	Protocol       uint32
	VlanPresent    uint32
	VlanTci        uint32
	VlanProto      uint32
	Priority       uint32
	IngressIfindex uint32
	Ifindex        uint32     // offset 40
	_              [27]uint32 // tc_index .. flow_keys
	Tstamp         uint64     // offset 152
	WireLen        uint32
	GsoSegs        uint32
	Sk             uint64
	GsoSize        uint32
	_              uint32
	Hwtstamp       uint64
}

// xdpCtx mirrors struct xdp_md.
type xdpCtx struct {
	Data           uint32
	DataEnd        uint32
	DataMeta       uint32
	IngressIfindex uint32
	RxQueueIndex   uint32
	EgressIfindex  uint32
}
