package attach

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"syscall"

	"github.com/cilium/ebpf"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// clsactUse counts this process's legacy tc links on one device, so the
// clsact qdisc we created goes away with the last of them (an ingress and
// an egress link share one qdisc).
type clsactUse struct {
	users   int
	created bool         // a netwatch added the qdisc; nobody else had one before
	rec     *qdiscRecord // the durable record, shared-locked; nil without a state directory
}

// deviceKey names a device across network namespaces: ifindexes repeat in
// different namespaces.
type deviceKey struct {
	netns   uint64 // inode of the namespace
	ifindex int
}

var clsacts = struct {
	sync.Mutex
	m map[deviceKey]*clsactUse
}{m: map[deviceKey]*clsactUse{}}

type tcLink struct {
	mu     sync.Mutex
	closed bool
	nl     *netlink.Handle // bound to the namespace of the attach
	key    deviceKey
	dir    Direction
	handle uint32
	progID ebpf.ProgramID
}

func (l *tcLink) Mode() Mode { return TC }

func parentOf(dir Direction) uint32 {
	if dir == Egress {
		return netlink.HANDLE_MIN_EGRESS
	}
	return netlink.HANDLE_MIN_INGRESS
}

func clsactQdisc(ifindex int) *netlink.Clsact {
	return &netlink.Clsact{QdiscAttrs: netlink.QdiscAttrs{
		LinkIndex: ifindex,
		Handle:    netlink.MakeHandle(0xffff, 0),
		Parent:    netlink.HANDLE_CLSACT,
	}}
}

func device(ifindex int) netlink.Link {
	return &netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: ifindex}}
}

// attachTC adds a clsact qdisc if the device has none and our cls_bpf
// filter (FilterPriority, the first free filterHandle, named after the
// program).
func attachTC(ifindex int, dir Direction, prog *ebpf.Program) (_ Link, err error) {
	info, err := prog.Info()
	if err != nil {
		return nil, fmt.Errorf("attach: tc: program info: %w", err)
	}
	id, ok := info.ID()
	if !ok {
		return nil, errors.New("attach: tc: kernel does not report program ids")
	}

	// The namespace, the netlink sockets and the requests must all be
	// those of one thread.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ino, err := currentNetns()
	if err != nil {
		return nil, err
	}
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("attach: tc: netlink: %w", err)
	}
	defer func() {
		if err != nil {
			h.Close()
		}
	}()
	key := deviceKey{netns: ino, ifindex: ifindex}
	// For the clsact record; asked before taking the locks, which
	// serialise every attach of the process.
	name, err := linkName(h, ifindex)
	if err != nil {
		return nil, fmt.Errorf("attach: tc: ifindex %d: %w", ifindex, err)
	}

	clsacts.Lock()
	defer clsacts.Unlock()
	use := clsacts.m[key]
	if use == nil {
		use = &clsactUse{}
	}
	unlock, lerr := lockRecords()
	defer unlock()
	if lerr != nil {
		recordsUnavailable(lerr)
	} else if use.rec == nil {
		if use.rec, lerr = openRecord(key); lerr != nil {
			recordsUnavailable(lerr)
		}
	}
	defer func() {
		if err != nil && use.users == 0 {
			if derr := use.dropRecord(); derr != nil {
				slog.Warn("attach: tc: release clsact record", "ifindex", ifindex, "err", derr)
			}
		}
	}()
	// Even with our links on the device the qdisc may have been deleted
	// behind our back; then the one we add now is ours.
	created, err := ensureClsact(h, ifindex, name, use.users > 0, use.rec)
	if err != nil {
		return nil, err
	}
	use.created = use.created || created
	filter := &netlink.BpfFilter{
		FilterAttrs: netlink.FilterAttrs{
			LinkIndex: ifindex,
			Parent:    parentOf(dir),
			Priority:  FilterPriority,
			Protocol:  unix.ETH_P_ALL,
		},
		Fd:           prog.FD(),
		Name:         info.Name,
		DirectAction: true,
	}
	// Several netwatch instances can count on one device: each takes the
	// first free handle of ours. Their filters share the priority and
	// all run, since each returns TC_ACT_UNSPEC.
	for i := range maxTCInstances {
		filter.Handle = filterHandle(i)
		if err = h.FilterAdd(filter); !errors.Is(err, unix.EEXIST) {
			break
		}
	}
	if err != nil {
		if created && use.users == 0 {
			if qerr := h.QdiscDel(clsactQdisc(ifindex)); qerr != nil {
				slog.Warn("attach: tc: remove clsact qdisc after failed attach", "ifindex", ifindex, "err", qerr)
			} else if use.rec != nil {
				if werr := use.rec.write("", ""); werr != nil {
					slog.Warn("attach: tc: clear clsact record", "ifindex", ifindex, "err", werr)
				}
			}
		}
		if errors.Is(err, unix.EEXIST) {
			err = fmt.Errorf("%w (all %d netwatch filter handles are taken: that many netwatch instances, or leftovers CleanStale could not remove)", err, maxTCInstances)
		}
		return nil, fmt.Errorf("attach: tc: add %s filter %q on ifindex %d: %w", dir, info.Name, ifindex, err)
	}
	use.users++
	clsacts.m[key] = use
	return &tcLink{nl: h, key: key, dir: dir, handle: filter.Handle, progID: id}, nil
}

// ensureClsact adds a clsact qdisc to ifindex unless it has one, and
// reports whether a netwatch added it: this call, or one whose record rec
// (nil without a state directory) holds for the interface name. known says our links already use a
// clsact there: then an existing qdisc is that one, and the qdiscs are not
// listed (netlink lists the qdiscs of every device, a cost that grows with
// their number on every attach).
func ensureClsact(h *netlink.Handle, ifindex int, name string, known bool, rec *qdiscRecord) (created bool, err error) {
	recorded := false
	if rec != nil {
		state, recName, err := rec.read()
		if err != nil {
			return false, fmt.Errorf("attach: tc: read clsact record %s: %w", rec.path, err)
		}
		recorded = state == recCreated && recName == name
		if !recorded {
			// Before the qdisc exists: a SIGKILL right after adding it
			// must not leave it unrecorded.
			if err := rec.write(recPending, name); err != nil {
				return false, fmt.Errorf("attach: tc: write clsact record %s: %w", rec.path, err)
			}
		}
	}
	err = h.QdiscAdd(clsactQdisc(ifindex))
	if err == nil {
		if rec != nil && !recorded {
			if werr := rec.write(recCreated, name); werr != nil {
				return true, fmt.Errorf("attach: tc: write clsact record %s: %w", rec.path, werr)
			}
		}
		return true, nil
	}
	if rec != nil && !recorded {
		if werr := rec.write("", ""); werr != nil {
			slog.Warn("attach: tc: clear clsact record", "ifindex", ifindex, "err", werr)
		}
	}
	if !errors.Is(err, unix.EEXIST) {
		return false, fmt.Errorf("attach: tc: add clsact qdisc on ifindex %d: %w", ifindex, err)
	}
	if recorded {
		return true, nil // a netwatch's, live or killed: it goes with the last of them
	}
	if known {
		return false, nil
	}
	ok, lerr := hasClsact(h, ifindex)
	if lerr != nil {
		return false, fmt.Errorf("attach: tc: list qdiscs of ifindex %d: %w", ifindex, lerr)
	}
	if ok {
		return false, nil
	}
	return false, fmt.Errorf("attach: tc: ifindex %d has an ingress qdisc, not clsact: %w", ifindex, err)
}

// Close removes our filter, and the clsact qdisc if we created it, this was
// our last link on the device and no filter of anyone remains on it.
func (l *tcLink) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	defer l.nl.Close()

	err := l.deleteFilter()

	clsacts.Lock()
	defer clsacts.Unlock()
	use := clsacts.m[l.key]
	if use == nil {
		return err
	}
	if use.users--; use.users > 0 {
		return err
	}
	delete(clsacts.m, l.key)
	if use.rec == nil {
		if use.created {
			_, derr := l.deleteClsactIfEmpty()
			err = errors.Join(err, derr)
		}
		return err
	}
	unlock, lerr := lockRecords()
	defer unlock()
	if lerr != nil {
		recordsUnavailable(lerr)
	}
	r := use.rec
	use.rec = nil
	alone, xerr := r.tryExclusive()
	if xerr != nil || !alone {
		// Another live netwatch uses the device: the qdisc goes
		// with the last of us.
		r.close()
		return errors.Join(err, xerr)
	}
	state, _, rerr := r.read()
	if rerr != nil || state != recCreated {
		return errors.Join(err, rerr, r.remove())
	}
	empty, derr := l.deleteClsactIfEmpty()
	if derr != nil || !empty {
		r.close() // the record stays: a later start removes the qdisc once it is empty
		return errors.Join(err, derr)
	}
	return errors.Join(err, r.remove())
}

// dropRecord ends this process's hold on the record of a device it no
// longer uses and removes the record if it records nothing and no other
// process holds it. The decision lock must be held.
func (use *clsactUse) dropRecord() error {
	r := use.rec
	if r == nil {
		return nil
	}
	use.rec = nil
	alone, err := r.tryExclusive()
	if err != nil || !alone {
		r.close()
		return err
	}
	state, _, err := r.read()
	if err != nil || state != "" {
		r.close()
		return err
	}
	return r.remove()
}

// deleteFilter deletes the filter at our priority and handle if it still
// runs our program; it may be gone with the device or qdisc already.
func (l *tcLink) deleteFilter() error {
	filters, err := l.nl.FilterList(device(l.key.ifindex), parentOf(l.dir))
	if gone(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("attach: tc: list %s filters of ifindex %d: %w", l.dir, l.key.ifindex, err)
	}
	for _, f := range filters {
		bf, ok := f.(*netlink.BpfFilter)
		if !ok || bf.Priority != FilterPriority || bf.Handle != l.handle || ebpf.ProgramID(bf.Id) != l.progID {
			continue
		}
		if err := l.nl.FilterDel(bf); err != nil && !gone(err) {
			return fmt.Errorf("attach: tc: delete %s filter %q on ifindex %d: %w", l.dir, bf.Name, l.key.ifindex, err)
		}
		return nil
	}
	slog.Debug("attach: tc: our filter is already gone", "ifindex", l.key.ifindex, "direction", l.dir)
	return nil
}

// maxTCInstances bounds the netwatch instances with legacy tc filters on
// one device (each needs its own filter handle).
const maxTCInstances = 64

// filterHandle is the filter handle of the i-th netwatch instance on a
// device: FilterHandle for the first, then FilterHandle + i<<16, so every
// one of them reads ...6e77 in `tc filter show`.
func filterHandle(i int) uint32 { return FilterHandle + uint32(i)<<16 }

// deleteClsactIfEmpty deletes the device's clsact qdisc unless a filter of
// anyone is on it, and reports whether the device has no qdisc left.
func (l *tcLink) deleteClsactIfEmpty() (bool, error) {
	n, err := filterCount(l.nl, l.key.ifindex)
	if gone(err) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("attach: tc: ifindex %d: %w", l.key.ifindex, err)
	}
	if n > 0 {
		slog.Debug("attach: tc: leaving clsact qdisc we created: other filters on it", "ifindex", l.key.ifindex, "filters", n)
		return false, nil
	}
	if err := l.nl.QdiscDel(clsactQdisc(l.key.ifindex)); err != nil && !gone(err) {
		return false, fmt.Errorf("attach: tc: delete clsact qdisc of ifindex %d: %w", l.key.ifindex, err)
	}
	return true, nil
}

// gone reports errors meaning the device or qdisc no longer exists, so
// there is nothing left to remove.
func gone(err error) bool {
	return errors.Is(err, unix.ENODEV) || errors.Is(err, unix.ENOENT)
}

// currentNetns returns the inode of the calling thread's network namespace.
func currentNetns() (uint64, error) {
	fi, err := os.Stat("/proc/thread-self/ns/net")
	if err != nil {
		return 0, fmt.Errorf("attach: network namespace: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, errors.New("attach: network namespace: no inode")
	}
	return st.Ino, nil
}
