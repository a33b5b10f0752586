package ebpf

import (
	"slices"
	"testing"
	"unsafe"

	"github.com/cilium/ebpf/asm"
)

// TestBinNumberStoresAreExchanges checks the ordering contract of netwatch.c
// in the compiled programs: the only atomic instructions are the two 64-bit
// exchanges that store a bin number (the ring entry's and the counters
// value's), which the JITs emit as full barriers; the per-packet path has
// no atomics at all.
func TestBinNumberStoresAreExchanges(t *testing.T) {
	spec, err := loadNetwatch()
	if err != nil {
		t.Fatal(err)
	}
	want := []int16{
		int16(unsafe.Offsetof(netwatchNwBin{}.Bin)),
		int16(unsafe.Offsetof(netwatchNwValue{}.CurBin)),
	}
	slices.Sort(want)
	for _, name := range []string{"netwatch_tc_in", "netwatch_tc_eg", "netwatch_xdp"} {
		t.Run(name, func(t *testing.T) {
			ps, ok := spec.Programs[name]
			if !ok {
				t.Fatalf("no program %s in the object", name)
			}
			var got []int16
			for _, ins := range ps.Instructions {
				if ins.OpCode.Class() != asm.StXClass || ins.OpCode.Mode() != asm.AtomicMode {
					continue
				}
				if op := ins.OpCode.AtomicOp(); op != asm.Xchg || ins.OpCode.Size() != asm.DWord {
					t.Errorf("atomic %v: want only 64-bit Xchg", ins)
					continue
				}
				got = append(got, ins.Offset)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("xchg at offsets %v, want one each at %v (nw_bin.bin, nw_value.cur_bin)", got, want)
			}
		})
	}
}
