//go:build unix

package procfs

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestOpenRefusesNonRegular checks that a net/dev that is not a regular file
// is refused at once with a one-line error naming the path and what it is,
// instead of blocking (FIFO: even open(2) blocks) or reading without end
// (/dev/zero).
func TestOpenRefusesNonRegular(t *testing.T) {
	tests := []struct {
		name    string
		make    func(t *testing.T, dev string)
		wantErr string
	}{
		{"fifo", func(t *testing.T, dev string) {
			if err := unix.Mkfifo(dev, 0o644); err != nil {
				t.Fatal(err)
			}
		}, "is a named pipe (FIFO), not a regular file"},
		{"link to /dev/zero", func(t *testing.T, dev string) {
			symlink(t, "/dev/zero", dev)
		}, "is a character device (/dev/zero), not a regular file"},
		{"link to /dev/null", func(t *testing.T, dev string) {
			symlink(t, "/dev/null", dev)
		}, "is a character device (/dev/null), not a regular file"},
		{"link to a fifo", func(t *testing.T, dev string) {
			fifo := filepath.Join(filepath.Dir(dev), "fifo")
			if err := unix.Mkfifo(fifo, 0o644); err != nil {
				t.Fatal(err)
			}
			symlink(t, "fifo", dev)
		}, "is a named pipe (FIFO) ("},
		{"directory", func(t *testing.T, dev string) {
			if err := os.Mkdir(dev, 0o755); err != nil {
				t.Fatal(err)
			}
		}, "is a directory, not a regular file"},
		{"socket", func(t *testing.T, dev string) {
			l, err := net.Listen("unix", dev)
			if err != nil {
				t.Skipf("cannot create a unix socket here: %v", err)
			}
			t.Cleanup(func() { l.Close() })
		}, "procfs: open " /* open(2) of a socket fails: ENXIO */},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			dev := filepath.Join(root, "net", "dev")
			if err := os.Mkdir(filepath.Dir(dev), 0o755); err != nil {
				t.Fatal(err)
			}
			tt.make(t, dev)
			err := openWithin(t, root, 5*time.Second)
			checkOneLineError(t, err, tt.wantErr)
			if !strings.Contains(err.Error(), dev) {
				t.Errorf("error %q does not name %s", err, dev)
			}
		})
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}
