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

func TestSizeBins(t *testing.T) {
	const page = 4096
	tests := []struct {
		name       string
		width      time.Duration
		interval   time.Duration
		interfaces int
		cpus       int
		bound      uint64
		wantSize   uint64
		wantLimit  uint64
		wantErr    string
		wantText   string
	}{
		{
			// 4 × 2 × 2 records per ms for 2 s: 32,000 records, 1 MiB.
			name: "1ms bins at 1s, 4 interfaces, 2 CPUs", width: time.Millisecond, interval: time.Second, interfaces: 4, cpus: 2,
			wantSize: 1 << 20, wantLimit: DefaultBinsMemory,
			wantText: "1ms bins, 4 interfaces × 2 CPUs active: 2s of history (1MiB ring buffer; grows with the record rate up to 64MiB: 2m11s)",
		},
		{
			// 10 ms + 250 ms margin: 1 × 2 × 2 × 0.26 s / 100 µs = 10,400 records.
			name: "short interval: a quarter second of margin", width: 100 * time.Microsecond, interval: 10 * time.Millisecond, interfaces: 1, cpus: 2,
			wantSize: 512 << 10, wantLimit: DefaultBinsMemory,
			wantText: "100µs bins, 1 interface × 2 CPUs active: 410ms of history (512KiB ring buffer; grows with the record rate up to 64MiB: 52s)",
		},
		{
			// 1,000 × 2 × 2 per ms for 2 s needs 256 MiB: held to the bound,
			// which holds 0.5 s with both CPUs and 1 s with one.
			name: "1,000 interfaces at the default bound", width: time.Millisecond, interval: time.Second, interfaces: 1000, cpus: 2,
			wantSize: DefaultBinsMemory, wantLimit: DefaultBinsMemory,
			wantText: "1ms bins, 1,000 interfaces × 2 CPUs active: 524ms of history (64MiB ring buffer; grows with the record rate up to 64MiB: 524ms)",
		},
		{
			name: "bound rounded down to a power of two", width: time.Millisecond, interval: time.Second, interfaces: 1000, cpus: 2, bound: 100 << 20,
			wantSize: 64 << 20, wantLimit: 64 << 20,
		},
		{
			name: "a bound that cannot hold one interval", width: time.Millisecond, interval: time.Second, interfaces: 1000, cpus: 2, bound: 32 << 20,
			wantErr: "--bins-memory 32MiB holds 524ms of 1ms bins for 1,000 interfaces active in both directions, less than one interval (1s): raise it to 64MiB or more, or use a coarser --resolution",
		},
		{
			name: "a bound below the smallest ring buffer", width: time.Millisecond, interval: time.Second, interfaces: 1, cpus: 1, bound: 1000,
			wantErr: "--bins-memory 1000B is below the smallest ring buffer of bins (64KiB)",
		},
		{
			// 1 × 2 × 128 records per second for 2 min: 30,720 records.
			name: "no interfaces yet: sized as for one", width: time.Second, interval: time.Minute, interfaces: 0, cpus: 128,
			wantSize: 1 << 20, wantLimit: DefaultBinsMemory,
		},
		{
			name: "coarse bins: the smallest ring buffer", width: time.Second, interval: time.Second, interfaces: 4, cpus: 2,
			wantSize: minRingBytes, wantLimit: DefaultBinsMemory,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sz, err := sizeBins(tt.width, tt.interval, tt.interfaces, tt.cpus, tt.bound, page)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if sz.size != tt.wantSize || sz.limit != tt.wantLimit {
				t.Errorf("size %s limit %s, want %s and %s", formatBytes(sz.size), formatBytes(sz.limit), formatBytes(tt.wantSize), formatBytes(tt.wantLimit))
			}
			if sz.size&(sz.size-1) != 0 || sz.size > sz.limit {
				t.Errorf("size %d: want a power of two within the limit %d", sz.size, sz.limit)
			}
			if tt.wantText != "" && sz.String() != tt.wantText {
				t.Errorf("says %q\nwant %q", sz.String(), tt.wantText)
			}
		})
	}
}
