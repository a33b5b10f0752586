package ebpf

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"runtime"
	"testing"
)

// The hash --version prints is the hash of the committed object file.
func TestObjectSHA256(t *testing.T) {
	got := ObjectSHA256()
	if runtime.GOOS != "linux" {
		if got != "" {
			t.Fatalf("ObjectSHA256() = %q off Linux, want \"\"", got)
		}
		return
	}
	obj, err := os.ReadFile("netwatch_bpfel.o")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(obj)
	if want := hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("ObjectSHA256() = %s, want %s (sha256 of netwatch_bpfel.o)", got, want)
	}
}
