package sysctl

import "fmt"

// linkName returns the interface name from the sockaddr_dl (RTA_IFP) after
// the if_msghdr2 header of msg, or "" when addrs says there is none. The
// sockaddrs for lower RTA_* bits come first and are skipped; each occupies
// sa_len rounded up to 4 bytes (4 when sa_len is 0). off is msg's position in
// the reply, for errors.
func linkName(msg []byte, addrs uint32, off int) (string, error) {
	if addrs&rtaIFP == 0 {
		return "", nil
	}
	p := sizeIfMsghdr2
	for i := range rtaxIFP {
		if addrs&(1<<i) == 0 {
			continue
		}
		if p >= len(msg) {
			return "", fmt.Errorf("%w: offset %d: sockaddr %d missing at message byte %d (length %d)",
				ErrMalformed, off, i, p, len(msg))
		}
		p += roundSockaddr(int(msg[p]))
	}
	if p+offSdlData > len(msg) {
		return "", fmt.Errorf("%w: offset %d: sockaddr_dl at message byte %d truncated (length %d)",
			ErrMalformed, off, p, len(msg))
	}
	sa := msg[p:]
	if f := sa[offSdlFamily]; f != afLink {
		return "", fmt.Errorf("%w: offset %d: RTA_IFP sockaddr family %d, want AF_LINK (%d)",
			ErrMalformed, off, f, afLink)
	}
	salen, nlen := int(sa[offSdlLen]), int(sa[offSdlNlen])
	end := offSdlData + nlen
	if end > salen || salen > len(sa) {
		return "", fmt.Errorf("%w: offset %d: sockaddr_dl name length %d, sockaddr length %d, %d bytes left in message",
			ErrMalformed, off, nlen, salen, len(sa))
	}
	return string(sa[offSdlData:end]), nil
}

func roundSockaddr(n int) int {
	if n == 0 {
		return sockaddrPad
	}
	return (n + sockaddrPad - 1) &^ (sockaddrPad - 1)
}
