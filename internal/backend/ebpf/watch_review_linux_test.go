package ebpf

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netwatch-dev/netwatch/internal/backend/ebpf/attach"
	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
	"github.com/vishvananda/netlink"
)

// TestListLinksRetriesInterruptedDump: a dump interrupted by a concurrent
// change is taken again, a few times; other errors are not retried.
func TestListLinksRetriesInterruptedDump(t *testing.T) {
	links := []netlink.Link{&netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Name: "d0", Index: 7}}}
	hard := errors.New("netlink: boom")
	tests := []struct {
		name        string
		interrupted int   // calls that return ErrDumpInterrupted first
		final       error // what the next call returns
		wantCalls   int
		wantErr     error
	}{
		{"clean", 0, nil, 1, nil},
		{"interrupted twice", 2, nil, 3, nil},
		{"interrupted every time", dumpAttempts, nil, dumpAttempts, netlink.ErrDumpInterrupted},
		{"hard error", 0, hard, 1, hard},
		{"interrupted then hard error", 1, hard, 2, hard},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			got, err := listLinks(func() ([]netlink.Link, error) {
				calls++
				if calls <= tt.interrupted {
					return links[:0], netlink.ErrDumpInterrupted // partial
				}
				if tt.final != nil {
					return nil, tt.final
				}
				return links, nil
			})
			if calls != tt.wantCalls {
				t.Errorf("%d calls, want %d", calls, tt.wantCalls)
			}
			switch {
			case tt.wantErr == nil && err != nil:
				t.Errorf("error %v", err)
			case tt.wantErr == nil && !slices.Equal(got, links):
				t.Errorf("links %v, want %v", got, links)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("error %v, want %v", err, tt.wantErr)
			case tt.wantErr != nil && got != nil:
				t.Errorf("links %v returned with error %v", got, err)
			}
		})
	}
}

// sortedNames is names, sorted.
func sortedNames(t *testing.T, b *Backend) []string {
	got := names(t, b)
	slices.Sort(got)
	return got
}

// waitLong polls cond for up to d: the burst's messages are many.
func waitLong(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out after %v waiting for %s", d, what)
}

// TestWatcherSurvivesSubscriptionOverflow: a burst of interface changes
// while the watcher is busy overflows the subscription socket (ENOBUFS),
// after which netlink closes the subscription. The watcher must subscribe
// again and rescan: an interface deleted in the burst is released and one
// created after it is attached.
func TestWatcherSurvivesSubscriptionOverflow(t *testing.T) {
	needTools(t, "ip")
	const pairs = 1500
	p := netnstest.NewPair(t)
	b := openIn(t, p.A, "nwr*", Config{Attach: attach.TCX})
	nl := p.A.Netlink()
	if err := nl.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "nwr0"}, PeerName: "nwr0p"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "nwr0 and nwr0p to be watched", func() bool { return slices.Equal(sortedNames(t, b), []string{"nwr0", "nwr0p"}) })

	var batch strings.Builder
	for i := range pairs {
		fmt.Fprintf(&batch, "link add bst%d type veth peer name bsp%d\n", i, i)
	}
	batch.WriteString("link del nwr0\n")
	file := filepath.Join(t.TempDir(), "burst")
	if err := os.WriteFile(file, []byte(batch.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// Holding the table keeps the watcher from draining the subscription
	// while the kernel announces the burst: its socket overflows.
	func() {
		b.t.mu.Lock()
		defer b.t.mu.Unlock()
		if out, err := p.A.Exec("ip", "-batch", file); err != nil {
			t.Fatalf("ip -batch: %v\n%s", err, out)
		}
	}()
	// The deletion was lost with the overflow: only a rescan releases it.
	// By then the failed receive has ended the first subscription, so
	// what follows reaches the watcher only through a new one.
	waitLong(t, 60*time.Second, "nwr0 and nwr0p to be released", func() bool { return len(names(t, b)) == 0 })
	if err := nl.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "nwr1"}, PeerName: "nwr1p"}); err != nil {
		t.Fatal(err)
	}
	waitLong(t, 30*time.Second, "nwr1 and nwr1p to be watched", func() bool {
		return slices.Equal(sortedNames(t, b), []string{"nwr1", "nwr1p"})
	})
	if n := b.watcher.resubscribes.Load(); n == 0 {
		t.Errorf("the burst of %d interfaces did not end the subscription: the test did not exercise resubscribing", 2*pairs)
	} else {
		t.Logf("subscribed again %d times", n)
	}
}
