package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netwatch-dev/netwatch/internal/record"
	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
)

// TestRecordReportRealTraffic records 1 ms bins of a veth end while an
// exact number of UDP frames crosses it, in every format, and reads the
// recording back with report: totals equal to the frames sent.
func TestRecordReportRealTraffic(t *testing.T) {
	p := netnstest.NewPair(t)
	const n, payload = 300, 1000
	frame := netnstest.UDPFrameLen(payload)
	for _, f := range record.Formats {
		t.Run(string(f), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "rec"+f.Ext())
			c := startNetwatch(t, p.A, "record", "-b", "ebpf", "-i", p.IfA, "-r", "1ms", "-d", "3s", "-o", path)
			line, ok := c.next(t) // the first bin is recorded: attached
			if !ok || !strings.HasPrefix(string(line), "recording "+path+": ebpf/") || !strings.Contains(string(line), "bins of 1ms") {
				t.Fatalf("first line %q", line)
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
			if len(rep.Interfaces) != 1 || rep.Stream != record.StreamBins || rep.Resolution.Milliseconds() != 1 {
				t.Fatalf("report %+v", rep)
			}
			ir := rep.Interfaces[0]
			if ir.Name != p.IfA || ir.Tx.Bytes != uint64(n*frame) || ir.Tx.Packets != n || ir.LostBins != 0 {
				t.Errorf("%s: tx %d bytes %d packets (lost bins %d), want %d and %d", ir.Name, ir.Tx.Bytes, ir.Tx.Packets, ir.LostBins, n*frame, n)
			}
			if ir.Bins < 2990 || ir.Bins > 3000 {
				t.Errorf("%d bins in a 3 s recording of 1 ms bins", ir.Bins)
			}
			if st, err := os.Stat(path); err != nil || st.Size() == 0 {
				t.Errorf("recording file: %v", err)
			}
		})
	}
}
