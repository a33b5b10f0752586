// Package netnstest gives privileged tests throwaway network namespaces
// joined by a veth pair, and helpers that send an exact amount of traffic
// between them.
//
// Nothing here touches the host's own interfaces: every interface, address
// and neighbour entry is created inside namespaces the package created
// itself, and t.Cleanup deletes the namespaces (which destroys the veth).
// Addresses come from 198.18.0.0/15 (RFC 2544 benchmarking range).
//
// # Quiet links
//
// A Pair's veth link carries nothing but the traffic a test sends, so tests
// can assert exact packet and byte counts:
//   - IPv6 is disabled in both namespaces (all, default and on each veth end)
//     before the links come up: no link-local address, so no NDP, MLD or
//     router solicitations;
//   - each side has a permanent neighbour entry for the other: no ARP;
//   - IPv4 joins only 224.0.0.1, for which the kernel sends no IGMP report.
//
// TestPairIsQuiet checks this. SendUDP and TCPTransfer return only after the
// last packet they caused has been processed by the receiving stack (so it
// has passed tc ingress and XDP on the receiver), which makes counts read
// right after them final.
//
// # Namespaces and threads
//
// Network namespaces belong to OS threads. NS.Do runs a function on the
// calling goroutine's OS thread switched into the namespace; sockets and
// netlink handles created inside keep their namespace after Do returns.
// The NS and Pair methods that take no function need no Do: they use
// namespace-bound netlink handles or sockets.
package netnstest
