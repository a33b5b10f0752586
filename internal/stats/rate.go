package stats

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ratePrefixes are the multipliers a rate unit may start with, two-letter
// IEC prefixes first so that "Mi" is not read as "M" + "i...". Prefixes are
// case-sensitive except kilo (k and K are both 1000, as people write both).
var ratePrefixes = []struct {
	prefix string
	mult   float64
}{
	{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40}, {"Pi", 1 << 50},
	{"k", 1e3}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"P", 1e15},
	{"", 1},
}

// rateBodies maps what follows the prefix to bytes per second per unit:
// lower-case b is bits, upper-case B is bytes (the networking convention).
var rateBodies = map[string]float64{
	"b": 1.0 / 8, "bit": 1.0 / 8, "bits": 1.0 / 8, "bps": 1.0 / 8, "b/s": 1.0 / 8, "bit/s": 1.0 / 8, "bits/s": 1.0 / 8,
	"B": 1, "Bps": 1, "B/s": 1, "byte": 1, "bytes": 1, "byte/s": 1, "bytes/s": 1,
}

// rateExamples ends every ParseRate error.
const rateExamples = "units are case-sensitive, b is bits and B is bytes: e.g. 800Mbit, 1Gbps, 1Gb, 100MB, 100MB/s, 64KiB/s, 2Gibit"

// ParseRate parses an absolute rate into bytes per second: a number, an
// optional space and a case-sensitive unit. Lower-case b means bits and
// upper-case B bytes, as in networking: 800Mbit, 800Mb, 800Mbps and 800Mb/s
// are megabits per second; 100MB, 100MB/s and 100MBps megabytes per second.
// k or K, M, G, T and P are powers of 1000; Ki, Mi, Gi, Ti and Pi powers of
// 1024 (64KiB/s, 2Gibit). "/s" and "ps" are optional. Anything else, such as
// the ambiguous "mb" or "1gb", is an error that lists examples.
func ParseRate(s string) (float64, error) {
	in := strings.TrimSpace(s)
	i := strings.IndexFunc(in, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(in)
	}
	if i == 0 {
		return 0, fmt.Errorf("rate %q: want a number and a unit (%s)", s, rateExamples)
	}
	v, err := strconv.ParseFloat(in[:i], 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, fmt.Errorf("rate %q: bad number %q (%s)", s, in[:i], rateExamples)
	}
	if i == len(in) {
		return 0, fmt.Errorf("rate %q: missing unit (%s)", s, rateExamples)
	}
	unit := strings.TrimPrefix(in[i:], " ")
	for _, p := range ratePrefixes {
		body, ok := strings.CutPrefix(unit, p.prefix)
		if !ok {
			continue
		}
		if per, ok := rateBodies[body]; ok {
			r := v * p.mult * per
			if math.IsInf(r, 0) {
				return 0, fmt.Errorf("rate %q: too large (%s)", s, rateExamples)
			}
			return r, nil
		}
	}
	return 0, fmt.Errorf("rate %q: unknown unit %q (%s)", s, unit, rateExamples)
}

// DescribeRate shows a rate in bits and in bytes per second, the way a user
// can check what a threshold was understood as: "1 Gbit/s (125 MB/s)",
// "8 Gibit/s (1 GiB/s)". Each part uses SI prefixes unless binary ones
// show the value more simply; values are rounded to three decimals.
func DescribeRate(bytesPerSec float64) string {
	return formatRate(bytesPerSec*8, "bit/s") + " (" + formatRate(bytesPerSec, "B/s") + ")"
}

func formatRate(x float64, unit string) string {
	si, siPrefix := scaleRate(x, 1000, []string{"", "k", "M", "G", "T", "P", "E"})
	iec, iecPrefix := scaleRate(x, 1024, []string{"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"})
	if len(iec) < len(si) {
		return iec + " " + iecPrefix + unit
	}
	return si + " " + siPrefix + unit
}

// scaleRate divides x by base until it is below base (or the prefixes run
// out) and formats it with as few digits as show it exactly, at most three
// decimals.
func scaleRate(x, base float64, prefixes []string) (string, string) {
	i := 0
	for math.Abs(x) >= base && i < len(prefixes)-1 {
		x /= base
		i++
	}
	x = math.Round(x*1000) / 1000
	if math.Abs(x) >= base && i < len(prefixes)-1 { // 999.9996 rounds up to 1000
		x /= base
		i++
	}
	return strconv.FormatFloat(x, 'f', -1, 64), prefixes[i]
}
