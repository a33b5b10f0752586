package main

import (
	"errors"
	"io/fs"
	"os"
	"sort"

	"github.com/netwatch-dev/netwatch/internal/backend"
)

// discoverNamespaces lists the namespaces --netns all reads: every named
// namespace (ip netns add) in /run/netns.
func discoverNamespaces() ([]backend.Netns, error) {
	entries, err := os.ReadDir(backend.NetnsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	var out []backend.Netns
	for _, n := range names {
		ns, err := backend.ParseNetns(n)
		if err == nil && ns.Check() == nil {
			out = append(out, ns)
		}
	}
	return out, nil
}
