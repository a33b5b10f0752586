//go:build !unix

package procfs

// openFlags adds nothing where opening cannot block on a FIFO.
const openFlags = 0
