package procfs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netwatch-dev/netwatch/internal/ifsel"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

const header = "Inter-|   Receive                                                |  Transmit\n" +
	" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"

func TestParseFixture(t *testing.T) {
	b := openFixture(t, ifsel.Selector{})
	snap, err := b.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []stats.InterfaceCounters{
		{Name: "lo", Index: 1, Counters: stats.Counters{RxBytes: 3245, RxPackets: 30, TxBytes: 3245, TxPackets: 30},
			Errors: &stats.ErrorCounters{}},
		{Name: "eth0", Index: 2, Counters: stats.Counters{RxBytes: 1<<64 - 1, RxPackets: 1 << 32, TxBytes: 987654321012, TxPackets: 123456},
			Errors: &stats.ErrorCounters{RxErrors: 1, RxDrops: 2, TxErrors: 7, TxDrops: 8}},
		{Name: "wlp2s0", Index: 3, Counters: stats.Counters{RxBytes: 12345678901, RxPackets: 9876, TxBytes: 2345678, TxPackets: 4321},
			Errors: &stats.ErrorCounters{}},
	}
	assertInterfaces(t, snap.Interfaces, want)
	if snap.Mono <= 0 || snap.Wall.IsZero() {
		t.Errorf("snapshot not stamped: mono=%v wall=%v", snap.Mono, snap.Wall)
	}
	if got := b.Source(); got != (stats.Source{Backend: "procfs"}) {
		t.Errorf("Source() = %+v", got)
	}
}

// TestParseAllColumns checks that the parser keeps all 16 columns, each in
// its own field (the fixture's eth0 has a distinct value in every column).
func TestParseAllColumns(t *testing.T) {
	data, err := os.ReadFile("testdata/basic/net/dev")
	if err != nil {
		t.Fatal(err)
	}
	var p Parser
	rows, err := p.Parse(data, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []Row{
		{Name: "lo", RxBytes: 3245, RxPackets: 30, TxBytes: 3245, TxPackets: 30},
		{Name: "eth0",
			RxBytes: 1<<64 - 1, RxPackets: 1 << 32, RxErrs: 1, RxDrop: 2, RxFifo: 3, RxFrame: 4, RxCompressed: 5, RxMulticast: 6,
			TxBytes: 987654321012, TxPackets: 123456, TxErrs: 7, TxDrop: 8, TxFifo: 9, TxColls: 10, TxCarrier: 11, TxCompressed: 12},
		{Name: "wlp2s0", RxBytes: 12345678901, RxPackets: 9876, RxMulticast: 17, TxBytes: 2345678, TxPackets: 4321},
	}
	assertRows(t, rows, want)
}

// TestParseOtherProjectsFixtures parses the /proc/net/dev fixtures of other
// projects' parsers and expects what those projects expect: alias names
// with colons ("eth0:1", "ibr10:30"), no space between the colon and the
// first counter ("eth0:68210035552", "eth0:0:1"), non-ASCII names.
func TestParseOtherProjectsFixtures(t *testing.T) {
	ctr := func(name string, rxB, rxP, txB, txP uint64) Row {
		return Row{Name: name, RxBytes: rxB, RxPackets: rxP, TxBytes: txB, TxPackets: txP}
	}
	tests := []struct {
		dir, mirrors string
		want         []Row
	}{
		{"prometheus-procfs", "prometheus/procfs testdata/fixtures.ttar, fixtures/proc/net/dev", []Row{
			ctr("vethf345468", 648, 8, 438, 5),
			ctr("lo", 1664039048, 1566805, 1664039048, 1566805),
			ctr("docker0", 2568, 38, 438, 5),
			ctr("eth0", 874354587, 1036395, 563352563, 732147),
		}},
		{"prometheus-procfs-alias", "prometheus/procfs net_dev_test.go TestNetDevParseLine (eth0 and eth0:1)", []Row{
			seqRow("eth0", 1), seqRow("eth0:1", 1),
		}},
		{"node_exporter", "prometheus/node_exporter collector/fixtures/proc/net/dev", []Row{
			ctr("tun0", 1888, 24, 67120, 934),
			ctr("veth4B09XN", 648, 8, 1943284, 10640),
			ctr("lo", 435303245, 1832522, 435303245, 1832522),
			ctr("eth0", 68210035552, 520993275, 9315587528, 43451486),
			ctr("lxcbr0", 0, 0, 2630299, 28339),
			ctr("wlan0", 10437182923, 13899359, 2851649360, 11726200),
			ctr("docker0", 64910168, 1065585, 2681662018, 1929779),
			ctr("ibr10:30", 0, 0, 0, 0),
			{Name: "flannel.1", RxBytes: 18144009813, RxPackets: 228499337, TxBytes: 20758990068, TxPackets: 258369223, TxDrop: 64},
			{Name: "💩0", RxBytes: 57750104, RxPackets: 105557, RxMulticast: 72, TxBytes: 404570255, TxPackets: 304261},
		}},
		{"gopsutil", "shirou/gopsutil net/net_linux_test.go TestIOCountersByFileParsing, its four cases with distinct names", []Row{
			seqRow("eth0", 1), seqRow("eth1", 100),
			seqRow("eth0:0", 1), seqRow("eth1:0", 100),
			seqRow("eth2", 1), seqRow("eth3", 100),
			seqRow("eth2:0", 1), seqRow("eth3:0", 100),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tt.dir, "net", "dev"))
			if err != nil {
				t.Fatal(err)
			}
			var p Parser
			rows, err := p.Parse(data, nil, nil)
			if err != nil {
				t.Fatalf("fixture of %s: %v", tt.mirrors, err)
			}
			assertRows(t, rows, tt.want)

			// The backend reads the same, error counters included.
			b, err := Open(Options{Root: filepath.Join("testdata", tt.dir), IndexOf: func(string) int { return 0 }})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			snap, err := b.Read(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			want := make([]stats.InterfaceCounters, len(tt.want))
			for i, r := range tt.want {
				ec := r.ErrorCounters()
				want[i] = stats.InterfaceCounters{Name: r.Name, Counters: r.Counters(), Errors: &ec}
			}
			assertInterfaces(t, snap.Interfaces, want)
		})
	}
}

// seqRow is a row whose column i (from 1) holds i*k.
func seqRow(name string, k uint64) Row {
	return Row{Name: name,
		RxBytes: 1 * k, RxPackets: 2 * k, RxErrs: 3 * k, RxDrop: 4 * k, RxFifo: 5 * k, RxFrame: 6 * k, RxCompressed: 7 * k, RxMulticast: 8 * k,
		TxBytes: 9 * k, TxPackets: 10 * k, TxErrs: 11 * k, TxDrop: 12 * k, TxFifo: 13 * k, TxColls: 14 * k, TxCarrier: 15 * k, TxCompressed: 16 * k}
}

func assertRows(t *testing.T, got, want []Row) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// openFixture opens testdata/basic with fake indexes; closed by t.Cleanup.
func openFixture(t *testing.T, sel ifsel.Selector) *Backend {
	t.Helper()
	b, err := Open(Options{Root: "testdata/basic", Selector: sel, IndexOf: fakeIndex})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func fakeIndex(name string) int {
	return map[string]int{"lo": 1, "eth0": 2, "wlp2s0": 3}[name]
}

func assertInterfaces(t *testing.T, got, want []stats.InterfaceCounters) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d interfaces, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Name != w.Name || g.Index != w.Index || g.Counters != w.Counters {
			t.Errorf("interface %d = %s/%d %+v, want %s/%d %+v", i, g.Name, g.Index, g.Counters, w.Name, w.Index, w.Counters)
		}
		if (g.Errors == nil) != (w.Errors == nil) || (g.Errors != nil && *g.Errors != *w.Errors) {
			t.Errorf("interface %s errors = %+v, want %+v", w.Name, g.Errors, w.Errors)
		}
	}
}

func TestParseSelection(t *testing.T) {
	sel, err := ifsel.New([]string{"e*,lo"}, []string{"lo"})
	if err != nil {
		t.Fatal(err)
	}
	b := openFixture(t, sel)
	snap, err := b.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Interfaces) != 1 || snap.Interfaces[0].Name != "eth0" {
		t.Fatalf("selected %+v, want only eth0", snap.Interfaces)
	}
}

func TestParseMalformed(t *testing.T) {
	good := "  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
	tests := []struct {
		name, data, wantErr string
	}{
		{"empty file", "", "missing header"},
		{"one header line", header[:strings.Index(header, "\n")+1], "missing header"},
		{"bad first header", "garbage\n" + header[strings.Index(header, "\n")+1:] + good, `line 1 "garbage": not a /proc/net/dev header`},
		{"no colon", header + "  eth0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", "line 3"},
		{"empty name", header + "   : 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", "empty interface name"},
		{"colon among the counters", header + "  eth0: 1 2 3 4:5 6 7 8 9 10 11 12 13 14 15 16\n", `interface name "eth0: 1 2 3 4" contains white space`},
		{"alias with a column short", header + "  eth0:1: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n", "15 counter columns, want 16"},
		{"too few columns", header + "  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n", "15 counter columns, want 16"},
		{"too many columns", header + "  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n", "more than 16"},
		{"not a number", header + "  eth0: 1 2 3 4 x 6 7 8 9 10 11 12 13 14 15 16\n", `column 5: "x" is not a number`},
		{"negative", header + "  eth0: -1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", "column 1"},
		{"overflow", header + "  eth0: 18446744073709551616 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", "overflows 64 bits"},
		{"20 digits", header + "  eth0: 99999999999999999999 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", "overflows 64 bits"},
		{"not a number, 20 digits", header + "  eth0: 1844674407370955161x 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", "is not a number"},
		{"bad line after good", header + good + "  eth1: 1 2\n", "line 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Parser
			_, err := p.Parse([]byte(tt.data), nil, nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Parse error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestParseDuplicates checks that an interface listed twice in one file is
// an error naming both lines, selected or not, and not phantom traffic.
func TestParseDuplicates(t *testing.T) {
	line := func(name string) string { return "  " + name + ": 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n" }
	onlyEth1 := func(name string) bool { return name == "eth1" }
	tests := []struct {
		name, data string
		keep       func(string) bool
		wantErr    string
	}{
		{"twice", header + line("eth0") + line("eth1") + line("eth0"), nil,
			`line 5 "  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16": duplicate interface "eth0", first on line 3`},
		{"twice, unselected", header + line("eth0") + line("eth1") + line("eth0"), onlyEth1,
			`line 5 "  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16": duplicate interface "eth0", first on line 3`},
		{"alias twice", header + line("eth0") + "eth0:1:1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n" + line("eth0:1"), nil,
			`line 5 "  eth0:1: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16": duplicate interface "eth0:1", first on line 4`},
		{"padding differs", header + "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n\t eth0 :1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", nil,
			`line 4 "\t eth0 :1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16": duplicate interface "eth0", first on line 3`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Parser
			_, err := p.Parse([]byte(tt.data), tt.keep, nil)
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("Parse error = %v, want %s", err, tt.wantErr)
			}
		})
	}

	// One Parser sees each name once per file, not once for ever.
	var p Parser
	data := []byte(header + line("eth0") + line("eth1"))
	for i := range 3 {
		if rows, err := p.Parse(data, nil, nil); err != nil || len(rows) != 2 {
			t.Fatalf("parse %d of the same file: %d rows, %v", i+1, len(rows), err)
		}
	}

	// Through the backend, with the error's context.
	root := t.TempDir()
	writeDev(t, root, header+line("eth0")+line("eth0"))
	_, err := Open(Options{Root: root})
	checkOneLineError(t, err, "parse "+filepath.Join(root, "net", "dev")+`: line 4 "  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16": duplicate interface "eth0", first on line 3`)
}

// TestParserForgetsNames checks that names of interfaces that went away do
// not pile up in a long-lived Parser (veths of containers come and go).
func TestParserForgetsNames(t *testing.T) {
	var p Parser
	for i := range 200 {
		data := header
		for j := range 10 {
			data += fmt.Sprintf("  veth%d: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", i*10+j)
		}
		if _, err := p.Parse([]byte(data), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(p.names); n > 2*10+64 {
		t.Fatalf("parser remembers %d names after 200 files of 10 interfaces each", n)
	}
}

func TestParseTolerates(t *testing.T) {
	tests := []struct {
		name, data string
		want       []string
	}{
		{"no trailing newline", header + "  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16", []string{"eth0"}},
		{"blank lines", header + "\n  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n\n", []string{"eth0"}},
		{"no space after colon", header + "eth0:1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", []string{"eth0"}},
		{"tabs", header + "\teth0:\t1\t2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", []string{"eth0"}},
		{"alias", header + "  eth0:1: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", []string{"eth0:1"}},
		{"alias, no space after the colon", header + "eth0:1:1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", []string{"eth0:1"}},
		{"alias and its base", header + "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\neth0:1: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", []string{"eth0", "eth0:1"}},
		{"header only", header, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Parser
			got, err := p.Parse([]byte(tt.data), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, ic := range got {
				names = append(names, ic.Name)
			}
			if fmt.Sprint(names) != fmt.Sprint(tt.want) {
				t.Fatalf("names = %v, want %v", names, tt.want)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(Options{Root: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "procfs:") {
		t.Fatalf("Open on empty root: %v", err)
	}
	root := t.TempDir()
	writeDev(t, root, header+"  eth0: 1 2\n")
	if _, err := Open(Options{Root: root}); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("Open on malformed file: %v", err)
	}
}

// TestReadSeesChanges checks that the kept-open file and reused buffer give
// fresh contents on every read, including when the file grows.
func TestReadSeesChanges(t *testing.T) {
	root := t.TempDir()
	writeDev(t, root, header+"  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n")
	b, err := Open(Options{Root: root, IndexOf: func(string) int { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	big := header
	for i := range 500 {
		big += fmt.Sprintf("  eth%d: %d 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", i, i*100)
	}
	// Overwrite in place (same inode) as procfs regenerates contents.
	if err := os.WriteFile(filepath.Join(root, "net", "dev"), []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	snap, err := b.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Interfaces) != 500 || snap.Interfaces[499].RxBytes != 49900 {
		t.Fatalf("after growth: %d interfaces, last %+v", len(snap.Interfaces), snap.Interfaces[len(snap.Interfaces)-1])
	}
}

func TestReadCancelled(t *testing.T) {
	b := openFixture(t, ifsel.Selector{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.Read(ctx); err == nil {
		t.Fatal("Read on a cancelled context succeeded")
	}
}

// TestLiveProc reads the running system's /proc/net/dev, where present.
func TestLiveProc(t *testing.T) {
	if _, err := os.Stat("/proc/net/dev"); err != nil {
		t.Skip("no /proc/net/dev on this system")
	}
	b, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	snap, err := b.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, ic := range snap.Interfaces {
		if ic.Name == "lo" && ic.Index == 1 {
			return
		}
	}
	t.Fatalf("lo with index 1 not in %+v", snap.Interfaces)
}

// TestAllocations holds the parser to its budget: nothing in steady state
// with a reused dst, and two allocations per backend read (the snapshot's
// interfaces and their error counters) whatever the number of interfaces.
func TestAllocations(t *testing.T) {
	for _, n := range []int{1, 16, 500} {
		data := []byte(devWith(n))
		var p Parser
		rows, err := p.Parse(data, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if a := testing.AllocsPerRun(20, func() { rows, _ = p.Parse(data, nil, rows[:0]) }); a != 0 {
			t.Errorf("%d interfaces: Parse makes %v allocations with a reused dst, want 0", n, a)
		}

		root := t.TempDir()
		writeDev(t, root, string(data))
		b, err := Open(Options{Root: root, IndexOf: func(string) int { return 1 }})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if a := testing.AllocsPerRun(20, func() { b.Read(ctx) }); a > 2 {
			t.Errorf("%d interfaces: Read makes %v allocations, want at most 2", n, a)
		}
		b.Close()
	}
}

// devWith is a net/dev listing n veths.
func devWith(n int) string {
	var sb strings.Builder
	sb.WriteString(header)
	for i := range n {
		fmt.Fprintf(&sb, "%6s: %d %d 0 0 0 0 0 0 %d %d 0 0 0 0 0 0\n", fmt.Sprintf("veth%d", i), 1e9+i, 1e6+i, 2e9+i, 2e6+i)
	}
	return sb.String()
}

func writeDev(t testing.TB, root, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(root, "net"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "net", "dev"), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func benchmarkRead(b *testing.B, n int) {
	root := b.TempDir()
	writeDev(b, root, devWith(n))
	be, err := Open(Options{Root: root, IndexOf: func(string) int { return 1 }})
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := be.Read(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRead is one procfs sample (read + parse) of a small and a
// 500-interface /proc/net/dev.
func BenchmarkRead(b *testing.B) {
	for _, n := range []int{4, 16, 256, 500} {
		b.Run(fmt.Sprintf("ifaces=%d", n), func(b *testing.B) { benchmarkRead(b, n) })
	}
}

// openWithin opens root and returns Open's error, failing the test if Open
// succeeds or does not return within d (a regression then fails instead of
// hanging the test run).
func openWithin(t *testing.T, root string, d time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		b, err := Open(Options{Root: root, IndexOf: func(string) int { return 0 }})
		if err == nil {
			b.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatalf("Open(%s) succeeded, want an error", root)
		}
		return err
	case <-time.After(d):
		t.Fatalf("Open(%s) still blocked after %v", root, d)
	}
	return nil
}

// checkOneLineError checks that err is a one-line procfs error containing want.
func checkOneLineError(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "procfs: ") || !strings.Contains(msg, want) || strings.ContainsAny(msg, "\r\n") {
		t.Fatalf("error %q: want one line starting with \"procfs: \" and containing %q", msg, want)
	}
}

// devOfSize returns a valid net/dev of exactly n bytes: one interface, then
// blank lines (which the parser skips).
func devOfSize(n int) string {
	s := header + "  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
	return s + strings.Repeat("\n", n-len(s))
}

// TestReadBounded checks that reads stop at maxFileSize: a file of that size
// is read, one byte more is an error, at Open and on later reads.
func TestReadBounded(t *testing.T) {
	t.Run("at the limit", func(t *testing.T) {
		root := t.TempDir()
		writeDev(t, root, devOfSize(maxFileSize))
		b, err := Open(Options{Root: root, IndexOf: func(string) int { return 0 }})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		snap, err := b.Read(context.Background())
		if err != nil || len(snap.Interfaces) != 1 {
			t.Fatalf("Read = %+v, %v; want eth0", snap.Interfaces, err)
		}
	})
	t.Run("over the limit at open", func(t *testing.T) {
		root := t.TempDir()
		writeDev(t, root, devOfSize(maxFileSize+1))
		err := openWithin(t, root, 5*time.Second)
		checkOneLineError(t, err, "larger than 4 MiB")
	})
	t.Run("grows over the limit after open", func(t *testing.T) {
		root := t.TempDir()
		writeDev(t, root, devOfSize(1000))
		b, err := Open(Options{Root: root, IndexOf: func(string) int { return 0 }})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if err := os.WriteFile(filepath.Join(root, "net", "dev"), []byte(devOfSize(3*maxFileSize)), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err = b.Read(context.Background())
		checkOneLineError(t, err, "larger than 4 MiB")
		if cap(b.buf) > 2*maxFileSize {
			t.Errorf("buffer grew to %d bytes reading a %d-byte file", cap(b.buf), 3*maxFileSize)
		}
	})
}

// BenchmarkParse is the parser alone, on files of 4 to 500 interfaces, with
// a reused dst as the backend does.
func BenchmarkParse(b *testing.B) {
	for _, n := range []int{4, 16, 256, 500} {
		b.Run(fmt.Sprintf("ifaces=%d", n), func(b *testing.B) {
			data := []byte(devWith(n))
			var p Parser
			var rows []Row
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				var err error
				if rows, err = p.Parse(data, nil, rows[:0]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
