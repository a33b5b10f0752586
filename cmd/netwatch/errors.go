package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
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

// escapeControls writes control characters and invalid UTF-8 in s as Go
// escapes (\x1b, \u0085), so that no error shows a path or name from the
// command line or the system raw: an escape sequence in a --proc-root path
// cannot recolour or clear the terminal. Printable text is left as it is.
func escapeControls(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unicode.IsControl(r):
			q := strconv.QuoteRune(r) // '\x1b', '\t', '\u0085'
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// maxMessage bounds an error line: a 100 kB argument quoted back would
// bury the terminal.
const maxMessage = 1000

// shorten keeps the start and the end of s (where the cause is) when it is
// longer than maxMessage bytes, cut on rune boundaries.
func shorten(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	head, tail := maxMessage/2, len(s)-maxMessage/2
	for head > 0 && !utf8.RuneStart(s[head]) {
		head--
	}
	for tail < len(s) && !utf8.RuneStart(s[tail]) {
		tail++
	}
	return s[:head] + " …(" + strconv.Itoa(tail-head) + " bytes)… " + s[tail:]
}
