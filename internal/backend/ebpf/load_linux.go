package ebpf

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/netwatch-dev/netwatch/internal/clock"
	"golang.org/x/sys/unix"
)

// Counters slots come in chunks of chunkSlots (NW_CHUNK_SLOTS): chunk 0 is
// the counters map, later ones maps in counter_chunks, added as the table
// needs them. Slot 0 is never handed out: a program that reads an ifslots
// entry while userspace rewrites it can see the new ifindex with the old
// slot 0 of a cleared entry (or the reverse); with slot 0 unused such a
// packet lands in a slot nobody reads instead of in another interface's
// counters.
const (
	chunkShift = 10 // NW_CHUNK_SHIFT
	chunkSlots = 1 << chunkShift
	maxChunks  = 64 // NW_MAX_CHUNKS
)

// tcObjects are the maps and the tc programs: what every attach mode needs.
// Loading only what a struct names keeps the XDP program (xdp.frags,
// bpf_xdp_get_buff_len: kernel 5.18) out of tc and TCX modes, so that they
// load on older kernels.
type tcObjects struct {
	netwatchMaps
	NetwatchTcEg *ebpf.Program `ebpf:"netwatch_tc_eg"`
	NetwatchTcIn *ebpf.Program `ebpf:"netwatch_tc_in"`
}

// progObjects are the maps and the programs loaded: tcObjects, plus the XDP
// program with Attach xdp (nil otherwise).
type progObjects struct {
	tcObjects
	NetwatchXdp *ebpf.Program `ebpf:"netwatch_xdp"`
}

// Close closes the programs and maps; nil ones are skipped.
func (p *progObjects) Close() error {
	return errors.Join(p.NetwatchXdp.Close(), p.NetwatchTcEg.Close(), p.NetwatchTcIn.Close(), p.netwatchMaps.Close())
}

// objects are the loaded programs and maps with the sizes they were loaded
// with, and the counters and bins maps mapped into memory.
type objects struct {
	progObjects
	bins binPlan // zero width: bins off (no ring buffer)
	cpus int     // possible CPUs

	counterMem [][]byte      // mmap of each chunk of counters: counters, then counter_chunks[1:]
	chunks     []*ebpf.Map   // counter_chunks[1:]
	chunkSpec  *ebpf.MapSpec // what a chunk is
	ring       *ringBuf      // the ring buffer in binrb[0], nil when bins are off
	retired    []retiredRing // replaced ring buffers, drained once more before they are closed

	ifmap [ifmapSize]uint32 // mirror of ifslots: the ifindex in each entry
}

// loadObjects loads the maps and every program, the XDP one included.
func loadObjects(width time.Duration, interfaces int) (*objects, error) {
	return loadObjectsFor(width, interfaces, 0, true)
}

// loadObjectsFor loads the maps and the tc programs, and the XDP program
// when withXDP. width 0 turns bins off; otherwise the ring buffer of bin
// records is sized for width and the number of selected interfaces, within
// binsMemory bytes (DefaultBinsMemory if 0).
func loadObjectsFor(width time.Duration, interfaces int, binsMemory uint64, withXDP bool) (*objects, error) {
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		return nil, fmt.Errorf("ebpf: possible CPUs: %w", err)
	}
	spec, err := loadNetwatch()
	if err != nil {
		return nil, fmt.Errorf("ebpf: %w", err)
	}
	o := &objects{cpus: cpus}
	spec.Maps[netwatchMapCounters].MaxEntries = uint32(chunkSlots * 2 * cpus)
	o.chunkSpec = spec.Maps[netwatchMapCounterChunks].InnerMap
	o.chunkSpec.MaxEntries = uint32(chunkSlots * 2 * cpus)
	// The template of binrb's ring buffers: one page, the smallest the
	// kernel accepts; the real one is made below and put in.
	spec.Maps[netwatchMapBinrb].InnerMap.MaxEntries = uint32(unix.Getpagesize())
	vars := map[string]any{netwatchVarNrCpus: uint32(cpus)}
	if width > 0 {
		if o.bins, err = planBins(width, interfaces, cpus, binsMemory, unix.Getpagesize()); err != nil {
			return nil, fmt.Errorf("ebpf: %w", err)
		}
		vars[netwatchVarBinWidthNs] = uint64(width)
	}
	for name, v := range vars {
		if err := spec.Variables[name].Set(v); err != nil {
			return nil, fmt.Errorf("ebpf: set %s: %w", name, err)
		}
	}
	var dst any = &o.progObjects.tcObjects
	if withXDP {
		dst = &o.progObjects
	}
	if err := spec.LoadAndAssign(dst, nil); err != nil {
		return nil, fmt.Errorf("ebpf: load programs: %w", explainLoadError(err))
	}
	slog.Debug("ebpf: maps", "cpus", cpus, "interfaces_max", MaxInterfaces, "counters_chunk_bytes", len64(o.Counters),
		"resolution", width, "bins_ring_buffer_bytes", o.bins.size, "bins_memory_bound", o.bins.limit)
	mem, err := mmapMap(o.Counters)
	if err != nil {
		o.Close()
		return nil, fmt.Errorf("ebpf: map counters: %w", err)
	}
	o.counterMem = [][]byte{mem}
	if width > 0 {
		if err := o.setRing(o.bins.size); err != nil {
			o.Close()
			return nil, err
		}
	}
	return o, nil
}

// len64 is the memory of an array map's values.
func len64(m *ebpf.Map) uint64 { return uint64(m.MaxEntries()) * uint64(m.ValueSize()) }

// mmapMap maps an mmapable array read-write.
func mmapMap(m *ebpf.Map) ([]byte, error) {
	size := int(m.MaxEntries()) * int((m.ValueSize()+7)&^7)
	page := unix.Getpagesize()
	size = (size + page - 1) &^ (page - 1)
	return unix.Mmap(m.FD(), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
}

// Close unmaps the memory and closes programs and maps.
func (o *objects) Close() error {
	var errs []error
	for _, mem := range o.counterMem {
		errs = append(errs, unix.Munmap(mem))
	}
	for _, m := range o.chunks {
		errs = append(errs, m.Close())
	}
	o.counterMem, o.chunks = nil, nil
	errs = append(errs, o.ring.Close(), o.progObjects.Close())
	for _, r := range o.retired {
		errs = append(errs, r.r.Close())
	}
	o.ring, o.retired = nil, nil
	return errors.Join(errs...)
}

// value returns this process's view of the counters element of slot, dir
// and cpu. Fields the programs write must be read with atomic loads.
func (o *objects) value(slot uint32, dir uint32, cpu int) *netwatchNwValue {
	i := (int(slot%chunkSlots)*2+int(dir))*o.cpus + cpu
	return (*netwatchNwValue)(unsafe.Pointer(&o.counterMem[slot/chunkSlots][i*int(unsafe.Sizeof(netwatchNwValue{}))]))
}

// slotCapacity is the number of counters slots the chunks hold.
func (o *objects) slotCapacity() uint32 { return uint32(len(o.counterMem)) * chunkSlots }

// addChunk adds a chunk of chunkSlots counters slots for the programs to
// find in counter_chunks: a zeroed map, mapped before it is published.
func (o *objects) addChunk() error {
	k := uint32(len(o.counterMem))
	if k >= maxChunks {
		return fmt.Errorf("ebpf: already watching the maximum of %d interfaces", MaxInterfaces)
	}
	m, err := ebpf.NewMap(o.chunkSpec)
	if err != nil {
		return fmt.Errorf("ebpf: create counters chunk %d: %w", k, err)
	}
	mem, err := mmapMap(m)
	if err != nil {
		m.Close()
		return fmt.Errorf("ebpf: map counters chunk %d: %w", k, err)
	}
	if err := o.CounterChunks.Update(&k, uint32(m.FD()), ebpf.UpdateAny); err != nil {
		unix.Munmap(mem)
		m.Close()
		return fmt.Errorf("ebpf: publish counters chunk %d: %w", k, err)
	}
	o.chunks = append(o.chunks, m)
	o.counterMem = append(o.counterMem, mem)
	return nil
}

// retiredRing is a ring buffer replaced at CLOCK_MONOTONIC at: programs
// that looked it up before may still write to it for the rest of their run.
type retiredRing struct {
	r  *ringBuf
	at time.Duration
}

// retireGrace is how long after its replacement a ring buffer may still get
// records: longer than any program run.
const retireGrace = 10 * time.Millisecond

// replaceRing makes a new ring buffer of size bytes the programs' binrb[0]
// and keeps the old one to be drained until retireGrace has passed.
func (o *objects) replaceRing(size uint64) error {
	old := o.ring
	if err := o.setRing(size); err != nil {
		return err
	}
	o.bins.size = size
	if old != nil {
		o.retired = append(o.retired, retiredRing{r: old, at: clock.Monotonic()})
	}
	return nil
}

// setRing makes a new ring buffer of size bytes the programs' binrb[0].
func (o *objects) setRing(size uint64) error {
	r, err := newRingBuf(size)
	if err != nil {
		return err
	}
	zero := uint32(0)
	if err := o.Binrb.Update(&zero, uint32(r.m.FD()), ebpf.UpdateAny); err != nil {
		r.Close()
		return fmt.Errorf("ebpf: install bins ring buffer: %w", err)
	}
	o.ring = r
	return nil
}

// explainLoadError adds what is missing to a permission error and the
// verifier log's tail to a verifier rejection.
func explainLoadError(err error) error {
	if perr := permissionError(err); perr != nil {
		return perr // names what is missing, without the library's memlock hint
	}
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("%w (%s, CAP_SYS_ADMIN on kernels before 5.8)", err, capsNeeded)
	}
	var ve *ebpf.VerifierError
	if errors.As(err, &ve) {
		return fmt.Errorf("%+v", ve)
	}
	return err
}
