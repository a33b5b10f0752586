//go:build linux

package netnsinfo

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netwatch-dev/netwatch/internal/testutil/containertest"
	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
	"github.com/netwatch-dev/netwatch/internal/testutil/privileged"
)

// countProcs counts the processes in /proc.
func countProcs(b *testing.B) int {
	b.Helper()
	d, err := os.Open("/proc")
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, name := range names {
		if _, err := strconv.Atoi(name); err == nil {
			n++
		}
	}
	return n
}

// sleepers starts n `sleep` processes in the caller's namespace: more
// processes for Discover to look at, none of them listed.
func sleepers(b *testing.B, n int) {
	b.Helper()
	for range n {
		cmd := exec.Command("sleep", "600")
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
		})
	}
}

// cpuTime is the CPU time (user and system) the process used so far: on a
// busy machine a steadier cost than the time that passed.
func cpuTime(b *testing.B) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDiscover: the cost of one Discover on this host with extra
// processes in the caller's namespace (one readlink each) and, as root,
// extra container namespaces (a readlink and a cgroup read each). It
// reports the processes in /proc and the CPU time per Discover and per
// process.
func BenchmarkDiscover(b *testing.B) {
	for _, bc := range []struct{ procs, containers int }{{0, 0}, {1000, 0}, {0, 100}} {
		b.Run(fmt.Sprintf("extra-procs=%d/containers=%d", bc.procs, bc.containers), func(b *testing.B) {
			if bc.containers > 0 {
				privileged.Need(b)
				cg := containertest.FakeCgroup(b, "docker-"+containertest.RandomID(b)+".scope")
				for range bc.containers {
					containertest.StartSleeper(b, "", cg)
				}
			}
			sleepers(b, bc.procs)
			procs := countProcs(b)
			cpu0 := cpuTime(b)
			b.ResetTimer()
			for b.Loop() {
				if _, err := Discover(""); err != nil {
					b.Fatal(err)
				}
			}
			cpu := float64(cpuTime(b)-cpu0) / float64(b.N)
			b.ReportMetric(float64(procs), "procs")
			b.ReportMetric(cpu, "cpu-ns/op")
			b.ReportMetric(cpu/float64(procs), "cpu-ns/proc")
		})
	}
}

// BenchmarkPeers: the cost of Peers in a namespace with n veths, each into
// a container namespace of its own, all n among the candidates.
func BenchmarkPeers(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("veths=%d", n), func(b *testing.B) {
			p := netnstest.NewPair(b)
			cg := containertest.FakeCgroup(b, "docker-"+containertest.RandomID(b)+".scope")
			for i := range n {
				ctr := containertest.StartSleeper(b, "", cg)
				vethTo(b, p.A.Netlink(), fmt.Sprintf("nw-ctr%d", i), ctr.Process.Pid)
			}
			list, err := Discover("")
			if err != nil {
				b.Fatal(err)
			}
			cpu0 := cpuTime(b)
			b.ResetTimer()
			err = p.A.Do(func() error {
				for b.Loop() {
					peers, err := Peers(list)
					if err != nil {
						return err
					}
					if len(peers) != n+1 {
						return fmt.Errorf("%d peers, want %d", len(peers), n+1)
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(len(list)), "candidates")
		})
	}
}
