//go:build !linux

package attach

import "errors"

// XDPInUse reports that XDP does not exist off Linux.
func XDPInUse(int) error { return errors.ErrUnsupported }

// NativeXDP reports that XDP does not exist off Linux.
func NativeXDP(int) (ok, known bool) { return false, true }
