package sysctl

import (
	"errors"
	"testing"
)

func FuzzParseIfList2(f *testing.F) {
	en := fixtureIfaces[1]
	f.Add(ifList2(f, fixtureIfaces))
	f.Add(ifinfo2(f, en))
	f.Add(newaddr(f, 1))
	f.Add(shortIfinfo2(100))
	f.Add(ifinfo2With(f, en, func(h *cIfMsghdr2, _ *cSockaddrDl, extra *[]byte) {
		h.Addrs = 0x1 | 0x2 | rtaIFP
		*extra = []byte{0, 0, 0, 0, 5, 0, 0, 0}
		h.Msglen += 8
	}))
	f.Add([]byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, buf []byte) {
		entries, err := ParseIfList2(buf)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			if entries != nil {
				t.Fatalf("entries returned with error %v", err)
			}
			return
		}
		// Every entry consumed at least a full if_msghdr2.
		if len(entries)*sizeIfMsghdr2 > len(buf) {
			t.Fatalf("%d entries from %d bytes", len(entries), len(buf))
		}
		for _, e := range entries {
			if len(e.Name) > 255 {
				t.Fatalf("name of %d bytes", len(e.Name))
			}
		}
	})
}

func FuzzParseIfmibData(f *testing.F) {
	f.Add(ifmib(f, fixtureIfaces[1]))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, buf []byte) {
		m, err := ParseIfmibData(buf)
		if err != nil {
			if !errors.Is(err, ErrMalformed) || len(buf) >= sizeIfmibdata {
				t.Fatalf("error %v on %d bytes", err, len(buf))
			}
			return
		}
		if len(buf) < sizeIfmibdata || len(m.Name) > ifNameSize {
			t.Fatalf("parsed %d bytes, name %q", len(buf), m.Name)
		}
	})
}
