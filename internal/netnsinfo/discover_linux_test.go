//go:build linux

package netnsinfo

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
)

// fakeProc builds a /proc look-alike: every process is a directory with an
// ns/net link whose text is "net:[INODE]" (readlink needs no target) and a
// cgroup file.
type fakeProc struct {
	t    *testing.T
	root string
}

func newFakeProc(t *testing.T, own uint64) *fakeProc {
	p := &fakeProc{t, t.TempDir()}
	p.proc("self", own, "0::/\n")
	return p
}

// proc adds a process; ino 0 leaves out ns/net, cgroup "" leaves out the
// cgroup file (a process that went away between the two reads).
func (p *fakeProc) proc(pid string, ino uint64, cgroup string) {
	p.t.Helper()
	dir := filepath.Join(p.root, pid)
	if err := os.MkdirAll(filepath.Join(dir, "ns"), 0o755); err != nil {
		p.t.Fatal(err)
	}
	if ino != 0 {
		if err := os.Symlink("net:["+strconv.FormatUint(ino, 10)+"]", filepath.Join(dir, "ns", "net")); err != nil {
			p.t.Fatal(err)
		}
	}
	if cgroup != "" {
		if err := os.WriteFile(filepath.Join(dir, "cgroup"), []byte(cgroup), 0o644); err != nil {
			p.t.Fatal(err)
		}
	}
}

func TestDiscoverFromProc(t *testing.T) {
	const own = 4026531840
	p := newFakeProc(t, own)
	p.proc("1", own, "0::/init.scope\n")
	p.proc("2", own, "0::/\n") // kthreadd: the initial namespace, like every kernel thread
	p.proc("3", own, "0::/\n")
	// A docker container with two processes: listed once, under its lowest PID.
	p.proc("1051", 4026532300, "0::/system.slice/docker-"+idB+".scope\n")
	p.proc("950", 4026532300, "0::/system.slice/docker-"+idB+".scope\n")
	// A kubernetes pod (cgroup v1 host): pause container first.
	p.proc("700", 4026532400, v1("/kubepods/burstable/"+podCgroupfs+"/"+idA))
	// An unnamed namespace of no container (unshare --net, a sandboxed
	// service): not listed.
	p.proc("800", 4026532500, "0::/user.slice/user-1000.slice/session-3.scope\n")
	// cri-o's conmon in a namespace of its own: not a container.
	p.proc("810", 4026532600, "0::/kubepods.slice/kubepods-"+podSystemd+".slice/crio-conmon-"+idA+".scope\n")
	// The lowest PID went away between the scan and the cgroup read: the
	// next one labels the namespace.
	p.proc("900", 4026532700, "")
	p.proc("901", 4026532700, "0::/machine.slice/libpod-"+idA+".scope/container\n")
	// A named namespace's lowest process is an `ip netns exec` shell, the
	// next a container: the namespace is the container's, labelled by the
	// lowest PID.
	p.proc("1300", 4026532800, "0::/user.slice/user-0.slice/session-1.scope\n")
	p.proc("1301", 4026532800, "0::/system.slice/crio-"+idB+".scope\n")
	// A container behind more non-container processes than Discover
	// reads cgroups of: not found.
	for pid := 1400; pid < 1400+cgroupTries; pid++ {
		p.proc(strconv.Itoa(pid), 4026532900, "0::/system.slice/sshd.service\n")
	}
	p.proc("1499", 4026532900, "0::/docker/"+idB+"\n")
	// Neither a process nor readable: skipped.
	p.proc("1200", 0, "0::/docker/"+idA+"\n")
	p.proc("net", 4026532999, "0::/docker/"+idA+"\n")
	if err := os.WriteFile(filepath.Join(p.root, "uptime"), []byte("1 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	// A named-namespace directory holding a file that is not a namespace
	// (what `ip netns add` leaves when the mount is gone), and a directory.
	named := t.TempDir()
	if err := os.WriteFile(filepath.Join(named, "dangling"), nil, 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(named, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}

	got, err := discover(p.root, []string{named, filepath.Join(t.TempDir(), "missing")})
	if err != nil {
		t.Fatal(err)
	}
	want := []Namespace{
		{Label: "pid:700", Path: p.root + "/700/ns/net", Inode: 4026532400, PID: 700, ContainerID: idA, Runtime: RuntimeKubepods},
		{Label: "pid:901", Path: p.root + "/901/ns/net", Inode: 4026532700, PID: 901, ContainerID: idA, Runtime: RuntimePodman},
		{Label: "pid:950", Path: p.root + "/950/ns/net", Inode: 4026532300, PID: 950, ContainerID: idB, Runtime: RuntimeDocker},
		{Label: "pid:1300", Path: p.root + "/1300/ns/net", Inode: 4026532800, PID: 1300, ContainerID: idB, Runtime: RuntimeCRIO},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("discover:\n got %+v\nwant %+v", got, want)
	}
}

func TestDiscoverErrors(t *testing.T) {
	if _, err := discover(filepath.Join(t.TempDir(), "missing"), nil); err == nil {
		t.Error("missing proc root: no error")
	}
	p := newFakeProc(t, 1)
	if err := os.Remove(filepath.Join(p.root, "self", "ns", "net")); err != nil {
		t.Fatal(err)
	}
	if _, err := discover(p.root, nil); err == nil {
		t.Error("unreadable own namespace: no error")
	}
}

func TestParseNSLink(t *testing.T) {
	tests := []struct {
		in  string
		ino uint64
		ok  bool
	}{
		{"net:[4026531840]", 4026531840, true},
		{"net:[0]", 0, true},
		{"net:[18446744073709551615]", 18446744073709551615, true},
		{"net:[18446744073709551616]", 0, false},
		{"net:[]", 0, false},
		{"net:[12a]", 0, false},
		{"net:[12", 0, false},
		{"mnt:[4026531840]", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		ino, ok := parseNSLink([]byte(tt.in))
		if ino != tt.ino || ok != tt.ok {
			t.Errorf("parseNSLink(%q) = %d, %v; want %d, %v", tt.in, ino, ok, tt.ino, tt.ok)
		}
	}
}
