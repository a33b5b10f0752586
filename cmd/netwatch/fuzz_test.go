package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
)

// FuzzDurationFlags feeds arbitrary --interval, --duration and --count
// values through the real flag parsing (urfave/cli, option placement, the
// duration error rewording) and watch's validation, with an action that
// stops before anything is read. No input may panic; every error is a
// one-line usage error (exit status 2); an accepted interval is in range.
func FuzzDurationFlags(f *testing.F) {
	for _, s := range []string{"1s", "1ms", "0", "0s", "-1s", "1", "1.5", "2h", "1h", "9223372036854775807ns",
		"99999999999999999999h", "1e3ms", "µs", "1µs", "\x00", "--", "-n", "1s\n2s", "NaN", "Inf"} {
		f.Add(s, s, "1")
	}
	f.Add("100ms", "2500ms", "-1")
	f.Add("1ms", "1h", "99999999999999999999")
	f.Fuzz(func(t *testing.T, interval, duration, count string) {
		var out, errOut bytes.Buffer
		app := newApp(&out, &errOut)
		var got time.Duration
		var acted bool
		for _, cmd := range app.Commands {
			if cmd.Name == "watch" {
				cmd.Action = func(c *cli.Context) error {
					acted = true
					var err error
					got, err = parseStreamArgs(c, "netwatch")
					return err
				}
			}
		}
		err := runApp(context.Background(), app, []string{"netwatch", "watch", "-n", interval, "-d", duration, "-c", count})
		if err == nil {
			if !acted {
				return // e.g. a value that reads as --help
			}
			if got < minInterval || got > maxInterval {
				t.Fatalf("accepted interval %v (from %q)", got, interval)
			}
			return
		}
		var msg bytes.Buffer
		code := exitCode(err, &msg)
		if code != 2 {
			t.Fatalf("exit status %d, want 2, for %q", code, msg.String())
		}
		if m := strings.TrimSuffix(msg.String(), "\n"); strings.Contains(m, "\n") {
			t.Fatalf("message of more than one line: %q", msg.String())
		}
	})
}
