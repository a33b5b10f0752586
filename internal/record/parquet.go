package record

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"
)

// Key/value metadata keys of a Parquet recording.
const (
	metaKey   = "netwatch.meta"
	burstsKey = "netwatch.bursts"
)

// parquetRow is the Parquet schema of a recording. netns and container_id
// are empty strings when none is known (files written before they existed
// lack the columns; they read back as empty). Counts are signed 64-bit
// (INT64) rather than UINT64: Spark and older pandas do not read unsigned
// columns, and a bin's count never comes near 2^63.
type parquetRow struct {
	Time      int64  `parquet:"time,timestamp(nanosecond),delta"`
	Duration  int64  `parquet:"duration_ns,delta"`
	Interface string `parquet:"interface,dict"`
	Index     int32  `parquet:"index,dict"`
	Netns     string `parquet:"netns,dict"`
	Container string `parquet:"container_id,dict"`
	RxBytes   int64  `parquet:"rx_bytes"`
	RxPackets int64  `parquet:"rx_packets"`
	TxBytes   int64  `parquet:"tx_bytes"`
	TxPackets int64  `parquet:"tx_packets"`
	Lost      bool   `parquet:"lost"`
}

// rowsPerGroup bounds a row group: about a minute of 1 ms bins of four
// interfaces, a few MB in memory before it is compressed and written.
const rowsPerGroup = 256 << 10

type parquetWriter struct {
	path, tmp string
	f         *os.File
	count     *countingWriter
	buf       *bufio.Writer
	pw        *parquet.GenericWriter[parquetRow]
	meta      Meta
	seen      ifaceSet
	bursts    []Burst
	rows      []parquetRow // rows not yet handed to the Parquet writer
	err       error
}

func createParquet(path string, meta Meta) (*parquetWriter, error) {
	tmp := path + partialSuffix
	if _, err := os.Stat(path); err == nil {
		return nil, fmt.Errorf("%s: file exists", path)
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	w := &parquetWriter{path: path, tmp: tmp, f: f, count: &countingWriter{w: f}, meta: meta}
	w.buf = bufio.NewWriterSize(w.count, 256<<10)
	w.pw = parquet.NewGenericWriter[parquetRow](w.buf,
		parquet.Compression(&zstd.Codec{Level: zstd.DefaultLevel}),
		parquet.MaxRowsPerRowGroup(rowsPerGroup),
		parquet.CreatedBy("netwatch", meta.Version, ""),
	)
	for _, ifc := range meta.Interfaces {
		w.seen.add(ifc)
	}
	return w, nil
}

func (w *parquetWriter) WriteRow(r Row) error {
	if w.err != nil {
		return w.err
	}
	w.seen.add(interfaceOf(r.Interface, r.Index, r.Labels))
	w.rows = append(w.rows, parquetRow{
		Time: r.Time.UnixNano(), Duration: int64(r.Duration),
		Interface: r.Interface, Index: int32(r.Index), Netns: r.Netns, Container: r.Container,
		RxBytes: int64(r.RxBytes), RxPackets: int64(r.RxPackets),
		TxBytes: int64(r.TxBytes), TxPackets: int64(r.TxPackets),
		Lost: r.Lost,
	})
	if len(w.rows) >= 4096 {
		return w.push()
	}
	return nil
}

// push hands the buffered rows to the Parquet writer.
func (w *parquetWriter) push() error {
	if len(w.rows) == 0 || w.err != nil {
		return w.err
	}
	if _, err := w.pw.Write(w.rows); err != nil {
		w.err = fmt.Errorf("write %s: %w", w.tmp, err)
	}
	w.rows = w.rows[:0]
	return w.err
}

func (w *parquetWriter) WriteBurst(b Burst) error {
	w.bursts = append(w.bursts, b)
	return w.err
}

// Flush hands rows to the Parquet writer; the file is readable only once
// closed.
func (w *parquetWriter) Flush() error { return w.push() }

func (w *parquetWriter) Size() int64 { return w.count.n + int64(w.buf.Buffered()) }

func (w *parquetWriter) Close() error {
	if err := w.push(); err != nil {
		return err
	}
	meta := w.meta
	meta.Interfaces = w.seen.list
	if meta.Interfaces == nil {
		meta.Interfaces = []Interface{}
	}
	mj, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	bursts := w.bursts
	if bursts == nil {
		bursts = []Burst{}
	}
	bj, err := json.Marshal(bursts)
	if err != nil {
		return err
	}
	w.pw.SetKeyValueMetadata(metaKey, string(mj))
	w.pw.SetKeyValueMetadata(burstsKey, string(bj))
	if err := w.pw.Close(); err != nil {
		return fmt.Errorf("write %s: %w", w.tmp, err)
	}
	if err := w.buf.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", w.tmp, err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", w.tmp, err)
	}
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", w.tmp, err)
	}
	if err := os.Rename(w.tmp, w.path); err != nil {
		return err
	}
	return nil
}

// Abort removes the unfinished file: without its footer it holds nothing
// readable.
func (w *parquetWriter) Abort() {
	w.f.Close()
	os.Remove(w.tmp)
}

// timeOf converts a Parquet time column value.
func timeOf(ns int64) time.Time { return time.Unix(0, ns).UTC() }
