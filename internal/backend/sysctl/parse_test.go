package sysctl

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseIfList2(t *testing.T) {
	lo, en, ut := fixtureIfaces[0], fixtureIfaces[1], fixtureIfaces[2]
	tests := []struct {
		name string
		buf  []byte
		want []Entry
	}{
		{"empty", nil, nil},
		{"three interfaces with RTM_NEWADDR between", ifList2(t, fixtureIfaces),
			[]Entry{wantEntry(lo), wantEntry(en), wantEntry(ut)}},
		{"only non-IFINFO2 messages", cat(newaddr(t, 1), newaddr(t, 2)), nil},
		{"non-IFINFO2 with another version is skipped",
			cat(withVersion(newaddr(t, 1), 4), ifinfo2(t, en)), []Entry{wantEntry(en)}},
		{"kernel order kept", cat(ifinfo2(t, ut), ifinfo2(t, lo)), []Entry{wantEntry(ut), wantEntry(lo)}},
		{"no RTA_IFP: no name", ifinfo2With(t, en, func(h *cIfMsghdr2, _ *cSockaddrDl, _ *[]byte) {
			h.Addrs = 0
		}), []Entry{func() Entry { e := wantEntry(en); e.Name = ""; return e }()}},
		{"sockaddrs before RTA_IFP skipped", ifinfo2With(t, en, func(h *cIfMsghdr2, _ *cSockaddrDl, extra *[]byte) {
			// RTA_DST: 16-byte sockaddr_in; RTA_NETMASK: sa_len 5, padded to 8.
			h.Addrs = 0x1 | 0x4 | rtaIFP
			*extra = append(make([]byte, 0, 24), 16, 2, 0, 0, 198, 18, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 5, 2, 0, 0, 255, 0, 0, 0)
			h.Msglen += 24
		}), []Entry{wantEntry(en)}},
		{"zero-length sockaddr takes 4 bytes", ifinfo2With(t, en, func(h *cIfMsghdr2, _ *cSockaddrDl, extra *[]byte) {
			h.Addrs = 0x2 | rtaIFP
			*extra = []byte{0, 0, 0, 0}
			h.Msglen += 4
		}), []Entry{wantEntry(en)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseIfList2(tt.buf)
			if err != nil {
				t.Fatalf("ParseIfList2: %v", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseIfList2Malformed(t *testing.T) {
	en := fixtureIfaces[1]
	good := ifinfo2(t, en) // 180 bytes
	tests := []struct {
		name string
		buf  []byte
		want string // substring of the error
	}{
		{"zero length", cat(good, []byte{0, 0, rtmVersion, rtmIFINFO2}),
			"offset 180: message length 0"},
		{"length shorter than header", cat(good, []byte{2, 0, rtmVersion, rtmIFINFO2}),
			"offset 180: message length 2 shorter than its header"},
		{"length runs past buffer", good[:179],
			"offset 0: message length 180 runs past the end of the buffer (179 bytes left)"},
		{"second message runs past buffer", cat(good, newaddr(t, 4)[:30]),
			"offset 180: message length 36 runs past the end of the buffer (30 bytes left)"},
		{"truncated header", cat(good, []byte{4, 0, rtmVersion}),
			"offset 180: truncated message header: 3 bytes left, need 4"},
		{"wrong version", cat(newaddr(t, 1), withVersion(good, 4)),
			"offset 36: RTM_IFINFO2 version 4, want 5"},
		{"IFINFO2 too short for if_data64", shortIfinfo2(100),
			"offset 0: RTM_IFINFO2 length 100 too short for if_msghdr2 with if_data64 (160)"},
		{"IFINFO2 one byte short", shortIfinfo2(159),
			"offset 0: RTM_IFINFO2 length 159 too short"},
		{"RTA_IFP without sockaddr", ifinfo2With(t, en, func(h *cIfMsghdr2, _ *cSockaddrDl, _ *[]byte) {
			h.Msglen = 164
		})[:164], "offset 0: sockaddr_dl at message byte 160 truncated (length 164)"},
		{"sockaddr before RTA_IFP missing", ifinfo2With(t, en, func(h *cIfMsghdr2, _ *cSockaddrDl, _ *[]byte) {
			h.Addrs = 0x1 | rtaIFP
			h.Msglen = 160
		})[:160], "offset 0: sockaddr 0 missing at message byte 160"},
		{"RTA_IFP not AF_LINK", ifinfo2With(t, en, func(_ *cIfMsghdr2, sa *cSockaddrDl, _ *[]byte) {
			sa.Family = 2
		}), "offset 0: RTA_IFP sockaddr family 2, want AF_LINK (18)"},
		{"name longer than sockaddr", ifinfo2With(t, en, func(_ *cIfMsghdr2, sa *cSockaddrDl, _ *[]byte) {
			sa.Nlen = 13
		}), "offset 0: sockaddr_dl name length 13, sockaddr length 20"},
		{"sockaddr longer than message", ifinfo2With(t, en, func(_ *cIfMsghdr2, sa *cSockaddrDl, _ *[]byte) {
			sa.Len = 21
		}), "sockaddr length 21, 20 bytes left in message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseIfList2(tt.buf)
			if err == nil {
				t.Fatalf("no error, entries %+v", got)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("error %v does not wrap ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tt.want)
			}
			if got != nil {
				t.Errorf("entries %+v returned with the error", got)
			}
		})
	}
}

func cat(bufs ...[]byte) []byte { return slices.Concat(bufs...) }

// withVersion returns a copy of the message msg with its version replaced.
func withVersion(msg []byte, v uint8) []byte {
	m := slices.Clone(msg)
	m[2] = v // ifm_version / rtm_version
	return m
}

// shortIfinfo2 is an RTM_IFINFO2 of n bytes, too short for its if_data64.
func shortIfinfo2(n int) []byte {
	m := make([]byte, n)
	m[0], m[1], m[2], m[3] = byte(n), byte(n>>8), rtmVersion, rtmIFINFO2
	return m
}
