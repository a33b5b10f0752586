// Package procfs reads interface counters from /proc/net/dev: the backend
// that needs no privileges. The parser is portable and kept apart from the
// file access so fixtures test it on any OS.
package procfs

import (
	"bytes"
	"fmt"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// The 16 counter columns of /proc/net/dev, in order.
const (
	colRxBytes = iota
	colRxPackets
	colRxErrs
	colRxDrop
	colRxFifo
	colRxFrame
	colRxCompressed
	colRxMulticast
	colTxBytes
	colTxPackets
	colTxErrs
	colTxDrop
	colTxFifo
	colTxColls
	colTxCarrier
	colTxCompressed
	numColumns
)

// Row is one interface's line of /proc/net/dev: its name and all 16
// counter columns, in the file's order.
type Row struct {
	Name string

	RxBytes      uint64
	RxPackets    uint64
	RxErrs       uint64
	RxDrop       uint64
	RxFifo       uint64
	RxFrame      uint64
	RxCompressed uint64
	RxMulticast  uint64

	TxBytes      uint64
	TxPackets    uint64
	TxErrs       uint64
	TxDrop       uint64
	TxFifo       uint64
	TxColls      uint64
	TxCarrier    uint64
	TxCompressed uint64
}

func rowOf(name string, c *[numColumns]uint64) Row {
	return Row{
		Name:         name,
		RxBytes:      c[colRxBytes],
		RxPackets:    c[colRxPackets],
		RxErrs:       c[colRxErrs],
		RxDrop:       c[colRxDrop],
		RxFifo:       c[colRxFifo],
		RxFrame:      c[colRxFrame],
		RxCompressed: c[colRxCompressed],
		RxMulticast:  c[colRxMulticast],
		TxBytes:      c[colTxBytes],
		TxPackets:    c[colTxPackets],
		TxErrs:       c[colTxErrs],
		TxDrop:       c[colTxDrop],
		TxFifo:       c[colTxFifo],
		TxColls:      c[colTxColls],
		TxCarrier:    c[colTxCarrier],
		TxCompressed: c[colTxCompressed],
	}
}

// Counters are the row's byte and packet counters.
func (r *Row) Counters() stats.Counters {
	return stats.Counters{RxBytes: r.RxBytes, RxPackets: r.RxPackets, TxBytes: r.TxBytes, TxPackets: r.TxPackets}
}

// ErrorCounters are the row's error and drop counters.
func (r *Row) ErrorCounters() stats.ErrorCounters {
	return stats.ErrorCounters{RxErrors: r.RxErrs, RxDrops: r.RxDrop, TxErrors: r.TxErrs, TxDrops: r.TxDrop}
}

// Parser parses /proc/net/dev. It keeps the interface names it has seen so
// that steady-state parsing allocates nothing: with a reused dst, Parse
// makes no allocation once every name is known. Names not seen in a parse
// are forgotten when they outnumber the current ones, so interfaces coming
// and going (containers' veths) do not grow it without end.
type Parser struct {
	names map[string]*seenName
	gen   uint64 // counts Parse calls
}

// seenName is an interface name and where the parser last saw it.
type seenName struct {
	name string
	gen  uint64 // the Parse call that last saw it
	line int    // its line in that call
}

// Parse appends one Row per interface that keep(name) accepts (all when
// keep is nil) to dst and returns it. A malformed line is an error that
// names the line; nothing is silently read as zero.
func (p *Parser) Parse(data []byte, keep func(name string) bool, dst []Row) ([]Row, error) {
	if p.names == nil {
		p.names = make(map[string]*seenName)
	}
	p.gen++
	lineNo, named := 0, 0
	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		lineNo++
		if lineNo <= 2 {
			if err := checkHeader(lineNo, line); err != nil {
				return dst, err
			}
			continue
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var err error
		dst, err = p.parseLine(line, lineNo, keep, dst)
		if err != nil {
			return dst, fmt.Errorf("line %d %q: %w", lineNo, truncate(line), err)
		}
		named++
	}
	if lineNo < 2 {
		return dst, fmt.Errorf("missing header: got %d line(s), want the two header lines", lineNo)
	}
	if len(p.names) > 2*named+64 {
		for k, sn := range p.names {
			if sn.gen != p.gen {
				delete(p.names, k)
			}
		}
	}
	return dst, nil
}

func checkHeader(lineNo int, line []byte) error {
	want := []byte("Receive")
	if lineNo == 2 {
		want = []byte("bytes")
	}
	if !bytes.Contains(line, want) || !bytes.Contains(line, []byte("|")) {
		return fmt.Errorf("line %d %q: not a /proc/net/dev header", lineNo, truncate(line))
	}
	return nil
}

// parseLine appends line's Row to dst unless keep rejects its name. A name
// seen before in the same Parse call is an error, selected or not: summing
// or picking one of two rows would report traffic that never was.
//
// The name ends at the line's last colon, not its first: old kernels list
// alias interfaces as "eth0:1:", and no counter holds a colon. The first
// counter may follow the colon without a space ("eth0:68210035552 ..."):
// older kernels print it as %8lu right after the colon, so a counter of 8
// digits or more touches it.
func (p *Parser) parseLine(line []byte, lineNo int, keep func(string) bool, dst []Row) ([]Row, error) {
	colon := lastColon(line)
	if colon < 0 {
		return dst, fmt.Errorf("no ':' after the interface name")
	}
	rawName := trimBlanks(line[:colon])
	if len(rawName) == 0 {
		return dst, fmt.Errorf("empty interface name")
	}
	for _, c := range rawName {
		if c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r' { // the kernel refuses these in names
			return dst, fmt.Errorf("interface name %q contains white space", rawName)
		}
	}
	sn := p.names[string(rawName)] // no allocation for a known name
	if sn == nil {
		sn = &seenName{name: string(rawName)}
		p.names[sn.name] = sn
	} else if sn.gen == p.gen {
		return dst, fmt.Errorf("duplicate interface %q, first on line %d", sn.name, sn.line)
	}
	sn.gen, sn.line = p.gen, lineNo
	name := sn.name
	if keep != nil && !keep(name) {
		return dst, nil
	}
	var cols [numColumns]uint64
	rest := line[colon+1:]
	for i := range cols {
		var field []byte
		field, rest = nextField(rest)
		if field == nil {
			return dst, fmt.Errorf("%d counter columns, want %d", i, numColumns)
		}
		v, err := parseUint(field)
		if err != nil {
			return dst, fmt.Errorf("column %d: %w", i+1, err)
		}
		cols[i] = v
	}
	if extra, _ := nextField(rest); extra != nil {
		return dst, fmt.Errorf("more than %d counter columns", numColumns)
	}
	return append(dst, rowOf(name, &cols)), nil
}

// lastColon is bytes.LastIndexByte(line, ':'), faster on these lines: the
// usual one colon is found by the vectorised forward search, and the rest
// of the line is then searched once more, instead of a byte-by-byte walk
// back over some 100 bytes of counters.
func lastColon(line []byte) int {
	last := bytes.IndexByte(line, ':')
	for last >= 0 {
		next := bytes.IndexByte(line[last+1:], ':')
		if next < 0 {
			break
		}
		last += 1 + next
	}
	return last
}

// trimBlanks trims spaces and tabs at both ends of b.
func trimBlanks(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// nextField returns the next space-separated field of b and what follows it,
// or nil when b holds only white space.
func nextField(b []byte) (field, rest []byte) {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	if i == len(b) {
		return nil, nil
	}
	j := i
	for j < len(b) && b[j] != ' ' && b[j] != '\t' {
		j++
	}
	return b[i:j], b[j:]
}

// parseUint parses a decimal uint64 without allocating.
func parseUint(b []byte) (uint64, error) {
	var v uint64
	if len(b) <= 19 { // cannot overflow: 10^19-1 < 2^64
		for _, c := range b {
			d := c - '0'
			if d > 9 {
				return 0, fmt.Errorf("%q is not a number", b)
			}
			v = v*10 + uint64(d)
		}
		return v, nil
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not a number", b)
		}
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
			return 0, fmt.Errorf("%q overflows 64 bits", b)
		}
		v = v*10 + d
	}
	return v, nil
}

func truncate(line []byte) string {
	const max = 80
	if len(line) > max {
		return string(line[:max]) + "…"
	}
	return string(line)
}
