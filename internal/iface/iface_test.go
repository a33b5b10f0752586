package iface

import (
	"net"
	"testing"
)

func TestParseSysfsSpeed(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
	}{
		{"1000\n", 1000},
		{"100000", 100000},
		{"-1\n", 0},
		{"", 0},
		{"garbage", 0},
	}
	for _, tt := range tests {
		if got := parseSysfsSpeed(tt.in); got != tt.want {
			t.Errorf("parseSysfsSpeed(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestFlagState(t *testing.T) {
	tests := []struct {
		f    net.Flags
		want string
	}{
		{net.FlagUp | net.FlagRunning, "up"},
		{net.FlagUp, "no-carrier"},
		{0, "down"},
	}
	for _, tt := range tests {
		if got := flagState(tt.f); got != tt.want {
			t.Errorf("flagState(%v) = %q, want %q", tt.f, got, tt.want)
		}
	}
}

func TestListHasLoopback(t *testing.T) {
	infos, err := List()
	if err != nil {
		t.Fatal(err)
	}
	for i, info := range infos {
		if i > 0 && info.Index <= infos[i-1].Index {
			t.Fatalf("not ordered by index: %+v", infos)
		}
	}
	for _, info := range infos {
		if info.Name == "lo" || info.Name == "lo0" {
			if info.MTU <= 0 || info.State == "" {
				t.Fatalf("loopback without MTU or state: %+v", info)
			}
			return
		}
	}
	t.Fatalf("no loopback interface in %+v", infos)
}
