// Package privileged gates tests that need root (CAP_BPF, CAP_NET_ADMIN,
// network namespaces). For a contributor without privileges they skip with a
// reason; under NETWATCH_PRIVILEGED_TESTS=require (set by CI) a test that
// would skip fails instead, so CI can never pass by silently skipping.
package privileged

import (
	"os"
	"runtime"
	"testing"
)

// EnvVar is the environment variable that turns skips into failures.
const EnvVar = "NETWATCH_PRIVILEGED_TESTS"

// Required reports whether privileged tests must run.
func Required() bool { return os.Getenv(EnvVar) == "require" }

// Need skips t (or fails it under NETWATCH_PRIVILEGED_TESTS=require) unless
// the test runs on Linux as root.
func Need(t testing.TB) {
	t.Helper()
	switch {
	case runtime.GOOS != "linux":
		Skip(t, "privileged tests need Linux")
	case os.Geteuid() != 0:
		Skip(t, "privileged test: run as root (CAP_BPF, CAP_NET_ADMIN) to enable")
	}
}

// Skip skips t with reason, or fails it when privileged tests are required.
// Use it for any other missing prerequisite of a privileged test (a tool, a
// kernel feature) so that CI notices.
func Skip(t testing.TB, reason string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s=require but the test cannot run: %s", EnvVar, reason)
	}
	t.Skip(reason)
}
