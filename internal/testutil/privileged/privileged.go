// Package privileged gates tests that need root (CAP_BPF, CAP_NET_ADMIN,
// network namespaces) or a tool a fresh machine may lack (ethtool,
// bpftool, ip, setpriv). For a contributor without them such a test skips
// with a reason; under NETWATCH_PRIVILEGED_TESTS=require (set by CI) a test
// that would skip fails instead, so CI can never pass by silently skipping.
//
// # Skip messages
//
// Need and NeedTool skip with a message of the form
//
//	needs NAME (FIX)[: DETAIL]
//
// for example "needs root (run as root, or with sudo)" or
// "needs ethtool (apt-get install ethtool)". `make test` groups skipped
// tests by NAME and FIX in its closing summary line (ParseSkip reads the
// message back); a Skip with free text is listed under its own message.
package privileged

import (
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"testing"
)

// EnvVar is the environment variable that turns skips into failures.
const EnvVar = "NETWATCH_PRIVILEGED_TESTS"

// Required reports whether privileged tests must run.
func Required() bool { return os.Getenv(EnvVar) == "require" }

// A Requirement is something a test needs that a machine may lack.
type Requirement struct {
	Name string // what is missing: "root", "ethtool"
	Fix  string // how to get it: "run as root, or with sudo"
}

// Requirements of the privileged tests.
var (
	Root  = Requirement{"root", "run as root, or with sudo"}
	Linux = Requirement{"Linux", "run on Linux"}
)

// debianPackages maps the commands privileged tests run to the Debian
// packages that provide them (what .ci/run installs).
var debianPackages = map[string]string{
	"bpftool": "bpftool",
	"ethtool": "ethtool",
	"ip":      "iproute2",
	"node":    "nodejs",
	"npm":     "npm",
	// prometheus, promtool: the serve tests (a real server, check metrics).
	"prometheus": "prometheus",
	"promtool":   "prometheus",
	"setpriv":    "util-linux",
	"tmux":       "tmux",
}

// Tool is the requirement of running command cmd, with the Debian package
// that provides it as the fix.
func Tool(cmd string) Requirement {
	if pkg, ok := debianPackages[cmd]; ok {
		return Requirement{cmd, "apt-get install " + pkg}
	}
	return Requirement{cmd, "install " + cmd}
}

// String is the skip message for r: "needs NAME (FIX)".
func (r Requirement) String() string { return "needs " + r.Name + " (" + r.Fix + ")" }

var skipRE = regexp.MustCompile(`^needs ([^()]+?) \(([^()]+)\)(?:$|: )`)

// ParseSkip reads a skip message written by Need, NeedTool or SkipFor
// back into its requirement; ok is false for any other message.
func ParseSkip(msg string) (r Requirement, ok bool) {
	m := skipRE.FindStringSubmatch(msg)
	if m == nil {
		return Requirement{}, false
	}
	return Requirement{m[1], m[2]}, true
}

// Need skips t (or fails it under NETWATCH_PRIVILEGED_TESTS=require) unless
// the test runs on Linux as root.
func Need(t testing.TB) {
	t.Helper()
	switch {
	case runtime.GOOS != "linux":
		SkipFor(t, Linux, "privileged tests use eBPF and network namespaces")
	case os.Geteuid() != 0:
		SkipFor(t, Root, "eBPF and network namespaces need CAP_BPF and CAP_NET_ADMIN")
	}
}

// NeedTool skips t (or fails it under NETWATCH_PRIVILEGED_TESTS=require)
// unless each command is in PATH.
func NeedTool(t testing.TB, cmds ...string) {
	t.Helper()
	for _, cmd := range cmds {
		if _, err := exec.LookPath(cmd); err != nil {
			SkipFor(t, Tool(cmd), cmd+" not found in PATH")
		}
	}
}

// SkipFor skips t because r is missing, or fails it when privileged tests
// are required. detail may be empty.
func SkipFor(t testing.TB, r Requirement, detail string) {
	t.Helper()
	msg := r.String()
	if detail != "" {
		msg += ": " + detail
	}
	Skip(t, msg)
}

// Skip skips t with reason, or fails it when privileged tests are required.
// Use it for any other missing prerequisite of a privileged test (a kernel
// feature) so that CI notices; prefer SkipFor, whose reason `make test`
// can group.
func Skip(t testing.TB, reason string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s=require but the test cannot run: %s", EnvVar, reason)
	}
	t.Skip(reason)
}
