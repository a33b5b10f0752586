package procfs

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// FuzzParse checks that no input makes the parser panic, that its errors are
// one line, and that whatever it accepts has one row per name, a name
// without white space, and reads back the same when written out again in
// the kernel's format.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"basic", "prometheus-procfs", "prometheus-procfs-alias", "node_exporter", "gopsutil"} {
		if data, err := os.ReadFile("testdata/" + dir + "/net/dev"); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(header + "eth0:1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16"))
	f.Add([]byte(header + ":::\n"))
	f.Add([]byte(header + "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\neth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"))
	f.Add([]byte(header + "eth0:1:1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := lastColon(data), bytes.LastIndexByte(data, ':'); got != want {
			t.Fatalf("lastColon = %d, bytes.LastIndexByte = %d", got, want)
		}
		var p Parser
		rows, err := p.Parse(data, nil, nil)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error of more than one line: %q", err)
			}
			return
		}
		seen := make(map[string]bool)
		for _, r := range rows {
			if r.Name == "" || strings.ContainsAny(r.Name, " \t\n") {
				t.Fatalf("accepted a row with a bad name: %+v", r)
			}
			if seen[r.Name] {
				t.Fatalf("accepted interface %q twice", r.Name)
			}
			seen[r.Name] = true
		}
		again, err := new(Parser).Parse([]byte(formatRows(rows)), nil, nil)
		if err != nil {
			t.Fatalf("rows written back do not parse: %v\n%+v", err, rows)
		}
		if !slices.Equal(again, rows) {
			t.Fatalf("rows written back read differently:\n got %+v\nwant %+v", again, rows)
		}
	})
}

// formatRows writes rows in /proc/net/dev's format.
func formatRows(rows []Row) string {
	var b strings.Builder
	b.WriteString(header)
	for _, r := range rows {
		fmt.Fprintf(&b, "%6s: %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d\n", r.Name,
			r.RxBytes, r.RxPackets, r.RxErrs, r.RxDrop, r.RxFifo, r.RxFrame, r.RxCompressed, r.RxMulticast,
			r.TxBytes, r.TxPackets, r.TxErrs, r.TxDrop, r.TxFifo, r.TxColls, r.TxCarrier, r.TxCompressed)
	}
	return b.String()
}
