package sampler

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/netwatch-dev/netwatch/internal/stats"
)

// Interfaces coming, going and being renamed are logged at one level, info,
// in both loops.
func TestInterfaceChangesLogAtInfo(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	r := &fakeReader{clock: &fakeClock{}, script: [][]stats.InterfaceCounters{
		{ifc("a", 2, 0, 0, 0, 0), ifc("b", 3, 0, 0, 0, 0)},
		{ifc("a", 2, 0, 0, 0, 0), ifc("c", 3, 0, 0, 0, 0), ifc("d", 4, 0, 0, 0, 0)},
		{ifc("a", 2, 0, 0, 0, 0), ifc("d", 4, 0, 0, 0, 0)},
	}}
	run(t, r, Config{Interval: time.Second, Count: 2, Logger: log})
	f := &fakeBins{width: time.Millisecond, clk: &fakeClock{now: 10 * time.Millisecond}, next: 10, ifaces: []string{"x"}, perBin: burst,
		name: func(_ int, now time.Duration) string {
			if now < 15*time.Millisecond {
				return "x"
			}
			return "y"
		}}
	runBins(t, f, BinConfig{Interval: 5 * time.Millisecond, Count: 3, Logger: log})
	out := buf.String()
	for _, want := range []string{
		`level=INFO msg="interface appeared" interface=d`,
		`level=INFO msg="interface renamed" interface=c old_name=b`,
		`level=INFO msg="interface vanished" interface=c`,
		`level=INFO msg="interface renamed" interface=y old_name=x`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "interface appeared\" interface=a") || strings.Contains(out, "interface appeared\" interface=x") {
		t.Errorf("interfaces present at the start are not news:\n%s", out)
	}
}
