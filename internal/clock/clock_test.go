package clock

import (
	"testing"
	"time"
)

func TestMonotonicAdvancesWithWallClock(t *testing.T) {
	a := Now()
	time.Sleep(20 * time.Millisecond)
	b := Now()
	dMono, dWall := b.Mono-a.Mono, b.Wall.Sub(a.Wall)
	if dMono < 20*time.Millisecond {
		t.Fatalf("monotonic clock advanced %v over a 20ms sleep", dMono)
	}
	// Both clocks measure the same sleep; they may differ by scheduling
	// between the two reads only, never by orders of magnitude.
	if diff := dMono - dWall; diff > 50*time.Millisecond || diff < -50*time.Millisecond {
		t.Fatalf("monotonic %v vs wall %v", dMono, dWall)
	}
	if w := a.WallAt(a.Mono + time.Second); !w.Equal(a.Wall.Add(time.Second)) {
		t.Fatalf("WallAt = %v", w)
	}
}
