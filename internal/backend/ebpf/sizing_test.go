package ebpf

import (
	"testing"
	"time"
)

func TestPlanBins(t *testing.T) {
	const page = 4096
	tests := []struct {
		name       string
		width      time.Duration
		interfaces int
		cpus       int
		bound      uint64
		wantSize   uint64
		wantErr    bool
	}{
		// 4 × 2 × 2 records per ms for 2 s: 32,000 records, 1 MiB.
		{"1ms, 4 interfaces, 2 cpus", time.Millisecond, 4, 2, 0, 1 << 20, false},
		// 1 s bins: 16 records in 2 s, the smallest ring buffer.
		{"coarse bins: the smallest ring", time.Second, 4, 2, 0, minRingBytes, false},
		// 1,000 interfaces × 2 × 2 CPUs at 1 ms: 8 M records, 256 MiB:
		// held to the 64 MiB default.
		{"many interfaces: held to the default bound", time.Millisecond, 1000, 2, 0, DefaultBinsMemory, false},
		{"held to a bound, rounded down to a power of two", time.Millisecond, 1000, 2, 48 << 20, 32 << 20, false},
		{"bound above the need: the need", time.Millisecond, 4, 2, 1 << 30, 1 << 20, false},
		{"bound below the smallest ring", time.Millisecond, 4, 2, 1000, 0, true},
		{"width too fine", 99 * time.Microsecond, 1, 1, 0, 0, true},
		{"width too coarse", time.Second + 1, 1, 1, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := planBins(tt.width, tt.interfaces, tt.cpus, tt.bound, page)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			if err == nil && p.size != tt.wantSize {
				t.Errorf("size %s, want %s", formatBytes(p.size), formatBytes(tt.wantSize))
			}
		})
	}
}

func TestBinPlanSpan(t *testing.T) {
	p := binPlan{width: time.Millisecond, size: 1 << 20} // 32,768 records
	tests := []struct {
		rate float64
		want time.Duration
	}{
		{0, maxSpan},
		{32768, time.Second},
		{16000, 2048 * time.Millisecond},
		{1e-9, maxSpan},
	}
	for _, tt := range tests {
		if got := p.span(tt.rate); got != tt.want {
			t.Errorf("span at %v records/s = %v, want %v", tt.rate, got, tt.want)
		}
	}
}
