package attach

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// The clsact qdisc a netwatch creates for legacy tc must go when the last
// netwatch using it goes, even after a SIGKILL, and a qdisc someone else
// created must never go. Process memory does not survive a SIGKILL, so
// netwatch keeps a durable record per device under StateDir/clsact:
//
//   - the file <netns inode>-<ifindex> says "pending <ifname> <cookie>"
//     while a netwatch is about to create the qdisc, "created <ifname>
//     <cookie>" once it has, and is empty (or absent) when the qdisc there,
//     if any, is not netwatch's. It is written before the qdisc is added.
//     The cookie is the namespace's SO_NETNS_COOKIE (Linux 5.14+; 0 before),
//     never reused while the system runs, unlike namespace inodes: a record
//     of a namespace gone never applies to a new one with the same inode.
//   - every netwatch process with filters on the device holds a shared
//     flock on that file for as long as they are attached. flock locks die
//     with their process, so a record that can be locked exclusively
//     belongs to no live netwatch.
//   - StateDir/clsact/.lock, held exclusively for the short time of a
//     decision (attach, last detach, cleanup), orders those decisions
//     between processes.
//
// The next start (CleanStale) removes a recorded qdisc only if the record
// says "created" for the same interface name, no live netwatch holds the
// record, the device still has a clsact qdisc and no filter of anyone is
// left on it. A "pending" record (a SIGKILL in the microseconds between
// writing the record and learning whether the qdisc was ours) is dropped
// and its qdisc left: it may be someone else's.
//
// Without write access to StateDir (capabilities but not root), netwatch
// says so once at warn level and keeps only its in-memory record: a clean
// exit still removes the qdisc it created, a SIGKILL leaves it.

// StateDir is where netwatch keeps records that must survive a crash.
// Tests may point it elsewhere.
var StateDir = "/run/netwatch"

const (
	recPending = "pending"
	recCreated = "created"
)

// qdiscRecord is one device's record, opened with a shared lock held.
type qdiscRecord struct {
	f      *os.File
	path   string
	cookie string // of the namespace the record is about
}

func recordDir() string { return filepath.Join(StateDir, "clsact") }

func recordPath(key deviceKey) string {
	return filepath.Join(recordDir(), fmt.Sprintf("%d-%d", key.netns, key.ifindex))
}

var warnNoRecords sync.Once

// recordsUnavailable reports (once per process, at info level: a run with
// capabilities instead of root meets it every time, and a clean exit still
// removes the qdisc) that the records cannot be kept.
func recordsUnavailable(err error) {
	warnNoRecords.Do(func() {
		slog.Info("attach: tc: cannot record the clsact qdiscs netwatch creates; a netwatch killed with SIGKILL will leave them (empty, harmless) for `tc qdisc del dev IF clsact`",
			"dir", recordDir(), "err", err)
	})
}

// recordsLock is this process's descriptor of the decision lock file, kept
// open across decisions; mu makes the flock on it exclusive between this
// process's goroutines too (flock locks belong to the open file, which they
// share).
var recordsLock struct {
	mu sync.Mutex
	f  *os.File
}

// lockRecords takes the decision lock. It returns a no-op unlock and a
// non-nil error when the state directory cannot be used.
func lockRecords() (unlock func(), err error) {
	l := &recordsLock
	l.mu.Lock()
	for range 3 {
		if l.f == nil {
			if err = os.MkdirAll(recordDir(), 0o755); err != nil {
				break
			}
			if l.f, err = os.OpenFile(filepath.Join(recordDir(), ".lock"), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o644); err != nil {
				break
			}
		}
		if err = flock(l.f, unix.LOCK_EX); err != nil {
			break
		}
		// The lock file must still be the one at its path (someone may
		// have cleaned /run): else other processes lock another file.
		if sameFile(l.f, filepath.Join(recordDir(), ".lock")) {
			return func() {
				flock(l.f, unix.LOCK_UN)
				l.mu.Unlock()
			}, nil
		}
		l.f.Close()
		l.f = nil
	}
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
	l.mu.Unlock()
	if err == nil {
		err = errors.New("lock file keeps being replaced")
	}
	return func() {}, err
}

// sameFile reports whether f is the file at path.
func sameFile(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}

func flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// openRecord opens (creating it empty) the record of key and takes a shared
// lock on it. The decision lock must be held, and the calling thread must
// be in the namespace of key.
func openRecord(key deviceKey) (*qdiscRecord, error) {
	path := recordPath(key)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, err
	}
	if err := flock(f, unix.LOCK_SH); err != nil {
		f.Close()
		return nil, err
	}
	return &qdiscRecord{f: f, path: path, cookie: strconv.FormatUint(netnsCookie(), 10)}, nil
}

// read returns the record's state and interface name ("", "" if empty).
// A record of another namespace that had the same inode reads as empty.
func (r *qdiscRecord) read() (state, ifname string, err error) {
	b, err := io.ReadAll(io.NewSectionReader(r.f, 0, 4096))
	if err != nil {
		return "", "", err
	}
	f := strings.Fields(string(bytes.TrimSpace(b)))
	if len(f) != 3 || f[2] != r.cookie {
		return "", "", nil
	}
	return f[0], f[1], nil
}

// write replaces the record's content: state and ifname, or nothing when
// state is "".
func (r *qdiscRecord) write(state, ifname string) error {
	if err := r.f.Truncate(0); err != nil {
		return err
	}
	if state == "" {
		return nil
	}
	_, err := r.f.WriteAt(fmt.Appendf(nil, "%s %s %s\n", state, ifname, r.cookie), 0)
	return err
}

// netnsCookie returns the SO_NETNS_COOKIE of the calling thread's network
// namespace, or 0 where the kernel has none.
func netnsCookie() uint64 {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0
	}
	defer unix.Close(fd)
	c, err := unix.GetsockoptUint64(fd, unix.SOL_SOCKET, unix.SO_NETNS_COOKIE)
	if err != nil {
		return 0
	}
	return c
}

// tryExclusive converts the lock to an exclusive one if no other process
// holds the record. On failure no lock of ours remains (flock conversion
// drops the old lock first), which is fine: the record is about to be
// closed.
func (r *qdiscRecord) tryExclusive() (bool, error) {
	err := flock(r.f, unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}

// remove deletes the record file and closes it. The exclusive lock must be
// held.
func (r *qdiscRecord) remove() error {
	err := os.Remove(r.path)
	r.f.Close()
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

func (r *qdiscRecord) close() { r.f.Close() }

// linkName returns the name of ifindex in h's namespace.
func linkName(h *netlink.Handle, ifindex int) (string, error) {
	l, err := h.LinkByIndex(ifindex)
	if err != nil {
		return "", err
	}
	return l.Attrs().Name, nil
}

// hasClsact reports whether ifindex has a clsact qdisc.
func hasClsact(h *netlink.Handle, ifindex int) (bool, error) {
	qdiscs, err := h.QdiscList(device(ifindex))
	if err != nil {
		return false, err
	}
	for _, q := range qdiscs {
		if q.Attrs().Parent == netlink.HANDLE_CLSACT && q.Type() == "clsact" {
			return true, nil
		}
	}
	return false, nil
}

// filterCount is the number of filters of anyone on ifindex's clsact
// ingress and egress.
func filterCount(h *netlink.Handle, ifindex int) (int, error) {
	n := 0
	for _, dir := range []Direction{Ingress, Egress} {
		filters, err := h.FilterList(device(ifindex), parentOf(dir))
		if err != nil {
			return 0, fmt.Errorf("list %s filters: %w", dir, err)
		}
		n += len(filters)
	}
	return n, nil
}

// cleanRecordedQdisc removes the clsact qdisc of ifindex that a netwatch
// no longer running created (see the comment at the top of this file). It
// runs in the thread's namespace ino, after the stale filters are gone, and
// reports whether it removed the qdisc.
func cleanRecordedQdisc(h *netlink.Handle, ino uint64, ifindex int) (bool, error) {
	key := deviceKey{netns: ino, ifindex: ifindex}
	if _, err := os.Stat(recordPath(key)); err != nil {
		return false, nil // no record (or no access to one): nothing to do
	}
	unlock, err := lockRecords()
	if err != nil {
		recordsUnavailable(err)
		return false, nil
	}
	defer unlock()
	f, err := os.OpenFile(recordPath(key), os.O_RDWR|unix.O_CLOEXEC, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		recordsUnavailable(err)
		return false, nil
	}
	r := &qdiscRecord{f: f, path: recordPath(key), cookie: strconv.FormatUint(netnsCookie(), 10)}
	if ok, err := r.tryExclusive(); err != nil || !ok {
		r.close() // a live netwatch holds it: it is theirs to remove
		return false, err
	}
	state, recName, err := r.read()
	if err != nil {
		r.close()
		return false, err
	}
	log := slog.With("ifindex", ifindex, "record", r.path)
	if state != recCreated {
		if state == recPending {
			log.Warn("attach: clean stale: a netwatch was killed while adding a clsact qdisc; leaving the qdisc, which may not be its own", "interface", recName)
		}
		return false, r.remove()
	}
	name, err := linkName(h, ifindex)
	if err != nil {
		r.close()
		return false, err
	}
	if name != recName {
		// Another device took the index (or the namespace inode was
		// reused): its qdisc is not the one recorded.
		log.Debug("attach: clean stale: record names another interface; dropped", "interface", name, "recorded", recName)
		return false, r.remove()
	}
	present, err := hasClsact(h, ifindex)
	if err != nil {
		r.close()
		return false, err
	}
	if !present {
		return false, r.remove()
	}
	n, err := filterCount(h, ifindex)
	if err != nil {
		r.close()
		return false, err
	}
	if n > 0 {
		// Someone else's filters (or a netwatch's still in use) sit on
		// the qdisc: it stays, and so does the record, so that a later
		// start removes it once it is empty.
		log.Debug("attach: clean stale: leaving the clsact qdisc a netwatch created: filters on it", "interface", name, "filters", n)
		r.close()
		return false, nil
	}
	if err := h.QdiscDel(clsactQdisc(ifindex)); err != nil && !gone(err) {
		r.close()
		return false, fmt.Errorf("delete clsact qdisc: %w", err)
	}
	log.Info("attach: clean stale: removed the clsact qdisc a killed netwatch created", "interface", name)
	return true, r.remove()
}
