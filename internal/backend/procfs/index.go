package procfs

import "net"

// listedIndexes lists the system's interfaces once per indexRefresh, where
// there are no link events to follow.
func listedIndexes() *cachedIndexes {
	return &cachedIndexes{indexOf: systemIndex, list: systemIndexes, indexes: make(map[string]int)}
}

// systemIndexes maps every interface name of the system to its index.
func systemIndexes() map[string]int {
	ifis, err := net.Interfaces()
	if err != nil {
		return nil
	}
	m := make(map[string]int, len(ifis))
	for _, ifi := range ifis {
		m[ifi.Name] = ifi.Index
	}
	return m
}

func systemIndex(name string) int {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return 0
	}
	return ifi.Index
}
