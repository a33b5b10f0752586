package iface

import (
	"os"
	"path/filepath"
	"strings"
)

// sysClassNet is where Linux describes interfaces.
const sysClassNet = "/sys/class/net"

// addPlatformDetails adds the kernel's operational state and link speed.
func addPlatformDetails(info *Info) {
	dir := filepath.Join(sysClassNet, info.Name)
	if b, err := os.ReadFile(filepath.Join(dir, "operstate")); err == nil {
		if s := strings.TrimSpace(string(b)); s != "" {
			info.State = s
		}
	}
	// Reading speed fails with EINVAL for links that are down or virtual.
	if b, err := os.ReadFile(filepath.Join(dir, "speed")); err == nil {
		info.SpeedMbps = parseSysfsSpeed(string(b))
	}
}
