package output

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// blocks splits table output into header blocks: each starts with its
// header line; blank separator lines are dropped.
func blocks(t *testing.T, out string) [][]string {
	t.Helper()
	var bs [][]string
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		switch {
		case line == "":
		case strings.HasPrefix(line, "TIME "):
			bs = append(bs, []string{line})
		case len(bs) == 0:
			t.Fatalf("row before the first header: %q", line)
		default:
			bs[len(bs)-1] = append(bs[len(bs)-1], line)
		}
	}
	return bs
}

// TestTableHeaders checks when headers are printed and that every row of a
// block is exactly as wide as its header (no column jumps).
func TestTableHeaders(t *testing.T) {
	ifaces := func(names ...string) []stats.InterfaceSample {
		var in []stats.InterfaceSample
		for i, n := range names {
			in = append(in, stats.InterfaceSample{
				Name: n, Index: i + 1,
				// Rates of every magnitude, so value widths vary.
				Rates: stats.Rates{RxBytesPerSec: float64(uint64(1) << (7 * i)), TxPacketsPerSec: float64(i) * 12345},
			})
		}
		return in
	}
	repeat := func(n int, in []stats.InterfaceSample) [][]stats.InterfaceSample {
		var out [][]stats.InterfaceSample
		for range n {
			out = append(out, in)
		}
		return out
	}
	concat := func(parts ...[][]stats.InterfaceSample) [][]stats.InterfaceSample {
		var out [][]stats.InterfaceSample
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	two := ifaces("eth0", "lo")
	three := ifaces("eth0", "lo", "a-very-long-name0")
	nine := ifaces("a", "b", "c", "d", "e", "f", "g", "h", "i")

	tests := []struct {
		name      string
		samples   [][]stats.InterfaceSample
		wantRows  []int // rows under each header
		wantWidth []int // IFACE column width of each block
	}{
		{"steady set", repeat(5, two), []int{10}, []int{5}},
		{"repeat after 40 rows", repeat(45, two), []int{40, 40, 10}, []int{5, 5, 5}},
		{"never splits a sample", repeat(6, nine), []int{45, 9}, []int{5, 5}},
		{"appear and vanish", concat(repeat(2, two), repeat(2, three), repeat(1, two)), []int{4, 6, 2}, []int{5, 17, 5}},
		{"reordered", concat(repeat(1, two), repeat(1, ifaces("lo", "eth0"))), []int{2, 2}, []int{5, 5}},
		{"empty sample adds nothing", concat(repeat(1, two), [][]stats.InterfaceSample{nil}, repeat(1, two)), []int{4}, []int{5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var samples []stats.Sample
			for i, in := range tt.samples {
				samples = append(samples, stats.Sample{Time: t0.Add(time.Duration(i) * time.Millisecond), Interfaces: in})
			}
			bs := blocks(t, string(writeAll(t, FormatTable, TableOptions{Location: time.UTC}, samples)))
			var rows, widths []int
			for _, b := range bs {
				rows = append(rows, len(b)-1)
				// RX is right-aligned in its column, which follows TIME,
				// IFACE and two gaps.
				rx := strings.Index(b[0], "RX")
				widths = append(widths, rx-(timeWidth+2*len(columnGap)+rateWidth-len("RX")))
				for _, line := range b[1:] {
					if utf8.RuneCountInString(line) != utf8.RuneCountInString(b[0]) {
						t.Errorf("row %q is not as wide as its header %q", line, b[0])
					}
				}
			}
			if fmt.Sprint(rows) != fmt.Sprint(tt.wantRows) {
				t.Errorf("rows per header = %v, want %v", rows, tt.wantRows)
			}
			if fmt.Sprint(widths) != fmt.Sprint(tt.wantWidth) {
				t.Errorf("IFACE widths = %v, want %v", widths, tt.wantWidth)
			}
		})
	}
}

func TestTableTimeZone(t *testing.T) {
	s := stats.Sample{Time: t0, Interfaces: []stats.InterfaceSample{{Name: "eth0"}}}
	tests := []struct {
		loc  *time.Location
		want string
	}{
		{time.UTC, "10:00:00.123"},
		{cet, "11:00:00.123"},
		{time.FixedZone("X", -9*3600-30*60), "00:30:00.123"},
	}
	for _, tt := range tests {
		bs := blocks(t, string(writeAll(t, FormatTable, TableOptions{Location: tt.loc}, []stats.Sample{s})))
		if got := bs[0][1][:len(tt.want)]; got != tt.want {
			t.Errorf("TIME in %s = %q, want %q", tt.loc, got, tt.want)
		}
	}
}
