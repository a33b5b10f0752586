package netlink

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// readHex reads a fixture of netlink message payloads, one hex line each,
// captured from Linux 6.18 (x86-64, little-endian) in a namespace holding lo
// and a veth pair nwa/nwb after a few UDP datagrams.
func readHex(t testing.TB, name string) [][]byte {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var msgs [][]byte
	for line := range strings.Lines(string(data)) {
		b, err := hex.DecodeString(strings.TrimSpace(line))
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, b)
	}
	return msgs
}

func littleEndianOnly(t testing.TB) {
	if byteOrder.Uint16([]byte{1, 0}) != 1 {
		t.Skip("fixtures are little-endian netlink")
	}
}

func TestParseStatsFixture(t *testing.T) {
	littleEndianOnly(t)
	var got []Stats
	for _, m := range readHex(t, "stats.hex") {
		s, err := ParseStats(m)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	// As `ip -s link` showed right after the capture.
	want := []Stats{
		{Index: 1, Counters: stats.Counters{RxBytes: 288, RxPackets: 6, TxBytes: 288, TxPackets: 6}},
		{Index: 2, Counters: stats.Counters{RxBytes: 350, RxPackets: 5, TxBytes: 266, TxPackets: 3}},
		{Index: 3, Counters: stats.Counters{RxBytes: 266, RxPackets: 3, TxBytes: 350, TxPackets: 5}},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d interfaces, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("interface %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestParseLinkFixture(t *testing.T) {
	littleEndianOnly(t)
	want := map[int]string{1: "lo", 2: "nwb", 3: "nwa"}
	got := map[int]string{}
	for _, m := range readHex(t, "links.hex") {
		ix, name, err := ParseLink(m)
		if err != nil {
			t.Fatal(err)
		}
		got[ix] = name
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for ix, name := range want {
		if got[ix] != name {
			t.Errorf("ifindex %d: got %q, want %q", ix, got[ix], name)
		}
	}
}

// statsMsg builds an RTM_NEWSTATS payload for index with the given attributes.
func statsMsg(index uint32, attrs ...[]byte) []byte {
	m := make([]byte, sizeofIfStatsMsg)
	byteOrder.PutUint32(m[4:], index)
	for _, a := range attrs {
		m = append(m, a...)
	}
	return m
}

func attr(typ uint16, data []byte) []byte {
	a := make([]byte, sizeofRtAttr, sizeofRtAttr+len(data)+3)
	byteOrder.PutUint16(a[0:], uint16(sizeofRtAttr+len(data)))
	byteOrder.PutUint16(a[2:], typ)
	a = append(a, data...)
	for len(a)%4 != 0 {
		a = append(a, 0)
	}
	return a
}

func link64(vals ...uint64) []byte {
	b := make([]byte, 0, 8*len(vals))
	for _, v := range vals {
		b = binary.NativeEndian.AppendUint64(b, v)
	}
	return b
}

func TestParseStatsErrors(t *testing.T) {
	full := link64(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
	tests := []struct {
		name, msg, err string
	}{
		{"short header", string(make([]byte, 11)), "shorter than if_stats_msg"},
		{"ifindex 0", string(statsMsg(0, attr(iflaStatsLink64, full))), "ifindex 0"},
		{"no link64", string(statsMsg(7, attr(2, []byte{1, 2, 3, 4}))), "no IFLA_STATS_LINK_64"},
		{"short link64", string(statsMsg(7, attr(iflaStatsLink64, full[:63]))), "of 63 bytes"},
		{"twice", string(statsMsg(7, attr(iflaStatsLink64, full), attr(iflaStatsLink64, full))), "twice"},
		{"attr too long", string(append(statsMsg(7), 0xff, 0, 1, 0)), "length 255"},
		{"attr too short", string(append(statsMsg(7), 2, 0, 1, 0)), "length 2"},
		{"trailing bytes", string(append(statsMsg(7, attr(iflaStatsLink64, full)), 1, 2)), "trailing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseStats([]byte(tt.msg))
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err = %v, want one containing %q", err, tt.err)
			}
		})
	}
	s, err := ParseStats(statsMsg(7, attr(5, nil), attr(iflaStatsLink64|1<<15, full)))
	if err != nil {
		t.Fatal(err)
	}
	want := Stats{Index: 7, Counters: stats.Counters{RxPackets: 1, TxPackets: 2, RxBytes: 3, TxBytes: 4},
		Errors: stats.ErrorCounters{RxErrors: 5, TxErrors: 6, RxDrops: 7, TxDrops: 8}}
	if s != want {
		t.Fatalf("got %+v, want %+v", s, want)
	}
}

func TestParseLinkErrors(t *testing.T) {
	info := func(ix int32, attrs ...[]byte) []byte {
		m := make([]byte, sizeofIfInfoMsg)
		byteOrder.PutUint32(m[4:], uint32(ix))
		return append(m, bytes.Join(attrs, nil)...)
	}
	for _, tt := range []struct {
		name string
		msg  []byte
		err  string
	}{
		{"short", make([]byte, 15), "shorter than ifinfomsg"},
		{"negative index", info(-1), "ifindex -1"},
		{"empty name", info(3, attr(iflaIfname, []byte{0})), "name of 0 bytes"},
		{"long name", info(3, attr(iflaIfname, []byte("abcdefghijklmnop\x00"))), "name of 16 bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := ParseLink(tt.msg); err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err = %v, want one containing %q", err, tt.err)
			}
		})
	}
	ix, name, err := ParseLink(info(9, attr(iflaIfname, []byte("eth0"))))
	if err != nil || ix != 9 || name != "eth0" {
		t.Fatalf("got %d %q %v, want 9 eth0 (no NUL accepted)", ix, name, err)
	}
	ix, name, err = ParseLink(info(9))
	if err != nil || ix != 9 || name != "" {
		t.Fatalf("got %d %q %v, want 9 and no name", ix, name, err)
	}
}
