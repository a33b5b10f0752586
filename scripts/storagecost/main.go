// Command storagecost measures what a recording of one interface at 1 ms
// bins costs on disk per hour, idle and busy, in every format record
// writes. It records -minutes of synthetic bins (3.6 M rows per hour) and
// scales to an hour.
//
//	go run ./scripts/storagecost -minutes 10
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/netwatch-dev/netwatch/internal/record"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

func main() {
	minutes := flag.Int("minutes", 10, "minutes of 1 ms bins to record (the result is scaled to an hour)")
	flag.Parse()
	dir, err := os.MkdirTemp("", "storagecost-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	bins := uint64(*minutes) * 60_000
	fmt.Printf("bytes per interface-hour at 1 ms (%d min recorded, x%.0f)\n", *minutes, 60/float64(*minutes))
	fmt.Printf("%-12s %14s %14s\n", "format", "idle", "busy")
	for _, f := range record.Formats {
		var sizes [2]int64
		for i, busy := range []bool{false, true} {
			path := filepath.Join(dir, fmt.Sprintf("rec-%v%s", busy, f.Ext()))
			wall := func(m time.Duration) time.Time { return time.Unix(1_800_000_000, 0).Add(m) }
			rec, err := record.NewRecorder(record.Config{Path: path, Wall: wall,
				Meta: record.Meta{Version: "storagecost", Backend: "ebpf", Stream: record.StreamBins, Resolution: time.Millisecond}})
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			for n := uint64(0); n < bins; n++ {
				var c stats.Counters
				if busy {
					// About 400 Mbit/s of mixed packet sizes, varying per bin.
					c.RxPackets = 20 + rng.Uint64N(40)
					c.RxBytes = c.RxPackets*64 + rng.Uint64N(c.RxPackets*1450)
					c.TxPackets = 10 + rng.Uint64N(20)
					c.TxBytes = c.TxPackets*64 + rng.Uint64N(c.TxPackets*600)
				}
				if err := rec.Bin(record.Bin{Interface: "eth0", Index: 2, Number: 1_000_000 + n, Width: time.Millisecond, Counters: c}); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
				if n%1000 == 999 {
					rec.Flush()
				}
			}
			if err := rec.Close(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			st, err := os.Stat(path)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			sizes[i] = st.Size() * 60 / int64(*minutes)
		}
		fmt.Printf("%-12s %14s %14s\n", f, human(sizes[0]), human(sizes[1]))
	}
}

func human(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}
