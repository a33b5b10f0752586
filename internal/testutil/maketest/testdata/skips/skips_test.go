// Package skips is run by maketest through `make test`: one test passes,
// the others skip for the reasons the summary line must count.
package skips

import (
	"testing"

	"github.com/netwatch-dev/netwatch/internal/testutil/privileged"
)

func TestPasses(t *testing.T) {}

func TestRoot(t *testing.T) { privileged.SkipFor(t, privileged.Root, "as Need says it") }

func TestTools(t *testing.T) {
	for _, tool := range []string{"ethtool", "bpftool"} {
		t.Run(tool, func(t *testing.T) { privileged.SkipFor(t, privileged.Tool(tool), "") })
	}
}

func TestEthtoolAgain(t *testing.T) { privileged.SkipFor(t, privileged.Tool("ethtool"), "") }

func TestFreeText(t *testing.T) { t.Skip("not on this kernel") }
