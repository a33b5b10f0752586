package ebpf

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// Directions: the dir index of the counters map.
const (
	dirRx = 0
	dirTx = 1
)

// noSlot marks an interface without a ring of bins (NW_NO_SLOT).
const noSlot = ^uint32(0)

// counterSlots is the number of slots of the counters map: slot 0, which
// the table never hands out, and MaxInterfaces usable ones. A program that
// reads an ifslots entry while userspace rewrites it can see the new
// ifindex with the old slot 0 of a cleared entry (or the reverse); with slot
// 0 unused such a packet lands in a slot nobody reads instead of in another
// interface's counters.
const counterSlots = MaxInterfaces + 1

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
	bins binLayout // zero width: bins off (the bins map has one entry)
	cpus int       // possible CPUs

	counterMem []byte // mmap of counters
	binMem     []byte // mmap of bins, nil when bins are off

	ifmap [ifmapSize]uint32 // mirror of ifslots: the ifindex in each entry
}

// loadObjects loads the maps and every program, the XDP one included.
func loadObjects(width time.Duration, interfaces int) (*objects, error) {
	return loadObjectsFor(width, interfaces, true)
}

// loadObjectsFor loads the maps and the tc programs, and the XDP program
// when withXDP. width 0 turns bins off; otherwise the rings are sized for
// width and the number of selected interfaces.
func loadObjectsFor(width time.Duration, interfaces int, withXDP bool) (*objects, error) {
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		return nil, fmt.Errorf("ebpf: possible CPUs: %w", err)
	}
	spec, err := loadNetwatch()
	if err != nil {
		return nil, fmt.Errorf("ebpf: %w", err)
	}
	o := &objects{cpus: cpus}
	spec.Maps[netwatchMapCounters].MaxEntries = uint32(counterSlots * 2 * cpus)
	spec.Maps[netwatchMapIfoverflow].MaxEntries = MaxInterfaces
	vars := map[string]any{netwatchVarNrCpus: uint32(cpus)}
	if width > 0 {
		if o.bins, err = planBins(width, interfaces, cpus); err != nil {
			return nil, fmt.Errorf("ebpf: %w", err)
		}
		spec.Maps[netwatchMapBins].MaxEntries = o.bins.entries()
		vars[netwatchVarBinWidthNs] = uint64(width)
		vars[netwatchVarRingShift] = o.bins.shift
		vars[netwatchVarRingMask] = o.bins.ring - 1
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
	slog.Debug("ebpf: maps", "cpus", cpus, "interfaces_max", MaxInterfaces, "counters_bytes", len64(o.Counters),
		"resolution", width, "ring_bins", o.bins.ring, "rings_per_cpu", o.bins.slots, "bins_bytes", uint64(o.bins.cpus)*o.bins.bytesPerCPU())
	if o.counterMem, err = mmapMap(o.Counters); err != nil {
		o.Close()
		return nil, fmt.Errorf("ebpf: map counters: %w", err)
	}
	if width > 0 {
		if o.binMem, err = mmapMap(o.Bins); err != nil {
			o.Close()
			return nil, fmt.Errorf("ebpf: map bins: %w", err)
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
	for _, mem := range []*[]byte{&o.counterMem, &o.binMem} {
		if *mem != nil {
			errs = append(errs, unix.Munmap(*mem))
			*mem = nil
		}
	}
	errs = append(errs, o.progObjects.Close())
	return errors.Join(errs...)
}

// value returns this process's view of the counters element of slot, dir
// and cpu. Fields the programs write must be read with atomic loads.
func (o *objects) value(slot uint32, dir uint32, cpu int) *netwatchNwValue {
	i := (int(slot)*2+int(dir))*o.cpus + cpu
	return (*netwatchNwValue)(unsafe.Pointer(&o.counterMem[i*int(unsafe.Sizeof(netwatchNwValue{}))]))
}

// binEntryAt returns the ring entry of ring, cpu and bin.
func (o *objects) binEntryAt(ring uint32, cpu int, bin uint64) *netwatchNwBin {
	i := (int(ring)*o.cpus+cpu)<<o.bins.shift | int(bin&(o.bins.ring-1))
	return (*netwatchNwBin)(unsafe.Pointer(&o.binMem[i*int(unsafe.Sizeof(netwatchNwBin{}))]))
}

// explainLoadError adds what is missing to a permission error and the
// verifier log's tail to a verifier rejection.
func explainLoadError(err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("%w (loading tc/XDP programs needs CAP_BPF and CAP_NET_ADMIN, CAP_SYS_ADMIN on kernels before 5.8)", err)
	}
	var ve *ebpf.VerifierError
	if errors.As(err, &ve) {
		return fmt.Errorf("%+v", ve)
	}
	return err
}
