//go:build linux

package netnsinfo

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"golang.org/x/sys/unix"
)

// netnsDirs are where `ip netns add` names namespaces: /run/netns, and
// /var/run/netns where /var/run is not a link to /run.
var netnsDirs = []string{"/run/netns", "/var/run/netns"}

// nsGetNSType is NS_GET_NSTYPE, _IO(0xb7, 0x3) (linux/nsfs.h, Linux 4.11).
const nsGetNSType = 0xb703

// Discover lists every named network namespace (/run/netns, skipping files
// that are not network namespaces, such as one left behind after its mount
// went) and every namespace of a running container (one of whose lowest
// PIDs runs in a container's cgroup), each once. A named namespace that is
// also a container's keeps its name and gets the container id. The
// caller's own namespace (that of the calling thread) is left out.
// procRoot "" is /proc.
//
// It reads one link per process (/proc/PID/ns/net), and for each namespace
// other than the caller's the cgroup file of its lowest PID (of up to
// cgroupTries PIDs when that one is not a container's): cheap enough to
// run on every scan of a busy host. Processes it may not inspect (another
// user's, when not root) are skipped.
func Discover(procRoot string) ([]Namespace, error) {
	return discover(procRoot, netnsDirs)
}

func discover(procRoot string, dirs []string) ([]Namespace, error) {
	if procRoot == "" {
		procRoot = "/proc"
	}
	// The calling thread's namespace: a Go program's threads share one
	// unless locked to another, and the thread group leader (/proc/self)
	// may be such a locked thread, parked for good in another namespace.
	own, err := readNSLink(procRoot + "/thread-self/ns/net")
	if errors.Is(err, fs.ErrNotExist) {
		own, err = readNSLink(procRoot + "/self/ns/net") // before Linux 3.17
	}
	if err != nil {
		return nil, fmt.Errorf("own network namespace: %w", err)
	}
	pids, err := scanProcs(procRoot, own)
	if err != nil {
		return nil, err
	}
	named, err := namedNamespaces(dirs, own)
	if err != nil {
		return nil, err
	}

	var out []Namespace
	seen := make(map[uint64]bool, len(named))
	for _, n := range named {
		seen[n.Inode] = true
		if p := pids[n.Inode]; len(p) > 0 {
			n.PID, n.ContainerID, n.Runtime = container(procRoot, n.Inode, p)
		}
		out = append(out, n)
	}
	var unnamed []Namespace
	for ino, p := range pids {
		if seen[ino] {
			continue
		}
		pid, id, runtime := container(procRoot, ino, p)
		if id == "" {
			continue // a namespace of no container and no name: not ours to list
		}
		unnamed = append(unnamed, Namespace{
			Label:       "pid:" + strconv.Itoa(pid),
			Path:        procRoot + "/" + strconv.Itoa(pid) + "/ns/net",
			Inode:       ino,
			PID:         pid,
			ContainerID: id,
			Runtime:     runtime,
		})
	}
	slices.SortFunc(unnamed, func(a, b Namespace) int { return cmp.Compare(a.PID, b.PID) })
	return append(out, unnamed...), nil
}

// scanProcs maps the network namespace inode of every process to its PIDs,
// leaving out the namespace own. One readlink per process: kernel threads
// all sit in the initial namespace, so they cost that readlink and, when
// the caller runs elsewhere, one cgroup read for the whole namespace.
func scanProcs(procRoot string, own uint64) (map[uint64][]int, error) {
	d, err := os.Open(procRoot)
	if err != nil {
		return nil, err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", procRoot, err)
	}
	pids := make(map[uint64][]int)
	denied := 0
	buf := make([]byte, 64)
	for _, name := range names {
		if name == "" || name[0] < '1' || name[0] > '9' {
			continue
		}
		pid, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		n, err := unix.Readlink(procRoot+"/"+name+"/ns/net", buf)
		if err != nil {
			if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
				denied++
			}
			continue // gone (ENOENT, ESRCH) or not ours to see
		}
		ino, ok := parseNSLink(buf[:n])
		if !ok || ino == own {
			continue
		}
		pids[ino] = append(pids[ino], pid)
	}
	if denied > 0 {
		slog.Debug("netnsinfo: processes whose namespace may not be read were skipped", "count", denied)
	}
	return pids, nil
}

// cgroupTries bounds the cgroup files read for one namespace.
const cgroupTries = 4

// container returns the lowest live PID of a namespace and the container
// named by the cgroup of the first of its lowest cgroupTries PIDs that runs
// in one. Mostly that is the first: every process of a container shares its
// cgroup. The next ones count when the lowest is not the container's (an
// `ip netns exec` shell in a named namespace that also runs a container)
// or went away since the scan, or now runs elsewhere (PIDs are reused).
func container(procRoot string, ino uint64, pids []int) (pid int, id, runtime string) {
	slices.Sort(pids)
	for i, p := range pids {
		if i == cgroupTries {
			break
		}
		b, err := os.ReadFile(procRoot + "/" + strconv.Itoa(p) + "/cgroup")
		if err != nil {
			continue
		}
		if now, err := readNSLink(procRoot + "/" + strconv.Itoa(p) + "/ns/net"); err != nil || now != ino {
			continue
		}
		if pid == 0 {
			pid = p
		}
		if id, runtime, ok := ContainerIDFromCgroup(string(b)); ok {
			return pid, id, runtime
		}
	}
	return pid, "", ""
}

// namedNamespaces lists the network namespaces named in dirs, sorted by
// name, each inode once (the first name wins), without own.
func namedNamespaces(dirs []string, own uint64) ([]Namespace, error) {
	var out []Namespace
	seen := map[uint64]bool{own: true}
	seenDir := map[string]bool{}
	for _, dir := range dirs {
		real, err := filepath.EvalSymlinks(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("named network namespaces: %w", err)
		}
		if seenDir[real] {
			continue
		}
		seenDir[real] = true
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("named network namespaces: %w", err)
		}
		for _, e := range entries {
			path := filepath.Join(dir, e.Name())
			ino, ok := netNamespaceFile(path)
			if !ok || seen[ino] {
				continue
			}
			seen[ino] = true
			out = append(out, Namespace{Label: e.Name(), Path: path, Inode: ino})
		}
	}
	return out, nil
}

// netNamespaceFile returns the inode of the network namespace mounted on
// path; ok is false for anything else (a file whose mount is gone, a
// directory, a namespace of another type).
func netNamespaceFile(path string) (ino uint64, ok bool) {
	var sfs unix.Statfs_t
	if err := unix.Statfs(path, &sfs); err != nil || sfs.Type != unix.NSFS_MAGIC {
		return 0, false
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, false
	}
	defer unix.Close(fd)
	typ, err := unix.IoctlRetInt(fd, nsGetNSType)
	if err == nil && typ != unix.CLONE_NEWNET {
		return 0, false
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0, false
	}
	return st.Ino, true
}

// readNSLink reads a /proc/PID/ns/net link: "net:[4026531840]".
func readNSLink(path string) (uint64, error) {
	buf := make([]byte, 64)
	n, err := unix.Readlink(path, buf)
	if err != nil {
		return 0, &fs.PathError{Op: "readlink", Path: path, Err: err}
	}
	ino, ok := parseNSLink(buf[:n])
	if !ok {
		return 0, fmt.Errorf("%s: %q is not a network namespace", path, buf[:n])
	}
	return ino, nil
}

func parseNSLink(b []byte) (uint64, bool) {
	const prefix = "net:["
	if len(b) < len(prefix)+2 || string(b[:len(prefix)]) != prefix || b[len(b)-1] != ']' {
		return 0, false
	}
	var ino uint64
	for _, c := range b[len(prefix) : len(b)-1] {
		d := uint64(c - '0')
		if c < '0' || c > '9' || ino > (math.MaxUint64-d)/10 {
			return 0, false
		}
		ino = ino*10 + d
	}
	return ino, true
}
