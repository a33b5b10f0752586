package main

import (
	"errors"
	"fmt"
	"strings"
)

// usageError is bad input on the command line: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// errInterrupted ends a command that a signal (Ctrl-C, SIGTERM, SIGHUP)
// stopped before it produced anything; after cleanup it exits 0.
var errInterrupted = errors.New("interrupted")

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

func isUsage(err error) bool {
	var u usageError
	return errors.As(err, &u)
}

// oneLine keeps the first line of a message, so that no multi-line error
// (a verifier log, a wrapped stack of causes) reaches the terminal.
func oneLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
