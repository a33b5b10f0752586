package output

import (
	"strings"
	"testing"
)

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in      string
		want    Format
		wantErr bool
	}{
		{"table", FormatTable, false},
		{"ndjson", FormatNDJSON, false},
		{"csv", FormatCSV, false},
		{" CSV ", FormatCSV, false},
		{"NDJSON", FormatNDJSON, false},
		{"", "", true},
		{"json", "", true},
		{"xml", "", true},
	}
	for _, tt := range tests {
		got, err := ParseFormat(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("ParseFormat(%q) = %q, want an error", tt.in, got)
				continue
			}
			msg := err.Error()
			if !strings.Contains(msg, "table, ndjson, csv") || !strings.Contains(msg, `"`+tt.in+`"`) {
				t.Errorf("ParseFormat(%q) error %q should name the input and list the valid formats", tt.in, msg)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestParseUnits(t *testing.T) {
	tests := []struct {
		in      string
		want    Units
		wantErr bool
	}{
		{"bytes", Bytes, false},
		{"bits", Bits, false},
		{" Bits", Bits, false},
		{"BYTES", Bytes, false},
		{"", 0, true},
		{"bit", 0, true},
		{"kbps", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseUnits(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("ParseUnits(%q) = %v, want an error", tt.in, got)
			} else if !strings.Contains(err.Error(), "bytes, bits") {
				t.Errorf("ParseUnits(%q) error %q should list the valid units", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseUnits(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if back, err := ParseUnits(got.String()); err != nil || back != got {
			t.Errorf("ParseUnits(%v.String()) = %v, %v", got, back, err)
		}
	}
}
