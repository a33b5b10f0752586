package main

import (
	"bytes"
	"runtime"
	"strings"
	"testing"

	"github.com/netwatch-dev/netwatch/internal/testutil/privileged"
)

// The inputs are `go test -json` lines recorded with Go 1.26 (the Time
// field removed); want is what plain `go test` (or `go test -v`) printed
// for the same packages, followed by the summary line.
func TestRenderer(t *testing.T) {
	tests := []struct {
		name     string
		verbose  bool
		in       string
		out, err string
	}{{
		name: "passing package: logs hidden, the test's stdout shown, PASS dropped",
		in: `{"Action":"start","Package":"tj"}
{"Action":"run","Package":"tj","Test":"TestPass"}
{"Action":"output","Package":"tj","Test":"TestPass","Output":"=== RUN   TestPass\n"}
{"Action":"output","Package":"tj","Test":"TestPass","Output":"    x_test.go:3: hello\n"}
{"Action":"output","Package":"tj","Test":"TestPass","Output":"stdout line\n"}
{"Action":"output","Package":"tj","Test":"TestPass","Output":"--- PASS: TestPass (0.00s)\n"}
{"Action":"pass","Package":"tj","Test":"TestPass","Elapsed":0}
{"Action":"output","Package":"tj","Output":"PASS\n"}
{"Action":"output","Package":"tj","Output":"ok  \ttj\t0.004s\n"}
{"Action":"pass","Package":"tj","Elapsed":0.004}
{"Action":"start","Package":"tj/empty"}
{"Action":"output","Package":"tj/empty","Output":"?   \ttj/empty\t[no test files]\n"}
{"Action":"skip","Package":"tj/empty","Elapsed":0}
`,
		out: "stdout line\nok  \ttj\t0.004s\n?   \ttj/empty\t[no test files]\nnetwatch: no tests skipped\n",
	}, {
		name: "skips grouped by requirement, then by message",
		in: `{"Action":"run","Package":"tj","Test":"TestSkip"}
{"Action":"output","Package":"tj","Test":"TestSkip","Output":"=== RUN   TestSkip\n"}
{"Action":"output","Package":"tj","Test":"TestSkip","Output":"    x_test.go:4: before\n"}
{"Action":"output","Package":"tj","Test":"TestSkip","Output":"    x_test.go:4: needs root (run as root, or with sudo): detail\n"}
{"Action":"output","Package":"tj","Test":"TestSkip","Output":"        second line\n"}
{"Action":"output","Package":"tj","Test":"TestSkip","Output":"--- SKIP: TestSkip (0.00s)\n"}
{"Action":"skip","Package":"tj","Test":"TestSkip","Elapsed":0}
{"Action":"run","Package":"tj","Test":"TestPar"}
{"Action":"output","Package":"tj","Test":"TestPar","Output":"=== RUN   TestPar\n"}
{"Action":"run","Package":"tj","Test":"TestPar/a"}
{"Action":"output","Package":"tj","Test":"TestPar/a","Output":"=== RUN   TestPar/a\n"}
{"Action":"output","Package":"tj","Test":"TestPar/a","Output":"=== PAUSE TestPar/a\n"}
{"Action":"pause","Package":"tj","Test":"TestPar/a"}
{"Action":"run","Package":"tj","Test":"TestPar/b"}
{"Action":"output","Package":"tj","Test":"TestPar/b","Output":"=== RUN   TestPar/b\n"}
{"Action":"output","Package":"tj","Test":"TestPar/b","Output":"=== PAUSE TestPar/b\n"}
{"Action":"pause","Package":"tj","Test":"TestPar/b"}
{"Action":"cont","Package":"tj","Test":"TestPar/a"}
{"Action":"output","Package":"tj","Test":"TestPar/a","Output":"=== CONT  TestPar/a\n"}
{"Action":"output","Package":"tj","Test":"TestPar/a","Output":"    x_test.go:6: needs ethtool (apt-get install ethtool): ethtool not found in PATH\n"}
{"Action":"output","Package":"tj","Test":"TestPar/a","Output":"--- SKIP: TestPar/a (0.00s)\n"}
{"Action":"skip","Package":"tj","Test":"TestPar/a","Elapsed":0}
{"Action":"cont","Package":"tj","Test":"TestPar/b"}
{"Action":"output","Package":"tj","Test":"TestPar/b","Output":"=== CONT  TestPar/b\n"}
{"Action":"output","Package":"tj","Test":"TestPar/b","Output":"    x_test.go:6: needs root (run as root, or with sudo)\n"}
{"Action":"output","Package":"tj","Test":"TestPar/b","Output":"--- SKIP: TestPar/b (0.00s)\n"}
{"Action":"skip","Package":"tj","Test":"TestPar/b","Elapsed":0}
{"Action":"output","Package":"tj","Test":"TestPar","Output":"--- PASS: TestPar (0.00s)\n"}
{"Action":"pass","Package":"tj","Test":"TestPar","Elapsed":0}
{"Action":"run","Package":"tj","Test":"TestNoNewline"}
{"Action":"output","Package":"tj","Test":"TestNoNewline","Output":"=== RUN   TestNoNewline\n"}
{"Action":"output","Package":"tj","Test":"TestNoNewline","Output":"progress 50%    p_test.go:3: flaky on this kernel\n"}
{"Action":"output","Package":"tj","Test":"TestNoNewline","Output":"--- SKIP: TestNoNewline (0.00s)\n"}
{"Action":"skip","Package":"tj","Test":"TestNoNewline","Elapsed":0}
{"Action":"run","Package":"tj","Test":"TestNoReason"}
{"Action":"output","Package":"tj","Test":"TestNoReason","Output":"=== RUN   TestNoReason\n"}
{"Action":"output","Package":"tj","Test":"TestNoReason","Output":"--- SKIP: TestNoReason (0.00s)\n"}
{"Action":"skip","Package":"tj","Test":"TestNoReason","Elapsed":0}
{"Action":"output","Package":"tj","Output":"PASS\n"}
{"Action":"output","Package":"tj","Output":"ok  \ttj\t0.006s\n"}
{"Action":"pass","Package":"tj","Elapsed":0.007}
`,
		out: "progress 50%    p_test.go:3: flaky on this kernel\nok  \ttj\t0.006s\n" +
			`netwatch: 5 tests skipped: 2 need root (run as root, or with sudo), 1 needs ethtool (apt-get install ethtool), 1: "flaky on this kernel", 1: "no reason given"` + "\n",
	}, {
		name: "failing subtests nest under their parent; passing and skipped ones stay hidden",
		in: `{"Action":"run","Package":"tj","Test":"TestFail"}
{"Action":"output","Package":"tj","Test":"TestFail","Output":"=== RUN   TestFail\n"}
{"Action":"output","Package":"tj","Test":"TestFail","Output":"    x_test.go:5: log1\n"}
{"Action":"run","Package":"tj","Test":"TestFail/sub_ok"}
{"Action":"output","Package":"tj","Test":"TestFail/sub_ok","Output":"=== RUN   TestFail/sub_ok\n"}
{"Action":"output","Package":"tj","Test":"TestFail/sub_ok","Output":"    x_test.go:5: subok\n"}
{"Action":"output","Package":"tj","Test":"TestFail/sub_ok","Output":"--- PASS: TestFail/sub_ok (0.00s)\n"}
{"Action":"pass","Package":"tj","Test":"TestFail/sub_ok","Elapsed":0}
{"Action":"run","Package":"tj","Test":"TestFail/sub_bad"}
{"Action":"output","Package":"tj","Test":"TestFail/sub_bad","Output":"=== RUN   TestFail/sub_bad\n"}
{"Action":"output","Package":"tj","Test":"TestFail/sub_bad","Output":"    x_test.go:5: bad\n"}
{"Action":"output","Package":"tj","Test":"TestFail/sub_bad","Output":"        multi\n"}
{"Action":"run","Package":"tj","Test":"TestFail/sub_bad/deeper"}
{"Action":"output","Package":"tj","Test":"TestFail/sub_bad/deeper","Output":"=== RUN   TestFail/sub_bad/deeper\n"}
{"Action":"output","Package":"tj","Test":"TestFail/sub_bad/deeper","Output":"    x_test.go:5: deep\n"}
{"Action":"output","Package":"tj","Test":"TestFail/sub_bad/deeper","Output":"--- FAIL: TestFail/sub_bad/deeper (0.00s)\n"}
{"Action":"fail","Package":"tj","Test":"TestFail/sub_bad/deeper","Elapsed":0}
{"Action":"output","Package":"tj","Test":"TestFail/sub_bad","Output":"--- FAIL: TestFail/sub_bad (0.00s)\n"}
{"Action":"fail","Package":"tj","Test":"TestFail/sub_bad","Elapsed":0}
{"Action":"output","Package":"tj","Test":"TestFail","Output":"    x_test.go:5: log2\n"}
{"Action":"run","Package":"tj","Test":"TestFail/sub_skip"}
{"Action":"output","Package":"tj","Test":"TestFail/sub_skip","Output":"=== RUN   TestFail/sub_skip\n"}
{"Action":"output","Package":"tj","Test":"TestFail/sub_skip","Output":"    x_test.go:5: needs ethtool (apt-get install ethtool)\n"}
{"Action":"output","Package":"tj","Test":"TestFail/sub_skip","Output":"--- SKIP: TestFail/sub_skip (0.00s)\n"}
{"Action":"skip","Package":"tj","Test":"TestFail/sub_skip","Elapsed":0}
{"Action":"output","Package":"tj","Test":"TestFail","Output":"--- FAIL: TestFail (0.00s)\n"}
{"Action":"fail","Package":"tj","Test":"TestFail","Elapsed":0}
{"Action":"output","Package":"tj","Output":"FAIL\n"}
{"Action":"output","Package":"tj","Output":"FAIL\ttj\t0.007s\n"}
{"Action":"fail","Package":"tj","Elapsed":0.007}
`,
		out: `--- FAIL: TestFail (0.00s)
    x_test.go:5: log1
    --- FAIL: TestFail/sub_bad (0.00s)
        x_test.go:5: bad
            multi
        --- FAIL: TestFail/sub_bad/deeper (0.00s)
            x_test.go:5: deep
    x_test.go:5: log2
FAIL
FAIL	tj	0.007s
FAIL
netwatch: 1 test skipped: 1 needs ethtool (apt-get install ethtool)
`,
	}, {
		name: "panic after the result line, build errors on stderr",
		in: `{"ImportPath":"tj/bad [tj/bad.test]","Action":"build-output","Output":"# tj/bad [tj/bad.test]\n"}
{"ImportPath":"tj/bad [tj/bad.test]","Action":"build-output","Output":"bad/b_test.go:3:27: undefined: undefined\n"}
{"ImportPath":"tj/bad [tj/bad.test]","Action":"build-fail"}
{"Action":"start","Package":"tj/bad"}
{"Action":"output","Package":"tj/bad","Output":"FAIL\ttj/bad [build failed]\n"}
{"Action":"fail","Package":"tj/bad","Elapsed":0,"FailedBuild":"tj/bad [tj/bad.test]"}
{"Action":"start","Package":"tj/pan"}
{"Action":"run","Package":"tj/pan","Test":"TestP"}
{"Action":"output","Package":"tj/pan","Test":"TestP","Output":"=== RUN   TestP\n"}
{"Action":"output","Package":"tj/pan","Test":"TestP","Output":"    p_test.go:4: before panic\n"}
{"Action":"output","Package":"tj/pan","Test":"TestP","Output":"--- FAIL: TestP (0.00s)\n"}
{"Action":"output","Package":"tj/pan","Test":"TestP","Output":"panic: boom [recovered, repanicked]\n"}
{"Action":"output","Package":"tj/pan","Test":"TestP","Output":"\n"}
{"Action":"output","Package":"tj/pan","Test":"TestP","Output":"goroutine 20 [running]:\n"}
{"Action":"output","Package":"tj/pan","Test":"TestP","Output":"\t/tmp/tj/pan/p_test.go:4 +0x4d\n"}
{"Action":"fail","Package":"tj/pan","Test":"TestP","Elapsed":0}
{"Action":"output","Package":"tj/pan","Output":"FAIL\ttj/pan\t0.007s\n"}
{"Action":"fail","Package":"tj/pan","Elapsed":0.007}
`,
		out: `FAIL	tj/bad [build failed]
--- FAIL: TestP (0.00s)
    p_test.go:4: before panic
panic: boom [recovered, repanicked]

goroutine 20 [running]:
	/tmp/tj/pan/p_test.go:4 +0x4d
FAIL	tj/pan	0.007s
FAIL
netwatch: no tests skipped
`,
		err: "# tj/bad [tj/bad.test]\nbad/b_test.go:3:27: undefined: undefined\n",
	}, {
		name: "timeout: the logs of unfinished tests, before the package's FAIL line",
		in: `{"Action":"run","Package":"tj/hang","Test":"TestHang"}
{"Action":"output","Package":"tj/hang","Test":"TestHang","Output":"=== RUN   TestHang\n"}
{"Action":"output","Package":"tj/hang","Test":"TestHang","Output":"    h_test.go:3: waiting\n"}
{"Action":"run","Package":"tj/hang","Test":"TestHang/sub"}
{"Action":"output","Package":"tj/hang","Test":"TestHang/sub","Output":"=== RUN   TestHang/sub\n"}
{"Action":"output","Package":"tj/hang","Test":"TestHang/sub","Output":"    h_test.go:3: in sub\n"}
{"Action":"output","Package":"tj/hang","Test":"TestHang/sub","Output":"panic: test timed out after 1s\n"}
{"Action":"output","Package":"tj/hang","Test":"TestHang/sub","Output":"\trunning tests:\n"}
{"Action":"output","Package":"tj/hang","Output":"FAIL\ttj/hang\t1.007s\n"}
{"Action":"fail","Package":"tj/hang","Elapsed":1.012}
`,
		out: `panic: test timed out after 1s
	running tests:
--- FAIL: TestHang (unfinished)
    h_test.go:3: waiting
    --- FAIL: TestHang/sub (unfinished)
        h_test.go:3: in sub
FAIL	tj/hang	1.007s
FAIL
netwatch: no tests skipped
`,
	}, {
		name: "output split across events, and lines that are not JSON",
		in: `go: downloading example.com/m v1.0.0
{"Action":"run","Package":"tj","Test":"TestSplit"}
{"Action":"output","Package":"tj","Test":"TestSplit","Output":"    x_test.go:9: needs bpftool (apt-get "}
{"Action":"output","Package":"tj","Test":"TestSplit","Output":"install bpftool)\n--- SKIP: TestSplit (0.00s)\n"}
{"Action":"skip","Package":"tj","Test":"TestSplit","Elapsed":0}
{"Action":"output","Package":"tj","Output":"ok  \ttj\t0.006s"}
{"Action":"pass","Package":"tj","Elapsed":0.007}
`,
		out: "go: downloading example.com/m v1.0.0\nok  \ttj\t0.006s\nnetwatch: 1 test skipped: 1 needs bpftool (apt-get install bpftool)\n",
	}, {
		name: "packages interleaved by go test -json: each shown in one piece when it ends",
		in: `{"Action":"start","Package":"tj/a"}
{"Action":"start","Package":"tj/b"}
{"Action":"run","Package":"tj/a","Test":"TestA"}
{"Action":"output","Package":"tj/a","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"output","Package":"tj/a","Test":"TestA","Output":"2026/11/29 20:08:04 INFO from a\n"}
{"Action":"run","Package":"tj/b","Test":"TestB"}
{"Action":"output","Package":"tj/b","Test":"TestB","Output":"=== RUN   TestB\n"}
{"Action":"output","Package":"tj/b","Test":"TestB","Output":"    b_test.go:5: broken\n"}
{"Action":"output","Package":"tj/b","Test":"TestB","Output":"--- FAIL: TestB (0.00s)\n"}
{"Action":"fail","Package":"tj/b","Test":"TestB","Elapsed":0}
{"Action":"output","Package":"tj/a","Test":"TestA","Output":"2026/11/29 20:08:05 INFO from a again\n"}
{"Action":"output","Package":"tj/a","Test":"TestA","Output":"--- PASS: TestA (0.00s)\n"}
{"Action":"pass","Package":"tj/a","Test":"TestA","Elapsed":0}
{"Action":"output","Package":"tj/b","Output":"FAIL\n"}
{"Action":"output","Package":"tj/b","Output":"FAIL\ttj/b\t0.007s\n"}
{"Action":"fail","Package":"tj/b","Elapsed":0.007}
{"Action":"output","Package":"tj/a","Output":"PASS\n"}
{"Action":"output","Package":"tj/a","Output":"ok  \ttj/a\t0.009s\n"}
{"Action":"pass","Package":"tj/a","Elapsed":0.009}
`,
		out: `--- FAIL: TestB (0.00s)
    b_test.go:5: broken
FAIL
FAIL	tj/b	0.007s
2026/11/29 20:08:04 INFO from a
2026/11/29 20:08:05 INFO from a again
ok  	tj/a	0.009s
FAIL
netwatch: no tests skipped
`,
	}, {
		name:    "verbose: every line as go test -v shows it",
		verbose: true,
		in: `{"Action":"run","Package":"tj","Test":"TestSkip"}
{"Action":"output","Package":"tj","Test":"TestSkip","Output":"=== RUN   TestSkip\n"}
{"Action":"output","Package":"tj","Test":"TestSkip","Output":"    x_test.go:4: needs root (run as root, or with sudo)\n"}
{"Action":"output","Package":"tj","Test":"TestSkip","Output":"--- SKIP: TestSkip (0.00s)\n"}
{"Action":"skip","Package":"tj","Test":"TestSkip","Elapsed":0}
{"Action":"run","Package":"tj","Test":"TestFail"}
{"Action":"output","Package":"tj","Test":"TestFail","Output":"=== RUN   TestFail\n"}
{"Action":"output","Package":"tj","Test":"TestFail","Output":"    x_test.go:5: log1\n"}
{"Action":"output","Package":"tj","Test":"TestFail","Output":"--- FAIL: TestFail (0.00s)\n"}
{"Action":"fail","Package":"tj","Test":"TestFail","Elapsed":0}
{"Action":"output","Package":"tj","Output":"FAIL\n"}
{"Action":"output","Package":"tj","Output":"FAIL\ttj\t0.007s\n"}
{"Action":"fail","Package":"tj","Elapsed":0.007}
`,
		out: `=== RUN   TestSkip
    x_test.go:4: needs root (run as root, or with sudo)
--- SKIP: TestSkip (0.00s)
=== RUN   TestFail
    x_test.go:5: log1
--- FAIL: TestFail (0.00s)
FAIL
FAIL	tj	0.007s
FAIL
netwatch: 1 test skipped: 1 needs root (run as root, or with sudo)
`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if err := newRenderer(&out, &errOut, tt.verbose).run(strings.NewReader(tt.in)); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.out {
				t.Errorf("stdout:\n%s\nwant:\n%s", out.String(), tt.out)
			}
			if errOut.String() != tt.err {
				t.Errorf("stderr:\n%s\nwant:\n%s", errOut.String(), tt.err)
			}
		})
	}
}

// TestRunExitStatus: make test must fail exactly when go test does, so run
// returns the command's own exit status.
func TestRunExitStatus(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs sh")
	}
	const pass = `{"Action":"output","Package":"p","Output":"ok  \tp\t0.1s\n"}`
	tests := []struct {
		name   string
		args   []string
		status int
		out    string
	}{
		{"pass", []string{"sh", "-c", "printf '%s\\n' '" + pass + "'"}, 0, "ok  \tp\t0.1s\nnetwatch: no tests skipped\n"},
		{"fail", []string{"sh", "-c", "printf '%s\\n' '" + pass + "'; exit 1"}, 1, "ok  \tp\t0.1s\nnetwatch: no tests skipped\n"},
		{"other status", []string{"sh", "-c", "exit 3"}, 3, "netwatch: no tests skipped\n"},
		{"killed", []string{"sh", "-c", "kill -TERM $$"}, 128 + 15, "netwatch: no tests skipped\n"},
		{"not found", []string{"nw-no-such-command"}, 127, ""},
		{"no command", nil, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if got := run(tt.args, &out, &errOut); got != tt.status {
				t.Errorf("run(%q) = %d, want %d (stderr %q)", tt.args, got, tt.status, errOut.String())
			}
			if out.String() != tt.out {
				t.Errorf("stdout %q, want %q", out.String(), tt.out)
			}
		})
	}
}

func TestSummary(t *testing.T) {
	root := reason{req: privileged.Root}
	tests := []struct {
		skips map[reason]int
		want  string
	}{
		{nil, "netwatch: no tests skipped"},
		{map[reason]int{root: 1}, "netwatch: 1 test skipped: 1 needs root (run as root, or with sudo)"},
		{map[reason]int{why("needs ethtool (apt-get install ethtool)"): 2, root: 10},
			"netwatch: 12 tests skipped: 10 need root (run as root, or with sudo), 2 need ethtool (apt-get install ethtool)"},
		{map[reason]int{why("b, with a comma"): 3, why("a"): 3, why("needs ip (apt-get install iproute2)"): 1},
			`netwatch: 7 tests skipped: 1 needs ip (apt-get install iproute2), 3: "a", 3: "b, with a comma"`},
	}
	for _, tt := range tests {
		if got := summary(tt.skips); got != tt.want {
			t.Errorf("summary(%v):\n got %s\nwant %s", tt.skips, got, tt.want)
		}
	}
}
