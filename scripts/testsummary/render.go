package main

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/netwatch-dev/netwatch/internal/testutil/privileged"
)

// event is one line of `go test -json` (cmd/test2json, and the build
// events of cmd/go).
type event struct {
	Action     string
	Package    string
	Test       string
	Output     string
	ImportPath string // build-output, build-fail
}

type key struct{ pkg, test string }

// test is a test or subtest that has started and not yet ended.
type test struct {
	key
	depth  int      // 0 for a top-level test, 1 for its subtests, ...
	seq    int      // start order, for unfinished tests
	result string   // its own "--- FAIL: ..." line, once seen
	lines  []string // what go test prints under its result line if it fails
	last   string   // message of its last log entry
}

// renderer turns `go test -json` back into the output of `go test`, or of
// `go test -v` when verbose, and counts skipped tests by reason.
type renderer struct {
	out, errOut io.Writer
	verbose     bool

	tests   map[key]*test
	partial map[key]string           // output not yet ended by a newline
	pkgOut  map[string]*bytes.Buffer // output of packages still running
	seq     int
	failed  bool
	skips   map[reason]int
}

// reason is why a test skipped: a requirement in privileged's form, or
// the free text of its skip message.
type reason struct {
	req  privileged.Requirement
	text string
}

func newRenderer(out, errOut io.Writer, verbose bool) *renderer {
	return &renderer{
		out: out, errOut: errOut, verbose: verbose,
		tests:   map[key]*test{},
		partial: map[key]string{},
		pkgOut:  map[string]*bytes.Buffer{},
		skips:   map[reason]int{},
	}
}

// run renders every line of r, then the summary line.
func (r *renderer) run(in io.Reader) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		r.line(sc.Bytes())
	}
	r.end()
	return sc.Err()
}

// line handles one line of go test's standard output.
func (r *renderer) line(b []byte) {
	var e event
	if len(b) == 0 || b[0] != '{' || json.Unmarshal(b, &e) != nil || e.Action == "" {
		fmt.Fprintf(r.out, "%s\n", b) // not test2json: pass it on
		return
	}
	switch e.Action {
	case "build-output":
		// Plain go test writes build errors to standard error.
		io.WriteString(r.errOut, e.Output)
	case "output":
		k := key{e.Package, e.Test}
		text := r.partial[k] + e.Output
		delete(r.partial, k)
		for text != "" {
			i := strings.IndexByte(text, '\n')
			if i < 0 {
				r.partial[k] = text
				break
			}
			r.output(k, text[:i+1])
			text = text[i+1:]
		}
	case "run":
		r.start(key{e.Package, e.Test})
	case "pass", "skip", "fail":
		k := key{e.Package, e.Test}
		if p, ok := r.partial[k]; ok {
			delete(r.partial, k)
			r.output(k, p+"\n")
		}
		if e.Test == "" {
			r.packageEnd(e)
		} else {
			r.testEnd(e)
		}
	}
}

// pkg is where the output of package pkg goes until it ends: like go
// test, testsummary shows each package's output in one piece, although
// go test -json streams the packages' events interleaved.
func (r *renderer) pkg(pkg string) io.Writer {
	b := r.pkgOut[pkg]
	if b == nil {
		b = new(bytes.Buffer)
		r.pkgOut[pkg] = b
	}
	return b
}

// flush shows the output of package pkg.
func (r *renderer) flush(pkg string) {
	if b := r.pkgOut[pkg]; b != nil {
		r.out.Write(b.Bytes())
		delete(r.pkgOut, pkg)
	}
}

func (r *renderer) start(k key) *test {
	if t, ok := r.tests[k]; ok {
		return t
	}
	r.seq++
	t := &test{key: k, depth: strings.Count(k.test, "/"), seq: r.seq}
	r.tests[k] = t
	return t
}

// logRE matches the first line of a t.Log, t.Error or t.Skip entry as the
// -json (verbose) output shows it: "    file_test.go:12: message", possibly
// after output the test printed without a newline.
var logRE = regexp.MustCompile(`    [^\s:]+:\d+: (.*)$`)

var framing = []string{"=== RUN ", "=== PAUSE ", "=== CONT ", "=== NAME "}

func (r *renderer) output(k key, line string) {
	if r.verbose {
		// go test -v shows every line; only skip reasons are kept.
		io.WriteString(r.out, line)
	}
	if k.test == "" {
		if strings.HasPrefix(line, "FAIL\t"+k.pkg+"\t") {
			r.unfinished(k.pkg)
		}
		// Plain go test does not show the test binary's PASS, nor the
		// warning that its "ok ... [no tests to run]" line repeats.
		if !r.verbose && line != "PASS\n" && !strings.HasPrefix(line, "testing: warning: no tests to run") {
			io.WriteString(r.pkg(k.pkg), line)
		}
		return
	}
	for _, f := range framing {
		if strings.HasPrefix(line, f) {
			return
		}
	}
	t := r.start(k)
	if m := logRE.FindStringSubmatch(strings.TrimSuffix(line, "\n")); m != nil && t.result == "" {
		t.last = m[1]
	}
	if t.result == "" && isResult(line, k.test) {
		t.result = line
		return
	}
	switch {
	case t.result == "" && strings.HasPrefix(line, "    "):
		// A log entry: go test shows it only if the test fails,
		// indented to the test's depth.
		t.lines = append(t.lines, indent(t.depth)+line)
	case t.result != "":
		// After the result line: a panic's trace.
		t.lines = append(t.lines, line)
	case !r.verbose:
		// The test's own standard output: go test shows it at once.
		io.WriteString(r.pkg(k.pkg), line)
	}
}

// isResult reports whether line is the "--- PASS/FAIL/SKIP" line of test.
func isResult(line, test string) bool {
	for _, r := range []string{"--- PASS: ", "--- FAIL: ", "--- SKIP: "} {
		if strings.HasPrefix(line, r+test+" (") {
			return true
		}
	}
	return false
}

func indent(depth int) string { return strings.Repeat("    ", depth) }

func (r *renderer) testEnd(e event) {
	k := key{e.Package, e.Test}
	t := r.start(k)
	delete(r.tests, k)
	switch e.Action {
	case "skip":
		r.skips[why(t.last)]++
	case "fail":
		if r.verbose {
			return
		}
		result := t.result
		if result == "" {
			result = "--- FAIL: " + t.test + "\n"
		}
		r.failBlock(t, indent(t.depth)+result)
	}
}

// failBlock hands t's result line and lines to its parent, or prints them
// for a top-level test.
func (r *renderer) failBlock(t *test, result string) {
	block := append([]string{result}, t.lines...)
	if p := r.parent(t.key); p != nil {
		p.lines = append(p.lines, block...)
		return
	}
	for _, l := range block {
		io.WriteString(r.pkg(t.pkg), l)
	}
}

func (r *renderer) parent(k key) *test {
	for name := k.test; ; {
		i := strings.LastIndexByte(name, '/')
		if i < 0 {
			return nil
		}
		name = name[:i]
		if p, ok := r.tests[key{k.pkg, name}]; ok {
			return p
		}
	}
}

func (r *renderer) packageEnd(e event) {
	r.unfinished(e.Package)
	if e.Action == "fail" {
		r.failed = true
	}
	r.flush(e.Package)
}

// unfinished shows what the tests of pkg still running when its test
// binary ended (a timeout, a crash, os.Exit) logged, and forgets them.
// The binary failed: go test prints "FAIL<tab>pkg" next.
func (r *renderer) unfinished(pkg string) {
	var open []*test
	for k, t := range r.tests {
		if k.pkg == pkg {
			open = append(open, t)
		}
	}
	// Innermost first, so that each lands in its parent's block.
	slices.SortFunc(open, func(a, b *test) int { return cmp.Or(b.depth-a.depth, a.seq-b.seq) })
	for _, t := range open {
		if !r.verbose {
			r.failBlock(t, indent(t.depth)+"--- FAIL: "+t.test+" (unfinished)\n")
		}
		delete(r.tests, t.key)
	}
}

// why groups a skip message.
func why(msg string) reason {
	if req, ok := privileged.ParseSkip(msg); ok {
		return reason{req: req}
	}
	if msg == "" {
		msg = "no reason given"
	}
	return reason{text: msg}
}

func (r *renderer) end() {
	for k, p := range r.partial {
		delete(r.partial, k)
		r.output(k, p+"\n")
	}
	// Packages whose end never came (go test was killed).
	for _, pkg := range slices.Sorted(maps.Keys(r.pkgOut)) {
		r.unfinished(pkg)
		r.flush(pkg)
	}
	if r.failed {
		fmt.Fprintln(r.out, "FAIL") // what go test prints last when a package failed
	}
	fmt.Fprintln(r.out, summary(r.skips))
}

func free(r reason) int {
	if r.req.Name == "" {
		return 1
	}
	return 0
}

// summary is the closing line: how many tests skipped, and why.
func summary(skips map[reason]int) string {
	total := 0
	var reasons []reason
	for why, n := range skips {
		total += n
		reasons = append(reasons, why)
	}
	if total == 0 {
		return "netwatch: no tests skipped"
	}
	slices.SortFunc(reasons, func(a, b reason) int {
		return cmp.Or(
			cmp.Compare(free(a), free(b)), // requirements first
			cmp.Compare(skips[b], skips[a]),
			cmp.Compare(a.req.Name, b.req.Name), cmp.Compare(a.text, b.text))
	})
	var parts []string
	for _, why := range reasons {
		n := skips[why]
		if why.req.Name != "" {
			verb := "need"
			if n == 1 {
				verb = "needs"
			}
			parts = append(parts, fmt.Sprintf("%d %s %s (%s)", n, verb, why.req.Name, why.req.Fix))
		} else {
			parts = append(parts, fmt.Sprintf("%d: %q", n, why.text))
		}
	}
	noun := "tests"
	if total == 1 {
		noun = "test"
	}
	return fmt.Sprintf("netwatch: %d %s skipped: %s", total, noun, strings.Join(parts, ", "))
}
