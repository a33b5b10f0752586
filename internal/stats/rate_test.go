package stats

import (
	"math"
	"strings"
	"testing"
)

// TestParseRateEveryUnit builds every prefix and every bits or bytes
// spelling and checks the value: lower-case b is bits, upper-case B bytes.
func TestParseRateEveryUnit(t *testing.T) {
	prefixes := map[string]float64{
		"": 1, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15,
		"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40, "Pi": 1 << 50,
	}
	bits := []string{"b", "bit", "bits", "bps", "b/s", "bit/s", "bits/s"}
	bytes := []string{"B", "Bps", "B/s", "byte", "bytes", "byte/s", "bytes/s"}
	n := 0
	for p, mult := range prefixes {
		for _, kind := range []struct {
			bodies []string
			per    float64
		}{{bits, 1.0 / 8}, {bytes, 1}} {
			for _, body := range kind.bodies {
				for _, num := range []string{"3", "1.5", "0.25", " 2 "} {
					for _, sep := range []string{"", " "} {
						in := num + sep + p + body
						if strings.HasSuffix(num, " ") && sep == " " {
							continue // two spaces: rejected below
						}
						v := 0.0
						switch strings.TrimSpace(num) {
						case "3":
							v = 3
						case "1.5":
							v = 1.5
						case "0.25":
							v = 0.25
						case "2":
							v = 2
						}
						want := v * mult * kind.per
						got, err := ParseRate(in)
						if err != nil || math.Abs(got-want) > want*1e-12 {
							t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
						}
						n++
					}
				}
			}
		}
	}
	if n < 600 {
		t.Fatalf("only %d spellings tried", n)
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want float64 // bytes per second
	}{
		// The spellings of the issue: b is bits, B is bytes.
		{"1Gb", 125e6},
		{"1Gbit", 125e6},
		{"1Gbps", 125e6},
		{"1Gb/s", 125e6},
		{"1GB", 1e9},
		{"1GB/s", 1e9},
		{"1GBps", 1e9},
		{"1MBps", 1e6},
		{"1Mbps", 125e3},
		{"800Mbit", 100e6},
		{"800Mb", 100e6},
		{"100MB", 100e6},
		{"1.5Gbit", 187.5e6},
		{"10Gbps", 1.25e9},
		{"64KiB/s", 65536},
		{"1GiB", 1 << 30},
		{"1Gibit", 1 << 27},
		{"8Kibit", 1024},
		{"1kB", 1000},
		{"1KB", 1000},
		{"1kbit", 125},
		{"8bit", 1},
		{"8b", 1},
		{"8 bits/s", 1},
		{"1B", 1},
		{"0Mbit", 0},
		{".5GB", 5e8},
		{"  100 MB/s  ", 100e6},
	}
	for _, tt := range tests {
		got, err := ParseRate(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseRateRejects(t *testing.T) {
	tests := []struct {
		in, inErr string
	}{
		{"", "want a number and a unit"},
		{"fast", "want a number and a unit"},
		{"Mbit", "want a number and a unit"},
		{"-5Mbit", "want a number and a unit"},
		{"+5Mbit", "want a number and a unit"},
		{"100", "missing unit"},
		{"1.5", "missing unit"},
		{"1.2.3Mbit", "bad number"},
		{"1..Mbit", "bad number"},
		{".", "bad number"},
		{"100 furlongs", `unknown unit "furlongs"`},
		// Case matters: lower-case m, g, t are not mega, giga, tera.
		{"1gb", `unknown unit "gb"`},
		{"1mb", `unknown unit "mb"`},
		{"1mbit", `unknown unit "mbit"`},
		{"800mbit/s", `unknown unit "mbit/s"`},
		{"1gbps", `unknown unit "gbps"`},
		{"1tB", `unknown unit "tB"`},
		{"1kib", `unknown unit "kib"`},
		{"1KIB", `unknown unit "KIB"`},
		{"1kiB", `unknown unit "kiB"`},
		{"1MiBit", `unknown unit "MiBit"`},
		{"1MBit", `unknown unit "MBit"`},
		{"1Bit", `unknown unit "Bit"`},
		{"1MBPS", `unknown unit "MBPS"`},
		{"1Mbit/sec", `unknown unit "Mbit/sec"`},
		{"1Mbps/s", `unknown unit "Mbps/s"`},
		{"1M", `unknown unit "M"`},
		{"1Mi", `unknown unit "Mi"`},
		{"1 /s", `unknown unit "/s"`},
		{"1e9bit", `unknown unit "e9bit"`},
		{"1,5Mbit", `unknown unit ",5Mbit"`},
		{"1  Mbit", `unknown unit " Mbit"`},
		{"80%", `unknown unit "%"`},
	}
	for _, tt := range tests {
		got, err := ParseRate(tt.in)
		if err == nil {
			t.Errorf("ParseRate(%q) = %v, want an error", tt.in, got)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tt.inErr) || !strings.Contains(msg, "800Mbit") || strings.Contains(msg, "\n") {
			t.Errorf("ParseRate(%q) error %q: want one line with %q and examples", tt.in, msg, tt.inErr)
		}
	}
}

func TestDescribeRate(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"1Gb", "1 Gbit/s (125 MB/s)"},
		{"1GB", "8 Gbit/s (1 GB/s)"},
		{"1MBps", "8 Mbit/s (1 MB/s)"},
		{"800Mbit", "800 Mbit/s (100 MB/s)"},
		{"1GiB", "8 Gibit/s (1 GiB/s)"},
		{"1Gibit", "1 Gibit/s (128 MiB/s)"},
		{"64KiB/s", "512 Kibit/s (64 KiB/s)"},
		{"1.5Gbit", "1.5 Gbit/s (187.5 MB/s)"},
		{"100bit", "100 bit/s (12.5 B/s)"},
		{"1bit", "1 bit/s (0.125 B/s)"},
		{"999.9999kB", "8 Mbit/s (1 MB/s)"},
		{"123.456789Mbit", "123.457 Mbit/s (15.432 MB/s)"},
	}
	for _, tt := range tests {
		r, err := ParseRate(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := DescribeRate(r); got != tt.want {
			t.Errorf("DescribeRate(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
