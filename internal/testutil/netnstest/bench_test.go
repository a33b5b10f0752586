//go:build linux

package netnstest

import "testing"

// BenchmarkNewPair measures creating and deleting a namespace pair.
func BenchmarkNewPair(b *testing.B) {
	for b.Loop() {
		p, err := newPair()
		if err != nil {
			b.Fatal(err)
		}
		if err := p.close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSendUDP measures SendUDP per datagram (1000-byte payload).
func BenchmarkSendUDP(b *testing.B) {
	p := NewPair(b)
	for b.Loop() {
		p.SendUDP(b, A, 1000, 1000)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/datagram")
}
