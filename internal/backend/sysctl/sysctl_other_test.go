//go:build !darwin

package sysctl

import (
	"context"
	"errors"
	"testing"

	"github.com/netwatch-dev/netwatch/internal/ifsel"
)

func TestOpenUnsupported(t *testing.T) {
	b, err := Open(ifsel.Selector{})
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Open: error %v, want errors.ErrUnsupported", err)
	}
	if b != nil {
		t.Errorf("Open returned a backend %v with the error", b)
	}
	if _, err := (&Backend{}).Read(context.Background()); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Read: error %v, want errors.ErrUnsupported", err)
	}
	if got := (&Backend{}).Source().Backend; got != "sysctl" {
		t.Errorf("Source().Backend = %q, want sysctl", got)
	}
}
