package output

import (
	"math"
	"strconv"
)

// Unit names from 10^0 (2^0) up to 10^24 (2^80) per second.
var (
	siByteUnits  = []string{"B/s", "kB/s", "MB/s", "GB/s", "TB/s", "PB/s", "EB/s", "ZB/s", "YB/s"}
	iecByteUnits = []string{"B/s", "KiB/s", "MiB/s", "GiB/s", "TiB/s", "PiB/s", "EiB/s", "ZiB/s", "YiB/s"}
	siBitUnits   = []string{"bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s", "Pbit/s", "Ebit/s", "Zbit/s", "Ybit/s"}
	iecBitUnits  = []string{"bit/s", "Kibit/s", "Mibit/s", "Gibit/s", "Tibit/s", "Pibit/s", "Eibit/s", "Zibit/s", "Yibit/s"}
	countUnits   = []string{"", "k", "M", "G", "T", "P", "E", "Z", "Y"}
)

// appendByteRate appends a byte rate in human units, one decimal:
// "12.3 MB/s", "98.4 Mbit/s", "1.0 KiB/s". The unit is the largest whose
// value, once rounded, is at least 1; NaN and infinities show as 0.
func appendByteRate(b []byte, bytesPerSec float64, u Units, iec bool) []byte {
	x := finite(bytesPerSec)
	units := siByteUnits
	if u == Bits {
		x *= 8
		units = siBitUnits
	}
	base := 1000.0
	if iec {
		base = 1024
		units = iecByteUnits
		if u == Bits {
			units = iecBitUnits
		}
	}
	v, i := scale(x, base, len(units), func(int) int { return 1 })
	b = strconv.AppendFloat(b, v, 'f', 1, 64)
	b = append(b, ' ')
	return append(b, units[i]...)
}

// appendCount appends a per-second count (packets) with SI prefixes:
// "999", "1.0k", "12.3M". NaN and infinities show as 0.
func appendCount(b []byte, perSec float64) []byte {
	prec := func(i int) int {
		if i == 0 {
			return 0
		}
		return 1
	}
	v, i := scale(finite(perSec), 1000, len(countUnits), prec)
	b = strconv.AppendFloat(b, v, 'f', prec(i), 64)
	return append(b, countUnits[i]...)
}

// scale divides x by base until, rounded to prec(i) decimals, its magnitude
// is below base or the n-th (last) unit is reached. It returns the scaled
// value and the unit index.
func scale(x, base float64, n int, prec func(i int) int) (float64, int) {
	i := 0
	for i < n-1 && math.Abs(round(x, prec(i))) >= base {
		x /= base
		i++
	}
	if x == 0 {
		x = 0 // no "-0.0"
	}
	return x, i
}

// round rounds x to d decimals the way strconv's 'f' formatting would show
// it, closely enough to pick the unit.
func round(x float64, d int) float64 {
	p := math.Pow10(d)
	return math.Round(x*p) / p
}
