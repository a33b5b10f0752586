package main

import "testing"

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
	}{
		{"64MiB", 64 << 20}, {"64MB", 64 << 20}, {"64M", 64 << 20}, {"512KiB", 512 << 10}, {"512k", 512 << 10},
		{"1GiB", 1 << 30}, {" 2 GiB ", 2 << 30}, {"65536", 65536}, {"4096B", 4096},
	}
	for _, tt := range tests {
		if got, err := parseSize(tt.in); err != nil || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v, want %d", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "0", "-1MiB", "MiB", "1.5MiB", "64Mbit", "99999999999GiB"} {
		if got, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", bad, got)
		}
	}
}
