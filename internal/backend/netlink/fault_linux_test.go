package netlink

import (
	"context"
	"strings"
	"testing"
	"time"

	vnl "github.com/vishvananda/netlink"

	"github.com/netwatch-dev/netwatch/internal/ifsel"
	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
)

// TestNetlinkFailsMidRun breaks one of the backend's two sockets mid-run by
// closing it from the test. The subscription is only a shortcut: without it
// every Read lists the interfaces, so a new interface still shows. The dump
// socket is the counters themselves: Read must fail with one clear line
// (the run ends with exit 1), never hang, and Close must still return.
func TestNetlinkFailsMidRun(t *testing.T) {
	for _, tt := range []struct {
		name    string
		breaks  func(b *Backend)
		wantErr string // "": Read keeps working and follows interfaces
	}{
		{"subscription socket closed", func(b *Backend) { b.links.sub.Close() }, ""},
		{"dump socket closed", func(b *Backend) { b.sock.Close() }, "RTM_GETSTATS"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := netnstest.NewPair(t)
			sel, err := ifsel.New([]string{"nw-*", "new*"}, []string{"*p"})
			if err != nil {
				t.Fatal(err)
			}
			b := openIn(t, p.A, sel)
			if _, ok := find(t, b, p.IndexA); !ok {
				t.Fatalf("%s not read before the fault", p.IfA)
			}
			tt.breaks(b)
			if tt.wantErr == "" {
				// Let the event goroutine see its socket fail.
				waitDeaf(t, b)
				h := p.A.Netlink()
				if err := h.LinkAdd(&vnl.Veth{LinkAttrs: vnl.LinkAttrs{Name: "new0"}, PeerName: "new0p"}); err != nil {
					t.Fatal(err)
				}
				l, err := h.LinkByName("new0")
				if err != nil {
					t.Fatal(err)
				}
				if ic, ok := find(t, b, l.Attrs().Index); !ok || ic.Name != "new0" {
					t.Errorf("an interface created after the subscription failed is not read by name: %+v %v", ic, ok)
				}
			} else {
				done := make(chan error, 1)
				go func() { _, err := b.Read(context.Background()); done <- err }()
				select {
				case err := <-done:
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "\n") {
						t.Errorf("Read after the fault: %v; want one line naming %s", err, tt.wantErr)
					}
				case <-time.After(15 * time.Second):
					t.Fatal("Read hangs after the dump socket failed")
				}
			}
			closed := make(chan struct{})
			go func() { b.Close(); close(closed) }()
			select {
			case <-closed:
			case <-time.After(10 * time.Second):
				t.Fatal("Close hangs after the fault")
			}
		})
	}
}

func waitDeaf(t *testing.T, b *Backend) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		b.links.mu.Lock()
		deaf := b.links.deaf
		b.links.mu.Unlock()
		if deaf {
			return
		}
	}
	t.Fatal("the event goroutine did not notice its socket failed")
}
