package privileged

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// fakeTB records what the gate does to a test. Skip and Fatalf end the
// calling goroutine like the real ones, so run the gate through call.
type fakeTB struct {
	testing.TB
	skipped, fatal string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Skip(args ...any) {
	f.skipped = fmt.Sprint(args...)
	runtime.Goexit()
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// call runs gate on a fakeTB and reports what happened to it.
func call(gate func(testing.TB)) *fakeTB {
	f := &fakeTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		gate(f)
	}()
	<-done
	return f
}

func TestSkipFor(t *testing.T) {
	tests := []struct {
		name, env, detail string
		r                 Requirement
		skipped, fatal    string
	}{
		{"root", "", "", Root, "needs root (run as root, or with sudo)", ""},
		{"tool with detail", "", "ethtool not found in PATH", Tool("ethtool"),
			"needs ethtool (apt-get install ethtool): ethtool not found in PATH", ""},
		{"other value of the variable", "yes", "", Root, "needs root (run as root, or with sudo)", ""},
		{"required", "require", "x", Tool("ip"), "",
			"NETWATCH_PRIVILEGED_TESTS=require but the test cannot run: needs ip (apt-get install iproute2): x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvVar, tt.env)
			f := call(func(tb testing.TB) { SkipFor(tb, tt.r, tt.detail) })
			if f.skipped != tt.skipped || f.fatal != tt.fatal {
				t.Errorf("skipped %q, fatal %q; want skipped %q, fatal %q", f.skipped, f.fatal, tt.skipped, tt.fatal)
			}
		})
	}
}

func TestNeedTool(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ethtool"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	t.Setenv(EnvVar, "")
	tests := []struct {
		cmds    []string
		skipped string
	}{
		{[]string{"ethtool"}, ""},
		{nil, ""},
		{[]string{"ethtool", "bpftool"}, "needs bpftool (apt-get install bpftool): bpftool not found in PATH"},
		{[]string{"setpriv", "ethtool"}, "needs setpriv (apt-get install util-linux): setpriv not found in PATH"},
		{[]string{"nw-no-such-tool"}, "needs nw-no-such-tool (install nw-no-such-tool): nw-no-such-tool not found in PATH"},
	}
	for _, tt := range tests {
		f := call(func(tb testing.TB) { NeedTool(tb, tt.cmds...) })
		if f.skipped != tt.skipped || f.fatal != "" {
			t.Errorf("NeedTool(%q): skipped %q, fatal %q; want skipped %q", tt.cmds, f.skipped, f.fatal, tt.skipped)
		}
	}
}

func TestNeed(t *testing.T) {
	t.Setenv(EnvVar, "")
	f := call(Need)
	want := ""
	switch {
	case runtime.GOOS != "linux":
		want = "needs Linux (run on Linux): privileged tests use eBPF and network namespaces"
	case os.Geteuid() != 0:
		want = "needs root (run as root, or with sudo): eBPF and network namespaces need CAP_BPF and CAP_NET_ADMIN"
	}
	if f.skipped != want || f.fatal != "" {
		t.Errorf("Need as uid %d on %s: skipped %q, fatal %q; want skipped %q", os.Geteuid(), runtime.GOOS, f.skipped, f.fatal, want)
	}
}

func TestParseSkip(t *testing.T) {
	tests := []struct {
		msg string
		r   Requirement
		ok  bool
	}{
		{Root.String(), Root, true},
		{Tool("bpftool").String() + ": bpftool not found in PATH", Tool("bpftool"), true},
		{"needs 2 CPUs (a machine with at least 2 CPUs): merging bins", Requirement{"2 CPUs", "a machine with at least 2 CPUs"}, true},
		{"needs root (run as root) and more", Requirement{}, false},
		{"needs at least 2 CPUs to merge bins across CPUs", Requirement{}, false},
		{"ethtool not installed", Requirement{}, false},
		{"needs root", Requirement{}, false},
		{"", Requirement{}, false},
	}
	for _, tt := range tests {
		r, ok := ParseSkip(tt.msg)
		if r != tt.r || ok != tt.ok {
			t.Errorf("ParseSkip(%q) = %+v, %v; want %+v, %v", tt.msg, r, ok, tt.r, tt.ok)
		}
	}
}
