package main

import (
	"runtime"

	"github.com/netwatch-dev/netwatch/internal/backend"
	"github.com/netwatch-dev/netwatch/internal/netnsinfo"
	"github.com/netwatch-dev/netwatch/internal/stats"
)

// discoverNamespaces lists the namespaces --netns all reads besides
// netwatch's own: every named namespace (ip netns add) and every running
// container's namespace, labelled with its name or pid:PID and the
// container's id.
func discoverNamespaces() ([]backend.Netns, error) {
	found, err := netnsinfo.Discover("")
	if err != nil {
		return nil, err
	}
	out := make([]backend.Netns, 0, len(found))
	for _, ns := range found {
		n := backend.Netns{Label: ns.Label, Path: ns.Path, Container: ns.ContainerID}
		if ns.Path != backend.NetnsDir+"/"+ns.Label {
			n.PID = ns.PID // an unnamed namespace, reached through a process
		}
		out = append(out, n)
	}
	return out, nil
}

// peerLabels labels the veths of netwatch's own namespace whose peer lives
// in a named or container namespace: the peer's namespace and container.
func peerLabels() (map[int]stats.Labels, error) {
	peers, err := netnsinfo.FindPeers("")
	if err != nil {
		return nil, err
	}
	out := make(map[int]stats.Labels, len(peers))
	for index, ns := range peers {
		out[index] = stats.Labels{PeerNetns: ns.Label, Container: ns.ContainerID}
	}
	return out, nil
}

// containerLabelsOn says whether netwatch labels interfaces with
// containers: on Linux.
func containerLabelsOn() bool { return runtime.GOOS == "linux" }
