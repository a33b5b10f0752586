// Command netwatch samples network interface counters at high resolution:
// eBPF tc/XDP counters on Linux, /proc/net/dev as a fallback, sysctl on macOS.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
)

func main() {
	oneProcessor()
	os.Exit(exitCode(run(os.Args, os.Stdout, os.Stderr), os.Stderr))
}

// exitCode prints err as one line on stderr and maps it to the exit status:
// 0 for success, 2 for usage errors, 1 for runtime failures.
func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, errInterrupted) {
		return 0
	}
	fmt.Fprintf(stderr, "netwatch: %s\n", shorten(escapeControls(oneLine(err.Error()))))
	if isUsage(err) {
		return 2
	}
	return 1
}

// oneProcessor runs the Go scheduler with one P unless GOMAXPROCS is set
// in the environment (as node_exporter does): netwatch's work is one
// sampling loop, and a second P only adds threads handing it to each other
// (fewer wake-ups and less CPU per sample: see `make cost` in README).
func oneProcessor() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
}
