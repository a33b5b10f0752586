package sysctl

import (
	"errors"
	"strings"
	"testing"
)

func TestParseIfmibData(t *testing.T) {
	for _, f := range fixtureIfaces {
		t.Run(f.name, func(t *testing.T) {
			got, err := ParseIfmibData(ifmib(t, f))
			if err != nil {
				t.Fatal(err)
			}
			want := MibData{Name: f.name, Flags: uint32(f.flags), Counters: countersOf(f), Errors: errorsOf(f)}
			if got != want {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestParseIfmibDataFullName(t *testing.T) {
	// A 16-byte name with no NUL must not read into ifmd_pcount.
	f := fixtureIfaces[0]
	f.name = "abcdefghijklmnop"
	got, err := ParseIfmibData(ifmib(t, f))
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != f.name {
		t.Errorf("name %q, want %q", got.Name, f.name)
	}
}

func TestParseIfmibDataShort(t *testing.T) {
	full := ifmib(t, fixtureIfaces[1])
	for _, n := range []int{0, 52, 179} {
		_, err := ParseIfmibData(full[:n])
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%d bytes: error %v, want ErrMalformed", n, err)
			continue
		}
		if want := "need 180"; !strings.Contains(err.Error(), want) {
			t.Errorf("%d bytes: error %q does not say %q", n, err, want)
		}
	}
}
