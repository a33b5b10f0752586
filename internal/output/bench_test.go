package output

import (
	"io"
	"testing"
	"time"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// benchSample is one 1 ms sample of four busy interfaces, two with error
// counters.
func benchSample() stats.Sample {
	s := stats.Sample{
		Time:       t0,
		Source:     stats.Source{Backend: "ebpf", Attach: "tcx"},
		Interval:   time.Millisecond + 17*time.Nanosecond,
		Resolution: time.Millisecond,
	}
	for i, name := range []string{"eth0", "eth1", "veth1a2b3c4", "lo"} {
		in := stats.InterfaceSample{
			Name: name, Index: i + 1,
			Counters: stats.Counters{RxBytes: 123456789012 * uint64(i+1), RxPackets: 98765432, TxBytes: 2345678901, TxPackets: 1234567},
			Rates:    stats.Rates{RxBytesPerSec: 1.2345678e9 / float64(i+1), RxPacketsPerSec: 812345.5, TxBytesPerSec: 3.3e8, TxPacketsPerSec: 250001},
		}
		if i%2 == 1 {
			in.Errors = &stats.ErrorCounters{RxDrops: uint64(i)}
		}
		s.Interfaces = append(s.Interfaces, in)
	}
	return s
}

func benchmarkStream(b *testing.B, f Format) {
	st, err := NewStream(io.Discard, f, TableOptions{Location: time.UTC})
	if err != nil {
		b.Fatal(err)
	}
	s := benchSample()
	b.ReportAllocs()
	for b.Loop() {
		s.Time = s.Time.Add(time.Millisecond)
		if err := st.Write(s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNDJSON is the hot path: one sample of four interfaces per
// Write, as at 1 ms intervals.
func BenchmarkNDJSON(b *testing.B) { benchmarkStream(b, FormatNDJSON) }
func BenchmarkCSV(b *testing.B)    { benchmarkStream(b, FormatCSV) }
func BenchmarkTable(b *testing.B)  { benchmarkStream(b, FormatTable) }

func BenchmarkMarshalSample(b *testing.B) {
	s := benchSample()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := MarshalSample(s); err != nil {
			b.Fatal(err)
		}
	}
}
