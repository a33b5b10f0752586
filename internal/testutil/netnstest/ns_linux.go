//go:build linux

package netnstest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync/atomic"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// NS is a named network namespace created for one test.
type NS struct {
	// Name is the namespace's name under /var/run/netns, so
	// `ip netns exec <Name> ...` works while the test runs.
	Name string

	deleted bool
	adopted bool // not ours: close only lets go of it (see Adopt)

	handle netns.NsHandle
	nl     *netlink.Handle
}

var nsCounter atomic.Uint32

// newNS creates a fresh named namespace with IPv6 disabled by default and
// lo up. The caller must eventually call close.
func newNS(tag string) (*NS, error) {
	name := fmt.Sprintf("netwatch-test-%d-%d-%s", os.Getpid(), nsCounter.Add(1), tag)
	h, err := createNamed(name)
	if err != nil {
		return nil, fmt.Errorf("netnstest: create namespace %s: %w", name, err)
	}
	ns := &NS{Name: name, handle: h}
	ns.nl, err = netlink.NewHandleAt(h)
	if err != nil {
		ns.close()
		return nil, fmt.Errorf("netnstest: netlink handle in %s: %w", name, err)
	}
	err = ns.Do(func() error {
		for _, conf := range []string{"all", "default"} {
			if err := setSysctl("net/ipv6/conf/"+conf+"/disable_ipv6", "1"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		ns.close()
		return nil, err
	}
	lo, err := ns.nl.LinkByName("lo")
	if err == nil {
		err = ns.nl.LinkSetUp(lo)
	}
	if err != nil {
		ns.close()
		return nil, fmt.Errorf("netnstest: lo up in %s: %w", name, err)
	}
	return ns, nil
}

// createNamed creates the namespace on a throwaway locked thread, so that
// the caller's thread never changes namespace.
func createNamed(name string) (netns.NsHandle, error) {
	type result struct {
		h   netns.NsHandle
		err error
	}
	ch := make(chan result, 1)
	go func() {
		// The thread is never unlocked: it ends with the goroutine,
		// so its changed namespace cannot leak to other goroutines.
		runtime.LockOSThread()
		h, err := netns.NewNamed(name)
		ch <- result{h, err}
	}()
	r := <-ch
	return r.h, r.err
}

// close deletes the namespace. Interfaces in it (our veth ends) go with it
// once the last reference (handle, socket, bpf link) is gone.
func (ns *NS) close() error {
	if ns.deleted {
		return nil
	}
	ns.deleted = true
	var errs []error
	if ns.nl != nil {
		ns.nl.Close()
	}
	if ns.handle.IsOpen() {
		errs = append(errs, ns.handle.Close())
	}
	if ns.adopted {
		return errors.Join(errs...)
	}
	if err := netns.DeleteNamed(ns.Name); err != nil {
		errs = append(errs, fmt.Errorf("netnstest: delete namespace %s: %w", ns.Name, err))
	}
	return errors.Join(errs...)
}

// Delete deletes the namespace before the test ends (cleanup then skips
// it): its name goes at once, the namespace itself and its interfaces once
// nothing else holds it (a process, a socket, a bpf link).
func (ns *NS) Delete() error { return ns.close() }

// Do runs fn on the calling goroutine's OS thread switched into ns, and
// switches back afterwards. Sockets, netlink handles and bpf links created
// by fn stay in ns. fn must not rely on goroutines it starts being in ns.
// If the thread cannot be switched back it stays locked, so the runtime
// discards it when the goroutine exits.
func (ns *NS) Do(fn func() error) (err error) {
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netnstest: current namespace: %w", err)
	}
	defer orig.Close()
	if err := netns.Set(ns.handle); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netnstest: enter %s: %w", ns.Name, err)
	}
	defer func() {
		if rerr := netns.Set(orig); rerr != nil {
			err = errors.Join(err, fmt.Errorf("netnstest: leave %s: %w", ns.Name, rerr))
			return // thread stays locked and dies with the goroutine
		}
		runtime.UnlockOSThread()
	}()
	return fn()
}

// Exec runs a command inside ns and returns its combined output. The child
// is forked from a thread in ns, so it starts in ns (like ip netns exec,
// without remounting /sys).
func (ns *NS) Exec(name string, args ...string) ([]byte, error) {
	var out []byte
	err := ns.Do(func() error {
		var err error
		out, err = exec.Command(name, args...).CombinedOutput()
		return err
	})
	if err != nil {
		return out, fmt.Errorf("netnstest: %s in %s: %w: %s", name, ns.Name, err, out)
	}
	return out, nil
}

// LinkStats returns the kernel's own 64-bit counters of interface ifname in
// ns (IFLA_STATS64 via netlink).
func (ns *NS) LinkStats(ifname string) (stats.Counters, error) {
	l, err := ns.nl.LinkByName(ifname)
	if err != nil {
		return stats.Counters{}, fmt.Errorf("netnstest: link %s in %s: %w", ifname, ns.Name, err)
	}
	s := l.Attrs().Statistics
	if s == nil {
		return stats.Counters{}, fmt.Errorf("netnstest: link %s in %s: no statistics", ifname, ns.Name)
	}
	return stats.Counters{
		RxBytes:   s.RxBytes,
		RxPackets: s.RxPackets,
		TxBytes:   s.TxBytes,
		TxPackets: s.TxPackets,
	}, nil
}

// Netlink returns a netlink handle bound to ns, usable from any thread.
// It is closed with the namespace.
func (ns *NS) Netlink() *netlink.Handle { return ns.nl }

// setSysctl writes a sysctl of the calling thread's network namespace. key
// uses slashes ("net/ipv6/conf/all/disable_ipv6").
func setSysctl(key, value string) error {
	if err := os.WriteFile("/proc/sys/"+key, []byte(value), 0o644); err != nil {
		return fmt.Errorf("netnstest: sysctl %s=%s: %w", key, value, err)
	}
	return nil
}
