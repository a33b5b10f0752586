package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netwatch-dev/netwatch/internal/record"
	"github.com/netwatch-dev/netwatch/internal/stats"
	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
)

// TestRecordNetnsSeveral records both ends of a veth pair in one run
// (record --netns A,B) while UDP crosses from A to B, and reads it back
// with report --json: the two ends, which have the same ifindex in their
// fresh namespaces, are two interfaces, each with its namespace
// and exactly its own counts (netlink: the kernel's counter deltas over the
// recording; ebpf: the frames sent).
func TestRecordNetnsSeveral(t *testing.T) {
	p := netnstest.NewPair(t)
	if p.IndexA != p.IndexB {
		t.Fatalf("the pair's ends are %s/%d and %s/%d: this test needs one ifindex in both namespaces", p.IfA, p.IndexA, p.IfB, p.IndexB)
	}
	const n, payload = 50, 400
	frame := uint64(netnstest.UDPFrameLen(payload))
	for _, tc := range []struct {
		backend string
		args    []string
		format  record.Format
		stream  string
	}{
		{"netlink", []string{"-n", "200ms"}, record.NDJSON, record.StreamSamples},
		{"ebpf", []string{"-r", "1ms"}, record.Parquet, record.StreamBins},
	} {
		t.Run(tc.backend, func(t *testing.T) {
			before := map[string]stats.Counters{}
			for _, side := range []struct {
				ns  *netnstest.NS
				ifn string
			}{{p.A, p.IfA}, {p.B, p.IfB}} {
				c, err := side.ns.LinkStats(side.ifn)
				if err != nil {
					t.Fatal(err)
				}
				before[side.ns.Name] = c
			}
			path := filepath.Join(t.TempDir(), "rec"+tc.format.Ext())
			args := append([]string{"record", "-b", tc.backend, "--netns", p.A.Name + "," + p.B.Name, "-i", p.IfA, "-i", p.IfB, "-d", "2s", "-o", path}, tc.args...)
			c := startNetwatch(t, p.A, args...)
			line, ok := c.next(t) // the first row is recorded: the baseline is read
			if !ok || !strings.HasPrefix(string(line), "recording "+path+": "+tc.backend) || !strings.Contains(string(line), "2 interface(s)") {
				t.Fatalf("first line %q; stderr %s", line, c.stderrIfDone())
			}
			p.SendUDP(t, netnstest.A, n, payload)
			if code := c.wait(t); code != 0 {
				t.Fatalf("record exit %d: %s", code, c.stderrIfDone())
			}
			r := netwatch(t, "report", "--json", path)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("report exit %d: %s", r.code, r.stderr)
			}
			var rep record.Report
			if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
				t.Fatal(err)
			}
			if len(rep.Interfaces) != 2 || rep.Stream != tc.stream {
				t.Fatalf("report: stream %q, want %q, and %d interfaces, want 2 (%s in %s, %s in %s): %s",
					rep.Stream, tc.stream, len(rep.Interfaces), p.IfA, p.A.Name, p.IfB, p.B.Name, r.stdout)
			}
			for _, side := range []struct {
				ns    *netnstest.NS
				ifn   string
				index int
				sent  stats.Counters // what the frames sent add
			}{
				{p.A, p.IfA, p.IndexA, stats.Counters{TxPackets: n, TxBytes: n * frame}},
				{p.B, p.IfB, p.IndexB, stats.Counters{RxPackets: n, RxBytes: n * frame}},
			} {
				var ir *record.IfaceReport
				for i := range rep.Interfaces {
					if rep.Interfaces[i].Netns == side.ns.Name {
						ir = &rep.Interfaces[i]
					}
				}
				if ir == nil {
					t.Fatalf("no interface with netns %s in the report: %s", side.ns.Name, r.stdout)
				}
				if ir.Name != side.ifn || ir.Index != side.index {
					t.Errorf("netns %s: interface %s index %d, want %s index %d", side.ns.Name, ir.Name, ir.Index, side.ifn, side.index)
				}
				got := stats.Counters{RxBytes: ir.Rx.Bytes, RxPackets: ir.Rx.Packets, TxBytes: ir.Tx.Bytes, TxPackets: ir.Tx.Packets}
				want := side.sent
				if tc.backend == "netlink" {
					after, err := side.ns.LinkStats(side.ifn)
					if err != nil {
						t.Fatal(err)
					}
					var ok bool
					if want, ok = stats.Delta(before[side.ns.Name], after); !ok {
						t.Fatalf("%s/%s: kernel counters went back: %+v then %+v", side.ns.Name, side.ifn, before[side.ns.Name], after)
					}
					if want.TxPackets+want.RxPackets < n {
						t.Errorf("%s/%s: the kernel counted %+v, fewer than the %d datagrams sent", side.ns.Name, side.ifn, want, n)
					}
				}
				if got != want {
					t.Errorf("%s/%s recorded %+v, want %+v", side.ns.Name, side.ifn, got, want)
				}
			}
			// The file's interface list names both, each with its netns.
			recd, err := record.Read([]string{path}, record.Range{}, func(record.Row) error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			ifs := recd.Files[0].Meta.Interfaces
			if len(ifs) != 2 || ifs[0].Netns == ifs[1].Netns || ifs[0].Netns == "" || ifs[1].Netns == "" {
				t.Errorf("file interface list %+v", ifs)
			}
		})
	}
}
