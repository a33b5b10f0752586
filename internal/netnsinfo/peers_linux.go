//go:build linux

package netnsinfo

import (
	"fmt"
	"log/slog"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Peers maps the interfaces of the calling thread's network namespace whose
// other end lives in another namespace (a veth, or any link that carries
// IFLA_LINK_NETNSID: netkit, a macvlan or vxlan over a device elsewhere) to
// that namespace, when it is one of namespaces: ifindex -> Namespace.
//
// The match goes through namespace ids: the kernel names a link's peer
// namespace by the nsid this namespace gave it (IFLA_LINK_NETNSID), and
// RTM_GETNSID tells the nsid of each candidate. A candidate with no nsid
// here cannot be a peer. It costs one link dump, and one open and one
// RTM_GETNSID per candidate until every peer is found.
func Peers(namespaces []Namespace) (map[int]Namespace, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("peers: netlink: %w", err)
	}
	defer h.Close()
	return peers(h, func() ([]Namespace, error) { return namespaces, nil })
}

// FindPeers is Discover(procRoot) and Peers in one, for the calling
// thread's namespace: it lists the links first and scans /proc only when
// some link has its other end in another namespace, so a host without
// containers pays one link dump.
func FindPeers(procRoot string) (map[int]Namespace, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("peers: netlink: %w", err)
	}
	defer h.Close()
	return peers(h, func() ([]Namespace, error) { return Discover(procRoot) })
}

// PeersAt is Peers for the interfaces of the namespace at path (a
// Namespace's Path), from any goroutine. Opening a socket there needs
// CAP_SYS_ADMIN.
func PeersAt(path string, namespaces []Namespace) (map[int]Namespace, error) {
	ns, err := netns.GetFromPath(path)
	if err != nil {
		return nil, fmt.Errorf("peers: %w", err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("peers in %s: netlink: %w", path, err)
	}
	defer h.Close()
	return peers(h, func() ([]Namespace, error) { return namespaces, nil })
}

// peers matches h's links to the namespaces list returns; list is called
// only when some link has a peer elsewhere.
func peers(h *netlink.Handle, list func() ([]Namespace, error)) (map[int]Namespace, error) {
	links, err := h.LinkList()
	if err != nil {
		return nil, fmt.Errorf("peers: list links: %w", err)
	}
	// The dump itself makes the kernel give every peer namespace an nsid
	// (rtnl_fill_link_netnsid allocates one), so the ids below exist.
	want := map[int][]int{} // nsid -> ifindexes
	for _, l := range links {
		if a := l.Attrs(); a.NetNsID >= 0 {
			want[a.NetNsID] = append(want[a.NetNsID], a.Index)
		}
	}
	out := make(map[int]Namespace)
	if len(want) == 0 {
		return out, nil
	}
	namespaces, err := list()
	if err != nil {
		return nil, err
	}
	for _, n := range namespaces {
		if len(want) == 0 {
			break
		}
		nsid, err := nsidOf(h, n)
		if err != nil {
			slog.Debug("netnsinfo: namespace skipped for peers", "netns", n.Label, "err", err)
			continue
		}
		for _, idx := range want[nsid] {
			out[idx] = n
		}
		delete(want, nsid)
	}
	return out, nil
}

// nsidOf returns the nsid h's namespace gave n, -1 when none.
func nsidOf(h *netlink.Handle, n Namespace) (int, error) {
	fd, err := unix.Open(n.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	defer unix.Close(fd)
	// The file must still be the namespace Discover found: a pid:PID
	// path names another one once the PID is reused.
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return -1, err
	}
	if st.Ino != n.Inode {
		return -1, fmt.Errorf("%s is now another namespace", n.Path)
	}
	return h.GetNetNsIdByFd(fd)
}
