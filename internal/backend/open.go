package backend

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/netwatch-dev/netwatch/internal/backend/ebpf/attach"
	"github.com/netwatch-dev/netwatch/internal/ifsel"
)

// Backend names.
const (
	Auto   = "auto"
	EBPF   = "ebpf"
	Procfs = "procfs"
	Sysctl = "sysctl"
)

// Names lists the values --backend accepts.
var Names = []string{Auto, EBPF, Procfs, Sysctl}

// ErrUnavailable is wrapped by errors for a backend that cannot run on this
// system at all (wrong OS).
var ErrUnavailable = errors.New("backend not available on this system")

// Options say which backend to open and how.
type Options struct {
	// Name is one of Names.
	Name     string
	Selector ifsel.Selector
	// Attach and XDPMode configure the ebpf backend.
	Attach  attach.Mode
	XDPMode attach.XDPMode
	// Resolution is the ebpf backend's in-kernel time-bin width; 0 = no bins.
	Resolution time.Duration
	// BinsMemory bounds the ebpf backend's ring buffer of bins, in bytes;
	// 0 = its default.
	BinsMemory uint64
	// ProcRoot is where procfs is mounted ("" = /proc).
	ProcRoot string
}

// Opened is an open backend and, when auto-selection had to fall back,
// why the preferred backend could not run.
type Opened struct {
	Backend
	// Fallback is empty unless auto fell back; then it names the backend
	// that was skipped and the reason, in one line.
	Fallback string
}

// ValidateName checks a --backend value.
func ValidateName(name string) error {
	if !slices.Contains(Names, name) {
		return fmt.Errorf("unknown backend %q (want one of: %s)", name, strings.Join(Names, ", "))
	}
	return nil
}

// Open opens the named backend. An explicitly named backend that cannot run
// is an error, never a silent substitute; auto tries the platform's
// preference order and reports a fallback.
func Open(ctx context.Context, opts Options) (Opened, error) {
	if err := ValidateName(opts.Name); err != nil {
		return Opened{}, err
	}
	if opts.Name != Auto {
		b, err := openNamed(ctx, opts.Name, opts)
		if err != nil {
			return Opened{}, fmt.Errorf("%s backend: %w", opts.Name, err)
		}
		return Opened{Backend: b}, nil
	}
	var reasons []string
	for _, name := range preference {
		b, err := openNamed(ctx, name, opts)
		if err == nil {
			fallback := ""
			if len(reasons) > 0 {
				fallback = joinReasons(reasons) + "; using " + name
			}
			return Opened{Backend: b, Fallback: fallback}, nil
		}
		if ctx.Err() != nil {
			return Opened{}, ctx.Err()
		}
		reasons = append(reasons, fmt.Sprintf("%s unavailable: %v", name, oneLine(err)))
	}
	return Opened{}, fmt.Errorf("no backend can run: %s", joinReasons(reasons))
}

func joinReasons(reasons []string) string { return strings.Join(reasons, "; ") }

// oneLine keeps a multi-line error (such as a verifier log) to its first line.
func oneLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
