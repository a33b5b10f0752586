package main

import (
	"bytes"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/netwatch-dev/netwatch/internal/backend/ebpf"
)

func TestVersionOutput(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"netwatch", "--version"}, &out, &errOut); err != nil {
		t.Fatalf("--version: %v (stderr %q)", err, errOut.String())
	}
	got := out.String()
	for _, want := range []string{
		"netwatch " + version + "\n",
		"  commit:      ",
		"  commit date: ",
		"  go:          " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n",
		"  bpf object:  ",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("--version output lacks %q:\n%s", want, got)
		}
	}
	if h := ebpf.ObjectSHA256(); h != "" && !strings.Contains(got, "sha256:"+h) {
		t.Errorf("--version output lacks the BPF object hash %s:\n%s", h, got)
	}
}

// Without -ldflags the toolchain's record fills commit and date; values set
// with -ldflags win.
func TestVersionDefaults(t *testing.T) {
	bi := &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "true"},
	}}
	got := buildInfo{Version: "dev"}.withDefaults(bi)
	if got.Version != "v1.2.3" || got.Commit != "abc (modified)" || got.Date != "2026-01-02T03:04:05Z" {
		t.Errorf("from build info: %+v", got)
	}
	got = buildInfo{Version: "v9", Commit: "def", Date: "2027-01-01T00:00:00Z"}.withDefaults(bi)
	if got.Version != "v9" || got.Commit != "def" || got.Date != "2027-01-01T00:00:00Z" {
		t.Errorf("ldflags must win: %+v", got)
	}
}
