package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netwatch-dev/netwatch/internal/testutil/privileged"
)

// hostileRun runs the binary with args (and env, if any), killing it after
// a generous bound: a hang fails the test instead of blocking it.
func hostileRun(t *testing.T, prefix []string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	argv := append(append(prefix[:len(prefix):len(prefix)], binary), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	r := runCmdEnv(t, cmd, env...)
	if ctx.Err() != nil {
		t.Fatalf("%.200q: still running after 60s", args)
	}
	return r
}

// checkHostileStderr: exactly one line, "netwatch: ...", no panic, no raw
// control byte (the terminal sees escapes, never an escape sequence).
func checkHostileStderr(t *testing.T, stderr string) {
	t.Helper()
	if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine ") {
		t.Fatalf("panic: %.500s", stderr)
	}
	if !strings.HasPrefix(stderr, "netwatch: ") || !strings.HasSuffix(stderr, "\n") || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("stderr is not one line starting with \"netwatch: \": %.500q", stderr)
	}
	for _, c := range []byte(strings.TrimSuffix(stderr, "\n")) {
		if c < 0x20 || c == 0x7f {
			t.Fatalf("raw control byte %#x in %.500q", c, stderr)
		}
	}
	if len(stderr) > 2048 {
		t.Fatalf("error of %d bytes: %.200q…", len(stderr), stderr)
	}
}

// TestHostileInput: input meant to break netwatch gives a one-line error
// and exit status 2 (usage) or 1 (runtime), never a panic, a hang, a raw
// control character on the terminal or an error the size of the input.
func TestHostileInput(t *testing.T) {
	many := func(flag, format string, n int) []string {
		var args []string
		for i := range n {
			args = append(args, flag, fmt.Sprintf(format, i))
		}
		return args
	}
	long := strings.Repeat("a", 100_000)
	tests := []struct {
		name   string
		args   []string
		env    []string
		code   int
		stderr string // in the message
	}{
		{"huge interval", []string{"watch", "-b", "procfs", "-n", "99999999999h"}, nil, 2, `invalid value "99999999999h" for flag -n`},
		{"interval past int64", []string{"watch", "-b", "procfs", "-n", "9223372036854775808ns"}, nil, 2, "for flag -n"},
		{"interval over 1h", []string{"watch", "-b", "procfs", "-n", "1h0m0.001s"}, nil, 2, "out of range"},
		{"negative interval", []string{"watch", "-b", "procfs", "-n", "-1s"}, nil, 2, "--interval -1s is out of range"},
		{"zero interval", []string{"watch", "-b", "procfs", "-n", "0"}, nil, 2, "--interval 0s is out of range"},
		{"negative interval from env", []string{"watch", "-b", "procfs"}, []string{"NETWATCH_INTERVAL=-5ms"}, 2, "--interval -5ms is out of range"},
		{"zero window", []string{"snapshot", "-b", "procfs", "-w", "0s"}, nil, 2, "--window 0s is out of range"},
		{"huge window", []string{"snapshot", "-b", "procfs", "-w", "100000h"}, nil, 2, "--window 100000h0m0s is out of range"},
		{"negative duration", []string{"watch", "-b", "procfs", "-d", "-1ns"}, nil, 2, "--duration -1ns: must be 0 or more"},
		{"huge count", []string{"watch", "-b", "procfs", "-c", "99999999999999999999"}, nil, 2, "value out of range"},
		{"negative resolution", []string{"watch", "-b", "procfs", "--resolution", "-1ms"}, nil, 2, "--resolution"},
		{"10,000 -i names", append([]string{"snapshot", "-b", "procfs", "-w", "1ms"}, many("-i", "nosuch%d", 10_000)...), nil, 2, `unknown interface "nosuch0"`},
		{"10,000 -x patterns", append([]string{"snapshot", "-b", "procfs", "-w", "1ms", "-i", "nosuch"}, many("-x", "x%d*", 10_000)...), nil, 2, `unknown interface "nosuch"`},
		{"10,000 patterns in one -i", []string{"snapshot", "-b", "procfs", "-w", "1ms", "-i", strings.Repeat("bad[,", 10_000)}, nil, 2, `bad interface pattern "bad["`},
		{"escape sequence in -i", []string{"snapshot", "-b", "procfs", "-w", "1ms", "-i", "e\x1bth0"}, nil, 2, `unknown interface "e\x1bth0"`},
		{"control bytes in a bad glob", []string{"snapshot", "-b", "procfs", "-i", "\x07[\x1b"}, nil, 2, `bad interface pattern "\a[\x1b"`},
		{"newline in -i", []string{"snapshot", "-b", "procfs", "-i", "eth0\nrm -rf /"}, nil, 2, `"eth0\nrm -rf /"`},
		{"invalid UTF-8 in -i", []string{"snapshot", "-b", "procfs", "-i", "e\xff\xfe"}, nil, 2, `unknown interface "e`},
		{"escape sequence in --backend", []string{"snapshot", "-b", "\x1b]0;pwned\x07"}, nil, 2, `unknown backend "\x1b]0;pwned\a"`},
		{"escape sequence in --proc-root", []string{"snapshot", "-b", "procfs", "--proc-root", "/nonexistent/\x1b[31mred"}, nil, 1, `/nonexistent/\x1b[31mred/net/dev: no such file or directory`},
		{"escape sequence in --format", []string{"watch", "-b", "procfs", "-f", "\x1b[5m"}, nil, 2, `unknown format "\x1b[5m"`},
		{"escape sequence in env", []string{"snapshot", "-b", "procfs"}, []string{"NETWATCH_UNITS=\x1b[5m"}, 2, `unknown units "\x1b[5m"`},
		{"too-long name", []string{"snapshot", "-b", "procfs", "-i", "abcdefghijklmnop"}, nil, 2, `interface name "abcdefghijklmnop" is 16 bytes, longer than any interface name can be (15)`},
		{"100 kB name", []string{"snapshot", "-b", "procfs", "-i", long}, nil, 2, "is too long (at most 256)"},
		{"100 kB --proc-root", []string{"snapshot", "-b", "procfs", "--proc-root", "/" + long}, nil, 1, "file name too long"},
		{"100 kB --backend", []string{"snapshot", "-b", long}, nil, 2, "unknown backend"},
		{"empty item in --netns", []string{"snapshot", "-b", "netlink", "--netns", "blue,,red"}, nil, 2, `--netns: netns "blue,,red": empty item in the list`},
		{"only commas in --netns", []string{"snapshot", "-b", "netlink", "--netns", ","}, nil, 2, "empty item in the list"},
		{"escape sequence in --netns", []string{"snapshot", "-b", "netlink", "--netns", "\x1b[31mred"}, nil, 1, `netns \x1b[31mred: stat /run/netns/\x1b[31mred: no such file or directory`},
		{"10,000 --netns names", []string{"snapshot", "-b", "netlink", "--netns", strings.Repeat("nosuch-ns,", 9_999) + "nosuch-ns"}, nil, 1, "netns nosuch-ns: stat /run/netns/nosuch-ns: no such file or directory"},
		{"bad pid in a --netns list", []string{"snapshot", "-b", "netlink", "--netns", "all,pid:x"}, nil, 2, `--netns: netns "pid:x": want pid:PID`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := hostileRun(t, nil, tt.env, tt.args...)
			checkHostileStderr(t, r.stderr)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d: %.300q", r.code, tt.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("stderr %.300q does not contain %q", r.stderr, tt.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout %.200q, want nothing", r.stdout)
			}
		})
	}
}

// TestUnreadableProcRoot: a --proc-root netwatch may not read is a one-line
// runtime error (exit 1) naming the file. Root reads any file, so as root
// the binary runs as nobody.
func TestUnreadableProcRoot(t *testing.T) {
	root := t.TempDir()
	dev := filepath.Join(root, "net", "dev")
	if err := os.MkdirAll(filepath.Dir(dev), 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("testdata/proc/net/dev")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dev, data, 0o000); err != nil {
		t.Fatal(err)
	}
	var prefix []string
	if os.Geteuid() == 0 {
		privileged.NeedTool(t, "setpriv")
		prefix = []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"}
		// nobody must reach the file to be refused by its mode.
		for d := root; d != "/" && d != "."; d = filepath.Dir(d) {
			fi, err := os.Stat(d)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm()&0o001 == 0 {
				if err := os.Chmod(d, fi.Mode().Perm()|0o001); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { os.Chmod(d, fi.Mode().Perm()) })
			}
		}
	}
	for _, cmd := range []string{"snapshot", "watch", "list"} {
		t.Run(cmd, func(t *testing.T) {
			r := hostileRun(t, prefix, nil, cmd, "-b", "procfs", "--proc-root", root)
			checkHostileStderr(t, r.stderr)
			if r.code != 1 || !strings.Contains(r.stderr, dev+": permission denied") {
				t.Errorf("exit %d, stderr %q: want 1 and %q", r.code, r.stderr, dev+": permission denied")
			}
		})
	}
}
