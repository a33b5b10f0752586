package ebpf

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

func TestMissingCaps(t *testing.T) {
	bit := func(caps ...int) (m uint64) {
		for _, c := range caps {
			m |= 1 << uint(c)
		}
		return m
	}
	for _, tt := range []struct {
		name string
		caps uint64
		want []string
	}{
		{"none", 0, []string{"CAP_BPF", "CAP_NET_ADMIN"}},
		{"CAP_BPF only", bit(unix.CAP_BPF), []string{"CAP_NET_ADMIN"}},
		{"CAP_NET_ADMIN only", bit(unix.CAP_NET_ADMIN), []string{"CAP_BPF"}},
		{"both", bit(unix.CAP_BPF, unix.CAP_NET_ADMIN), nil},
		{"CAP_SYS_ADMIN stands in for both", bit(unix.CAP_SYS_ADMIN), nil},
		{"unrelated ones", bit(unix.CAP_PERFMON, unix.CAP_SYS_RESOURCE, unix.CAP_NET_RAW), []string{"CAP_BPF", "CAP_NET_ADMIN"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := missingCaps(tt.caps); !slices.Equal(got, tt.want) {
				t.Errorf("missingCaps(%#x) = %v, want %v", tt.caps, got, tt.want)
			}
		})
	}
	// One line that names them and still wraps EPERM.
	err := fmt.Errorf("ebpf: %w", capsError{missing: []string{"CAP_NET_ADMIN"}, err: unix.EPERM})
	if want := "ebpf: missing CAP_NET_ADMIN (netwatch's tc/XDP programs need CAP_BPF and CAP_NET_ADMIN; operation not permitted)"; err.Error() != want || !errors.Is(err, unix.EPERM) {
		t.Errorf("%q (EPERM: %v), want %q", err, errors.Is(err, unix.EPERM), want)
	}
}
