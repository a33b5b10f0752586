// Package fails is run by maketest through `make test`: one test fails.
package fails

import "testing"

func TestSkips(t *testing.T) { t.Skip("needs root (run as root, or with sudo)") }

func TestFails(t *testing.T) { t.Error("failed on purpose") }
