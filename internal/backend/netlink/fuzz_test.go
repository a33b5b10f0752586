package netlink

import (
	"strings"
	"testing"
)

// FuzzParseStats checks that no RTM_NEWSTATS payload makes the parser
// panic, that errors are one line, and that what it accepts has a valid
// ifindex.
func FuzzParseStats(f *testing.F) {
	for _, m := range readHex(f, "stats.hex") {
		f.Add(m)
	}
	f.Add(statsMsg(7))
	f.Add(statsMsg(7, attr(iflaStatsLink64, link64(1, 2, 3, 4, 5, 6, 7, 8))))
	f.Add(append(statsMsg(1), 0xff, 0xff, 1, 0))
	f.Fuzz(func(t *testing.T, msg []byte) {
		s, err := ParseStats(msg)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error of more than one line: %q", err)
			}
			return
		}
		if s.Index <= 0 {
			t.Fatalf("accepted ifindex %d", s.Index)
		}
	})
}

// FuzzParseLink checks the same of RTM_NEWLINK payloads, and that an
// accepted name is one the kernel could have given.
func FuzzParseLink(f *testing.F) {
	for _, m := range readHex(f, "links.hex") {
		f.Add(m)
	}
	f.Add(make([]byte, sizeofIfInfoMsg))
	f.Fuzz(func(t *testing.T, msg []byte) {
		ix, name, err := ParseLink(msg)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error of more than one line: %q", err)
			}
			return
		}
		if ix <= 0 || len(name) > maxNameLen || strings.IndexByte(name, 0) >= 0 {
			t.Fatalf("accepted ifindex %d name %q", ix, name)
		}
	})
}
