//go:build linux

package netnsinfo

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
	"github.com/netwatch-dev/netwatch/internal/testutil/privileged"
)

// cgroup2Root returns where the cgroup v2 hierarchy is mounted
// (/sys/fs/cgroup on a unified host, /sys/fs/cgroup/unified on a hybrid
// one), or skips t.
func cgroup2Root(t testing.TB) string {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS... - FSTYPE SOURCE SUPEROPTS
		pre, post, ok := strings.Cut(s.Text(), " - ")
		fields := strings.Fields(pre)
		if ok && len(fields) >= 5 && strings.HasPrefix(post, "cgroup2 ") && fields[3] == "/" {
			return fields[4]
		}
	}
	privileged.Skip(t, "needs a cgroup v2 hierarchy mounted (mount -t cgroup2 none /sys/fs/cgroup/unified)")
	return ""
}

// randomID returns 64 random hex digits, a container id no runtime on the
// host will have.
func randomID(t testing.TB) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// fakeContainerCgroup creates the cgroup v2 directory a runtime would
// create for a container, ROOT/netwatch-test-PID-N/system.slice/NAME, and
// removes it (and the parents it made) in t.Cleanup. It returns the
// directory, open (for clone3's CLONE_INTO_CGROUP).
func fakeContainerCgroup(t testing.TB, name string) *os.File {
	t.Helper()
	root := cgroup2Root(t)
	top := filepath.Join(root, fmt.Sprintf("netwatch-test-%d-%s", os.Getpid(), randomID(t)[:8]))
	dirs := []string{top, filepath.Join(top, "system.slice"), filepath.Join(top, "system.slice", name)}
	for _, d := range dirs {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rmdirCgroup(t, d) })
	}
	f, err := os.Open(dirs[len(dirs)-1])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// rmdirCgroup removes a cgroup directory once its processes are gone (the
// kernel may report it busy for a moment after the last one was reaped).
func rmdirCgroup(t testing.TB, dir string) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := unix.Rmdir(dir)
		if err == nil || errors.Is(err, unix.ENOENT) {
			return
		}
		if !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
			t.Errorf("remove cgroup %s: %v", dir, err)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startSleeper starts `sleep 600` as a stand-in for a container's process,
// kills and reaps it in t.Cleanup. It is born in cgroup (if not nil) and in
// a fresh network namespace when nsPath is "", else in the namespace at
// nsPath (forked from a thread moved there, like `docker exec`).
func startSleeper(t testing.TB, nsPath string, cgroup *os.File) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "600")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if cgroup != nil {
		cmd.SysProcAttr.UseCgroupFD = true
		cmd.SysProcAttr.CgroupFD = int(cgroup.Fd())
	}
	var err error
	stop := make(chan struct{})
	if nsPath == "" {
		cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWNET
		err = cmd.Start()
	} else {
		done := make(chan error, 1)
		go func() {
			// Never unlocked: the thread dies with the goroutine, so
			// no other goroutine runs in the namespace. The goroutine
			// lives as long as the sleeper: Pdeathsig fires when the
			// forking thread exits.
			runtime.LockOSThread()
			h, err := netns.GetFromPath(nsPath)
			if err == nil {
				err = netns.Set(h)
				h.Close()
			}
			if err == nil {
				err = cmd.Start()
			}
			done <- err
			<-stop
		}()
		err = <-done
	}
	if err != nil {
		if nsPath != "" {
			close(stop)
		}
		t.Fatalf("start sleep: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if nsPath != "" {
			close(stop)
		}
	})
	return cmd
}

// inodeOf returns the inode of a namespace file.
func inodeOf(t testing.TB, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// byInode returns the namespaces in list with inode ino.
func byInode(list []Namespace, ino uint64) []Namespace {
	var out []Namespace
	for _, n := range list {
		if n.Inode == ino {
			out = append(out, n)
		}
	}
	return out
}

// vethTo adds a veth pair: HOSTNAME in ns, its peer (eth0) in the namespace
// of process pid. It returns HOSTNAME's ifindex. The pair goes with the
// namespaces.
func vethTo(t testing.TB, nl *netlink.Handle, hostName string, pid int) int {
	t.Helper()
	err := nl.LinkAdd(&netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: hostName},
		PeerName:      "eth0",
		PeerNamespace: netlink.NsPid(pid),
	})
	if err != nil {
		t.Fatalf("add veth %s: %v", hostName, err)
	}
	l, err := nl.LinkByName(hostName)
	if err != nil {
		t.Fatal(err)
	}
	return l.Attrs().Index
}

// TestDiscoverContainers builds a host with containers but without a
// container runtime: a "container" is a process in a fresh network
// namespace and in a cgroup named the way docker names one
// (system.slice/docker-<id>.scope). A netnstest pair plays the host (A)
// and a named namespace (B) that also runs a container's process.
func TestDiscoverContainers(t *testing.T) {
	privileged.Need(t)
	p := netnstest.NewPair(t)
	pathA := filepath.Join("/var/run/netns", p.A.Name)
	pathB := filepath.Join("/var/run/netns", p.B.Name)

	// A container with its own namespace, and a second process in it
	// (docker exec): one namespace, labelled by the first.
	ctrID := randomID(t)
	ctrCgroup := fakeContainerCgroup(t, "docker-"+ctrID+".scope")
	ctr := startSleeper(t, "", ctrCgroup)
	ctrPath := fmt.Sprintf("/proc/%d/ns/net", ctr.Process.Pid)
	exe := startSleeper(t, ctrPath, ctrCgroup)
	if exe.Process.Pid < ctr.Process.Pid {
		t.Skipf("PIDs wrapped (%d after %d): the label would name the second process", exe.Process.Pid, ctr.Process.Pid)
	}
	// A container in the named namespace B: B keeps its name, gets the id.
	namedID := randomID(t)
	inB := startSleeper(t, pathB, fakeContainerCgroup(t, "docker-"+namedID+".scope"))
	// A namespace of no container (unshare --net) and a runtime helper
	// that is not a container (podman's conmon): neither is listed.
	plain := startSleeper(t, "", nil)
	conmon := startSleeper(t, "", fakeContainerCgroup(t, "libpod-conmon-"+randomID(t)+".scope"))

	// The "host" side: a veth from A into the container.
	hostIdx := vethTo(t, p.A.Netlink(), "nw-ctr-host", ctr.Process.Pid)

	list, err := Discover("")
	if err != nil {
		t.Fatal(err)
	}
	ctrIno := inodeOf(t, ctrPath)
	wantCtr := Namespace{
		Label: fmt.Sprintf("pid:%d", ctr.Process.Pid), Path: ctrPath, Inode: ctrIno, PID: ctr.Process.Pid,
		ContainerID: ctrID, Runtime: RuntimeDocker,
	}
	if got := byInode(list, ctrIno); len(got) != 1 || got[0] != wantCtr {
		t.Errorf("container namespace: got %+v, want once %+v", got, wantCtr)
	}
	inoB := inodeOf(t, pathB)
	if got := byInode(list, inoB); len(got) != 1 || got[0].Label != p.B.Name || inodeOf(t, got[0].Path) != inoB ||
		got[0].ContainerID != namedID || got[0].Runtime != RuntimeDocker || got[0].PID > inB.Process.Pid ||
		inodeOf(t, fmt.Sprintf("/proc/%d/ns/net", got[0].PID)) != inoB {
		// PID: netnstest may leave this test's main thread in B, so
		// the test process can be B's lowest PID.
		t.Errorf("named container namespace: got %+v, want once %s with container %s (docker) and PID %d or lower", got, p.B.Name, namedID, inB.Process.Pid)
	}
	inoA := inodeOf(t, pathA)
	if got := byInode(list, inoA); len(got) != 1 || got[0].Label != p.A.Name || got[0].ContainerID != "" {
		t.Errorf("named namespace: got %+v, want once %s, no container", got, p.A.Name)
	}
	for what, cmd := range map[string]*exec.Cmd{"no container": plain, "conmon": conmon} {
		if got := byInode(list, inodeOf(t, fmt.Sprintf("/proc/%d/ns/net", cmd.Process.Pid))); len(got) != 0 {
			t.Errorf("namespace of %s listed: %+v", what, got)
		}
	}
	if got := byInode(list, inodeOf(t, "/proc/thread-self/ns/net")); len(got) != 0 {
		t.Errorf("own namespace listed: %+v", got)
	}

	// Peers, run in the "host" A: the veth into the container leads to
	// the container's namespace, the pair's veth to B; nothing else.
	check := func(name string, peers map[int]Namespace, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(peers) != 2 || peers[hostIdx].Inode != ctrIno || peers[hostIdx].ContainerID != ctrID ||
			peers[p.IndexA].Inode != inoB || peers[p.IndexA].Label != p.B.Name {
			t.Errorf("%s: got %+v, want %d -> %s, %d -> %s", name, peers, hostIdx, wantCtr.Label, p.IndexA, p.B.Name)
		}
	}
	var peers map[int]Namespace
	err = p.A.Do(func() (err error) {
		peers, err = Peers(list)
		return err
	})
	check("Peers in A", peers, err)
	peers, err = PeersAt(pathA, list)
	check("PeersAt A", peers, err)
	// From the container's side, its eth0 leads to A.
	peers, err = PeersAt(ctrPath, list)
	if err != nil {
		t.Fatal(err)
	}
	if len(peers) != 1 {
		t.Errorf("PeersAt container: got %+v, want eth0 -> %s", peers, p.A.Name)
	}
	for _, n := range peers {
		if n.Inode != inoA {
			t.Errorf("PeersAt container: eth0 -> %+v, want %s", n, p.A.Name)
		}
	}
}

// TestNamedNamespaceFiles: what Discover takes from a /run/netns-like
// directory. Built in a private mount namespace on a thread of its own, so
// the host never sees the bind mounts.
func TestNamedNamespaceFiles(t *testing.T) {
	privileged.Need(t)
	blue := startSleeper(t, "", nil)
	green := startSleeper(t, "", nil)
	bluePath := fmt.Sprintf("/proc/%d/ns/net", blue.Process.Pid)
	greenPath := fmt.Sprintf("/proc/%d/ns/net", green.Process.Pid)
	dir := t.TempDir()

	type result struct {
		list []Namespace
		err  error
	}
	done := make(chan result, 1)
	go func() {
		// Never unlocked: the thread, and its mount namespace, die
		// with the goroutine.
		runtime.LockOSThread()
		list, err := func() ([]Namespace, error) {
			if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
				return nil, fmt.Errorf("unshare mount namespace: %w", err)
			}
			if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
				return nil, fmt.Errorf("make mounts private: %w", err)
			}
			for _, m := range []struct{ src, name string }{
				{bluePath, "blue"},
				{bluePath, "blue-again"}, // a second name: listed once, by the first
				{"/proc/self/ns/uts", "uts"},
				{"", "dangling"}, // what is left when the mount went
			} {
				target := filepath.Join(dir, m.name)
				if err := os.WriteFile(target, nil, 0o444); err != nil {
					return nil, err
				}
				if m.src == "" {
					continue
				}
				if err := unix.Mount(m.src, target, "", unix.MS_BIND, ""); err != nil {
					return nil, fmt.Errorf("bind %s on %s: %w", m.src, target, err)
				}
			}
			if err := os.Symlink(greenPath, filepath.Join(dir, "green")); err != nil {
				return nil, err
			}
			if err := os.Symlink("/proc/thread-self/ns/net", filepath.Join(dir, "self")); err != nil {
				return nil, err
			}
			if err := os.Mkdir(filepath.Join(dir, "subdir"), 0o755); err != nil {
				return nil, err
			}
			return discover("", []string{dir})
		}()
		done <- result{list, err}
	}()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	// Each sleeper's namespace is named, holds a process and no container.
	want := []Namespace{
		{Label: "blue", Path: filepath.Join(dir, "blue"), Inode: inodeOf(t, bluePath), PID: blue.Process.Pid},
		{Label: "green", Path: filepath.Join(dir, "green"), Inode: inodeOf(t, greenPath), PID: green.Process.Pid},
	}
	var named []Namespace // the host's containers may be listed too
	for _, n := range r.list {
		if strings.HasPrefix(n.Path, dir+"/") {
			named = append(named, n)
		}
	}
	if len(named) != len(want) || named[0] != want[0] || named[1] != want[1] {
		t.Errorf("got %+v\nwant %+v", named, want)
	}
}
