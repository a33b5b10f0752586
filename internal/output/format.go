package output

import (
	"fmt"
	"strings"
	"time"
)

// Format is a stream output format.
type Format string

// The stream formats.
const (
	FormatTable  Format = "table"
	FormatNDJSON Format = "ndjson"
	FormatCSV    Format = "csv"
	// FormatEvents is burst events instead of samples (EventStream).
	FormatEvents Format = "events"
)

// Formats lists the sample stream formats (NewStream) in the order they are
// documented; ParseFormat also accepts FormatEvents.
var Formats = []Format{FormatTable, FormatNDJSON, FormatCSV}

// ParseFormat returns the Format named by s (case-insensitive, surrounding
// spaces ignored).
func ParseFormat(s string) (Format, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	for _, f := range append(Formats, FormatEvents) {
		if name == string(f) {
			return f, nil
		}
	}
	return "", fmt.Errorf("output: unknown format %q (valid: table, ndjson, csv, events)", s)
}

// Units selects how the table shows byte rates.
type Units int

// The table units.
const (
	Bytes Units = iota // bytes per second: B/s, kB/s (or KiB/s), ...
	Bits               // bits per second: bit/s, kbit/s (or Kibit/s), ...
)

// String returns the name ParseUnits accepts.
func (u Units) String() string {
	switch u {
	case Bytes:
		return "bytes"
	case Bits:
		return "bits"
	}
	return fmt.Sprintf("Units(%d)", int(u))
}

// ParseUnits returns the Units named by s: "bytes" or "bits"
// (case-insensitive, surrounding spaces ignored).
func ParseUnits(s string) (Units, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "bytes":
		return Bytes, nil
	case "bits":
		return Bits, nil
	}
	return 0, fmt.Errorf("output: unknown units %q (valid: bytes, bits)", s)
}

// TableOptions configures the table format. The other formats ignore it.
type TableOptions struct {
	// Units shows byte rates as bytes or bits per second.
	Units Units
	// IEC uses binary prefixes (1024: KiB/s, Mibit/s) instead of SI (1000).
	IEC bool
	// Location is the time zone of the TIME column; nil means time.Local.
	Location *time.Location
	// Bursts says what counts as a burst ("runs of bins above 1 Gbit/s (125 MB/s)").
	// It is printed on a line of its own above every header that has the
	// BURSTS column.
	Bursts string
	// Netns adds a NETNS column to the table and a netns column at the end
	// of CSV rows (--netns given); JSON has the netns field whenever an
	// interface has a namespace.
	Netns bool
	// Containers adds a CONTAINER column (short id) to the table. CSV rows
	// always end with container_id and peer_netns.
	Containers bool
}
