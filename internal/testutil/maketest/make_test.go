package maketest

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// root is the repository root, where the Makefile is.
const root = "../../.."

// command runs name in the repository root with env added to an
// environment cleared of what an enclosing make (such as `make test`
// running this test) passes down, and of NETWATCH_PRIVILEGED_TESTS.
func command(env []string, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = root
	for _, kv := range os.Environ() {
		switch name, _, _ := strings.Cut(kv, "="); name {
		case "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "NETWATCH_PRIVILEGED_TESTS":
		default:
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// makeCmd runs make through command.
func makeCmd(t *testing.T, env []string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("needs make (apt-get install make)")
	}
	cmd := command(env, "make", args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// TestRunIsPipeable: README's `make run ARGS="snapshot --json" | jq` must
// get the snapshot and nothing else on standard output.
func TestRunIsPipeable(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs Linux (the procfs backend)")
	}
	tests := []struct {
		name string
		env  []string
		args []string
	}{
		{"from a shell", nil, []string{"run"}},
		// A sub-make prints "Entering directory" on stdout unless -s.
		{"from another make, with -s -C", []string{"MAKELEVEL=1"}, []string{"-s", "-C", ".", "run"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(tt.args, "ARGS=snapshot --json -b procfs")
			stdout, stderr, err := makeCmd(t, tt.env, args...)
			if err != nil {
				t.Fatalf("make %q: %v\n%s", args, err, stderr)
			}
			var snap struct{ Backend string }
			if err := json.Unmarshal([]byte(stdout), &snap); err != nil || snap.Backend != "procfs" {
				t.Errorf("make %q: stdout is not one snapshot with backend procfs (%v):\n%s", args, err, stdout)
			}
		})
	}
}

// TestMakeTest: `make test` keeps go test's output, ends with the summary
// of skipped tests, and fails exactly when go test does.
func TestMakeTest(t *testing.T) {
	const pkgs = "./internal/testutil/maketest/testdata/"
	tests := []struct {
		pkg     string
		fails   bool
		want    []string // lines of stdout, in this order
		last    string
		notWant []string
	}{{
		pkg:     "skips",
		want:    []string{"ok  \tgithub.com/netwatch-dev/netwatch/internal/testutil/maketest/testdata/skips\t"},
		last:    `netwatch: 5 tests skipped: 2 need ethtool (apt-get install ethtool), 1 needs bpftool (apt-get install bpftool), 1 needs root (run as root, or with sudo), 1: "not on this kernel"`,
		notWant: []string{"=== RUN", "--- SKIP", "PASS\n"},
	}, {
		pkg:   "fails",
		fails: true,
		want: []string{
			"--- FAIL: TestFails (",
			"    fails_test.go:8: failed on purpose\n",
			"FAIL\n",
			"FAIL\tgithub.com/netwatch-dev/netwatch/internal/testutil/maketest/testdata/fails\t",
			"FAIL\n",
		},
		last:    "netwatch: 1 test skipped: 1 needs root (run as root, or with sudo)",
		notWant: []string{"=== RUN", "--- SKIP"},
	}}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			stdout, stderr, err := makeCmd(t, nil, "-s", "test", "PKGS="+pkgs+tt.pkg)
			goErr := command(nil, "go", "test", "-count=1", pkgs+tt.pkg).Run()
			var exit *exec.ExitError
			if err != nil && !errors.As(err, &exit) {
				t.Fatalf("make test: %v\n%s", err, stderr)
			}
			if (err != nil) != tt.fails || (goErr != nil) != tt.fails {
				t.Errorf("make test: %v; go test: %v; want failure %v\nstdout:\n%s\nstderr:\n%s", err, goErr, tt.fails, stdout, stderr)
			}
			rest := stdout
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Errorf("stdout lacks %q (after the lines before it):\n%s", w, stdout)
					break
				}
				rest = rest[i+len(w):]
			}
			if last := stdout[strings.LastIndex(strings.TrimSuffix(stdout, "\n"), "\n")+1:]; last != tt.last+"\n" {
				t.Errorf("last line %q, want %q", last, tt.last)
			}
			for _, nw := range tt.notWant {
				if strings.Contains(stdout, nw) {
					t.Errorf("stdout has %q, as go test without -v does not:\n%s", nw, stdout)
				}
			}
		})
	}
}
