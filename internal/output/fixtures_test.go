package output

import (
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// golden compares got with testdata/name byte for byte, or rewrites the file
// under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("update %s: %v", path, err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s (run with -update to create it): %v", path, err)
	}
	if string(got) != string(want) {
		t.Errorf("%s mismatch (run with -update if the change is intended)\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

// cet is a non-UTC zone: JSON and CSV must still print UTC, the table this.
var cet = time.FixedZone("CET", 3600)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 123456789, time.UTC)

// streamFixture is a short run of an ebpf stream: interfaces appear and
// vanish, counters and rates are zero, ordinary, huge and non-finite, one
// sample has no interface at all, and names are odd.
func streamFixture() []stats.Sample {
	src := stats.Source{Backend: "ebpf", Attach: "tcx"}
	interval := 10*time.Millisecond + 123*time.Nanosecond
	sample := func(i int, ifaces ...stats.InterfaceSample) stats.Sample {
		return stats.Sample{
			// Given in CET: outputs must convert.
			Time:       t0.Add(time.Duration(i) * 10 * time.Millisecond).In(cet),
			Source:     src,
			Interval:   interval,
			Resolution: interval,
			Interfaces: ifaces,
		}
	}
	eth0 := func(rx, tx uint64, rxRate, txRate float64) stats.InterfaceSample {
		return stats.InterfaceSample{
			Name: "eth0", Index: 2,
			Counters: stats.Counters{RxBytes: rx, RxPackets: rx / 100, TxBytes: tx, TxPackets: tx / 100},
			Rates:    stats.Rates{RxBytesPerSec: rxRate, RxPacketsPerSec: rxRate / 100, TxBytesPerSec: txRate, TxPacketsPerSec: txRate / 100},
		}
	}
	lo := stats.InterfaceSample{Name: "lo", Index: 1}
	odd := func(rate float64) stats.InterfaceSample {
		return stats.InterfaceSample{
			Name: `we,ird "name"`, Index: 7,
			Counters: stats.Counters{RxBytes: 1, RxPackets: 1},
			Rates:    stats.Rates{RxBytesPerSec: rate, RxPacketsPerSec: 999.5, TxBytesPerSec: 999, TxPacketsPerSec: 1000},
			// A veth whose peer is in a container's namespace.
			Labels: stats.Labels{Container: "4f2a9c1b7e0d5a3b8c6e1f0a9d2b7c4e5f8a1b3c6d9e0f2a4b7c8d1e3f5a6b9c", PeerNetns: "pid:4242"},
		}
	}
	const huge = 1 << 63
	return []stats.Sample{
		sample(0, eth0(123, 567, 1.5e6, 2e5), lo),
		sample(1, eth0(15123, 2567, 1.2345678e6, 200000.5), lo, odd(1023)),
		sample(2, // lo vanished; huge and non-finite values
			stats.InterfaceSample{
				Name: "eth0", Index: 2,
				Counters: stats.Counters{RxBytes: huge, RxPackets: huge, TxBytes: math.MaxUint64, TxPackets: 0},
				Rates:    stats.Rates{RxBytesPerSec: huge, RxPacketsPerSec: 1e25, TxBytesPerSec: math.NaN(), TxPacketsPerSec: math.Inf(1)},
			},
			odd(1024)),
		sample(3), // every interface gone
		sample(4,
			stats.InterfaceSample{Name: "wlån0", Index: 3, Rates: stats.Rates{RxBytesPerSec: 1e-7, TxBytesPerSec: math.Inf(-1)}},
			stats.InterfaceSample{Name: "bad\x01name\xff", Index: 4, Rates: stats.Rates{RxBytesPerSec: 999.95, TxBytesPerSec: 1023.95}}),
	}
}

// snapshotFixture is a procfs snapshot: no attach mode, error counters on
// one interface only.
func snapshotFixture() stats.Sample {
	return stats.Sample{
		Time:       t0.In(cet),
		Source:     stats.Source{Backend: "procfs"},
		Interval:   time.Second,
		Resolution: time.Second,
		Interfaces: []stats.InterfaceSample{
			{
				Name: "eth0", Index: 2,
				Counters: stats.Counters{RxBytes: 1000, RxPackets: 10, TxBytes: 2000, TxPackets: 20},
				Rates:    stats.Rates{RxBytesPerSec: 1000, RxPacketsPerSec: 10, TxBytesPerSec: 2000, TxPacketsPerSec: 20},
				Errors:   &stats.ErrorCounters{RxErrors: 1, RxDrops: 2, TxErrors: 3, TxDrops: 1 << 63},
			},
			{Name: "lo<&>", Index: 1},
		},
	}
}
