package stats

import (
	"math"
	"strings"
	"testing"
)

// FuzzParseRate checks that no input makes ParseRate panic, that its
// errors are one line (even for input with newlines: it is quoted), and
// that an accepted rate is a finite number that is not negative.
func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"800Mbit", "1Gbps", "1Gb", "100MB", "100MB/s", "64KiB/s", "2Gibit", "1 kB",
		"mb", "1gb", "", " ", ".", "1e9", "1e400B", "NaN", "0x10B", "1.5.5B", "\n1B", "1B\n", "99999999999999999999999999PiB", strings.Repeat("9", 300) + "PiB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseRate(s)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error of more than one line: %q", err)
			}
			return
		}
		if math.IsNaN(v) || v < 0 {
			t.Fatalf("ParseRate(%q) = %v", s, v)
		}
		if math.IsInf(v, 0) {
			// Possible only through the unit's multiplier (1e308PiB):
			// reject it rather than threshold at infinity.
			t.Fatalf("ParseRate(%q) = %v, want an error", s, v)
		}
	})
}
