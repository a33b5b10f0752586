//go:build !((386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm) && linux)

package ebpf

// ObjectSHA256 returns "" where no BPF object is embedded (off Linux, and
// on big-endian Linux, for which none is generated).
func ObjectSHA256() string { return "" }
