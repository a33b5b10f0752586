package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
	"github.com/netwatch-dev/netwatch/internal/testutil/privileged"
)

// exitLine is the line the shell prints after netwatch exits.
var exitLine = regexp.MustCompile(`(?m)^EXIT=(\d+)`)

// tmuxTerm is a private tmux server with one 100x30 pane running a shell.
type tmuxTerm struct {
	t      *testing.T
	socket string
}

func newTmux(t *testing.T) *tmuxTerm {
	t.Helper()
	privileged.NeedTool(t, "tmux", "ip")
	tm := &tmuxTerm{t: t, socket: filepath.Join(t.TempDir(), "tmux.sock")}
	tm.run("-f", "/dev/null", "new-session", "-d", "-x", "100", "-y", "30", "env PS1='shell$ ' bash --norc --noprofile")
	t.Cleanup(func() { exec.Command("tmux", "-S", tm.socket, "kill-server").Run() })
	return tm
}

func (tm *tmuxTerm) run(args ...string) string {
	tm.t.Helper()
	cmd := exec.Command("tmux", append([]string{"-S", tm.socket}, args...)...)
	cmd.Env = append(cleanEnv(), "TERM=xterm-256color")
	out, err := cmd.CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %v: %v: %s", args, err, out)
	}
	return string(out)
}

func (tm *tmuxTerm) keys(keys ...string) { tm.run(append([]string{"send-keys"}, keys...)...) }
func (tm *tmuxTerm) capture() string     { return tm.run("capture-pane", "-p") }
func (tm *tmuxTerm) altScreen() bool {
	return strings.TrimSpace(tm.run("display-message", "-p", "#{alternate_on}")) == "1"
}

// waitFor polls the pane until ok says yes, and fails with the pane after
// a generous timeout (no timing is asserted).
func (tm *tmuxTerm) waitFor(what string, ok func(screen string) bool) string {
	tm.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s := tm.capture()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("waiting for %s; the pane shows:\n%s", what, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// childPID is the process the pane's shell is running.
func (tm *tmuxTerm) childPID() int {
	tm.t.Helper()
	shell := strings.TrimSpace(tm.run("display-message", "-p", "#{pane_pid}"))
	b, err := os.ReadFile(fmt.Sprintf("/proc/%s/task/%s/children", shell, shell))
	if err != nil {
		tm.t.Fatal(err)
	}
	f := strings.Fields(string(b))
	if len(f) != 1 {
		tm.t.Fatalf("shell %s has children %q, want one", shell, f)
	}
	pid, _ := strconv.Atoi(f[0])
	return pid
}

// TestTopInTmux runs the real binary in a terminal (tmux) on a veth pair
// with bursts of traffic: the interface, its rates and the burst marker
// are on screen, keys work, and q or SIGTERM restore the terminal and
// leave nothing attached.
func TestTopInTmux(t *testing.T) {
	p := netnstest.NewPair(t)
	for _, end := range []string{"q", "SIGTERM"} {
		t.Run(end, func(t *testing.T) {
			tm := newTmux(t)
			tm.waitFor("the shell prompt", func(s string) bool { return strings.Contains(s, "shell$") })
			tm.keys(fmt.Sprintf("ip netns exec %s %s top -i %s -n 500ms --burst-threshold 10Mbit; echo EXIT=$?", p.A.Name, binary, p.IfA), "Enter")

			stop := make(chan struct{})
			sent := make(chan struct{})
			go func() { // a burst of 200 full frames (~300 kB in a few ms) every 300 ms
				defer close(sent)
				for {
					select {
					case <-stop:
						return
					case <-time.After(300 * time.Millisecond):
						p.SendUDP(t, netnstest.A, 200, p.MaxUDPPayload())
					}
				}
			}()
			defer func() { close(stop); <-sent }()

			screen := tm.waitFor("the interface, its rates and a burst marker", func(s string) bool {
				return strings.Contains(s, p.IfA+" ") && strings.Contains(s, "PEAK 1ms") &&
					strings.Contains(s, "MB/s") && strings.Contains(s, "▼") && strings.Contains(s, "rx "+p.IfA)
			})
			t.Logf("the pane:\n%s", screen)
			if !strings.Contains(screen, "ebpf/") || !strings.Contains(screen, "burst > 1.2 MB/s") {
				t.Errorf("header should name the backend and the threshold:\n%s", screen)
			}
			if !tm.altScreen() {
				t.Errorf("top should run on the alternate screen")
			}
			tm.keys("u")
			tm.waitFor("rates in bits after u", func(s string) bool { return strings.Contains(s, "bit/s") })
			tm.keys("Tab")
			tm.waitFor("the sparkline view after Tab", func(s string) bool { return strings.Contains(s, "sparklines") })
			tm.keys("Tab", "Tab", "Enter")
			tm.waitFor("the focused interface after Enter", func(s string) bool {
				return strings.Contains(s, "index ") && !strings.Contains(s, "IFACE")
			})
			tm.keys("+")
			tm.waitFor("refresh 1s after +", func(s string) bool { return strings.Contains(s, "refresh 1s") })

			if end == "q" {
				tm.keys("q")
			} else {
				if err := syscall.Kill(tm.childPID(), syscall.SIGTERM); err != nil {
					t.Fatal(err)
				}
			}
			after := tm.waitFor("the shell after exit", func(s string) bool { return exitLine.MatchString(s) })
			if m := exitLine.FindStringSubmatch(after); m[1] != "0" {
				t.Errorf("exit status: want 0:\n%s", after)
			}
			if tm.altScreen() {
				t.Errorf("the alternate screen is still on after exit")
			}
			if strings.Contains(after, "▼") || strings.Contains(after, "IFACE") {
				t.Errorf("the view is still on screen after exit:\n%s", after)
			}
			// The terminal is back in cooked mode: a command line runs.
			tm.keys("stty -a | grep -o ' icanon' ; echo DONE", "Enter")
			tm.waitFor("a cooked terminal", func(s string) bool { return strings.Contains(s, " icanon\nDONE") })
			h := hooks(t, p.A, p.IfA)
			if o := append(ours(h.tcx), ours(h.filters)...); len(o) > 0 || h.xdpProg != 0 {
				t.Errorf("still attached after %s: %v (xdp %d)", end, o, h.xdpProg)
			}
		})
	}
}
