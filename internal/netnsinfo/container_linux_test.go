//go:build linux

package netnsinfo

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/netwatch-dev/netwatch/internal/testutil/containertest"
	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
	"github.com/netwatch-dev/netwatch/internal/testutil/privileged"
)

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
	ctrID := containertest.RandomID(t)
	ctrCgroup := containertest.FakeCgroup(t, "docker-"+ctrID+".scope")
	ctr := containertest.StartSleeper(t, "", ctrCgroup)
	ctrPath := fmt.Sprintf("/proc/%d/ns/net", ctr.Process.Pid)
	exe := containertest.StartSleeper(t, ctrPath, ctrCgroup)
	if exe.Process.Pid < ctr.Process.Pid {
		t.Skipf("PIDs wrapped (%d after %d): the label would name the second process", exe.Process.Pid, ctr.Process.Pid)
	}
	// A container in the named namespace B: B keeps its name, gets the id.
	namedID := containertest.RandomID(t)
	inB := containertest.StartSleeper(t, pathB, containertest.FakeCgroup(t, "docker-"+namedID+".scope"))
	// A namespace of no container (unshare --net) and a runtime helper
	// that is not a container (podman's conmon): neither is listed.
	plain := containertest.StartSleeper(t, "", nil)
	conmon := containertest.StartSleeper(t, "", containertest.FakeCgroup(t, "libpod-conmon-"+containertest.RandomID(t)+".scope"))

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
	blue := containertest.StartSleeper(t, "", nil)
	green := containertest.StartSleeper(t, "", nil)
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

// TestFindPeers: in a namespace whose veth leads to a named namespace,
// FindPeers maps the veth to it; in one with no link to another namespace
// it finds nothing (and scans no /proc: it has nothing to look up).
func TestFindPeers(t *testing.T) {
	p := netnstest.NewPair(t)
	var got map[int]Namespace
	err := p.A.Do(func() (err error) {
		got, err = FindPeers("")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := got[p.IndexA]; !ok || n.Label != p.B.Name || len(got) != 1 {
		t.Errorf("FindPeers in %s: %+v, want %s (index %d) -> %s only", p.A.Name, got, p.IfA, p.IndexA, p.B.Name)
	}
	alone := netnstest.NewPair(t)
	if err := alone.A.Netlink().LinkDel(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: alone.IfA}}); err != nil {
		t.Fatal(err)
	}
	err = alone.A.Do(func() (err error) {
		got, err = FindPeers("/nonexistent") // a scan of /proc would fail
		return err
	})
	if err != nil || len(got) != 0 {
		t.Errorf("FindPeers with no link to another namespace: %v, %v; want nothing and no scan", got, err)
	}
}
