package attach

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/vishvananda/netlink"

	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
)

// useStateDir points StateDir at dir for the test.
func useStateDir(t *testing.T, dir string) {
	t.Helper()
	old := StateDir
	StateDir = dir
	t.Cleanup(func() { StateDir = old })
}

// qdiscsOf returns the qdisc types of ifindex and the names of all filters
// on its clsact, in the calling thread's namespace.
func qdiscsOf(t *testing.T, ifindex int) (clsact bool, filters []string) {
	t.Helper()
	ok, err := hasClsact(netlinkHandle(t), ifindex)
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []Direction{Ingress, Egress} {
		fs, err := bpfFilters(ifindex, dir)
		if err != nil && ok {
			t.Fatal(err)
		}
		for _, n := range filterNames(fs) {
			filters = append(filters, dir.String()+":"+n)
		}
	}
	return ok, filters
}

func netlinkHandle(t *testing.T) *netlink.Handle {
	t.Helper()
	h, err := netlink.NewHandle()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

// records lists the record files in dir (not the decision lock).
func records(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "clsact"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestClsactRecord kills (crash) or closes a legacy tc attach in several
// situations, then runs CleanStale as the next start would, and checks that
// the clsact qdisc goes exactly when a netwatch created it and nothing else
// is on it.
func TestClsactRecord(t *testing.T) {
	for _, tt := range []struct {
		name string
		// preexisting: a clsact qdisc (and a foreign filter on it, with
		// foreignFilter) exists before netwatch attaches.
		preexisting, foreignBefore bool
		foreignAfter               bool // a foreign filter is added while netwatch runs
		noStateDir                 bool // the state directory cannot be created
		live                       bool // netwatch still runs during CleanStale, closes after
		wantClsact                 bool // after CleanStale (and Close for live)
		wantRecords                int
	}{
		{name: "killed, netwatch created the qdisc"},
		{name: "killed, empty qdisc existed before", preexisting: true, wantClsact: true},
		{name: "killed, qdisc with a foreign filter existed before", preexisting: true, foreignBefore: true, wantClsact: true},
		// The record stays, so that a later start removes the qdisc once
		// the foreign filter is gone.
		{name: "killed, foreign filter added on our qdisc", foreignAfter: true, wantClsact: true, wantRecords: 1},
		{name: "live netwatch is left alone, then closes", live: true},
		{name: "killed without a state directory", noStateDir: true, wantClsact: true},
		{name: "closed without a state directory", noStateDir: true, live: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.noStateDir {
				// A regular file where the directory should be: as
				// unwritable as /run for a capabilities-only run.
				if err := os.WriteFile(filepath.Join(dir, "file"), nil, 0o644); err != nil {
					t.Fatal(err)
				}
				useStateDir(t, filepath.Join(dir, "file"))
			} else {
				useStateDir(t, dir)
			}
			p := netnstest.NewPair(t)
			foreign := newCounter(t, "foreign_tc", ebpf.SchedCLS)
			in, eg := newCounter(t, "netwatch_tc_in", ebpf.SchedCLS), newCounter(t, "netwatch_tc_eg", ebpf.SchedCLS)
			var links []Link
			do(t, p.B, func() error {
				if tt.preexisting {
					if err := addClsact(p.IndexB); err != nil {
						return err
					}
				}
				if tt.foreignBefore {
					if err := addForeignFilter(p.IndexB, Ingress, foreign.prog, "foreign_tc"); err != nil {
						return err
					}
				}
				for _, x := range []struct {
					dir Direction
					c   *counter
				}{{Ingress, in}, {Egress, eg}} {
					l, err := TCAttach(p.IndexB, x.dir, x.c.prog, TC)
					if err != nil {
						return err
					}
					links = append(links, l)
				}
				if tt.foreignAfter {
					return addForeignFilter(p.IndexB, Ingress, foreign.prog, "foreign_tc")
				}
				return nil
			})
			if !tt.live {
				for _, l := range links {
					crash(t, l)
				}
				in.prog.Close()
				eg.prog.Close()
			}
			do(t, p.B, func() error {
				if _, err := CleanStale(p.IndexB, DefaultNamePrefix); err != nil {
					return err
				}
				if tt.live {
					if ok, filters := qdiscsOf(t, p.IndexB); !ok || len(filters) != 2 {
						t.Errorf("CleanStale touched a live netwatch: clsact %v, filters %v", ok, filters)
					}
					for _, l := range links {
						if err := l.Close(); err != nil {
							return err
						}
					}
				}
				ok, filters := qdiscsOf(t, p.IndexB)
				if ok != tt.wantClsact {
					t.Errorf("clsact qdisc present: %v, want %v (filters %v)", ok, tt.wantClsact, filters)
				}
				wantFilters := 0
				if tt.foreignBefore || tt.foreignAfter {
					wantFilters = 1
				}
				if tt.noStateDir && !tt.live {
					wantFilters = 0 // CleanStale removed ours; nothing else there
				}
				if len(filters) != wantFilters {
					t.Errorf("filters left %v, want %d foreign", filters, wantFilters)
				}
				return nil
			})
			if !tt.noStateDir {
				if got := records(t, dir); len(got) != tt.wantRecords {
					t.Errorf("records left %v, want %d", got, tt.wantRecords)
				}
			}
			if tt.foreignBefore || tt.foreignAfter {
				p.SendUDP(t, netnstest.A, 4, 10)
				if got := foreign.count(t); got != 4 {
					t.Errorf("foreign filter counted %d, want 4", got)
				}
			}
		})
	}
}

// TestClsactRecordNamespaceReused checks that a record of a namespace that
// is gone does not apply to a new one: a clsact qdisc with the recorded
// inode, ifindex and name but another namespace cookie stays.
func TestClsactRecordNamespaceReused(t *testing.T) {
	dir := t.TempDir()
	useStateDir(t, dir)
	p := netnstest.NewPair(t)
	do(t, p.B, func() error {
		if err := addClsact(p.IndexB); err != nil {
			return err
		}
		ino, err := currentNetns()
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dir, "clsact"), 0o755); err != nil {
			return err
		}
		rec := recordPath(deviceKey{netns: ino, ifindex: p.IndexB})
		if err := os.WriteFile(rec, []byte(recCreated+" "+p.IfB+" 12345\n"), 0o644); err != nil {
			return err
		}
		if _, err := CleanStale(p.IndexB, DefaultNamePrefix); err != nil {
			return err
		}
		if ok, _ := qdiscsOf(t, p.IndexB); !ok {
			t.Error("removed a clsact qdisc recorded for another namespace with the same inode")
		}
		// The same record with this namespace's cookie is honoured.
		if err := os.WriteFile(rec, []byte(recCreated+" "+p.IfB+" "+strconv.FormatUint(netnsCookie(), 10)+"\n"), 0o644); err != nil {
			return err
		}
		if _, err := CleanStale(p.IndexB, DefaultNamePrefix); err != nil {
			return err
		}
		if ok, _ := qdiscsOf(t, p.IndexB); ok {
			t.Error("kept the clsact qdisc its record names")
		}
		return nil
	})
	if got := records(t, dir); len(got) != 0 {
		t.Errorf("records left %v", got)
	}
}

// TestClsactRecordPending: a netwatch killed between writing "pending" and
// learning whether the qdisc was its own leaves a record the next start
// cannot decide on; it drops the record and keeps the qdisc, which may be
// someone else's.
func TestClsactRecordPending(t *testing.T) {
	dir := t.TempDir()
	useStateDir(t, dir)
	p := netnstest.NewPair(t)
	do(t, p.B, func() error {
		if err := addClsact(p.IndexB); err != nil {
			return err
		}
		ino, err := currentNetns()
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dir, "clsact"), 0o755); err != nil {
			return err
		}
		rec := recordPath(deviceKey{netns: ino, ifindex: p.IndexB})
		content := recPending + " " + p.IfB + " " + strconv.FormatUint(netnsCookie(), 10) + "\n"
		if err := os.WriteFile(rec, []byte(content), 0o644); err != nil {
			return err
		}
		if _, err := CleanStale(p.IndexB, DefaultNamePrefix); err != nil {
			return err
		}
		if ok, _ := qdiscsOf(t, p.IndexB); !ok {
			t.Error("removed a clsact qdisc whose record was only pending")
		}
		return nil
	})
	if got := records(t, dir); len(got) != 0 {
		t.Errorf("records left %v", got)
	}
}
