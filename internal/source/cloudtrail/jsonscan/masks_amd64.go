//go:build amd64 && !purego

package jsonscan

import "golang.org/x/sys/cpu"

// masksAVX2 fills out for blocks whole blocks at p, reading 3 bytes past
// the last (masks_amd64.s).
//
//go:noescape
func masksAVX2(p *byte, blocks int, out *uint64)

// masksAVX512 is masksAVX2 with AVX-512 (BW): a block per instruction.
//
//go:noescape
func masksAVX512(p *byte, blocks int, out *uint64)

func hasAVX512() bool { return cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW }

// wholeMasks fills out for the whole blocks of b that have three bytes
// after them, vectorised where the CPU allows, and returns how many.
func wholeMasks(b []byte, out []uint64) int {
	avx512 := hasAVX512()
	if !avx512 && !cpu.X86.HasAVX2 {
		return masksSWAR(b, out)
	}
	if len(b) < 67 {
		return 0
	}
	n := (len(b) - 3) / 64
	_ = out[n*nMasks-1]
	if avx512 {
		masksAVX512(&b[0], n, &out[0])
	} else {
		masksAVX2(&b[0], n, &out[0])
	}
	return n
}

// maskKernels is every way of computing wholeMasks this CPU runs, for the
// tests.
func maskKernels() map[string]func([]byte, []uint64) int {
	ks := map[string]func([]byte, []uint64) int{"swar": masksSWAR}
	asm := func(kernel func(*byte, int, *uint64)) func([]byte, []uint64) int {
		return func(b []byte, out []uint64) int {
			if len(b) < 67 {
				return 0
			}
			n := (len(b) - 3) / 64
			kernel(&b[0], n, &out[0])
			return n
		}
	}
	if cpu.X86.HasAVX2 {
		ks["avx2"] = asm(masksAVX2)
	}
	if hasAVX512() {
		ks["avx512"] = asm(masksAVX512)
	}
	return ks
}

// structAVX512 is structure's kernel where the CPU has AVX-512 (BW) and
// carry-less multiplication: it fills out for up to blocks whole blocks at
// p (reading 3 bytes past the last) and returns how many it did
// (masks_amd64.s).
//
//go:noescape
func structAVX512(p *byte, blocks int, out *uint64, st *strState) int

func structKernel(p *byte, blocks int, out *uint64, st *strState) int {
	return structAVX512(p, blocks, out, st)
}

func hasStructKernel() bool { return hasAVX512() && cpu.X86.HasPCLMULQDQ }

// bestStruct is the fastest way of computing structure on this CPU.
func bestStruct() StructImpl {
	switch {
	case hasStructKernel():
		return StructKernel512
	case cpu.X86.HasAVX2:
		return StructMasks
	}
	return StructSWAR
}

// StructImpls is every way of computing structure this CPU runs, for the
// tests.
func StructImpls() []StructImpl {
	impls := []StructImpl{StructSWAR, StructMasks}
	if hasStructKernel() {
		impls = append(impls, StructKernel512)
	}
	return impls
}
