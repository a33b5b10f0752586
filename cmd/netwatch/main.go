// Command netwatch samples network interface counters at high resolution:
// eBPF tc/XDP counters on Linux, /proc/net/dev as a fallback, sysctl on macOS.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(exitCode(run(os.Args, os.Stdout, os.Stderr), os.Stderr))
}

// exitCode prints err as one line on stderr and maps it to the exit status:
// 0 for success, 2 for usage errors, 1 for runtime failures.
func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, errInterrupted) {
		return 0
	}
	fmt.Fprintf(stderr, "netwatch: %s\n", oneLine(err.Error()))
	if isUsage(err) {
		return 2
	}
	return 1
}
