package ebpf

// The BPF objects and their Go bindings are generated and committed, so that
// go build needs no clang. Regenerate with `go generate ./internal/backend/ebpf/`
// (Debian clang 14 and llvm-strip); the output is byte-identical on a rerun.

//go:generate go tool bpf2go -tags linux -target bpfel -cc clang -cflags "-O2 -g -Wall -Werror -mcpu=v3 -nostdinc" -type nw_ifslot -type nw_value netwatch ../../../bpf/netwatch.c -- -I../../../bpf/include
//go:generate go tool bpf2go -tags linux -target bpfel -cc clang -cflags "-O2 -g -Wall -Werror -mcpu=v3 -nostdinc" bench ../../../bpf/bench.c -- -I../../../bpf/include
