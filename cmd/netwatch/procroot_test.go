//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestProcRootNotRegular runs snapshot with a --proc-root whose net/dev is
// not a regular file: netwatch must exit 1 at once with a one-line error
// naming the file, not block (a FIFO blocks even open(2)) or read without
// end (/dev/zero). A hang is killed after a timeout and fails the test.
func TestProcRootNotRegular(t *testing.T) {
	tests := []struct {
		name     string
		make     func(t *testing.T, dev string)
		inStderr string
	}{
		{"fifo", func(t *testing.T, dev string) {
			if err := syscall.Mkfifo(dev, 0o644); err != nil {
				t.Fatal(err)
			}
		}, "is a named pipe (FIFO), not a regular file"},
		{"link to /dev/zero", func(t *testing.T, dev string) {
			if err := os.Symlink("/dev/zero", dev); err != nil {
				t.Fatal(err)
			}
		}, "is a character device (/dev/zero), not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			dev := filepath.Join(root, "net", "dev")
			if err := os.Mkdir(filepath.Dir(dev), 0o755); err != nil {
				t.Fatal(err)
			}
			tt.make(t, dev)
			r, took := runWithin(t, 10*time.Second, "snapshot", "-b", "procfs", "--proc-root", root)
			if r.code != 1 {
				t.Errorf("exit code %d after %v, want 1 (stderr %q)", r.code, took, r.stderr)
			}
			if took > 5*time.Second {
				t.Errorf("took %v, want an error at once", took)
			}
			checkProcfsError(t, r.stderr, dev, tt.inStderr)
		})
	}
}

// TestProcRootAliases checks that old kernels' alias interfaces ("eth0:1:",
// with or without a space before the first counter) are read, end to end,
// instead of failing the whole backend.
func TestProcRootAliases(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "net"), 0o755); err != nil {
		t.Fatal(err)
	}
	dev := "Inter-|   Receive                                                |  Transmit\n" +
		" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n" +
		"  eth0: 100 1 0 0 0 0 0 0 200 2 0 0 0 0 0 0\n" +
		"eth0:1: 300 3 0 0 0 0 0 0 400 4 0 0 0 0 0 0\n" +
		"ibr10:30:500 5 0 0 0 0 0 0 600 6 0 0 0 0 0 0\n"
	if err := os.WriteFile(filepath.Join(root, "net", "dev"), []byte(dev), 0o644); err != nil {
		t.Fatal(err)
	}
	r, _ := runWithin(t, 30*time.Second, "snapshot", "--json", "-b", "procfs", "--proc-root", root, "-w", "1ms")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	s := checkSample(t, []byte(r.stdout), "procfs")
	var got []string
	for _, i := range s["interfaces"].([]any) {
		m := i.(map[string]any)
		got = append(got, fmt.Sprintf("%v=%v/%v", m["name"], m["rx_bytes"], m["tx_bytes"]))
	}
	want := []string{"eth0=100/200", "eth0:1=300/400", "ibr10:30=500/600"}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("interfaces %v, want %v", got, want)
	}
}

// runWithin runs netwatch with args, killing it after d.
func runWithin(t *testing.T, d time.Duration, args ...string) (result, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.WaitDelay = time.Second
	start := time.Now()
	r := runCmd(t, cmd)
	return r, time.Since(start)
}

// checkProcfsError checks that stderr is one line that names path and
// contains want, without a stack trace.
func checkProcfsError(t *testing.T, stderr, path, want string) {
	t.Helper()
	if !strings.Contains(stderr, "procfs: ") || !strings.Contains(stderr, path) || !strings.Contains(stderr, want) {
		t.Errorf("stderr %q: want a procfs error naming %s and containing %q", stderr, path, want)
	}
	if n := strings.Count(strings.TrimRight(stderr, "\n"), "\n"); n != 0 {
		t.Errorf("error is %d lines, want one: %q", n+1, stderr)
	}
	if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
		t.Errorf("stack trace on stderr: %q", stderr)
	}
}
