package procfs

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParseSNMP6Index(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		want     int
	}{
		{"kernel layout", "ifIndex                         \t3\nIp6InReceives                   \t3\n", 3},
		{"first line only", "ifIndex 42", 42},
		{"large", "ifIndex\t2147483647\n", 2147483647},
		{"too large", "ifIndex\t2147483648\n", 0},
		{"zero", "ifIndex\t0\n", 0},
		{"negative", "ifIndex\t-3\n", 0},
		{"not a number", "ifIndex\tx\n", 0},
		{"other first line", "Ip6InReceives\t3\nifIndex\t3\n", 0},
		{"extra field", "ifIndex\t3 4\n", 0},
		{"empty", "", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseSNMP6Index([]byte(tt.in)); got != tt.want {
				t.Errorf("ParseSNMP6Index(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

// IndexOf reads the index of a name from its file, 0 for a name without
// one, and never leaves the directory.
func TestSNMP6IndexOf(t *testing.T) {
	dir := t.TempDir()
	snmp := filepath.Join(dir, "dev_snmp6")
	if err := os.Mkdir(snmp, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(path, s string) {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(snmp, "eth0"), "ifIndex                         \t7\nIp6InReceives \t0\n")
	write(filepath.Join(dir, "outside"), "ifIndex\t9\n")
	if err := os.Symlink("../outside", filepath.Join(snmp, "link")); err != nil {
		t.Fatal(err)
	}
	ix, err := OpenSNMP6Index(snmp)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	for name, want := range map[string]int{"eth0": 7, "can0": 0, "": 0, ".": 0, "..": 0, "../outside": 0, "link": 0} {
		if got := ix.IndexOf(name); got != want {
			t.Errorf("IndexOf(%q) = %d, want %d", name, got, want)
		}
	}
	if _, err := OpenSNMP6Index(filepath.Join(dir, "missing")); err == nil {
		t.Error("OpenSNMP6Index of a missing directory: no error")
	}
}
