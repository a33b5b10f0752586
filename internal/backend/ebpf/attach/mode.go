// Package attach attaches netwatch's tc and XDP programs to interfaces and
// detaches them again, removing only what it created.
//
// tc programs attach with TCX (bpf_link, kernel >= 6.6) when the kernel has
// it, else with a legacy clsact qdisc and a cls_bpf direct-action filter
// (FilterHandle, FilterPriority). XDP is attached only through bpf_link and
// never replaces a program someone else attached. All functions work in the
// network namespace of the calling OS thread.
//
// Programs are expected to return TC_ACT_UNSPEC / TCX_NEXT (-1) and
// XDP_PASS, so that whatever else is attached still sees every packet.
package attach

import (
	"errors"
	"fmt"
	"strings"
)

// Mode is how a program is attached.
type Mode string

const (
	// Auto is TCX when the kernel supports it, else legacy tc.
	Auto Mode = "auto"
	TCX  Mode = "tcx"
	TC   Mode = "tc"
	XDP  Mode = "xdp"
)

// ParseMode parses a mode name (case-insensitive).
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(strings.TrimSpace(s))); m {
	case Auto, TCX, TC, XDP:
		return m, nil
	}
	return "", fmt.Errorf("attach: unknown mode %q (want auto, tcx, tc or xdp)", s)
}

// XDPMode is where an XDP program runs.
type XDPMode string

const (
	// XDPDriver runs the program in the driver (native XDP).
	XDPDriver XDPMode = "driver"
	// XDPGeneric runs it on the skb, for any driver (slower).
	XDPGeneric XDPMode = "generic"
)

// ParseXDPMode parses an XDP mode name (case-insensitive).
func ParseXDPMode(s string) (XDPMode, error) {
	switch m := XDPMode(strings.ToLower(strings.TrimSpace(s))); m {
	case XDPDriver, XDPGeneric:
		return m, nil
	}
	return "", fmt.Errorf("attach: unknown XDP mode %q (want driver or generic)", s)
}

// Direction is the tc hook a program attaches to.
type Direction int

const (
	Ingress Direction = iota
	Egress
)

func (d Direction) String() string {
	switch d {
	case Ingress:
		return "ingress"
	case Egress:
		return "egress"
	}
	return fmt.Sprintf("Direction(%d)", int(d))
}

// Link is one attached program.
type Link interface {
	// Mode is how the program is attached: TCX, TC or XDP (never Auto).
	Mode() Mode
	// Close detaches the program and removes only what the attach created.
	// It is idempotent: later calls return nil.
	Close() error
}

// ErrXDPBusy means an XDP program is already attached to the interface.
var ErrXDPBusy = errors.New("XDP hook in use")

// ErrNoNativeXDP means the device's driver cannot run XDP natively: only
// --xdp-mode generic attaches there.
var ErrNoNativeXDP = errors.New("the device has no native (driver) XDP: use --xdp-mode generic")

// Legacy tc filter identity. Priority 1 is the first to run, so the
// program sees every packet before another filter can end classification
// (a direct-action filter returning TC_ACT_OK or TC_ACT_SHOT stops the
// chain). The handle spells "nw" and tells our filter apart from others at
// the same priority.
const (
	FilterPriority uint16 = 1
	FilterHandle   uint32 = 0x6e77
)

// DefaultNamePrefix starts the names of netwatch's BPF programs (at most 15
// characters in all); CleanStale uses it to recognise leftovers.
const DefaultNamePrefix = "netwatch_"
