package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
)

// TestNetns samples a namespace the test created, named each way --netns
// takes (NAME, PATH, pid:PID), with every backend and command: the veth in
// it is found by its index there, netlink and procfs counters equal the
// kernel's, and every interface carries the namespace as given in JSON,
// CSV (last column) and the table.
func TestNetns(t *testing.T) {
	p := netnstest.NewPair(t)
	p.SendUDP(t, netnstest.A, 25, 300)
	var sleeper *exec.Cmd
	if err := p.A.Do(func() error { sleeper = exec.Command("sleep", "600"); return sleeper.Start() }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sleeper.Process.Kill(); sleeper.Wait() })
	want, err := p.A.LinkStats(p.IfA)
	if err != nil {
		t.Fatal(err)
	}
	specs := []string{p.A.Name, filepath.Join("/run/netns", p.A.Name), fmt.Sprintf("pid:%d", sleeper.Process.Pid)}
	for _, be := range []string{"ebpf", "netlink", "procfs"} {
		for _, spec := range specs {
			t.Run(be+"/"+spec, func(t *testing.T) {
				r := netwatch(t, "snapshot", "--json", "-b", be, "--netns", spec, "-w", "10ms", "-i", p.IfA)
				if r.code != 0 {
					t.Fatalf("exit %d: %s", r.code, r.stderr)
				}
				var s struct {
					Interfaces []struct {
						Name      string
						Index     int
						Netns     string
						RxPackets uint64 `json:"rx_packets"`
						TxPackets uint64 `json:"tx_packets"`
						TxBytes   uint64 `json:"tx_bytes"`
					}
				}
				if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
					t.Fatalf("%v: %s", err, r.stdout)
				}
				if len(s.Interfaces) != 1 {
					t.Fatalf("interfaces %+v, want %s only", s.Interfaces, p.IfA)
				}
				got := s.Interfaces[0]
				if got.Name != p.IfA || got.Index != p.IndexA || got.Netns != spec {
					t.Errorf("got %s index %d netns %q, want %s index %d netns %q", got.Name, got.Index, got.Netns, p.IfA, p.IndexA, spec)
				}
				if be != "ebpf" && (got.TxPackets != want.TxPackets || got.TxBytes != want.TxBytes || got.RxPackets != want.RxPackets) {
					t.Errorf("counters tx %d/%d rx %d, kernel %+v", got.TxPackets, got.TxBytes, got.RxPackets, want)
				}
			})
		}
	}
	t.Run("csv and table", func(t *testing.T) {
		r := netwatch(t, "watch", "-b", "netlink", "--netns", p.A.Name, "-n", "5ms", "-c", "1", "-f", "csv", "-i", p.IfA)
		rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
		if r.code != 0 || err != nil || len(rows) != 2 {
			t.Fatalf("exit %d, %v, rows %q: %s", r.code, err, rows, r.stderr)
		}
		col := slices.Index(rows[0], "netns")
		if col < 0 || rows[1][col] != p.A.Name {
			t.Errorf("CSV header %q, row %q: want a netns column = %q", rows[0], rows[1], p.A.Name)
		}
		r = netwatch(t, "watch", "-b", "procfs", "--netns", p.A.Name, "-n", "5ms", "-c", "1", "-i", p.IfA)
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if r.code != 0 || len(lines) != 2 || !strings.HasSuffix(lines[0], "NETNS") || !strings.HasSuffix(lines[1], "  "+p.A.Name) {
			t.Errorf("table %q (exit %d, %s): want a NETNS column", r.stdout, r.code, r.stderr)
		}
	})
	t.Run("list", func(t *testing.T) {
		r := netwatch(t, "list", "--json", "--netns", p.A.Name, "-i", p.IfA)
		var l listJSON
		if err := json.Unmarshal([]byte(r.stdout), &l); err != nil || r.code != 0 {
			t.Fatalf("exit %d, %v: %s %s", r.code, err, r.stdout, r.stderr)
		}
		if len(l.Interfaces) != 1 || l.Interfaces[0].Index != p.IndexA || l.Interfaces[0].Netns != p.A.Name {
			t.Errorf("list %+v, want %s (%d) in %s", l.Interfaces, p.IfA, p.IndexA, p.A.Name)
		}
	})
	t.Run("errors", func(t *testing.T) {
		for _, tt := range []struct {
			spec string
			code int
			msg  string
		}{
			{"nosuch-netwatch-ns", 1, "netns nosuch-netwatch-ns: stat /run/netns/nosuch-netwatch-ns: no such file or directory"},
			{"pid:0", 2, `--netns: netns "pid:0": want pid:PID`},
			{"/etc/hostname", 1, "/etc/hostname is not a namespace file"},
			{"/proc", 1, "is a directory, not a namespace"},
		} {
			r := netwatch(t, "snapshot", "-b", "netlink", "--netns", tt.spec, "-w", "1ms")
			checkHostileStderr(t, r.stderr)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.msg) {
				t.Errorf("--netns %s: exit %d, %q; want %d and %q", tt.spec, r.code, r.stderr, tt.code, tt.msg)
			}
		}
	})
}
