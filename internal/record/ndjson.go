package record

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// timeLayout is RFC 3339 with a fixed nine-digit fraction, as in netwatch's
// sample stream: every timestamp has the same length and sorts as a string.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// countingWriter counts the bytes that reach the file.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// flusher is a compressor that can push what it holds to its writer.
type flusher interface {
	io.WriteCloser
	Flush() error
}

type ndjsonWriter struct {
	path  string
	f     *os.File
	count *countingWriter
	comp  flusher // nil: plain text
	buf   *bufio.Writer
	line  []byte
	seen  ifaceSet
	last  time.Time // end of the last row
	err   error     // the first write error; every later call returns it
}

// ifaceSet collects the interfaces a file holds, in the order they appear:
// one entry per namespace, ifindex and name (a rename is a second entry),
// with the latest labels known (a veth's peer may be found after its
// first row).
type ifaceSet struct {
	list []Interface
	idx  map[ifaceID]int
}

type ifaceID struct {
	key  stats.Key
	name string
}

func (s *ifaceSet) add(k Interface) {
	id := ifaceID{k.Key(), k.Name}
	if i, ok := s.idx[id]; ok {
		if k.ContainerID != "" {
			s.list[i].ContainerID = k.ContainerID
		}
		if k.PeerNetns != "" {
			s.list[i].PeerNetns = k.PeerNetns
		}
		return
	}
	if s.idx == nil {
		s.idx = make(map[ifaceID]int)
	}
	s.idx[id] = len(s.list)
	s.list = append(s.list, k)
}

func createNDJSON(path string, f Format, meta Meta) (*ndjsonWriter, error) {
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	w := &ndjsonWriter{path: path, f: file, count: &countingWriter{w: file}}
	var dst io.Writer = w.count
	switch f {
	case NDJSONZst:
		enc, err := zstd.NewWriter(w.count, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
		if err != nil {
			file.Close()
			return nil, err
		}
		w.comp, dst = enc, enc
	case NDJSONGz:
		gz := gzip.NewWriter(w.count)
		w.comp, dst = gz, gz
	}
	w.buf = bufio.NewWriterSize(dst, 64<<10)
	for _, ifc := range meta.Interfaces {
		w.seen.add(ifc)
	}
	if meta.Interfaces == nil {
		meta.Interfaces = []Interface{}
	}
	if err := w.writeJSON("meta", meta); err != nil {
		w.Abort()
		return nil, err
	}
	// The meta line is on disk at once: a file that holds anything holds it.
	if err := w.Flush(); err != nil {
		w.Abort()
		return nil, err
	}
	return w, nil
}

// writeJSON writes {"type":kind, ...v's fields}.
func (w *ndjsonWriter) writeJSON(kind string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.line = append(w.line[:0], `{"type":"`...)
	w.line = append(w.line, kind...)
	w.line = append(w.line, '"')
	if len(b) > 2 {
		w.line = append(w.line, ',')
	}
	w.line = append(w.line, b[1:]...)
	w.line = append(w.line, '\n')
	return w.write(w.line)
}

func (w *ndjsonWriter) write(b []byte) error {
	if w.err != nil {
		return w.err
	}
	if _, err := w.buf.Write(b); err != nil {
		w.err = fmt.Errorf("write %s: %w", w.path, err)
	}
	return w.err
}

func (w *ndjsonWriter) WriteRow(r Row) error {
	w.seen.add(interfaceOf(r.Interface, r.Index, r.Labels))
	if e := r.End(); e.After(w.last) {
		w.last = e
	}
	b := append(w.line[:0], `{"type":"bin","time":"`...)
	b = r.Time.UTC().AppendFormat(b, timeLayout)
	b = append(b, `","duration_ns":`...)
	b = strconv.AppendInt(b, int64(r.Duration), 10)
	b = append(b, `,"interface":`...)
	b = appendJSONString(b, r.Interface)
	b = append(b, `,"index":`...)
	b = strconv.AppendInt(b, int64(r.Index), 10)
	if r.Netns != "" {
		b = append(b, `,"netns":`...)
		b = appendJSONString(b, r.Netns)
	}
	if r.Container != "" {
		b = append(b, `,"container_id":`...)
		b = appendJSONString(b, r.Container)
	}
	b = append(b, `,"rx_bytes":`...)
	b = strconv.AppendUint(b, r.RxBytes, 10)
	b = append(b, `,"rx_packets":`...)
	b = strconv.AppendUint(b, r.RxPackets, 10)
	b = append(b, `,"tx_bytes":`...)
	b = strconv.AppendUint(b, r.TxBytes, 10)
	b = append(b, `,"tx_packets":`...)
	b = strconv.AppendUint(b, r.TxPackets, 10)
	if r.Lost {
		b = append(b, `,"lost":true`...)
	}
	b = append(b, "}\n"...)
	w.line = b
	return w.write(b)
}

// appendJSONString appends s as a JSON string. (strconv.AppendQuote is Go
// syntax: its \x escapes are not JSON.)
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			j, _ := json.Marshal(s) // a string always marshals
			return append(b, j...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func (w *ndjsonWriter) WriteBurst(b Burst) error { return w.writeJSON("burst", b) }

func (w *ndjsonWriter) Flush() error {
	if w.err != nil {
		return w.err
	}
	err := w.buf.Flush()
	if err == nil && w.comp != nil {
		err = w.comp.Flush()
	}
	if err != nil {
		w.err = fmt.Errorf("write %s: %w", w.path, err)
	}
	return w.err
}

func (w *ndjsonWriter) Size() int64 { return w.count.n + int64(w.buf.Buffered()) }

// endLine is the last line of a complete NDJSON recording.
type endLine struct {
	Time       time.Time   `json:"time"`
	Interfaces []Interface `json:"interfaces"`
}

func (w *ndjsonWriter) Close() error {
	end := endLine{Time: w.last, Interfaces: w.seen.list}
	if end.Interfaces == nil {
		end.Interfaces = []Interface{}
	}
	err := w.writeJSON("end", end)
	if err == nil {
		err = w.Flush()
	}
	if err == nil && w.comp != nil {
		if cerr := w.comp.Close(); cerr != nil {
			err = fmt.Errorf("write %s: %w", w.path, cerr)
		}
	}
	if err == nil {
		if serr := w.f.Sync(); serr != nil {
			err = fmt.Errorf("write %s: %w", w.path, serr)
		}
	}
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close %s: %w", w.path, cerr)
	}
	return err
}

// Abort closes the file; what was flushed stays readable.
func (w *ndjsonWriter) Abort() { w.f.Close() }
