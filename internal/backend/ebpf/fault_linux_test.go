package ebpf

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"

	"github.com/netwatch-dev/netwatch/internal/backend/ebpf/attach"
	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
	"github.com/netwatch-dev/netwatch/internal/testutil/privileged"
)

// TestWatcherGivesUpOnBrokenNetlink breaks netlink mid-run for good (every
// new subscription and every interface dump fails, linkFault) and makes the
// running subscription end the way a failed receive ends it, by closing its
// socket, or report a receive error, as netlink's error callback does. The
// backend must not go on silently without following interfaces: Read and
// ReadBins return one clear error naming the cause within a few retries,
// and Close detaches everything.
func TestWatcherGivesUpOnBrokenNetlink(t *testing.T) {
	privileged.Need(t)
	injected := errors.New("injected netlink failure")
	for _, tt := range []struct {
		name   string
		attach attach.Mode
		breaks func(w *watcher)
	}{
		{"subscription socket closed, tcx", attach.TCX, func(w *watcher) { w.sub.close() }},
		{"subscription socket closed, tc", attach.TC, func(w *watcher) { w.sub.close() }},
		{"receive error reported, xdp", attach.XDP, func(w *watcher) { w.errs <- errors.New("Receive failed: injected") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := netnstest.NewPair(t)
			before := attached(t, p.A, p.IndexA)
			cfg := Config{Attach: tt.attach, Resolution: time.Millisecond}
			if tt.attach == attach.XDP {
				cfg.XDPMode = attach.XDPGeneric
			}
			var b *Backend
			if err := p.A.Do(func() (err error) {
				b, err = Open(context.Background(), cfg.withSelector(t, p.IfA))
				return err
			}); err != nil {
				t.Fatal(err)
			}
			closed := false
			t.Cleanup(func() {
				linkFault.Store(nil)
				if !closed {
					p.A.Do(b.Close)
				}
			})
			if _, err := b.Read(context.Background()); err != nil {
				t.Fatalf("read before the fault: %v", err)
			}
			linkFault.Store(&injected)
			tt.breaks(b.watcher)

			var readErr error
			deadline := time.Now().Add(time.Duration(maxFailures+5) * retryDelay)
			for time.Now().Before(deadline) {
				if _, readErr = b.Read(context.Background()); readErr != nil {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if readErr == nil {
				t.Fatalf("Read still succeeds %v after netlink broke: the backend silently stopped following interfaces", time.Duration(maxFailures+5)*retryDelay)
			}
			if !errors.Is(readErr, injected) || !strings.Contains(readErr.Error(), "following interface changes") || strings.Contains(readErr.Error(), "\n") {
				t.Errorf("Read error %q: want one line saying following interface changes failed, wrapping the cause", readErr)
			}
			if _, err := b.ReadBins(); !errors.Is(err, injected) {
				t.Errorf("ReadBins error %v, want the same failure", err)
			}
			if err := p.A.Do(b.Close); err != nil {
				t.Errorf("close: %v", err)
			}
			closed = true
			if after := attached(t, p.A, p.IndexA); after != before {
				t.Errorf("after Close:\n%s\nwant as before Open:\n%s", after, before)
			}
		})
	}
}

func (c Config) withSelector(t *testing.T, include string) Config {
	c.Selector = mustSelector(t, include)
	return c
}

// A transient failure (one dump fails, the next works) is retried, not fatal.
func TestWatcherRetriesTransientFailure(t *testing.T) {
	needTools(t, "ip")
	p := netnstest.NewPair(t)
	b := openIn(t, p.A, "nw*", Config{Attach: attach.TCX})
	injected := errors.New("injected transient failure")
	linkFault.Store(&injected)
	t.Cleanup(func() { linkFault.Store(nil) })
	b.watcher.errs <- errors.New("Receive failed: injected")
	time.Sleep(retryDelay / 2) // the first rescan fails
	linkFault.Store(nil)
	if err := p.A.Netlink().LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "nwt0"}, PeerName: "nwt0p"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "nwt0 to be watched", func() bool {
		for _, n := range names(t, b) {
			if n == "nwt0" {
				return true
			}
		}
		return false
	})
	if err := b.followErr(); err != nil {
		t.Errorf("one failed rescan ended following: %v", err)
	}
}

// attached describes what is attached to ifindex in ns, without bpftool:
// XDP, TCX programs, qdiscs and tc filters.
func attached(t *testing.T, ns *netnstest.NS, ifindex int) string {
	t.Helper()
	var b strings.Builder
	err := ns.Do(func() error {
		l, err := netlink.LinkByIndex(ifindex)
		if err != nil {
			return err
		}
		if x := l.Attrs().Xdp; x != nil && x.Attached {
			fmt.Fprintf(&b, "xdp prog %d\n", x.ProgId)
		}
		for _, at := range []ebpf.AttachType{ebpf.AttachTCXIngress, ebpf.AttachTCXEgress} {
			res, err := link.QueryPrograms(link.QueryOptions{Target: ifindex, Attach: at})
			if err != nil {
				return err
			}
			for _, prog := range res.Programs {
				fmt.Fprintf(&b, "%s prog %d\n", at, prog.ID)
			}
		}
		qdiscs, err := netlink.QdiscList(l)
		if err != nil {
			return err
		}
		for _, q := range qdiscs {
			fmt.Fprintf(&b, "qdisc %s parent %x\n", q.Type(), q.Attrs().Parent)
			if q.Type() != "clsact" {
				continue
			}
			for _, parent := range []uint32{netlink.HANDLE_MIN_INGRESS, netlink.HANDLE_MIN_EGRESS} {
				fs, err := netlink.FilterList(l, parent)
				if err != nil {
					return err
				}
				for _, f := range fs {
					fmt.Fprintf(&b, "filter %s parent %x handle %x\n", f.Type(), f.Attrs().Parent, f.Attrs().Handle)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("describe ifindex %d: %v", ifindex, err)
	}
	return b.String()
}
