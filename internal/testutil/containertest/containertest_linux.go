//go:build linux

package containertest

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netwatch-dev/netwatch/internal/testutil/privileged"
)

// Cgroup2Root returns where the cgroup v2 hierarchy is mounted
// (/sys/fs/cgroup on a unified host, /sys/fs/cgroup/unified on a hybrid
// one), or skips t (fails it under NETWATCH_PRIVILEGED_TESTS=require).
func Cgroup2Root(t testing.TB) string {
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

// RandomID returns 64 random hex digits: a container id no runtime on the
// host will have.
func RandomID(t testing.TB) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// FakeCgroup creates the cgroup v2 directory a runtime would create for a
// container, ROOT/netwatch-test-PID-RANDOM/system.slice/NAME (NAME such as
// "docker-<id>.scope" or "libpod-conmon-<id>.scope"), and removes it and
// the parents it made in t.Cleanup, once the processes in it are gone
// (start them after FakeCgroup, so their cleanup runs first). It returns
// the directory, open, for StartSleeper (clone3's CLONE_INTO_CGROUP).
func FakeCgroup(t testing.TB, name string) *os.File {
	t.Helper()
	root := Cgroup2Root(t)
	top := filepath.Join(root, fmt.Sprintf("netwatch-test-%d-%s", os.Getpid(), RandomID(t)[:8]))
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

// StartSleeper starts `sleep 600` as a stand-in for a container's process,
// and kills and reaps it in t.Cleanup. It is born in cgroup (if not nil)
// and in a fresh network namespace when nsPath is "", else in the
// namespace at nsPath, entered by nsenter before it execs sleep (like
// `docker exec`). No thread of the test process ever enters the namespace:
// one that did could be the process's main thread, and the test process
// would then count as a process in it (with a lower PID than the sleeper).
func StartSleeper(t testing.TB, nsPath string, cgroup *os.File) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "600")
	if nsPath != "" {
		privileged.NeedTool(t, "nsenter")
		cmd = exec.Command("nsenter", "--net="+nsPath, "--", "sleep", "600")
	}
	// No Pdeathsig: it fires when the forking OS thread exits, and Go ends
	// threads whose locked goroutine exits (netnstest does that), which
	// would kill the sleeper mid-test. t.Cleanup kills it.
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	if cgroup != nil {
		cmd.SysProcAttr.UseCgroupFD = true
		cmd.SysProcAttr.CgroupFD = int(cgroup.Fd())
	}
	if nsPath == "" {
		cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWNET
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sleep: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	if nsPath != "" {
		waitInNetns(t, cmd.Process.Pid, nsPath)
	}
	return cmd
}

// waitInNetns waits until process pid is in the namespace at nsPath (nsenter
// has entered it), so callers see the process where they asked for it.
func waitInNetns(t testing.TB, pid int, nsPath string) {
	t.Helper()
	var want unix.Stat_t
	if err := unix.Stat(nsPath, &want); err != nil {
		t.Fatalf("namespace %s: %v", nsPath, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got unix.Stat_t
		if err := unix.Stat(fmt.Sprintf("/proc/%d/ns/net", pid), &got); err == nil && got.Ino == want.Ino && got.Dev == want.Dev {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d not in namespace %s after 10s", pid, nsPath)
		}
		time.Sleep(time.Millisecond)
	}
}

// Container is a fake container: one process in a network namespace of
// its own and in a runtime's cgroup.
type Container struct {
	// ID is the container id, 64 hex digits.
	ID string
	// Cmd is its process, the lowest PID in its namespace: netwatch
	// labels the namespace "pid:<PID>".
	Cmd *exec.Cmd
	// PID is Cmd's process id.
	PID int
	// NetnsPath is /proc/PID/ns/net.
	NetnsPath string
}

// Label is how netwatch names the container's namespace: "pid:<PID>".
func (c *Container) Label() string { return fmt.Sprintf("pid:%d", c.PID) }

// StartDocker starts a fake docker container (systemd cgroup driver:
// system.slice/docker-<id>.scope) with a random id, removed in t.Cleanup.
func StartDocker(t testing.TB) *Container {
	t.Helper()
	privileged.Need(t)
	id := RandomID(t)
	cmd := StartSleeper(t, "", FakeCgroup(t, "docker-"+id+".scope"))
	return &Container{ID: id, Cmd: cmd, PID: cmd.Process.Pid, NetnsPath: fmt.Sprintf("/proc/%d/ns/net", cmd.Process.Pid)}
}

// Join moves process pid into cgroup (from FakeCgroup), as a runtime's
// `exec` or a migration would: its namespace becomes a container's while
// its interfaces stay as they are. Create cgroup before starting the
// process, so that the process is killed before the cgroup is removed.
func Join(t testing.TB, cgroup *os.File, pid int) {
	t.Helper()
	procs := filepath.Join(cgroup.Name(), "cgroup.procs")
	if err := os.WriteFile(procs, []byte(strconv.Itoa(pid)), 0o644); err != nil {
		t.Fatalf("move %d into %s: %v", pid, cgroup.Name(), err)
	}
}
