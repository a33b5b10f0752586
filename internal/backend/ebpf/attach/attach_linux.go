package attach

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/cilium/ebpf"
)

// TCAttach attaches a SEC("tc") program to ifindex at dir.
//
// Auto uses TCX and falls back to legacy tc only when the kernel does not
// support TCX (TCXSupported wraps ebpf.ErrNotSupported); any other error,
// such as EPERM or a missing device, is returned. TCX forces TCX, TC forces
// legacy tc (clsact + cls_bpf, see FilterPriority and FilterHandle).
func TCAttach(ifindex int, dir Direction, prog *ebpf.Program, mode Mode) (Link, error) {
	if dir != Ingress && dir != Egress {
		return nil, fmt.Errorf("attach: invalid direction %d", int(dir))
	}
	if prog == nil {
		return nil, errors.New("attach: nil program")
	}
	switch mode {
	case TCX:
		return attachTCX(ifindex, dir, prog)
	case TC:
		return attachTC(ifindex, dir, prog)
	case Auto:
		err := TCXSupported()
		switch {
		case err == nil:
			return attachTCX(ifindex, dir, prog)
		case errors.Is(err, ebpf.ErrNotSupported):
			slog.Debug("TCX not supported, using legacy tc", "ifindex", ifindex, "direction", dir, "reason", err)
			return attachTC(ifindex, dir, prog)
		}
		return nil, err
	}
	return nil, fmt.Errorf("attach: mode %q is not a tc mode", mode)
}
