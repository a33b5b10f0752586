package attach

import "testing"

func TestParseMode(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    Mode
		wantErr bool
	}{
		{"auto", Auto, false},
		{"tcx", TCX, false},
		{" TC ", TC, false},
		{"XDP", XDP, false},
		{"", "", true},
		{"tcx,tc", "", true},
		{"legacy", "", true},
	} {
		got, err := ParseMode(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseMode(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseXDPMode(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    XDPMode
		wantErr bool
	}{
		{"driver", XDPDriver, false},
		{"Generic", XDPGeneric, false},
		{"native", "", true},
		{"offload", "", true},
		{"", "", true},
	} {
		got, err := ParseXDPMode(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseXDPMode(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestDirectionString(t *testing.T) {
	for d, want := range map[Direction]string{Ingress: "ingress", Egress: "egress", 5: "Direction(5)"} {
		if got := d.String(); got != want {
			t.Errorf("Direction(%d).String() = %q, want %q", int(d), got, want)
		}
	}
}
