// Package netnsinfo finds the network namespaces of a host and labels them:
// the namespaces named under /run/netns (`ip netns add`), the namespaces of
// running containers (a process whose cgroup names a container), and which
// of those the veth interfaces of a namespace lead to.
//
// A namespace is identified by its nsfs inode, as `ls -L -i
// /proc/PID/ns/net` and the "net:[INODE]" link text show; every namespace is
// listed once, however many names and processes it has. All nsfs files live
// on one internal superblock, so the inode alone identifies a namespace on
// a host.
//
// ContainerIDFromCgroup is a pure parser and builds everywhere; Discover
// and Peers read /proc and netlink and work on Linux only (elsewhere they
// return ErrNotLinux).
package netnsinfo

import "errors"

// Namespace is one network namespace found on the host.
type Namespace struct {
	// Label names the namespace for people: "blue" for /run/netns/blue,
	// "pid:1234" (the lowest PID in it) for an unnamed one.
	Label string
	// Path is the file to open and setns(2) into: /run/netns/blue or
	// /proc/1234/ns/net.
	Path string
	// Inode is the namespace's nsfs inode: its identity.
	Inode uint64
	// PID is the lowest PID found in the namespace (the one a pid:PID
	// label names), 0 when no process is in it (a named namespace
	// nobody runs in). procfs can read /proc/PID/net/dev without setns.
	PID int
	// ContainerID is the container id from the cgroup of a process in
	// the namespace; "" when none.
	ContainerID string
	// Runtime is the container runtime the cgroup names: RuntimeDocker,
	// RuntimeContainerd, RuntimeCRIO, RuntimePodman, or RuntimeKubepods
	// when only Kubernetes' layout tells; "" when unknown.
	Runtime string
}

// Runtimes ContainerIDFromCgroup reports.
const (
	RuntimeDocker     = "docker"
	RuntimeContainerd = "containerd"
	RuntimeCRIO       = "cri-o"
	RuntimePodman     = "podman"
	// RuntimeKubepods: a container of a Kubernetes pod whose cgroup
	// (the cgroupfs driver's /kubepods/.../pod<uid>/<id>) does not name
	// the engine.
	RuntimeKubepods = "kubepods"
)

// ErrNotLinux is returned by Discover and Peers off Linux.
var ErrNotLinux = errors.New("network namespaces need Linux")
