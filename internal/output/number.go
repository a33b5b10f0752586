package output

import (
	"math"
	"strconv"
	"time"
)

// timeLayout is RFC 3339 with a fixed nine-digit fraction, so every
// timestamp has the same length and sorts as a string.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// appendTime appends t in UTC in timeLayout.
func appendTime(b []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(b, timeLayout)
}

// finite returns x, or 0 when x is NaN or infinite. It also turns -0 into 0.
func finite(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) || x == 0 {
		return 0
	}
	return x
}

// appendRate appends finite(x) exactly as encoding/json writes a float64:
// shortest plain decimal for magnitudes in [1e-6, 1e21), exponent form
// ("1e+21", "1e-7") outside, so CSV and JSON show the same number.
func appendRate(b []byte, x float64) []byte {
	x = finite(x)
	if a := math.Abs(x); a != 0 && (a < 1e-6 || a >= 1e21) {
		b = strconv.AppendFloat(b, x, 'e', -1, 64)
		// Like encoding/json: e-07 becomes e-7.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
		return b
	}
	return strconv.AppendFloat(b, x, 'f', -1, 64)
}
