// Package sysctl is netwatch's macOS backend: it lists interfaces with the
// NET_RT_IFLIST2 sysctl and reads each selected interface's 64-bit counters
// with the IFMIB_IFDATA sysctl. The parsers are portable and tested on any
// OS; only the sysctl calls are darwin-specific.
package sysctl

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// ErrMalformed is wrapped by every parse error; the message names the byte
// offset and what was wrong.
var ErrMalformed = errors.New("malformed sysctl data")

var le = binary.LittleEndian

// Entry is one RTM_IFINFO2 message of a NET_RT_IFLIST2 reply.
type Entry struct {
	Index int
	// Name comes from the sockaddr_dl that follows the header (RTA_IFP);
	// empty when the message carries none.
	Name     string
	Flags    uint32 // IFF_*
	Type     uint8  // IFT_*
	Mtu      uint32
	Baudrate uint64
	// Counters as IFLIST2 reports them: since macOS 13.2.1 RxBytes and
	// TxBytes are cut at 32 bits; take bytes from ParseIfmibData instead.
	Counters stats.Counters
	// Errors: TxDrops is ifm_snd_drops, the send-queue drops.
	Errors stats.ErrorCounters
}

// ParseIfList2 decodes a NET_RT_IFLIST2 reply: a sequence of routing
// messages, each starting with its own length. RTM_IFINFO2 messages become
// Entries in reply order; every other message (RTM_NEWADDR, ...) is skipped
// by its length. The version is checked only on RTM_IFINFO2, the only layout
// relied on. A zero, too short or overlong length, a truncated header, a
// wrong version or an RTM_IFINFO2 too short for its if_data64 is an error
// wrapping ErrMalformed.
func ParseIfList2(buf []byte) ([]Entry, error) {
	var entries []Entry
	for off := 0; off < len(buf); {
		rest := buf[off:]
		if len(rest) < sizeMsgHdr {
			return nil, fmt.Errorf("%w: offset %d: truncated message header: %d bytes left, need %d",
				ErrMalformed, off, len(rest), sizeMsgHdr)
		}
		n := int(le.Uint16(rest[offMsglen:]))
		switch {
		case n == 0:
			return nil, fmt.Errorf("%w: offset %d: message length 0", ErrMalformed, off)
		case n < sizeMsgHdr:
			return nil, fmt.Errorf("%w: offset %d: message length %d shorter than its header (%d)",
				ErrMalformed, off, n, sizeMsgHdr)
		case n > len(rest):
			return nil, fmt.Errorf("%w: offset %d: message length %d runs past the end of the buffer (%d bytes left)",
				ErrMalformed, off, n, len(rest))
		}
		msg := rest[:n]
		if msg[offType] == rtmIFINFO2 {
			e, err := parseIfInfo2(msg, off)
			if err != nil {
				return nil, err
			}
			entries = append(entries, e)
		}
		off += n
	}
	return entries, nil
}

// parseIfInfo2 decodes one RTM_IFINFO2 message (struct if_msghdr2 followed
// by its sockaddrs); off is its position in the reply, for errors.
func parseIfInfo2(msg []byte, off int) (Entry, error) {
	if v := msg[offVersion]; v != rtmVersion {
		return Entry{}, fmt.Errorf("%w: offset %d: RTM_IFINFO2 version %d, want %d",
			ErrMalformed, off, v, rtmVersion)
	}
	if len(msg) < sizeIfMsghdr2 {
		return Entry{}, fmt.Errorf("%w: offset %d: RTM_IFINFO2 length %d too short for if_msghdr2 with if_data64 (%d)",
			ErrMalformed, off, len(msg), sizeIfMsghdr2)
	}
	d := msg[offIfmData:sizeIfMsghdr2]
	c, ec := ifData64Counters(d)
	ec.TxDrops = uint64(le.Uint32(msg[offIfmSndDrops:]))
	e := Entry{
		Index:    int(le.Uint16(msg[offIfmIndex:])),
		Flags:    le.Uint32(msg[offIfmFlags:]),
		Type:     d[offIfiType],
		Mtu:      le.Uint32(d[offIfiMtu:]),
		Baudrate: le.Uint64(d[offIfiBaudrate:]),
		Counters: c,
		Errors:   ec,
	}
	name, err := linkName(msg, le.Uint32(msg[offIfmAddrs:]), off)
	if err != nil {
		return Entry{}, err
	}
	e.Name = name
	return e, nil
}

// ifData64Counters reads the counters of a struct if_data64 (d holds at
// least sizeIfData64 bytes). TxDrops is left to the caller: if_data64 has no
// transmit drop counter.
func ifData64Counters(d []byte) (stats.Counters, stats.ErrorCounters) {
	return stats.Counters{
			RxBytes:   le.Uint64(d[offIfiIbytes:]),
			RxPackets: le.Uint64(d[offIfiIpackets:]),
			TxBytes:   le.Uint64(d[offIfiObytes:]),
			TxPackets: le.Uint64(d[offIfiOpackets:]),
		}, stats.ErrorCounters{
			RxErrors: le.Uint64(d[offIfiIerrors:]),
			RxDrops:  le.Uint64(d[offIfiIqdrops:]),
			TxErrors: le.Uint64(d[offIfiOerrors:]),
		}
}
