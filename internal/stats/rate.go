package stats

import (
	"fmt"
	"strconv"
	"strings"
)

// rateUnits maps a rate suffix to bytes per second per unit. Bits use SI
// prefixes as networking does (1 Mbit = 10^6 bits); byte units accept both
// SI (kB, MB, GB) and IEC (KiB, MiB, GiB).
var rateUnits = map[string]float64{
	"bit": 1.0 / 8, "kbit": 1e3 / 8, "mbit": 1e6 / 8, "gbit": 1e9 / 8, "tbit": 1e12 / 8,
	"b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// ParseRate parses an absolute rate such as "800Mbit", "1.5Gbit/s", "100MB"
// or "64KiB/s" into bytes per second. Units are case-insensitive; "/s" is
// optional, and "bps" means bits per second (10Gbps).
func ParseRate(s string) (float64, error) {
	in := strings.ToLower(strings.TrimSpace(s))
	in = strings.TrimSuffix(in, "/s")
	if strings.HasSuffix(in, "bps") { // Mbps, Gbps: bits per second
		in = strings.TrimSuffix(in, "bps") + "bit"
	}
	i := strings.IndexFunc(in, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i <= 0 {
		return 0, fmt.Errorf("rate %q: want a number and a unit, e.g. 800Mbit or 100MB", s)
	}
	v, err := strconv.ParseFloat(in[:i], 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("rate %q: bad number", s)
	}
	unit := strings.TrimSpace(in[i:])
	if unit == "bits" {
		unit = "bit"
	}
	per, ok := rateUnits[unit]
	if !ok {
		return 0, fmt.Errorf("rate %q: unknown unit %q (use bit, kbit, Mbit, Gbit, B, kB, MB, GB, KiB, MiB, GiB)", s, in[i:])
	}
	return v * per, nil
}
