// Package containertest fakes containers for privileged tests, without a
// container runtime: a "container" is a process in a network namespace of
// its own and in a cgroup v2 directory named the way a runtime names one
// (docker's systemd driver: system.slice/docker-<64 hex>.scope). That is
// all netwatch looks at to find a container (netnsinfo.Discover reads
// /proc/PID/ns/net and /proc/PID/cgroup), so tests of container labels run
// on any Linux host with cgroup v2, as root.
//
// Everything is created under a directory of the test's own at the top of
// the cgroup v2 hierarchy (netwatch-test-PID-RANDOM) and removed, with the
// processes, in t.Cleanup. The package is Linux-only.
package containertest
