package sysctl

import (
	"fmt"
	"testing"
)

func BenchmarkParseIfList2(b *testing.B) {
	for _, n := range []int{8, 500} {
		ifs := make([]iface, n)
		for i := range ifs {
			ifs[i] = fixtureIfaces[i%len(fixtureIfaces)]
			ifs[i].index = uint16(i + 1)
			ifs[i].name = fmt.Sprintf("en%d", i)
		}
		buf := ifList2(b, ifs)
		b.Run(fmt.Sprintf("ifaces=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				entries, err := ParseIfList2(buf)
				if err != nil || len(entries) != n {
					b.Fatalf("%d entries, error %v", len(entries), err)
				}
			}
		})
	}
}
