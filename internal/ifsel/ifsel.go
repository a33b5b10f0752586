// Package ifsel selects interfaces by name: shell-style glob patterns to
// include and exclude, given as repeated flags or comma-separated lists.
package ifsel

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Limits on names and patterns.
const (
	// MaxNameLen is the longest interface name Linux and macOS allow
	// (IFNAMSIZ - 1).
	MaxNameLen = 15
	// MaxPatternLen bounds one pattern: a glob matching names of at most
	// 15 bytes has no use for more, and a mistake (a file pasted into -i)
	// would otherwise be matched against every name on every read.
	MaxPatternLen = 256
)

// Selector decides which interfaces are watched. The zero value selects all.
type Selector struct {
	include []string
	exclude []string
}

// New builds a Selector from include and exclude arguments. Each argument may
// hold several comma-separated patterns. An empty include list selects every
// interface. A malformed glob is an error naming the pattern.
func New(include, exclude []string) (Selector, error) {
	inc, err := patterns(include)
	if err != nil {
		return Selector{}, err
	}
	exc, err := patterns(exclude)
	if err != nil {
		return Selector{}, err
	}
	return Selector{include: inc, exclude: exc}, nil
}

func patterns(args []string) ([]string, error) {
	var out []string
	for _, arg := range args {
		for p := range strings.SplitSeq(arg, ",") {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			if len(p) > MaxPatternLen {
				return nil, fmt.Errorf("interface pattern %s of %d bytes is too long (at most %d)", quoteShort(p), len(p), MaxPatternLen)
			}
			if _, err := path.Match(p, ""); err != nil {
				return nil, fmt.Errorf("bad interface pattern %q: %w", p, err)
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// Match reports whether the interface called name is selected.
func (s Selector) Match(name string) bool {
	if len(s.include) > 0 && !matchAny(s.include, name) {
		return false
	}
	return !matchAny(s.exclude, name)
}

func matchAny(pats []string, name string) bool {
	for _, p := range pats {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// CheckExist returns an error when an include pattern without glob
// characters names no existing interface, listing the interfaces that exist.
// Glob patterns may legitimately match nothing yet.
func (s Selector) CheckExist(existing []string) error {
	for _, p := range s.include {
		if strings.ContainsAny(p, `*?[\`) {
			continue
		}
		if len(p) > MaxNameLen {
			return fmt.Errorf("interface name %s is %d bytes, longer than any interface name can be (%d)", quoteShort(p), len(p), MaxNameLen)
		}
		if !slices.Contains(existing, p) {
			sorted := slices.Clone(existing)
			slices.Sort(sorted)
			return fmt.Errorf("unknown interface %q (have: %s)", p, strings.Join(sorted, ", "))
		}
	}
	return nil
}

// String describes the selection for diagnostics.
func (s Selector) String() string {
	inc := "all"
	if len(s.include) > 0 {
		inc = strings.Join(s.include, ",")
	}
	if len(s.exclude) == 0 {
		return inc
	}
	return inc + " except " + strings.Join(s.exclude, ",")
}

// quoteShort quotes s for an error message, cut to its first 32 bytes.
func quoteShort(s string) string {
	const max = 32
	if len(s) <= max {
		return strconv.Quote(s)
	}
	return strconv.Quote(strings.ToValidUTF8(s[:max], "")) + "…"
}
