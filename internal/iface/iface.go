// Package iface lists the system's network interfaces with what netwatch
// shows about them: index, state, MTU and link speed where known.
package iface

import (
	"fmt"
	"net"
	"slices"
	"strings"
)

// Info describes one interface.
type Info struct {
	Name  string
	Index int
	// State is the operational state ("up", "down", "unknown", ...).
	State string
	MTU   int
	// SpeedMbps is the link speed in Mbit/s; 0 when unknown (virtual
	// devices, links that are down, systems that do not say).
	SpeedMbps uint64
	// HardwareAddr is the link-layer address, if any.
	HardwareAddr string
}

// List returns every interface, ordered by index.
func List() ([]Info, error) { return list(true) }

// ListFlags is List without the platform's details (Linux: sysfs), for
// another network namespace than the one /sys shows: the state comes from
// the interface flags.
func ListFlags() ([]Info, error) { return list(false) }

func list(details bool) ([]Info, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	out := make([]Info, 0, len(ifs))
	for _, ifi := range ifs {
		info := Info{
			Name:         ifi.Name,
			Index:        ifi.Index,
			MTU:          ifi.MTU,
			State:        flagState(ifi.Flags),
			HardwareAddr: ifi.HardwareAddr.String(),
		}
		if details {
			addPlatformDetails(&info)
		}
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b Info) int { return a.Index - b.Index })
	return out, nil
}

// Names returns the names of infos.
func Names(infos []Info) []string {
	names := make([]string, len(infos))
	for i, info := range infos {
		names[i] = info.Name
	}
	return names
}

func flagState(f net.Flags) string {
	switch {
	case f&net.FlagRunning != 0:
		return "up"
	case f&net.FlagUp != 0:
		return "no-carrier"
	default:
		return "down"
	}
}

// parseSysfsSpeed parses /sys/class/net/*/speed: Mbit/s, or -1 / empty when
// unknown.
func parseSysfsSpeed(s string) uint64 {
	s = strings.TrimSpace(s)
	var v int64
	if _, err := fmt.Sscan(s, &v); err != nil || v <= 0 {
		return 0
	}
	return uint64(v)
}
