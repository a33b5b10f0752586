//go:build !linux

package iface

// addPlatformDetails has nothing to add beyond the portable flags.
func addPlatformDetails(*Info) {}
