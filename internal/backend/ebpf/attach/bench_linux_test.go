package attach

import (
	"log/slog"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
)

// BenchmarkAttachClose measures one attach plus detach per mode.
func BenchmarkAttachClose(b *testing.B) {
	for _, mode := range []Mode{TCX, TC, XDP} {
		b.Run(string(mode), func(b *testing.B) {
			p := netnstest.NewPair(b)
			typ := ebpf.SchedCLS
			if mode == XDP {
				typ = ebpf.XDP
			}
			c := newCounter(b, "netwatch_bench", typ)
			err := p.B.Do(func() error {
				for b.Loop() {
					var l Link
					var err error
					if mode == XDP {
						l, err = XDPAttach(p.IndexB, c.prog, XDPGeneric)
					} else {
						l, err = TCAttach(p.IndexB, Ingress, c.prog, mode)
					}
					if err != nil {
						return err
					}
					if err := l.Close(); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkCleanStale measures the worst case: a netwatch-named filter
// whose program is held by a live process, so every call scans /proc.
func BenchmarkCleanStale(b *testing.B) {
	p := netnstest.NewPair(b)
	c := newCounter(b, "netwatch_tc_in", ebpf.SchedCLS)
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	defer slog.SetDefault(prev)
	err := p.B.Do(func() error {
		l, err := TCAttach(p.IndexB, Ingress, c.prog, TC)
		if err != nil {
			return err
		}
		defer l.Close()
		for b.Loop() {
			if n, err := CleanStale(p.IndexB, DefaultNamePrefix); err != nil || n != 0 {
				b.Fatalf("CleanStale removed %d, err %v", n, err)
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
