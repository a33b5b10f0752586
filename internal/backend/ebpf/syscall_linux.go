package ebpf

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The counters map is read with raw bpf(2) calls straight into the
// generated value type: cilium/ebpf's per-CPU lookups decode every CPU's
// value through reflection, which made a poll of 16 interfaces cost ~18 µs
// instead of a few. netwatchNwValue has the kernel's per-CPU layout exactly
// (56 bytes, 8-byte aligned, no padding), so no decoding is needed.

// lookupElemAttr is union bpf_attr for BPF_MAP_LOOKUP_ELEM.
type lookupElemAttr struct {
	mapFd uint32
	_     uint32
	key   uint64
	value uint64
	flags uint64
}

// lookupBatchAttr is union bpf_attr for BPF_MAP_LOOKUP_BATCH.
type lookupBatchAttr struct {
	inBatch   uint64
	outBatch  uint64
	keys      uint64
	values    uint64
	count     uint32
	mapFd     uint32
	elemFlags uint64
	flags     uint64
}

func bpfCall(cmd uintptr, attr unsafe.Pointer, size uintptr) unix.Errno {
	_, _, errno := unix.Syscall(unix.SYS_BPF, cmd, uintptr(attr), size)
	return errno
}

func addr[T any](p *T) uint64 { return uint64(uintptr(unsafe.Pointer(p))) }

// lookupPerCPU reads the per-CPU values of key into vals (one per possible
// CPU). It returns unix.ENOENT when the key is missing.
func lookupPerCPU(fd int, key *netwatchNwKey, vals []netwatchNwValue) error {
	attr := lookupElemAttr{mapFd: uint32(fd), key: addr(key), value: addr(&vals[0])}
	errno := bpfCall(unix.BPF_MAP_LOOKUP_ELEM, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	runtime.KeepAlive(key)
	runtime.KeepAlive(vals)
	if errno != 0 {
		return errno
	}
	return nil
}

// lookupBatchPerCPU reads up to len(keys) entries of a per-CPU hash map
// after the position in cursor (first call: started false), into keys and
// vals (len(keys)*cpus). It returns the number read; unix.ENOENT means the
// map's end was reached (with n entries still valid).
func lookupBatchPerCPU(fd int, cursor *uint32, started bool, keys []netwatchNwKey, vals []netwatchNwValue) (int, error) {
	var in uint64
	if started {
		in = addr(cursor)
	}
	attr := lookupBatchAttr{
		inBatch:  in,
		outBatch: addr(cursor),
		keys:     addr(&keys[0]),
		values:   addr(&vals[0]),
		count:    uint32(len(keys)),
		mapFd:    uint32(fd),
	}
	errno := bpfCall(unix.BPF_MAP_LOOKUP_BATCH, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	runtime.KeepAlive(cursor)
	runtime.KeepAlive(keys)
	runtime.KeepAlive(vals)
	if errno != 0 {
		return int(attr.count), errno
	}
	return int(attr.count), nil
}
