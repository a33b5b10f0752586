package backend

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Do runs fn on a new OS thread moved into n (fn runs in the calling
// thread's namespace when n is not set). Sockets, netlink handles, BPF links
// and /proc/thread-self files made by fn stay bound to n after it returns.
// The thread is never moved back: it ends with its goroutine, so no other
// goroutine ever runs in n by accident.
func (n Netns) Do(fn func() error) error {
	if !n.Set() {
		return fn()
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		h, err := n.open()
		if err != nil {
			done <- err
			return
		}
		err = netns.Set(h)
		h.Close()
		if err != nil {
			if errors.Is(err, unix.EPERM) {
				err = fmt.Errorf("%w (entering a network namespace needs CAP_SYS_ADMIN)", err)
			}
			done <- fmt.Errorf("netns %s: enter: %w", n.Label, err)
			return
		}
		done <- fn()
	}()
	return <-done
}

// open opens the namespace file and checks that it is a network namespace.
func (n Netns) open() (netns.NsHandle, error) {
	fi, err := os.Stat(n.Path)
	if err != nil {
		if n.PID != 0 && errors.Is(err, fs.ErrPermission) {
			err = fmt.Errorf("%w (another user's process: opening its namespace needs CAP_SYS_PTRACE)", err)
		}
		return netns.None(), fmt.Errorf("netns %s: %w", n.Label, err)
	}
	if fi.IsDir() {
		return netns.None(), fmt.Errorf("netns %s: %s is a directory, not a namespace", n.Label, n.Path)
	}
	h, err := netns.GetFromPath(n.Path)
	if err != nil {
		return netns.None(), fmt.Errorf("netns %s: %w", n.Label, err)
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(h), &st); err != nil || (st.Type != unix.NSFS_MAGIC && st.Type != unix.PROC_SUPER_MAGIC) {
		h.Close()
		return netns.None(), fmt.Errorf("netns %s: %s is not a namespace file", n.Label, n.Path)
	}
	return h, nil
}

// Check opens the namespace file: a missing or wrong one is an error before
// anything else runs. For pid:PID it only checks that the process exists:
// procfs reads /proc/PID/net/dev without opening the namespace file, which
// for another user's process needs CAP_SYS_PTRACE (Do says so when it
// does need it).
func (n Netns) Check() error {
	if !n.Set() {
		return nil
	}
	if n.PID != 0 {
		if _, err := os.Stat(filepath.Dir(n.Path)); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("netns %s: no such process", n.Label)
			}
			return fmt.Errorf("netns %s: %w", n.Label, err)
		}
		return nil
	}
	h, err := n.open()
	if err != nil {
		return err
	}
	return h.Close()
}

// id returns the namespace's identity, so that one namespace reached by two
// names (a name and a process's /proc/PID/ns/net) is read once.
func (n Netns) id() (nsID, error) {
	path := n.Path
	if !n.Set() {
		path = "/proc/thread-self/ns/net" // netwatch's own
	}
	var st unix.Stat_t
	err := unix.Stat(path, &st)
	if n.PID != 0 && errors.Is(err, unix.EACCES) {
		// Another user's process without CAP_SYS_PTRACE: procfs still
		// reads its /proc/PID/net/dev, whose inode is the same for every
		// process of one namespace. (Then it is not recognised as the
		// namespace of a name given too.)
		err = unix.Stat(filepath.Join(filepath.Dir(filepath.Dir(path)), "net", "dev"), &st)
	}
	if err != nil {
		return nsID{}, fmt.Errorf("netns %s: %w", n.Label, err)
	}
	return nsID{dev: uint64(st.Dev), ino: st.Ino}, nil
}
