package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/urfave/cli/v2"

	"github.com/netwatch-dev/netwatch/internal/backend/ebpf"
)

// Set at build time by `make build` and `make release` (scripts/release/build.sh):
//
//	-X main.version=v1.2.3 -X main.commit=<full hash> -X main.buildDate=<commit time, UTC>
//
// The date is the commit's, never the clock's, so that two builds of one
// commit are byte-identical. A binary built without them (go install, go
// build) falls back to what the Go toolchain recorded (the module version,
// and vcs.revision / vcs.time when built inside a git checkout).
var (
	commit    = ""
	buildDate = ""
)

func init() {
	cli.VersionPrinter = func(c *cli.Context) { printVersion(c.App.Writer) }
}

// buildInfo is what `netwatch --version` prints.
type buildInfo struct {
	Version, Commit, Date, Go, Platform, BPFObject string
}

func currentBuild() buildInfo {
	b := buildInfo{
		Version:   version,
		Commit:    commit,
		Date:      buildDate,
		Go:        runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
		BPFObject: ebpf.ObjectSHA256(),
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		b = b.withDefaults(bi)
	}
	return b
}

// withDefaults fills what -ldflags did not set from the toolchain's record.
func (b buildInfo) withDefaults(bi *debug.BuildInfo) buildInfo {
	if b.Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		b.Version = bi.Main.Version
	}
	var revision, date string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.time":
			date = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if b.Commit == "" && revision != "" {
		b.Commit = revision
		if modified {
			b.Commit += " (modified)"
		}
	}
	if b.Date == "" {
		b.Date = date
	}
	return b
}

func printVersion(w io.Writer) {
	b := currentBuild()
	unknown := func(s string) string {
		if s == "" {
			return "unknown"
		}
		return s
	}
	bpf := "none (no eBPF backend on " + b.Platform + ")"
	if b.BPFObject != "" {
		bpf = "sha256:" + b.BPFObject
	}
	fmt.Fprintf(w, "netwatch %s\n", b.Version)
	fmt.Fprintf(w, "  commit:      %s\n", unknown(b.Commit))
	fmt.Fprintf(w, "  commit date: %s\n", unknown(b.Date))
	fmt.Fprintf(w, "  go:          %s %s\n", b.Go, b.Platform)
	fmt.Fprintf(w, "  bpf object:  %s\n", bpf)
}
