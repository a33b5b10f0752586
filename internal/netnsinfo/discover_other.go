//go:build !linux

package netnsinfo

// Discover returns ErrNotLinux: network namespaces are Linux's.
func Discover(procRoot string) ([]Namespace, error) { return nil, ErrNotLinux }

// Peers returns ErrNotLinux.
func Peers(namespaces []Namespace) (map[int]Namespace, error) { return nil, ErrNotLinux }

// PeersAt returns ErrNotLinux.
func PeersAt(path string, namespaces []Namespace) (map[int]Namespace, error) { return nil, ErrNotLinux }

// FindPeers returns ErrNotLinux.
func FindPeers(procRoot string) (map[int]Namespace, error) { return nil, ErrNotLinux }
