package output

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// Stream writes a stream of samples in one format.
type Stream interface {
	// Write renders s completely, hands it to the destination with one
	// Write call (whole lines only) and flushes the destination if it can
	// be flushed.
	Write(s stats.Sample) error
	// Close flushes the destination. It does not close it. Writes after
	// Close fail.
	Close() error
}

// ErrClosed is returned by Write on a closed Stream.
var ErrClosed = errors.New("output: stream closed")

// NewStream returns a Stream writing samples to w in format f. opts only
// matters for FormatTable.
func NewStream(w io.Writer, f Format, opts TableOptions) (Stream, error) {
	if w == nil {
		return nil, errors.New("output: nil writer")
	}
	st := &stream{w: w, format: f}
	switch f {
	case FormatNDJSON:
		st.r = newNDJSON(&st.buf)
	case FormatCSV:
		st.r = newCSV(&st.buf, opts.Netns)
	case FormatTable:
		st.r = newTable(&st.buf, opts)
	default:
		return nil, fmt.Errorf("output: format %q is not a sample stream (valid: table, ndjson, csv; events: NewEventStream)", string(f))
	}
	return st, nil
}

// renderer writes one sample, as whole lines, to the buffer it was created
// with.
type renderer interface {
	render(s stats.Sample) error
}

// stream is the Stream shared by every format: it owns the buffer the
// renderer fills, writes it in one call and flushes.
type stream struct {
	w      io.Writer
	format Format
	r      renderer
	buf    bytes.Buffer
	closed bool
}

func (st *stream) Write(s stats.Sample) error {
	if st.closed {
		return ErrClosed
	}
	st.buf.Reset()
	if err := st.r.render(s); err != nil {
		return fmt.Errorf("output: %s: %w", st.format, err)
	}
	if st.buf.Len() > 0 {
		if _, err := st.w.Write(st.buf.Bytes()); err != nil {
			return fmt.Errorf("output: %s: write: %w", st.format, err)
		}
	}
	return flush(st.w)
}

func (st *stream) Close() error {
	if st.closed {
		return nil
	}
	st.closed = true
	return flush(st.w)
}

// flush flushes w if it buffers (a *bufio.Writer or an http.Flusher).
func flush(w io.Writer) error {
	switch f := w.(type) {
	case interface{ Flush() error }:
		if err := f.Flush(); err != nil {
			return fmt.Errorf("output: flush: %w", err)
		}
	case interface{ Flush() }:
		f.Flush()
	}
	return nil
}
