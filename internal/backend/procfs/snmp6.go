package procfs

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"
)

// SNMP6Index looks interface indexes up in a net/dev_snmp6 directory of
// procfs: one file per interface with IPv6 state, named after it, whose
// first line is "ifIndex <index>". It is how procfs learns the indexes of
// another namespace (/proc/PID/net/dev_snmp6) without entering it, as
// nobody and with no capability. The directory stays open, so lookups keep
// working after the process that named the namespace has exited.
type SNMP6Index struct {
	root *os.Root
	buf  [128]byte
}

// OpenSNMP6Index opens dir, e.g. /proc/1234/net/dev_snmp6. It fails where
// the kernel has no IPv6 (ipv6.disable=1).
func OpenSNMP6Index(dir string) (*SNMP6Index, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &SNMP6Index{root: r}, nil
}

// IndexOf returns name's index, 0 if unknown: an interface without IPv6
// state (an MTU below 1280, IPv6 disabled on it) has no file there.
func (s *SNMP6Index) IndexOf(name string) int {
	if name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') {
		return 0
	}
	f, err := s.root.Open(name)
	if err != nil {
		return 0
	}
	defer f.Close()
	n, err := io.ReadFull(f, s.buf[:])
	if err != nil && err != io.ErrUnexpectedEOF {
		return 0
	}
	return ParseSNMP6Index(s.buf[:n])
}

// Close closes the directory.
func (s *SNMP6Index) Close() error { return s.root.Close() }

// ParseSNMP6Index reads the index from the start of a dev_snmp6 file
// ("ifIndex", blanks, the decimal index, a newline); 0 if it is not there.
func ParseSNMP6Index(b []byte) int {
	line, _, _ := bytes.Cut(b, []byte{'\n'})
	f := bytes.Fields(line)
	if len(f) != 2 || string(f[0]) != "ifIndex" {
		return 0
	}
	ix, err := strconv.ParseInt(string(f[1]), 10, 32)
	if err != nil || ix <= 0 {
		return 0
	}
	return int(ix)
}
