package ebpf

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/rlimit"
	"github.com/netwatch-dev/netwatch/internal/backend/ebpf/attach"
)

// Probe reports whether the ebpf backend can run here: it loads the maps
// and the real tc programs (which needs CAP_BPF and CAP_NET_ADMIN and a
// kernel whose verifier accepts them; the XDP program, which only --attach
// xdp loads, is left out so that older kernels pass) and checks that tc
// programs can attach, with TCX or legacy tc. BTF is not needed. It
// attaches nothing.
func Probe() error {
	if err := rlimit.RemoveMemlock(); err != nil {
		return fmt.Errorf("ebpf: remove memlock limit: %w", explainLoadError(err))
	}
	o, err := loadObjectsFor(0, 0, 0, false)
	if err != nil {
		return err
	}
	o.Close()
	if _, err := tcModeFor(attach.Auto); err != nil {
		return err
	}
	return nil
}

// ProbeTCX reports whether tc programs would attach with TCX (nil) or fall
// back to legacy tc, for `netwatch list`.
func ProbeTCX() error {
	err := attach.TCXSupported()
	if err != nil && !errors.Is(err, ebpf.ErrNotSupported) {
		return fmt.Errorf("ebpf: probe TCX: %w", explainAttachError(err))
	}
	return err
}
