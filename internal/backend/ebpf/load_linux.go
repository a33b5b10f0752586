package ebpf

import (
	"errors"
	"fmt"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// Directions: the dir field of struct nw_key.
const (
	dirRx = 0
	dirTx = 1
)

// noSlot marks an interface without a ring of bins (NW_NO_SLOT).
const noSlot = ^uint32(0)

// objects are the loaded programs and maps with the sizes they were loaded
// with.
type objects struct {
	netwatchObjects
	bins binLayout // zero width: bins off (the bins map has one entry)
	cpus int       // possible CPUs: the length of a per-CPU value
}

// loadObjects loads the programs and maps. width 0 turns bins off; otherwise
// the rings are sized for width and the number of selected interfaces.
func loadObjects(width time.Duration, interfaces int) (*objects, error) {
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		return nil, fmt.Errorf("ebpf: possible CPUs: %w", err)
	}
	spec, err := loadNetwatch()
	if err != nil {
		return nil, fmt.Errorf("ebpf: %w", err)
	}
	o := &objects{cpus: cpus}
	spec.Maps[netwatchMapCounters].MaxEntries = 2 * MaxInterfaces
	if width > 0 {
		if o.bins, err = planBins(width, interfaces, cpus); err != nil {
			return nil, fmt.Errorf("ebpf: %w", err)
		}
		spec.Maps[netwatchMapBins].MaxEntries = o.bins.entries()
		for name, v := range map[string]any{
			netwatchVarBinWidthNs: uint64(width),
			netwatchVarRingShift:  o.bins.shift,
			netwatchVarRingMask:   o.bins.ring - 1,
		} {
			if err := spec.Variables[name].Set(v); err != nil {
				return nil, fmt.Errorf("ebpf: set %s: %w", name, err)
			}
		}
	}
	if err := spec.LoadAndAssign(&o.netwatchObjects, nil); err != nil {
		return nil, fmt.Errorf("ebpf: load programs: %w", explainLoadError(err))
	}
	return o, nil
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
