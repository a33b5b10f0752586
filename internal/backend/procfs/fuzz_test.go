package procfs

import (
	"os"
	"testing"
)

// FuzzParse checks that no input makes the parser panic, and that whatever it
// accepts it returns with a name and error counters for every interface.
func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile("testdata/basic/net/dev"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(header + "eth0:1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16"))
	f.Add([]byte(header + ":::\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var p Parser
		ifs, err := p.Parse(data, nil, nil)
		if err != nil {
			return
		}
		for _, ic := range ifs {
			if ic.Name == "" || ic.Errors == nil {
				t.Fatalf("accepted interface without name or error counters: %+v", ic)
			}
		}
	})
}
