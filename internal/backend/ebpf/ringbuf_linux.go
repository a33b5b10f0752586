package ebpf

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// rawRecord is struct nw_rec: one completed bin of one counters element.
type rawRecord struct {
	End     uint64 // the bin's end time: (bin + 1) * width
	Bytes   uint64
	Packets uint32
	Elem    uint32 // counters index: (slot * 2 + dir) * cpus + cpu
}

// Ring buffer record header (include/uapi/linux/bpf.h).
const (
	ringBusyBit    = 1 << 31
	ringDiscardBit = 1 << 30
	ringHeaderSize = 8
)

// ringBusyWait bounds how long drain waits for a record a program has
// reserved but not yet submitted (the rest of one program run).
const ringBusyWait = 50 * time.Millisecond

// errRingBusy: a record stayed reserved longer than ringBusyWait.
var errRingBusy = errors.New("ebpf: bin record still being written after 50ms")

// ringBuf is a BPF ring buffer read through its mapped memory: positions and
// records, no system call and no epoll (the programs submit with
// BPF_RB_NO_WAKEUP; the reader decides when to read).
type ringBuf struct {
	m    *ebpf.Map
	size uint64 // data bytes, a power of two
	page int
	cons []byte // the consumer position's page (read-write)
	prod []byte // the producer position's page, then the data twice
}

// newRingBuf creates a ring buffer of size bytes and maps it.
func newRingBuf(size uint64) (*ringBuf, error) {
	m, err := ebpf.NewMap(&ebpf.MapSpec{Name: "nw_bins", Type: ebpf.RingBuf, MaxEntries: uint32(size)})
	if err != nil {
		return nil, fmt.Errorf("ebpf: create bins ring buffer of %s: %w", formatBytes(size), err)
	}
	r := &ringBuf{m: m, size: size, page: unix.Getpagesize()}
	if r.cons, err = unix.Mmap(m.FD(), 0, r.page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED); err != nil {
		m.Close()
		return nil, fmt.Errorf("ebpf: map bins ring buffer: %w", err)
	}
	if r.prod, err = unix.Mmap(m.FD(), int64(r.page), r.page+2*int(size), unix.PROT_READ, unix.MAP_SHARED); err != nil {
		unix.Munmap(r.cons)
		m.Close()
		return nil, fmt.Errorf("ebpf: map bins ring buffer: %w", err)
	}
	return r, nil
}

func (r *ringBuf) consPos() *uint64 { return (*uint64)(unsafe.Pointer(&r.cons[0])) }
func (r *ringBuf) prodPos() *uint64 { return (*uint64)(unsafe.Pointer(&r.prod[0])) }

// drain appends every record submitted before it was called to out and
// consumes them. A record reserved but not yet submitted is waited for (a
// program run finishes in microseconds), at most ringBusyWait.
func (r *ringBuf) drain(out []rawRecord) ([]rawRecord, error) {
	prod := atomic.LoadUint64(r.prodPos())
	cons := atomic.LoadUint64(r.consPos())
	mask := r.size - 1
	var deadline time.Time
	for cons < prod {
		off := r.page + int(cons&mask)
		hdr := atomic.LoadUint32((*uint32)(unsafe.Pointer(&r.prod[off])))
		if hdr&ringBusyBit != 0 {
			if deadline.IsZero() {
				deadline = time.Now().Add(ringBusyWait)
			} else if time.Now().After(deadline) {
				atomic.StoreUint64(r.consPos(), cons)
				return out, errRingBusy
			}
			runtime.Gosched()
			continue
		}
		n := hdr &^ (ringBusyBit | ringDiscardBit)
		if hdr&ringDiscardBit == 0 && n == uint32(unsafe.Sizeof(rawRecord{})) {
			out = append(out, *(*rawRecord)(unsafe.Pointer(&r.prod[off+ringHeaderSize])))
		}
		cons += uint64((n + ringHeaderSize + 7) &^ 7)
	}
	atomic.StoreUint64(r.consPos(), cons)
	return out, nil
}

// Close unmaps and closes the ring buffer.
func (r *ringBuf) Close() error {
	if r == nil {
		return nil
	}
	return errors.Join(unix.Munmap(r.prod), unix.Munmap(r.cons), r.m.Close())
}
