package ebpf

import (
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/netwatch-dev/netwatch/internal/backend/ebpf/attach"
	"github.com/netwatch-dev/netwatch/internal/testutil/netnstest"
	"github.com/netwatch-dev/netwatch/internal/testutil/privileged"
)

// programsUsing returns the types of the loaded programs that use map m:
// the programs this process loaded with it, whatever else runs on the
// machine.
func programsUsing(t *testing.T, m *ebpf.Map) []ebpf.ProgramType {
	t.Helper()
	info, err := m.Info()
	if err != nil {
		t.Fatal(err)
	}
	want, ok := info.ID()
	if !ok {
		t.Fatal("map ID not available")
	}
	var types []ebpf.ProgramType
	var id ebpf.ProgramID
	for {
		id, err = ebpf.ProgramGetNextID(id)
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p, err := ebpf.NewProgramFromID(id)
		if errors.Is(err, os.ErrNotExist) {
			continue // unloaded meanwhile
		}
		if err != nil {
			t.Fatal(err)
		}
		pi, err := p.Info()
		p.Close()
		if err != nil {
			t.Fatal(err)
		}
		maps, _ := pi.MapIDs()
		if slices.Contains(maps, want) {
			types = append(types, pi.Type)
		}
	}
	slices.Sort(types)
	return types
}

// TestOnlyXDPModeLoadsXDP: the XDP program needs kernel 5.18 (xdp.frags,
// bpf_xdp_get_buff_len), so tc and TCX modes must not load it, or they
// would not start on older kernels where they otherwise work.
func TestOnlyXDPModeLoadsXDP(t *testing.T) {
	privileged.Need(t)
	tc := []ebpf.ProgramType{ebpf.SchedCLS, ebpf.SchedCLS}
	xdp := []ebpf.ProgramType{ebpf.SchedCLS, ebpf.SchedCLS, ebpf.XDP}
	slices.Sort(xdp)
	tests := []struct {
		mode    attach.Mode
		xdpMode attach.XDPMode
		want    []ebpf.ProgramType
	}{
		{attach.TCX, "", tc},
		{attach.TC, "", tc},
		{attach.Auto, "", tc},
		{attach.XDP, attach.XDPGeneric, xdp},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			p := netnstest.NewPair(t)
			b := openIn(t, p.A, p.IfA, Config{Attach: tt.mode, XDPMode: tt.xdpMode})
			if got := programsUsing(t, b.o.Counters); !slices.Equal(got, tt.want) {
				t.Errorf("programs loaded with the counters map: %v, want %v", got, tt.want)
			}
			if hasXDP := b.o.NetwatchXdp != nil; hasXDP != (tt.mode == attach.XDP) {
				t.Errorf("XDP program loaded: %v, want %v", hasXDP, tt.mode == attach.XDP)
			}
		})
	}
}

// TestLoadWithoutXDP: the tc set alone (what Probe loads) is complete
// without the XDP program, and Close handles the missing program.
func TestLoadWithoutXDP(t *testing.T) {
	privileged.Need(t)
	o, err := loadObjectsFor(0, 0, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if o.NetwatchXdp != nil {
		t.Error("XDP program loaded without withXDP")
	}
	if o.NetwatchTcIn == nil || o.NetwatchTcEg == nil || o.Counters == nil || o.Ifslots == nil || o.Ifoverflow == nil {
		t.Errorf("tc set incomplete: %+v", o.progObjects)
	}
	if got, want := programsUsing(t, o.Counters), []ebpf.ProgramType{ebpf.SchedCLS, ebpf.SchedCLS}; !slices.Equal(got, want) {
		t.Errorf("programs loaded with the counters map: %v, want %v", got, want)
	}
	if err := o.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}
