//go:build unix

package procfs

import "syscall"

// openFlags makes open(2) return at once even on a FIFO without a writer,
// so that the file type can be checked before anything blocks. Go adds
// O_CLOEXEC itself.
const openFlags = syscall.O_NONBLOCK
