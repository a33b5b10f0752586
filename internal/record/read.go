package record

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// FileInfo is what reading one file found.
type FileInfo struct {
	Path string
	Meta Meta
	// Rows is how many rows were read (all of them, not only those in
	// the time range asked for).
	Rows int64
	// End is the end of the last row read.
	End time.Time
	// Incomplete says why the file was not read to its proper end ("" when
	// it was): a cut-off NDJSON file, or a Parquet file never closed.
	Incomplete string
}

// Recording is what Read found in a set of files.
type Recording struct {
	Files  []FileInfo
	Bursts []Burst
	// Warnings are one-line messages about incomplete files, saying where
	// their readable part ends.
	Warnings []string
}

// Range is a time range [From, To); a zero bound is open.
type Range struct{ From, To time.Time }

// Contains reports whether a row overlaps the range.
func (r Range) overlaps(start, end time.Time) bool {
	return (r.From.IsZero() || end.After(r.From)) && (r.To.IsZero() || start.Before(r.To))
}

// Expand turns the arguments into recording files: a directory stands for
// the recording files in it (a rotated recording). Unfinished Parquet files
// (NAME.parquet.partial) are included, so that Read can say what they are.
func Expand(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		ents, err := os.ReadDir(a)
		if err != nil {
			return nil, err
		}
		n := len(out)
		for _, e := range ents {
			if e.IsDir() {
				continue
			}
			if _, err := FormatOf(e.Name()); err == nil {
				out = append(out, filepath.Join(a, e.Name()))
			}
		}
		if len(out) == n {
			return nil, fmt.Errorf("%s: no recording files (.parquet, .ndjson, .ndjson.zst, .ndjson.gz) in the directory", a)
		}
	}
	return out, nil
}

// Read reads the recording files at paths (directories expanded) as one
// recording, in time order, calling fn for every row that overlaps r.
// Incomplete files are read as far as they are readable, with a warning.
// Only an error from fn, or a file that is not a recording at all, stops
// it.
func Read(paths []string, r Range, fn func(Row) error) (*Recording, error) {
	files, err := Expand(paths)
	if err != nil {
		return nil, err
	}
	readers := make([]fileReader, 0, len(files))
	defer func() {
		for _, fr := range readers {
			fr.close()
		}
	}()
	rec := &Recording{}
	var partial []string
	for _, p := range files {
		if strings.HasSuffix(p, partialSuffix) {
			partial = append(partial, p)
			continue
		}
		fr, err := openFile(p)
		if err != nil {
			return nil, err
		}
		readers = append(readers, fr)
	}
	slices.SortStableFunc(readers, func(a, b fileReader) int { return a.info().Meta.Start.Compare(b.info().Meta.Start) })
	for _, fr := range readers {
		info, bursts, err := fr.read(func(row Row) error {
			if !r.overlaps(row.Time, row.End()) {
				return nil
			}
			return fn(row)
		})
		if err != nil {
			return nil, err
		}
		for _, b := range bursts {
			if r.overlaps(b.Start, b.End) {
				rec.Bursts = append(rec.Bursts, b)
			}
		}
		rec.Files = append(rec.Files, info)
		if info.Incomplete != "" {
			end := "no row"
			if !info.End.IsZero() {
				end = "its last complete row ends at " + info.End.Format(timeLayout)
			}
			rec.Warnings = append(rec.Warnings, fmt.Sprintf("%s: incomplete (%s): read up to where it is readable, %s", info.Path, info.Incomplete, end))
		}
	}
	for _, p := range partial {
		var last time.Time
		for _, f := range rec.Files {
			if f.End.After(last) {
				last = f.End
			}
		}
		msg := fmt.Sprintf("%s: unfinished Parquet file (the recording was killed, or is still running): nothing in it is readable before it is closed", p)
		if !last.IsZero() {
			msg += "; the complete files end at " + last.Format(timeLayout)
		}
		rec.Warnings = append(rec.Warnings, msg)
	}
	slices.SortStableFunc(rec.Bursts, func(a, b Burst) int { return a.Start.Compare(b.Start) })
	return rec, nil
}

type fileReader interface {
	info() FileInfo
	read(fn func(Row) error) (FileInfo, []Burst, error)
	close()
}

func openFile(path string) (fileReader, error) {
	f, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	if f == Parquet {
		return openParquet(path)
	}
	return openNDJSON(path, f)
}

// --- Parquet ---

type parquetReader struct {
	f   *os.File
	pf  *parquet.File
	inf FileInfo
	bs  []Burst
}

func openParquet(path string) (*parquetReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	pf, err := parquet.OpenFile(f, st.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: not a readable Parquet file: %v", path, err)
	}
	r := &parquetReader{f: f, pf: pf, inf: FileInfo{Path: path}}
	mj, ok := pf.Lookup(metaKey)
	if !ok {
		f.Close()
		return nil, fmt.Errorf("%s: not a netwatch recording (no %s metadata)", path, metaKey)
	}
	if err := json.Unmarshal([]byte(mj), &r.inf.Meta); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: bad %s metadata: %v", path, metaKey, err)
	}
	if bj, ok := pf.Lookup(burstsKey); ok {
		if err := json.Unmarshal([]byte(bj), &r.bs); err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: bad %s metadata: %v", path, burstsKey, err)
		}
	}
	return r, nil
}

func (r *parquetReader) info() FileInfo { return r.inf }
func (r *parquetReader) close()         { r.f.Close() }

func (r *parquetReader) read(fn func(Row) error) (_ FileInfo, _ []Burst, err error) {
	defer func() {
		// parquet-go panics on a schema it cannot map to the row type.
		if p := recover(); p != nil {
			err = fmt.Errorf("%s: not a netwatch recording: %v", r.inf.Path, p)
		}
	}()
	pr := parquet.NewGenericReader[parquetRow](r.pf)
	defer pr.Close()
	buf := make([]parquetRow, 4096)
	for {
		n, rerr := pr.Read(buf)
		for _, pr := range buf[:n] {
			row := Row{
				Time: timeOf(pr.Time), Duration: time.Duration(pr.Duration),
				Interface: pr.Interface, Index: int(pr.Index),
				Labels: stats.Labels{Netns: pr.Netns, Container: pr.Container},
				Counters: stats.Counters{
					RxBytes: uint64(pr.RxBytes), RxPackets: uint64(pr.RxPackets),
					TxBytes: uint64(pr.TxBytes), TxPackets: uint64(pr.TxPackets),
				},
				Lost: pr.Lost,
			}
			r.inf.Rows++
			if e := row.End(); e.After(r.inf.End) {
				r.inf.End = e
			}
			if err := fn(row); err != nil {
				return r.inf, nil, err
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			r.inf.Incomplete = "unreadable row group: " + oneLine(rerr.Error())
			break
		}
	}
	return r.inf, r.bs, nil
}

// --- NDJSON ---

type ndjsonReader struct {
	f    *os.File
	dec  io.ReadCloser // decompressor, or nil
	br   *bufio.Reader
	inf  FileInfo
	line int
}

// ndjsonLine holds any line of an NDJSON recording.
type ndjsonLine struct {
	Type      string        `json:"type"`
	Time      time.Time     `json:"time"`
	Duration  time.Duration `json:"duration_ns"`
	Interface string        `json:"interface"`
	Index     int           `json:"index"`
	Netns     string        `json:"netns"`
	Container string        `json:"container_id"`
	RxBytes   uint64        `json:"rx_bytes"`
	RxPackets uint64        `json:"rx_packets"`
	TxBytes   uint64        `json:"tx_bytes"`
	TxPackets uint64        `json:"tx_packets"`
	Lost      bool          `json:"lost"`
}

func openNDJSON(path string, f Format) (*ndjsonReader, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r := &ndjsonReader{f: file, inf: FileInfo{Path: path}}
	var src io.Reader = bufio.NewReaderSize(file, 256<<10)
	switch f {
	case NDJSONZst:
		d, err := zstd.NewReader(src, zstd.WithDecoderConcurrency(1))
		if err != nil {
			file.Close()
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		r.dec, src = d.IOReadCloser(), d
	case NDJSONGz:
		gz, err := gzip.NewReader(src)
		if err != nil {
			file.Close()
			return nil, fmt.Errorf("%s: not a gzip file: %v", path, err)
		}
		r.dec, src = gz, gz
	}
	r.br = bufio.NewReaderSize(src, 256<<10)
	first, err := r.br.ReadBytes('\n')
	if err != nil && (len(first) == 0 || !errors.Is(err, io.EOF)) {
		r.close()
		return nil, fmt.Errorf("%s: not a netwatch recording (no meta line): %v", path, errOrEmpty(err))
	}
	var head struct {
		Type string `json:"type"`
		Meta
	}
	if err := json.Unmarshal(first, &head); err != nil || head.Type != "meta" {
		r.close()
		return nil, fmt.Errorf("%s: not a netwatch recording (the first line is not its meta line)", path)
	}
	r.inf.Meta = head.Meta
	r.line = 1
	return r, nil
}

func errOrEmpty(err error) error {
	if errors.Is(err, io.EOF) {
		return errors.New("empty file")
	}
	return err
}

func (r *ndjsonReader) info() FileInfo { return r.inf }

func (r *ndjsonReader) close() {
	if r.dec != nil {
		r.dec.Close()
	}
	r.f.Close()
}

func (r *ndjsonReader) read(fn func(Row) error) (FileInfo, []Burst, error) {
	var bursts []Burst
	ended := false
	for {
		b, err := r.br.ReadBytes('\n')
		if len(b) > 0 && b[len(b)-1] == '\n' {
			r.line++
			if ended {
				r.inf.Incomplete = fmt.Sprintf("line %d follows the end line", r.line)
				break
			}
			var l ndjsonLine
			if jerr := json.Unmarshal(b, &l); jerr != nil {
				r.inf.Incomplete = fmt.Sprintf("line %d is not a recording line: %v", r.line, jerr)
				break
			}
			switch l.Type {
			case "bin", "sample":
				row := Row{Time: l.Time, Duration: l.Duration, Interface: l.Interface, Index: l.Index,
					Labels:   stats.Labels{Netns: l.Netns, Container: l.Container},
					Counters: stats.Counters{RxBytes: l.RxBytes, RxPackets: l.RxPackets, TxBytes: l.TxBytes, TxPackets: l.TxPackets},
					Lost:     l.Lost}
				r.inf.Rows++
				if e := row.End(); e.After(r.inf.End) {
					r.inf.End = e
				}
				if err := fn(row); err != nil {
					return r.inf, nil, err
				}
			case "burst":
				var bu Burst
				if jerr := json.Unmarshal(b, &bu); jerr != nil {
					r.inf.Incomplete = fmt.Sprintf("line %d: bad burst: %v", r.line, jerr)
					return r.inf, bursts, nil
				}
				bursts = append(bursts, bu)
			case "end":
				ended = true
				var end endLine
				if json.Unmarshal(b, &end) == nil && len(end.Interfaces) > 0 {
					r.inf.Meta.Interfaces = end.Interfaces
				}
			}
			continue
		}
		switch {
		case len(b) > 0:
			r.inf.Incomplete = fmt.Sprintf("cut off in the middle of line %d", r.line+1)
		case err == nil || errors.Is(err, io.EOF):
			if !ended {
				r.inf.Incomplete = fmt.Sprintf("ends after line %d without its end line", r.line)
			}
		default:
			r.inf.Incomplete = fmt.Sprintf("cut off after line %d: %s", r.line, oneLine(err.Error()))
		}
		if err != nil && !errors.Is(err, io.EOF) && len(b) > 0 {
			r.inf.Incomplete += ": " + oneLine(err.Error())
		}
		break
	}
	return r.inf, bursts, nil
}

func oneLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
