package ebpf

import (
	"slices"
	"testing"
	"unsafe"

	"github.com/cilium/ebpf/asm"
)

// TestBinEndStoreIsTheOnlyExchange checks the ordering contract of
// netwatch.c in the compiled programs: the only atomic instruction is the
// 64-bit exchange that stores cur_end (the counters element's bin in
// progress), which the JITs emit as a full barrier, after the record is
// submitted (or its loss recorded); the per-packet path has no atomics.
func TestBinEndStoreIsTheOnlyExchange(t *testing.T) {
	spec, err := loadNetwatch()
	if err != nil {
		t.Fatal(err)
	}
	want := []int16{int16(unsafe.Offsetof(netwatchNwValue{}.CurEnd))}
	for _, name := range []string{"netwatch_tc_in", "netwatch_tc_eg", "netwatch_xdp"} {
		t.Run(name, func(t *testing.T) {
			ps, ok := spec.Programs[name]
			if !ok {
				t.Fatalf("no program %s in the object", name)
			}
			var got []int16
			submitted, xchgAfterSubmit := false, false
			for _, ins := range ps.Instructions {
				if ins.IsBuiltinCall() && ins.Constant == int64(asm.FnRingbufSubmit) {
					submitted = true
				}
				if ins.OpCode.Class() != asm.StXClass || ins.OpCode.Mode() != asm.AtomicMode {
					continue
				}
				if op := ins.OpCode.AtomicOp(); op != asm.Xchg || ins.OpCode.Size() != asm.DWord {
					t.Errorf("atomic %v: want only 64-bit Xchg", ins)
					continue
				}
				xchgAfterSubmit = submitted
				got = append(got, ins.Offset)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("xchg at offsets %v, want one at %v (nw_value.cur_end)", got, want)
			}
			if !xchgAfterSubmit {
				t.Error("cur_end is not exchanged after the record is submitted")
			}
		})
	}
}
