package ifsel

import (
	"strings"
	"testing"
)

// FuzzSelector checks that no pattern list makes New, Match, CheckExist or
// String panic, that errors are one line, and that exclusion wins: a name
// matching an exclude pattern is never selected.
func FuzzSelector(f *testing.F) {
	f.Add("eth*,wlp*", "lo", "eth0")
	f.Add("veth[0-3]", "", "veth2")
	f.Add("[", "", "x")
	f.Add(`\`, `a\`, `a\`)
	f.Add("*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?a", "", strings.Repeat("b", 64))
	f.Add(",,, ,", " , ", "")
	f.Add("lo\x00", "\n", "lo\x00")
	f.Add("[^a-]", "[]a]", "]")
	f.Fuzz(func(t *testing.T, include, exclude, name string) {
		s, err := New([]string{include}, []string{exclude})
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error of more than one line: %q", err)
			}
			return
		}
		if s.Match(name) {
			for _, p := range s.exclude {
				if matchAny([]string{p}, name) {
					t.Fatalf("%q selected although excluded by %q", name, p)
				}
			}
		}
		if err := s.CheckExist([]string{name, "lo"}); err != nil && strings.ContainsAny(err.Error(), "\r\n") && !strings.ContainsAny(include+name, "\r\n") {
			t.Fatalf("error of more than one line: %q", err)
		}
		_ = s.String()
	})
}
