package record

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netwatch-dev/netwatch/internal/testutil/privileged"
)

// TestDuckDBReadsParquet reads a Parquet recording with an independent
// reader, DuckDB (the npm package @duckdb/node-api, installed by npm into a
// temporary directory from testdata/duckdb/package.json): the row count and
// the sums per interface equal what was recorded, time is a timestamp
// column and the metadata block is there; a recording of "lo" index 1 in
// two namespaces is two groups by the netns column, with the sums recorded
// and the container_id column. Without node and npm it skips
// (fails under NETWATCH_PRIVILEGED_TESTS=require, as in CI).
func TestDuckDBReadsParquet(t *testing.T) {
	privileged.NeedTool(t, "node", "npm")
	fs := newFakeStream(1_000_000, 3_000, testBursts)
	dir := t.TempDir()
	path := filepath.Join(dir, "rec.parquet")
	rec, err := NewRecorder(Config{Path: path, Meta: testMeta(), Wall: fakeWall})
	if err != nil {
		t.Fatal(err)
	}
	fs.feed(t, rec.Bin, rec.Burst, rec.Flush)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}

	js := filepath.Join(dir, "js")
	if err := os.MkdirAll(js, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"package.json", "query.js"} {
		b, err := os.ReadFile(filepath.Join("testdata", "duckdb", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(js, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	install := exec.Command("npm", "install", "--no-audit", "--no-fund", "--silent")
	install.Dir = js
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("npm install @duckdb/node-api: %v\n%s", err, out)
	}
	out := duckdbQuery(t, js, path)
	var got struct {
		Sums []struct {
			Interface string `json:"interface"`
			Idx       int    `json:"idx"`
			// BIGINT comes as a string.
			N         string `json:"n"`
			RxBytes   string `json:"rx_bytes"`
			RxPackets string `json:"rx_packets"`
			TxBytes   string `json:"tx_bytes"`
			TxPackets string `json:"tx_packets"`
			First     string `json:"first"`
		} `json:"sums"`
		Types []struct {
			ColumnName string `json:"column_name"`
			ColumnType string `json:"column_type"`
		} `json:"types"`
		Meta []struct {
			Value string `json:"value"`
		} `json:"meta"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(got.Sums) != 2 {
		t.Fatalf("DuckDB sees %d interfaces: %s", len(got.Sums), out)
	}
	for _, s := range got.Sums {
		want := fs.total[s.Idx]
		if s.N != "3000" || s.RxBytes != itoa(want.RxBytes) || s.RxPackets != itoa(want.RxPackets) ||
			s.TxBytes != itoa(want.TxBytes) || s.TxPackets != itoa(want.TxPackets) {
			t.Errorf("DuckDB sums for %s: %+v, want 3000 rows and %+v", s.Interface, s, want)
		}
		if first := fakeWall(1_000_000 * time.Millisecond).Format("2006-01-02 15:04:05"); !strings.HasPrefix(s.First, first) {
			t.Errorf("%s: first time %q, want %s", s.Interface, s.First, first)
		}
	}
	types := map[string]string{}
	for _, c := range got.Types {
		types[c.ColumnName] = c.ColumnType
	}
	if !strings.HasPrefix(types["time"], "TIMESTAMP") || types["rx_bytes"] != "BIGINT" || types["interface"] != "VARCHAR" || types["lost"] != "BOOLEAN" ||
		types["netns"] != "VARCHAR" || types["container_id"] != "VARCHAR" {
		t.Errorf("column types %v", types)
	}
	if len(got.Meta) != 1 || !strings.Contains(got.Meta[0].Value, `"resolution_ns":1000000`) {
		t.Errorf("metadata %+v", got.Meta)
	}
	t.Logf("DuckDB: %s", out)

	// Two namespaces' lo/1 and one outside any namespace.
	nsPath := filepath.Join(dir, "ns.parquet")
	rec, err = NewRecorder(Config{Path: nsPath, Meta: testMeta(), Wall: fakeWall})
	if err != nil {
		t.Fatal(err)
	}
	bins, events, total := nsStream(1_000_000, 500, 1_000_100)
	feedNS(t, bins, events, rec.Bin, rec.Burst)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	out = duckdbQuery(t, js, nsPath)
	var labels struct {
		Labels []struct {
			Netns       string `json:"netns"`
			ContainerID string `json:"container_id"`
			Interface   string `json:"interface"`
			Idx         int    `json:"idx"`
			N           string `json:"n"`
			RxBytes     string `json:"rx_bytes"`
			TxBytes     string `json:"tx_bytes"`
		} `json:"labels"`
	}
	if err := json.Unmarshal(out, &labels); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(labels.Labels) != 3 {
		t.Fatalf("DuckDB sees %d (netns, container_id, interface, index) groups, want 3: %s", len(labels.Labels), out)
	}
	for i, want := range []nsIface{nsIfaces[2], nsIfaces[0], nsIfaces[1]} { // ordered by netns: "", nsA, nsB
		g := labels.Labels[i]
		sum := total[want.labels.Netns]
		if g.Netns != want.labels.Netns || g.ContainerID != want.labels.Container || g.Interface != "lo" || g.Idx != 1 ||
			g.N != "500" || g.RxBytes != itoa(sum.RxBytes) || g.TxBytes != itoa(sum.TxBytes) {
			t.Errorf("DuckDB group %d: %+v, want netns %q container %q, 500 rows, %+v", i, g, want.labels.Netns, want.labels.Container, sum)
		}
	}
	t.Logf("DuckDB: %s", out)
}

// duckdbQuery runs query.js (installed in js) on a Parquet file.
func duckdbQuery(t *testing.T, js, path string) []byte {
	t.Helper()
	out, err := exec.Command("node", filepath.Join(js, "query.js"), path).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("node query.js: %v: %s", err, stderr)
	}
	return out
}

func itoa(v uint64) string { b, _ := json.Marshal(v); return string(b) }
