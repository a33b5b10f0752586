package procfs

import (
	"context"
	"errors"
	"testing"

	"github.com/netwatch-dev/netwatch/internal/backend/netlink"
	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
)

// TestIndexesFollowLinkEvents: the indexes are the namespace's at every
// read, not as of some earlier listing: after a rename, and after the
// interface is deleted and created again under the same name (a new
// index), the very next read has them right.
func TestIndexesFollowLinkEvents(t *testing.T) {
	p := netnstest.NewPair(t)
	var b *Backend
	err := p.A.Do(func() (err error) {
		b, err = Open(Options{Root: "/proc/thread-self"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	indexOf := func(name string) (int, bool) {
		t.Helper()
		snap, err := b.Read(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, ic := range snap.Interfaces {
			if ic.Name == name {
				return ic.Index, true
			}
		}
		return 0, false
	}
	if ix, _ := indexOf(p.IfA); ix != p.IndexA {
		t.Fatalf("%s: index %d, want %d", p.IfA, ix, p.IndexA)
	}
	old := p.IfA
	if err := p.RenameA("nwidx-ren"); err != nil {
		t.Fatal(err)
	}
	if ix, _ := indexOf(p.IfA); ix != p.IndexA {
		t.Errorf("renamed: index %d, want %d", ix, p.IndexA)
	}
	if _, ok := indexOf(old); ok {
		t.Errorf("renamed: the old name %s is still read", old)
	}
	oldIndex := p.IndexA
	if err := p.DeleteA(); err != nil {
		t.Fatal(err)
	}
	if err := p.CreateA(); err != nil {
		t.Fatal(err)
	}
	if ix, _ := indexOf(p.IfA); ix != p.IndexA || ix == oldIndex {
		t.Errorf("recreated under its name: index %d, want the new %d (was %d)", ix, p.IndexA, oldIndex)
	}
}

// TestOpensWithoutLinkEvents: where rtnetlink cannot be used (a seccomp
// profile without netlink sockets, the case procfs is the last resort for)
// procfs still opens and reads, its indexes listed every second.
func TestOpensWithoutLinkEvents(t *testing.T) {
	orig := openLinks
	t.Cleanup(func() { openLinks = orig })
	openLinks = func() (*netlink.Links, error) { return nil, errors.New("socket: operation not permitted") }
	b, err := Open(Options{})
	if err != nil {
		t.Fatalf("Open without link events: %v", err)
	}
	defer b.Close()
	if b.LinksChanged() != nil {
		t.Error("LinksChanged without link events should be nil")
	}
	snap, err := b.Read(context.Background())
	if err != nil || len(snap.Interfaces) == 0 {
		t.Fatalf("Read: %v, %d interfaces", err, len(snap.Interfaces))
	}
}
