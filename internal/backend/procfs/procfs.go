package procfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/netwatch-dev/netwatch/internal/clock"
	"github.com/netwatch-dev/netwatch/internal/ifsel"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

// Name is the backend's name in output and on the command line.
const Name = "procfs"

// DefaultRoot is where procfs is mounted.
const DefaultRoot = "/proc"

// indexRefresh is how often an IndexOf function (or, where there are no
// link events, the system's interface list) is asked again, so that an
// interface recreated under the same name gets its new index.
const indexRefresh = time.Second

// maxFileSize bounds one read of net/dev. A line of /proc/net/dev is about
// 130 bytes, so this is room for some 30,000 interfaces; anything larger is
// not /proc/net/dev (a link to /dev/zero, a log file) and would otherwise
// grow the buffer until the process runs out of memory.
const maxFileSize = 4 << 20

// Options configure the procfs backend.
type Options struct {
	// Root is the procfs mount point; tests point it at fixtures.
	Root     string
	Selector ifsel.Selector
	// IndexOf resolves an interface name to its ifindex (0 if unknown).
	// Nil uses the interfaces of the calling thread's network namespace,
	// followed by link events on Linux (see netlink.Links): a rename, a
	// deletion or a new device is known at the next read.
	IndexOf func(name string) int
}

// Backend reads /proc/net/dev. It keeps the file open and one buffer that
// is reused across reads, since at 1 ms intervals this is a hot path.
type Backend struct {
	file   *os.File
	path   string
	buf    []byte
	parser Parser
	rows   []Row // reused across reads
	sel    ifsel.Selector
	idx    indexer
}

// indexer gives the interfaces of a read their indexes, by name.
type indexer interface {
	fill(ifs []stats.InterfaceCounters, now time.Duration) error
	close() error
}

// Open opens Root/net/dev and checks that it parses.
func Open(opts Options) (*Backend, error) {
	root := opts.Root
	if root == "" {
		root = DefaultRoot
	}
	path := filepath.Join(root, "net", "dev")
	f, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	b := &Backend{
		file: f,
		path: path,
		buf:  make([]byte, 0, 16<<10),
		sel:  opts.Selector,
	}
	if opts.IndexOf != nil {
		b.idx = &cachedIndexes{indexOf: opts.IndexOf, indexes: make(map[string]int)}
	} else if b.idx, err = systemIndexer(); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := b.Read(context.Background()); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// Source implements backend.Backend.
func (b *Backend) Source() stats.Source { return stats.Source{Backend: Name} }

// Read reads and parses the file once. The snapshot's time is the midpoint
// of the read, which is when the counters were, on average, sampled.
func (b *Backend) Read(ctx context.Context) (stats.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return stats.Snapshot{}, err
	}
	before := clock.Monotonic()
	if err := b.readFile(); err != nil {
		return stats.Snapshot{}, err
	}
	now := clock.Now()
	rows, err := b.parser.Parse(b.buf, b.sel.Match, b.rows[:0])
	b.rows = rows
	if err != nil {
		return stats.Snapshot{}, fmt.Errorf("procfs: parse %s: %w", b.path, err)
	}
	ifs := interfaceCounters(rows)
	if err := b.idx.fill(ifs, now.Mono); err != nil {
		return stats.Snapshot{}, fmt.Errorf("procfs: interface indexes: %w", err)
	}
	mid := before + (now.Mono-before)/2
	return stats.Snapshot{Mono: mid, Wall: now.WallAt(mid), Interfaces: ifs}, nil
}

// openRegular opens path for reading and refuses anything but a regular
// file. The open does not block (a FIFO without a writer would block open(2)
// itself, deaf to signals), and the type is checked on the open descriptor,
// so nothing can be swapped in between the check and the reads.
func openRegular(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return nil, fmt.Errorf("procfs: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("procfs: %w", err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		what := fileType(fi.Mode())
		if target, err := filepath.EvalSymlinks(path); err == nil && target != filepath.Clean(path) {
			what += " (" + target + ")"
		}
		return nil, fmt.Errorf("procfs: %s is %s, not a regular file", path, what)
	}
	return f, nil
}

// fileType names the type of a file that is not a regular file.
func fileType(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return fmt.Sprintf("a file of mode %v", m)
}

// readFile re-reads the whole file into b.buf, growing it when needed, up to
// maxFileSize. The size in stat is no guide: /proc/net/dev says 0.
func (b *Backend) readFile() error {
	if _, err := b.file.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("procfs: seek %s: %w", b.path, err)
	}
	b.buf = b.buf[:0]
	for {
		if len(b.buf) > maxFileSize {
			return fmt.Errorf("procfs: read %s: larger than %d MiB, not a /proc/net/dev", b.path, maxFileSize>>20)
		}
		if len(b.buf) == cap(b.buf) {
			b.buf = append(b.buf, 0)[:len(b.buf)]
		}
		n, err := b.file.Read(b.buf[len(b.buf):min(cap(b.buf), maxFileSize+1)])
		b.buf = b.buf[:len(b.buf)+n]
		if errors.Is(err, io.EOF) || (err == nil && n == 0) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("procfs: read %s: %w", b.path, err)
		}
	}
}

// interfaceCounters converts rows to the snapshot's counters in two
// allocations, whatever the number of rows: the snapshot owns them, so they
// cannot be reused.
func interfaceCounters(rows []Row) []stats.InterfaceCounters {
	ifs := make([]stats.InterfaceCounters, len(rows))
	errs := make([]stats.ErrorCounters, len(rows))
	for i := range rows {
		errs[i] = rows[i].ErrorCounters()
		ifs[i] = stats.InterfaceCounters{Name: rows[i].Name, Counters: rows[i].Counters(), Errors: &errs[i]}
	}
	return ifs
}

// cachedIndexes asks indexOf for the index of each name it has not seen
// since the last refresh; every indexRefresh it forgets them all (and, with
// list, lists every interface in one go).
type cachedIndexes struct {
	indexOf func(string) int
	list    func() map[string]int // nil: ask indexOf name by name
	indexes map[string]int
	at      time.Duration
}

func (c *cachedIndexes) fill(ifs []stats.InterfaceCounters, now time.Duration) error {
	if now-c.at > indexRefresh {
		clear(c.indexes)
		c.at = now
		if c.list != nil {
			// One listing for every interface, not one per name:
			// each lookup dumps all links.
			for name, ix := range c.list() {
				c.indexes[name] = ix
			}
		}
	}
	for i := range ifs {
		idx, ok := c.indexes[ifs[i].Name]
		if !ok {
			idx = c.indexOf(ifs[i].Name) // new since the listing
			c.indexes[ifs[i].Name] = idx
		}
		ifs[i].Index = idx
	}
	return nil
}

func (c *cachedIndexes) close() error { return nil }

// LinksChanged receives a value when an interface appeared or was renamed
// (see netlink.Links.Changed), where link events are followed; nil (never)
// otherwise.
func (b *Backend) LinksChanged() <-chan struct{} {
	if n, ok := b.idx.(interface{ changed() <-chan struct{} }); ok {
		return n.changed()
	}
	return nil
}

// Close closes the file and stops following link events.
func (b *Backend) Close() error {
	return errors.Join(b.file.Close(), b.idx.close())
}
