package ebpf

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// capsNeeded is what loading and attaching netwatch's programs needs.
const capsNeeded = "netwatch's tc/XDP programs need CAP_BPF and CAP_NET_ADMIN"

// effectiveCaps returns the calling thread's effective capability set, or
// false if it cannot be read.
func effectiveCaps() (uint64, bool) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return 0, false
	}
	return uint64(data[0].Effective) | uint64(data[1].Effective)<<32, true
}

// missingCaps names which of CAP_BPF and CAP_NET_ADMIN the effective set
// of caps lacks; CAP_SYS_ADMIN stands in for both (the kernel accepts it
// for either).
func missingCaps(caps uint64) []string {
	has := func(c int) bool { return caps&(1<<uint(c)) != 0 }
	if has(unix.CAP_SYS_ADMIN) {
		return nil
	}
	var missing []string
	if !has(unix.CAP_BPF) {
		missing = append(missing, "CAP_BPF")
	}
	if !has(unix.CAP_NET_ADMIN) {
		missing = append(missing, "CAP_NET_ADMIN")
	}
	return missing
}

// capsError is a permission error while lacking capabilities netwatch
// needs: it names them, in one line.
type capsError struct {
	missing []string
	err     error
}

func (e capsError) Error() string {
	return fmt.Sprintf("missing %s (%s; %v)", strings.Join(e.missing, " and "), capsNeeded, e.err)
}

func (e capsError) Unwrap() error { return e.err }

// permissionError turns err into a capsError when it is a permission error
// and the process lacks CAP_BPF or CAP_NET_ADMIN; nil otherwise.
func permissionError(err error) error {
	if !errors.Is(err, unix.EPERM) && !errors.Is(err, unix.EACCES) {
		return nil
	}
	caps, ok := effectiveCaps()
	if !ok {
		return nil
	}
	if missing := missingCaps(caps); len(missing) > 0 {
		return capsError{missing: missing, err: unix.EPERM}
	}
	return nil
}

// memlockError explains a failure to lift RLIMIT_MEMLOCK: missing
// capabilities when that is the reason (the probe for memory-cgroup
// accounting itself needs CAP_BPF), else that raising the limit needs
// CAP_SYS_RESOURCE (kernels before 5.11 charge BPF memory to it).
func memlockError(err error) error {
	if perr := permissionError(err); perr != nil {
		return fmt.Errorf("ebpf: %w", perr)
	}
	if errors.Is(err, unix.EPERM) {
		return fmt.Errorf("ebpf: remove memlock limit: %w (kernels before 5.11 need CAP_SYS_RESOURCE or a memlock limit of unlimited, e.g. LimitMEMLOCK=infinity)", err)
	}
	return fmt.Errorf("ebpf: remove memlock limit: %w", err)
}
