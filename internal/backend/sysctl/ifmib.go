package sysctl

import (
	"bytes"
	"fmt"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// MibData is the part of a struct ifmibdata (IFMIB_IFDATA, IFDATA_GENERAL)
// netwatch uses. Unlike IFLIST2, its if_data64 byte counters are full 64-bit.
type MibData struct {
	Name     string
	Flags    uint32
	Counters stats.Counters
	// Errors: TxDrops is ifmd_snd_drops, the send-queue drops.
	Errors stats.ErrorCounters
}

// ParseIfmibData decodes a struct ifmibdata. A buffer shorter than the
// structure is an error wrapping ErrMalformed; trailing bytes are ignored.
func ParseIfmibData(buf []byte) (MibData, error) {
	if len(buf) < sizeIfmibdata {
		return MibData{}, fmt.Errorf("%w: offset 0: ifmibdata is %d bytes, need %d",
			ErrMalformed, len(buf), sizeIfmibdata)
	}
	name := buf[offIfmdName : offIfmdName+ifNameSize]
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	c, ec := ifData64Counters(buf[offIfmdData:sizeIfmibdata])
	ec.TxDrops = uint64(le.Uint32(buf[offIfmdSndDrops:]))
	return MibData{
		Name:     string(name),
		Flags:    le.Uint32(buf[offIfmdFlags:]),
		Counters: c,
		Errors:   ec,
	}, nil
}
