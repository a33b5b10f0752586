package output

import (
	"encoding/json"
	"math"
	"testing"
)

func TestAppendByteRate(t *testing.T) {
	tests := []struct {
		bytesPerSec float64
		units       Units
		iec         bool
		want        string
	}{
		{0, Bytes, false, "0.0 B/s"},
		{999, Bytes, false, "999.0 B/s"},
		{999.94, Bytes, false, "999.9 B/s"},
		{999.95, Bytes, false, "1.0 kB/s"}, // would print as 1000.0 B/s
		{1000, Bytes, false, "1.0 kB/s"},
		{1023, Bytes, false, "1.0 kB/s"},
		{1024, Bytes, false, "1.0 kB/s"},
		{12.3e6, Bytes, false, "12.3 MB/s"},
		{999, Bytes, true, "999.0 B/s"},
		{1000, Bytes, true, "1000.0 B/s"},
		{1023, Bytes, true, "1023.0 B/s"},
		{1023.95, Bytes, true, "1.0 KiB/s"},
		{1024, Bytes, true, "1.0 KiB/s"},
		{1536 * 1024, Bytes, true, "1.5 MiB/s"},
		{124.875, Bits, false, "999.0 bit/s"},
		{125, Bits, false, "1.0 kbit/s"},
		{12.3e6, Bits, false, "98.4 Mbit/s"},
		{127.875, Bits, true, "1023.0 bit/s"},
		{128, Bits, true, "1.0 Kibit/s"},
		{1 << 63, Bytes, false, "9.2 EB/s"},
		{1 << 63, Bytes, true, "8.0 EiB/s"},
		{1 << 63, Bits, false, "73.8 Ebit/s"},
		{1 << 63, Bits, true, "64.0 Eibit/s"},
		{1e30, Bytes, false, "1000000.0 YB/s"}, // past the last unit: no cut, no panic
		{0.04, Bytes, false, "0.0 B/s"},
		{math.NaN(), Bytes, false, "0.0 B/s"},
		{math.Inf(1), Bits, true, "0.0 bit/s"},
		{math.Inf(-1), Bytes, false, "0.0 B/s"},
	}
	for _, tt := range tests {
		got := string(appendByteRate(nil, tt.bytesPerSec, tt.units, tt.iec))
		if got != tt.want {
			t.Errorf("appendByteRate(%v, %v, iec=%v) = %q, want %q", tt.bytesPerSec, tt.units, tt.iec, got, tt.want)
		}
	}
}

func TestAppendCount(t *testing.T) {
	tests := []struct {
		perSec float64
		want   string
	}{
		{0, "0"},
		{0.4, "0"},
		{999, "999"},
		{999.4, "999"},
		{999.5, "1.0k"},
		{1000, "1.0k"},
		{1023, "1.0k"},
		{1024, "1.0k"},
		{999949, "999.9k"},
		{999950, "1.0M"},
		{1234567, "1.2M"},
		{1 << 63, "9.2E"},
		{math.NaN(), "0"},
		{math.Inf(1), "0"},
	}
	for _, tt := range tests {
		if got := string(appendCount(nil, tt.perSec)); got != tt.want {
			t.Errorf("appendCount(%v) = %q, want %q", tt.perSec, got, tt.want)
		}
	}
}

func TestAppendRate(t *testing.T) {
	tests := []struct {
		x    float64
		want string
	}{
		{0, "0"},
		{math.Copysign(0, -1), "0"},
		{1.5e6, "1500000"},
		{200000.5, "200000.5"},
		{1 << 63, "9223372036854776000"}, // shortest form of float64(1<<63)
		{-2.5, "-2.5"},
		{1e21, "1e+21"},
		{-1.5e300, "-1.5e+300"},
		{1e-7, "1e-7"},
		{1.25e-10, "1.25e-10"},
		{math.NaN(), "0"},
		{math.Inf(1), "0"},
		{math.Inf(-1), "0"},
	}
	for _, tt := range tests {
		if got := string(appendRate(nil, tt.x)); got != tt.want {
			t.Errorf("appendRate(%v) = %q, want %q", tt.x, got, tt.want)
		}
	}
}

// TestAppendRateMatchesJSON pins appendRate (CSV) to encoding/json's float
// encoding (NDJSON), so both formats show the same numbers.
func TestAppendRateMatchesJSON(t *testing.T) {
	for _, x := range []float64{0, 1, 0.1, 1e-6, 9.99e-7, 1e-7, 1.25e-10, 1e20, 1e21, 123456789.125, -3e-9, 1 << 63, math.MaxFloat64} {
		want, err := json.Marshal(x)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendRate(nil, x); string(got) != string(want) {
			t.Errorf("appendRate(%v) = %s, encoding/json writes %s", x, got, want)
		}
	}
}

func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"eth0", "eth0"},
		{"wlån0", "wlån0"},
		{`we,ird "name"`, `we,ird "name"`},
		{"bad\x01name", `bad\x01name`},
		{"tab\there", `tab\there`},
		{"nl\n", `nl\n`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"zw\u200bsp", `zw\u200bsp`},
	}
	for _, tt := range tests {
		if got := printable(tt.in); got != tt.want {
			t.Errorf("printable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
