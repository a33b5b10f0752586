// Command testsummary runs `go test -json` and prints what plain `go test`
// would print, followed by one line that counts the skipped tests by
// reason:
//
//	netwatch: 12 tests skipped: 10 need root (run as root, or with sudo), 2 need ethtool (apt-get install ethtool)
//
// Skips through internal/testutil/privileged carry a reason of the form
// "needs NAME (FIX)" and are grouped by it; any other skip is grouped by
// its message. `make test` runs it as
//
//	testsummary go test -json [flags] ./...
//
// The command's standard input and error pass through unchanged, its
// standard output is rendered (verbatim, as `go test -v` prints it, when
// the flags include -v), and testsummary exits with the command's exit
// status, so `make test` fails exactly when go test does.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run runs args[0] with args[1:] and returns its exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: testsummary go test -json [flags] [packages]")
		return 2
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stderr = os.Stdin, stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(stderr, "testsummary:", err)
		return 1
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(stderr, "testsummary:", err)
		return 127
	}
	// Ctrl-C reaches go test through the terminal as well; either way go
	// test decides, and its output is read to the end.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		for s := range sigs {
			cmd.Process.Signal(s)
		}
	}()

	if err := newRenderer(stdout, stderr, verbose(args)).run(pipe); err != nil {
		fmt.Fprintln(stderr, "testsummary: reading go test's output:", err)
		io.Copy(stdout, pipe) // let go test finish
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()) // as a shell reports it
		}
		return exit.ExitCode()
	default:
		fmt.Fprintln(stderr, "testsummary:", err)
		return 1
	}
}

// verbose reports whether the go test flags ask for -v.
func verbose(args []string) bool {
	for _, a := range args {
		switch a {
		case "-v", "--v", "-v=true", "--v=true":
			return true
		}
	}
	return false
}
