package output

// FormatByteRate formats a byte rate in human units with one decimal, as the
// table prints it: "12.3 MB/s", "98.4 Mbit/s", "1.0 KiB/s".
func FormatByteRate(bytesPerSec float64, u Units, iec bool) string {
	return string(appendByteRate(make([]byte, 0, 16), bytesPerSec, u, iec))
}

// FormatCount formats a per-second count (packets) with SI prefixes, as the
// table prints it: "999", "1.0k", "12.3M".
func FormatCount(perSec float64) string {
	return string(appendCount(make([]byte, 0, 8), perSec))
}
