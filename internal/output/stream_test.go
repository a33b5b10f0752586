package output

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// writeAll streams samples in format f and returns everything written.
func writeAll(t *testing.T, f Format, opts TableOptions, samples []stats.Sample) []byte {
	t.Helper()
	var buf bytes.Buffer
	st, err := NewStream(&buf, f, opts)
	if err != nil {
		t.Fatalf("NewStream(%s): %v", f, err)
	}
	for i, s := range samples {
		if err := st.Write(s); err != nil {
			t.Fatalf("%s: Write(sample %d): %v", f, i, err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatalf("%s: Close: %v", f, err)
	}
	return buf.Bytes()
}

func TestStreamGolden(t *testing.T) {
	tests := []struct {
		golden string
		format Format
		opts   TableOptions
	}{
		{"ndjson.golden", FormatNDJSON, TableOptions{}},
		{"csv.golden", FormatCSV, TableOptions{}},
		{"table_bytes_si.golden", FormatTable, TableOptions{Units: Bytes, Location: cet}},
		{"table_bits_iec.golden", FormatTable, TableOptions{Units: Bits, IEC: true, Location: time.UTC}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			golden(t, tt.golden, writeAll(t, tt.format, tt.opts, streamFixture()))
		})
	}
}

// recorder records each Write call separately.
type recorder struct{ writes [][]byte }

func (r *recorder) Write(p []byte) (int, error) {
	r.writes = append(r.writes, bytes.Clone(p))
	return len(p), nil
}

// TestStreamWholeLines checks that every Stream.Write reaches the writer as
// at most one Write call holding whole lines, and nothing else.
func TestStreamWholeLines(t *testing.T) {
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			var rec recorder
			st, err := NewStream(&rec, f, TableOptions{Location: time.UTC})
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range streamFixture() {
				before := len(rec.writes)
				if err := st.Write(s); err != nil {
					t.Fatalf("Write(sample %d): %v", i, err)
				}
				calls := rec.writes[before:]
				if len(calls) > 1 {
					t.Fatalf("sample %d: %d Write calls, want at most 1", i, len(calls))
				}
				if len(s.Interfaces) > 0 && len(calls) != 1 {
					t.Fatalf("sample %d with %d interfaces: no Write call", i, len(s.Interfaces))
				}
				for _, p := range calls {
					if len(p) == 0 || p[len(p)-1] != '\n' {
						t.Errorf("sample %d: write %q does not end a line", i, p)
					}
				}
			}
			if f == FormatNDJSON {
				// One line per sample, even for a sample without interfaces.
				if len(rec.writes) != len(streamFixture()) {
					t.Errorf("ndjson: %d writes for %d samples", len(rec.writes), len(streamFixture()))
				}
				for i, p := range rec.writes {
					if n := bytes.Count(p, []byte("\n")); n != 1 {
						t.Errorf("ndjson write %d has %d lines, want 1", i, n)
					}
				}
			}
		})
	}
}

// TestStreamFlushes checks that a buffered destination holds each sample as
// soon as Write returns, without Close.
func TestStreamFlushes(t *testing.T) {
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			var under bytes.Buffer
			bw := bufio.NewWriterSize(&under, 1<<16)
			st, err := NewStream(bw, f, TableOptions{Location: time.UTC})
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range streamFixture() {
				if err := st.Write(s); err != nil {
					t.Fatal(err)
				}
				if bw.Buffered() != 0 {
					t.Fatalf("sample %d: %d bytes left in the bufio.Writer", i, bw.Buffered())
				}
			}
			if under.Len() == 0 {
				t.Fatal("nothing reached the underlying writer")
			}
		})
	}
}

func TestNDJSONMatchesMarshalSample(t *testing.T) {
	out := writeAll(t, FormatNDJSON, TableOptions{}, streamFixture())
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	samples := streamFixture()
	if len(lines) != len(samples) {
		t.Fatalf("%d lines for %d samples", len(lines), len(samples))
	}
	for i, s := range samples {
		b, err := MarshalSample(s)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != lines[i] {
			t.Errorf("line %d:\nstream:        %s\nMarshalSample: %s", i, lines[i], b)
		}
	}
}

func TestCSVRoundTrip(t *testing.T) {
	out := writeAll(t, FormatCSV, TableOptions{}, streamFixture())
	records, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("output is not valid CSV: %v", err)
	}
	if got, want := strings.Join(records[0], ","), strings.Join(csvHeader, ","); got != want {
		t.Errorf("header = %s, want %s", got, want)
	}
	var names []string
	for _, r := range records[1:] {
		if r[0] == "time" {
			t.Error("header repeated")
		}
		names = append(names, r[4])
	}
	var want []string
	for _, s := range streamFixture() {
		for _, in := range s.Interfaces {
			want = append(want, in.Name)
		}
	}
	if strings.Join(names, "|") != strings.Join(want, "|") {
		t.Errorf("interface column = %q, want %q", names, want)
	}
}

func TestStreamErrors(t *testing.T) {
	if _, err := NewStream(io.Discard, "xml", TableOptions{}); err == nil {
		t.Error("NewStream with format xml: no error")
	}
	if _, err := NewStream(nil, FormatCSV, TableOptions{}); err == nil {
		t.Error("NewStream with nil writer: no error")
	}

	st, err := NewStream(io.Discard, FormatNDJSON, TableOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Write(streamFixture()[0]); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close = %v, want ErrClosed", err)
	}

	boom := errors.New("boom")
	for _, f := range Formats {
		st, err := NewStream(failWriter{boom}, f, TableOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Write(streamFixture()[0]); !errors.Is(err, boom) {
			t.Errorf("%s: Write to a failing writer = %v, want it wrapped", f, err)
		}
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }
