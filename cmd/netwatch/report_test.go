package main

import (
	"strings"
	"testing"
	"time"

	"github.com/netwatch-dev/netwatch/internal/output"
	"github.com/netwatch-dev/netwatch/internal/record"
)

// TestReportTableLabels: the report table has NETNS (and CONTAINER)
// columns when any interface has a namespace (or a container), one row
// pair per interface, and none of them otherwise; burst lines name the
// interface as name@netns.
func TestReportTableLabels(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	burst := record.Burst{Interface: "lo", Index: 1, Netns: "nsA", Direction: "rx", Start: t0, End: t0.Add(time.Millisecond),
		Duration: time.Millisecond, Bytes: 5000, PeakBytesPerSec: 5e6}
	for _, tc := range []struct {
		name     string
		ifaces   []record.IfaceReport
		header   []string // header columns, in order
		rows     []string // each must appear at the start of a row (spaces squeezed)
		absent   []string
		burstTxt string
	}{
		{
			name: "namespaces and a container",
			ifaces: []record.IfaceReport{
				{Name: "lo", Index: 1, Netns: "nsA", ContainerID: "0123456789abcdef0123", Bins: 1, Covered: time.Second,
					Rx: record.DirReport{Bytes: 111, Bursts: record.BurstReport{Count: 1, List: []record.Burst{burst}}}},
				{Name: "lo", Index: 1, Netns: "nsB", Bins: 1, Covered: time.Second, Rx: record.DirReport{Bytes: 222}},
			},
			header:   []string{"IFACE", "NETNS", "CONTAINER", "DIR", "BYTES"},
			rows:     []string{"lo nsA 0123456789ab rx 111 B", "lo nsA 0123456789ab tx 0 B", "lo nsB - rx 222 B", "lo nsB - tx 0 B"},
			burstTxt: "lo@nsA",
		},
		{
			name:   "namespaces only",
			ifaces: []record.IfaceReport{{Name: "lo", Index: 1, Netns: "nsA", Bins: 1, Covered: time.Second}},
			header: []string{"IFACE", "NETNS", "DIR"},
			rows:   []string{"lo nsA rx 0 B"},
			absent: []string{"CONTAINER"},
		},
		{
			name:   "no labels",
			ifaces: []record.IfaceReport{{Name: "eth0", Index: 2, Bins: 1, Covered: time.Second, Rx: record.DirReport{Bytes: 7}}},
			header: []string{"IFACE", "DIR", "BYTES"},
			rows:   []string{"eth0 rx 7 B"},
			absent: []string{"NETNS", "CONTAINER"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			rep := record.Report{From: t0, To: t0.Add(time.Second), Stream: record.StreamBins, Resolution: time.Millisecond, Interfaces: tc.ifaces}
			if err := writeReport(&b, rep, output.TableOptions{}); err != nil {
				t.Fatal(err)
			}
			var lines []string
			for _, l := range strings.Split(b.String(), "\n") {
				lines = append(lines, strings.Join(strings.Fields(l), " "))
			}
			text := strings.Join(lines, "\n")
			if !strings.Contains(text, "\n"+strings.Join(tc.header, " ")+" ") {
				t.Errorf("no header %q in\n%s", tc.header, b.String())
			}
			for _, r := range tc.rows {
				if !strings.Contains(text, "\n"+r+" ") {
					t.Errorf("no row %q in\n%s", r, b.String())
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(text, a) {
					t.Errorf("%q in\n%s", a, b.String())
				}
			}
			if tc.burstTxt != "" && !strings.Contains(text, tc.burstTxt+" rx") {
				t.Errorf("no burst line of %s in\n%s", tc.burstTxt, b.String())
			}
		})
	}
}
