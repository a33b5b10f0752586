package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// binary is the netwatch binary built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "netwatch-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// World-readable, so tests can run the binary as an unprivileged user.
	if err := os.Chmod(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "netwatch")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build netwatch: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

func netwatch(t *testing.T, args ...string) result {
	t.Helper()
	return runCmd(t, exec.Command(binary, args...))
}

func runCmd(t *testing.T, cmd *exec.Cmd) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = cleanEnv()
	err := cmd.Run()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", cmd.Args, err)
	}
	return result{code, stdout.String(), stderr.String()}
}

// cleanEnv drops NETWATCH_* settings of the caller, so tests see defaults.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NETWATCH_") || strings.HasPrefix(kv, "NETWATCH_PRIVILEGED_TESTS=") {
			env = append(env, kv)
		}
	}
	return env
}

func TestExitCodesAndErrors(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		inStderr string
	}{
		{"interval too small", []string{"watch", "-b", "procfs", "-n", "0s"}, 2, "--interval 0s is out of range: use 1ms to 1h0m0s"},
		{"interval too large", []string{"-b", "procfs", "-n", "2h"}, 2, "out of range"},
		{"interval not a duration", []string{"watch", "-n", "fast"}, 2, "invalid value \"fast\" for flag -n"},
		{"unknown flag", []string{"watch", "--bogus"}, 2, "flag provided but not defined: -bogus"},
		{"unknown format", []string{"watch", "-b", "procfs", "-f", "xml"}, 2, `--format: unknown format "xml" (valid: table, ndjson, csv, events)`},
		{"events without threshold", []string{"watch", "-b", "procfs", "--events"}, 2, "--events needs --burst-threshold"},
		{"events on procfs", []string{"watch", "-b", "procfs", "-f", "events", "--burst-threshold", "1MB"}, 1, "--events needs in-kernel time bins"},
		{"burst end above start", []string{"watch", "-b", "procfs", "--burst-threshold", "1MB", "--burst-end", "2MB"}, 2, "--burst-end 2MB is above --burst-threshold 1MB"},
		{"burst end percent above", []string{"watch", "-b", "procfs", "--burst-threshold", "50%", "--burst-end", "60%"}, 2, "must be at most the start"},
		{"events and json", []string{"watch", "-b", "procfs", "--events", "--json", "--burst-threshold", "1MB"}, 2, "--events and --format ndjson contradict"},
		{"serve bad listen", []string{"serve", "-b", "procfs", "--listen", "9977"}, 2, `--listen "9977": want host:port`},
		{"serve peak window", []string{"serve", "-b", "procfs", "--peak-window", "10ms"}, 2, "--peak-window 10ms is out of range"},
		{"serve stray argument", []string{"serve", "-b", "procfs", "now"}, 2, `unexpected argument "now"`},
		{"serve missing web config", []string{"serve", "-b", "procfs", "--web.config.file", "testdata/none.yml"}, 1, "--web.config.file testdata/none.yml:"},
		{"burst end alone", []string{"watch", "-b", "procfs", "--burst-end", "2MB"}, 2, "--burst-end and --burst-gap need --burst-threshold"},
		{"burst gap zero", []string{"watch", "-b", "procfs", "--burst-threshold", "1MB", "--burst-gap", "0"}, 2, "--burst-gap 0: want 1 or more bins"},
		{"burst gap from env without threshold", []string{"watch", "-b", "procfs", "--burst-gap", "3"}, 2, "need --burst-threshold"},
		{"unknown units", []string{"snapshot", "-b", "procfs", "--units", "nibbles"}, 2, "--units"},
		{"unknown backend", []string{"snapshot", "--backend", "magic"}, 2, `unknown backend "magic"`},
		{"unknown attach", []string{"snapshot", "--attach", "glue"}, 2, "--attach"},
		{"unknown interface", []string{"snapshot", "-b", "procfs", "-i", "nosuch0"}, 2, `unknown interface "nosuch0" (have: `},
		{"bad glob", []string{"snapshot", "-b", "procfs", "-i", "eth["}, 2, `bad interface pattern "eth["`},
		{"negative count", []string{"watch", "-b", "procfs", "-c", "-1"}, 2, "--count -1"},
		{"bad log level", []string{"watch", "-b", "procfs", "--log-level", "loud"}, 2, "--log-level"},
		{"stray argument", []string{"watch", "eth0"}, 2, `unexpected argument "eth0"`},
		{"sysctl on linux", []string{"snapshot", "-b", "sysctl", "-w", "1ms"}, 1, "sysctl backend:"},
		{"malformed proc", []string{"snapshot", "-b", "procfs", "--proc-root", "testdata/badproc"}, 1, `line 3 "  eth0: 1 2 3": 3 counter columns, want 16`},
		{"missing proc", []string{"snapshot", "-b", "procfs", "--proc-root", "testdata/none"}, 1, "no such file or directory"},
		{"resolution too fine", []string{"snapshot", "-b", "procfs", "--resolution", "50us"}, 2, "--resolution 50µs is out of range: use 100µs to 1s, or 0 for no bins"},
		{"bad burst threshold", []string{"watch", "-b", "procfs", "--burst-threshold", "lots"}, 2, `--burst-threshold: rate "lots"`},
		{"bad burst percentage", []string{"watch", "-b", "procfs", "--burst-threshold", "-5%"}, 2, "positive percentage"},
		{"completion shell", []string{"completion", "tcsh"}, 2, `want bash, zsh or fish, got "tcsh"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := netwatch(t, tt.args...)
			if r.code != tt.code {
				t.Errorf("exit code %d, want %d (stderr %q)", r.code, tt.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.inStderr) {
				t.Errorf("stderr %q does not contain %q", r.stderr, tt.inStderr)
			}
			if lines := strings.Count(strings.TrimRight(r.stderr, "\n"), "\n"); lines != 0 {
				t.Errorf("error is %d lines, want one: %q", lines+1, r.stderr)
			}
			if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic") {
				t.Errorf("stack trace on stderr: %q", r.stderr)
			}
		})
	}
}

// contractKeys are the fields every sample carries (DESIGN.md).
var contractKeys = []string{"time", "backend", "interval_ns", "resolution_ns", "exact_bins", "interfaces"}
var interfaceKeys = []string{"name", "index", "rx_bytes", "rx_packets", "tx_bytes", "tx_packets",
	"rx_bytes_per_sec", "rx_packets_per_sec", "tx_bytes_per_sec", "tx_packets_per_sec"}

func checkSample(t *testing.T, line []byte, backend string) map[string]any {
	t.Helper()
	var s map[string]any
	if err := json.Unmarshal(line, &s); err != nil {
		t.Fatalf("invalid JSON %q: %v", line, err)
	}
	for _, k := range contractKeys {
		if _, ok := s[k]; !ok {
			t.Errorf("sample lacks %q: %s", k, line)
		}
	}
	if s["backend"] != backend {
		t.Errorf("backend = %v, want %s", s["backend"], backend)
	}
	if ts, _ := s["time"].(string); ts != "" {
		if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
			t.Errorf("time %q: %v", ts, err)
		}
	}
	if iv, _ := s["interval_ns"].(float64); iv <= 0 {
		t.Errorf("interval_ns = %v, want > 0", s["interval_ns"])
	}
	ifs, _ := s["interfaces"].([]any)
	for _, i := range ifs {
		m := i.(map[string]any)
		for _, k := range interfaceKeys {
			if _, ok := m[k]; !ok {
				t.Errorf("interface lacks %q: %v", k, m)
			}
		}
	}
	return s
}

func TestSnapshotJSONProcfs(t *testing.T) {
	r := netwatch(t, "snapshot", "--json", "-b", "procfs", "-w", "20ms", "-i", "lo")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	s := checkSample(t, []byte(r.stdout), "procfs")
	ifs := s["interfaces"].([]any)
	if len(ifs) != 1 || ifs[0].(map[string]any)["name"] != "lo" || ifs[0].(map[string]any)["index"] != 1.0 {
		t.Fatalf("interfaces = %v, want lo with index 1", ifs)
	}
	if iv := s["interval_ns"].(float64); iv < 20e6 {
		t.Errorf("interval_ns %v shorter than the 20ms window", iv)
	}
}

func TestSnapshotFixtureTable(t *testing.T) {
	r := netwatch(t, "snapshot", "-b", "procfs", "--proc-root", "testdata/proc", "-w", "1ms", "-i", "eth0,wlp*")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"IFACE", "eth0", "wlp2s0"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, " lo ") {
		t.Errorf("unselected lo in table:\n%s", r.stdout)
	}
}

func TestWatchCountFormats(t *testing.T) {
	t.Run("ndjson", func(t *testing.T) {
		r := netwatch(t, "watch", "-b", "procfs", "-n", "2ms", "-c", "5", "--json")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
		if len(lines) != 5 {
			t.Fatalf("%d lines, want 5:\n%s", len(lines), r.stdout)
		}
		for _, l := range lines {
			checkSample(t, []byte(l), "procfs")
		}
	})
	t.Run("csv", func(t *testing.T) {
		r := netwatch(t, "-b", "procfs", "--proc-root", "testdata/proc", "-n", "1ms", "-c", "2", "-f", "csv")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
		if len(lines) != 1+2*3 || !strings.HasPrefix(lines[0], "time,backend,") {
			t.Fatalf("csv = %q, want a header and 6 rows", r.stdout)
		}
	})
	t.Run("duration", func(t *testing.T) {
		// Five ticks fit; a tick a busy machine skips merges into the
		// next interval, so there may be fewer samples, never more.
		r := netwatch(t, "-b", "procfs", "-n", "10ms", "-d", "50ms", "-f", "ndjson")
		if n := strings.Count(r.stdout, "\n"); r.code != 0 || n < 1 || n > 5 {
			t.Fatalf("exit %d, %d samples in 50ms at 10ms, want 1 to 5: %s", r.code, n, r.stderr)
		}
	})
	t.Run("env vars", func(t *testing.T) {
		cmd := exec.Command(binary)
		r := runCmdEnv(t, cmd, "NETWATCH_BACKEND=procfs", "NETWATCH_INTERVAL=1ms", "NETWATCH_COUNT=3", "NETWATCH_FORMAT=ndjson", "NETWATCH_INTERFACE=lo")
		if n := strings.Count(r.stdout, "\n"); r.code != 0 || n != 3 {
			t.Fatalf("exit %d, %d lines, want 3: %s", r.code, n, r.stderr)
		}
	})
}

func runCmdEnv(t *testing.T, cmd *exec.Cmd, kv ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(cleanEnv(), kv...)
	err := cmd.Run()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, stdout.String(), stderr.String()}
}

// TestSignalMidStream interrupts a fast NDJSON stream: netwatch exits 0
// and every line it wrote is a whole, valid JSON object.
func TestSignalMidStream(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(binary, "watch", "-b", "procfs", "-n", "1ms", "-f", "ndjson")
			cmd.Env = cleanEnv()
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var all bytes.Buffer
			sc := bufio.NewReader(out)
			for range 20 { // let it stream a while
				line, err := sc.ReadBytes('\n')
				if err != nil {
					t.Fatal(err)
				}
				all.Write(line)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			rest, _ := io.ReadAll(sc)
			all.Write(rest)
			if err := cmd.Wait(); err != nil {
				t.Fatalf("exit after %v: %v (%s)", sig, err, stderr.String())
			}
			data := all.Bytes()
			if !bytes.HasSuffix(data, []byte("\n")) {
				t.Fatalf("output does not end with a whole line: %q", data[max(0, len(data)-80):])
			}
			for _, l := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
				checkSample(t, l, "procfs")
			}
		})
	}
}

func TestHelpTeaches(t *testing.T) {
	r := netwatch(t, "--help")
	for _, want := range []string{"watch", "snapshot", "list", "--interval", "--interface", "--backend", "NETWATCH_INTERVAL", "Examples:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
	if r.code != 0 {
		t.Errorf("--help exit %d", r.code)
	}
}

func TestListJSON(t *testing.T) {
	r := netwatch(t, "list", "--json", "-b", "procfs", "-i", "lo")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var l struct {
		Backend    string `json:"backend"`
		Interfaces []struct {
			Name    string `json:"name"`
			Index   int    `json:"index"`
			State   string `json:"state"`
			MTU     int    `json:"mtu"`
			Backend string `json:"backend"`
		} `json:"interfaces"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &l); err != nil {
		t.Fatalf("invalid JSON %q: %v", r.stdout, err)
	}
	if l.Backend != "procfs" || len(l.Interfaces) != 1 || l.Interfaces[0].Name != "lo" || l.Interfaces[0].Index != 1 ||
		l.Interfaces[0].MTU <= 0 || l.Interfaces[0].Backend != "procfs" {
		t.Fatalf("list = %+v", l)
	}
}

func TestCompletionScripts(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		r := netwatch(t, "completion", shell)
		if r.code != 0 || !strings.Contains(r.stdout, "netwatch") {
			t.Errorf("completion %s: exit %d, %q", shell, r.code, r.stderr)
		}
	}
	r := netwatch(t, "--generate-bash-completion")
	if !strings.Contains(r.stdout, "snapshot") {
		t.Errorf("bash completion does not offer commands: %q", r.stdout)
	}
}
