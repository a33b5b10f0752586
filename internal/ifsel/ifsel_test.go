package ifsel

import (
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		name             string
		include, exclude []string
		match, reject    []string
	}{
		{"zero selects all", nil, nil, []string{"eth0", "lo", "veth-x"}, nil},
		{"literal", []string{"eth0"}, nil, []string{"eth0"}, []string{"eth1", "eth00"}},
		{"glob", []string{"eth*"}, nil, []string{"eth0", "eth12"}, []string{"lo", "veth0"}},
		{"comma list and repeat", []string{"eth0, wlan?", "br-*"}, nil, []string{"eth0", "wlan0", "br-lan"}, []string{"wlan10", "eth1"}},
		{"exclude wins", []string{"*"}, []string{"lo,docker*"}, []string{"eth0"}, []string{"lo", "docker0"}},
		{"exclude only", nil, []string{"veth*"}, []string{"eth0", "lo"}, []string{"veth1a2b"}},
		{"character class", []string{"eth[02]"}, nil, []string{"eth0", "eth2"}, []string{"eth1"}},
		{"empty items ignored", []string{",,eth0,"}, nil, []string{"eth0"}, []string{"lo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.include, tt.exclude)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range tt.match {
				if !s.Match(n) {
					t.Errorf("%s (%s) should match %q", tt.name, s, n)
				}
			}
			for _, n := range tt.reject {
				if s.Match(n) {
					t.Errorf("%s (%s) should not match %q", tt.name, s, n)
				}
			}
		})
	}
}

func TestBadPattern(t *testing.T) {
	if _, err := New([]string{"eth["}, nil); err == nil || !strings.Contains(err.Error(), `"eth["`) {
		t.Fatalf("bad include: %v", err)
	}
	if _, err := New(nil, []string{"ok,[x"}); err == nil || !strings.Contains(err.Error(), `"[x"`) {
		t.Fatalf("bad exclude: %v", err)
	}
}

func TestCheckExist(t *testing.T) {
	have := []string{"lo", "eth0", "br0"}
	s, _ := New([]string{"eth0", "wl*"}, nil)
	if err := s.CheckExist(have); err != nil {
		t.Fatalf("existing literal and unmatched glob: %v", err)
	}
	s, _ = New([]string{"eth9"}, nil)
	err := s.CheckExist(have)
	if err == nil || err.Error() != `unknown interface "eth9" (have: br0, eth0, lo)` {
		t.Fatalf("CheckExist = %v", err)
	}
}
