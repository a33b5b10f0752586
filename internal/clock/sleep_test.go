package clock

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A Sleeper returns at or after its deadline, at once for a past deadline,
// and with the context's error once the context is done.
func TestSleeper(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := NewSleeper(ctx)
	defer s.Close()
	for _, d := range []time.Duration{-time.Second, 0, time.Millisecond, 20 * time.Millisecond} {
		deadline := Monotonic() + d
		if err := s.Until(ctx, deadline); err != nil {
			t.Fatalf("Until(now%+v): %v", d, err)
		}
		if now := Monotonic(); now < deadline {
			t.Fatalf("Until(now%+v) returned %v before its deadline", d, deadline-now)
		}
	}
	done := make(chan error, 1)
	go func() { done <- s.Until(ctx, Monotonic()+time.Hour) }()
	time.Sleep(10 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("after cancel: %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Until did not return after cancel")
	}
	if err := s.Until(ctx, Monotonic()+time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Until after cancel: %v", err)
	}
}

// Wake ends a sleep in progress with ErrWoken, or the next one when none
// is in progress (wakes before it count as one); the sleep after that runs
// to its deadline.
func TestSleeperWake(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, s := range map[string]Sleeper{"timerfd": NewSleeper(ctx), "timer": newTimerSleeper()} {
		done := make(chan error, 1)
		go func() { done <- s.Until(ctx, Monotonic()+time.Hour) }()
		time.Sleep(10 * time.Millisecond)
		s.Wake()
		select {
		case err := <-done:
			if !errors.Is(err, ErrWoken) {
				t.Fatalf("%T after Wake: %v, want ErrWoken", s, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%T: Until did not return after Wake", s)
		}
		s.Wake()
		s.Wake()
		if err := s.Until(ctx, Monotonic()+time.Hour); !errors.Is(err, ErrWoken) {
			t.Fatalf("%T: Until after two wakes: %v, want ErrWoken", s, err)
		}
		deadline := Monotonic() + 20*time.Millisecond
		if err := s.Until(ctx, deadline); err != nil || Monotonic() < deadline {
			t.Fatalf("%T: the sleep after a wake: %v, %v before its deadline", s, err, deadline-Monotonic())
		}
		s.Close()
	}
}
