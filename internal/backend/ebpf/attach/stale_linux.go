package attach

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// CleanStale removes the legacy tc filters a crashed netwatch left on
// ifindex: cls_bpf filters on clsact ingress or egress whose filter name
// (TCA_BPF_NAME) or program name starts with namePrefix, and whose program
// no live process holds open. The last condition keeps a second netwatch
// from detaching a running one (the check sees processes of our PID
// namespace only). It never touches other filters.
//
// Then it removes the clsact qdisc a killed netwatch created there, if its
// record says so and the qdisc is empty (see qdiscrec_linux.go); a qdisc
// someone else created always stays. TCX and XDP need no cleaning: their
// bpf_links vanish with the process.
func CleanStale(ifindex int, namePrefix string) (removed int, err error) {
	if namePrefix == "" {
		return 0, errors.New("attach: clean stale: empty name prefix would match every filter")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return 0, fmt.Errorf("attach: clean stale: netlink: %w", err)
	}
	defer h.Close()

	for _, dir := range []Direction{Ingress, Egress} {
		filters, err := h.FilterList(device(ifindex), parentOf(dir))
		if err != nil {
			return removed, fmt.Errorf("attach: clean stale: list %s filters of ifindex %d: %w", dir, ifindex, err)
		}
		for _, f := range filters {
			bf, ok := f.(*netlink.BpfFilter)
			if !ok || bf.Handle == 0 { // handle 0: the per-priority header of a dump
				continue
			}
			progName := programName(bf.Id)
			if !strings.HasPrefix(bf.Name, namePrefix) && !strings.HasPrefix(progName, namePrefix) {
				continue
			}
			log := slog.With("ifindex", ifindex, "direction", dir, "filter", bf.Name,
				"program_id", bf.Id, "program", progName, "priority", bf.Priority, "handle", bf.Handle)
			if pid, err := programHolder(ebpf.ProgramID(bf.Id)); err != nil || pid != 0 {
				log.Warn("attach: clean stale: leaving a netwatch filter that may be in use", "pid", pid, "err", err)
				continue
			}
			if err := h.FilterDel(bf); err != nil {
				return removed, fmt.Errorf("attach: clean stale: delete %s filter %q on ifindex %d: %w", dir, bf.Name, ifindex, err)
			}
			log.Info("attach: clean stale: removed leftover filter")
			removed++
		}
	}
	ino, err := currentNetns()
	if err != nil {
		return removed, err
	}
	if _, err := cleanRecordedQdisc(h, ino, ifindex); err != nil {
		return removed, fmt.Errorf("attach: clean stale: clsact qdisc of ifindex %d: %w", ifindex, err)
	}
	return removed, nil
}

// ownProgFDs orders this process's short-lived descriptors of other
// programs (programName, read lock) before the scan of its own descriptors
// (programHolder, write lock): CleanStale runs for many interfaces at once,
// and one of them must not take another's look at a leftover program for a
// live user of it.
var ownProgFDs sync.RWMutex

// programName returns the name of the program with the given id, or "".
func programName(id int) string {
	if id <= 0 {
		return ""
	}
	ownProgFDs.RLock()
	defer ownProgFDs.RUnlock()
	p, err := ebpf.NewProgramFromID(ebpf.ProgramID(id))
	if err != nil {
		return ""
	}
	defer p.Close()
	info, err := p.Info()
	if err != nil {
		return ""
	}
	return info.Name
}

// programHolder returns the pid of a process that holds a file descriptor
// of program id, or 0 if none does. It reads /proc/<pid>/fdinfo of the
// descriptors that are BPF programs.
func programHolder(id ebpf.ProgramID) (int, error) {
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("attach: list processes: %w", err)
	}
	want := strconv.FormatUint(uint64(id), 10)
	unreadable := 0
	self := os.Getpid()
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		if pid == self {
			ownProgFDs.Lock()
			held := holdsProgram(p.Name(), want)
			ownProgFDs.Unlock()
			if held {
				return pid, nil
			}
			continue
		}
		held, err := holdsProgramErr(p.Name(), want)
		if errors.Is(err, fs.ErrPermission) {
			unreadable++ // another user's process: it might hold the program
			continue
		}
		if held {
			return pid, nil
		}
	}
	if unreadable > 0 {
		// Without the right to look (netwatch running with capabilities
		// but not as root), a live netwatch of another user cannot be
		// ruled out: leave the filter rather than detach it.
		return 0, fmt.Errorf("attach: cannot tell whether program %d is in use: %d processes' descriptors are not readable (run as root to clean leftovers)", id, unreadable)
	}
	return 0, nil
}

// holdsProgram reports whether process pid (a /proc entry) has a
// descriptor of the program with id want.
func holdsProgram(pid, want string) bool {
	held, _ := holdsProgramErr(pid, want)
	return held
}

// holdsProgramErr is holdsProgram with the error of listing the process's
// descriptors (fs.ErrPermission: another user's process).
func holdsProgramErr(pid, want string) (bool, error) {
	fdDir := filepath.Join("/proc", pid, "fd")
	fds, err := os.ReadDir(fdDir)
	if err != nil {
		return false, err // no access, exited, or a kernel thread
	}
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
		if err != nil || target != "anon_inode:bpf-prog" {
			continue
		}
		if fdinfoProgID(filepath.Join("/proc", pid, "fdinfo", fd.Name())) == want {
			return true, nil
		}
	}
	return false, nil
}

// fdinfoProgID returns the prog_id field of a BPF program's fdinfo.
func fdinfoProgID(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "prog_id:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
