package cloudtrail

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

// computeMasks is masksGeneric, vectorised where the CPU allows.
func computeMasks(b []byte, out []uint64) {
	n := 0
	if len(b) >= 67 {
		n = (len(b) - 3) / 64
		switch {
		case cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW:
			masksAVX512(&b[0], n, &out[0])
		case cpu.X86.HasAVX2:
			masksAVX2(&b[0], n, &out[0])
		default:
			n = 0
		}
	}
	if n*64 < len(b) {
		masksGeneric(b[n*64:], out[n*nMasks:])
	}
}

// structAVX512 is structure's kernel where the CPU has AVX-512 (BW) and
// carry-less multiplication: it fills out for up to blocks whole blocks at
// p (reading 3 bytes past the last) and returns how many it did
// (masks_amd64.s).
//
//go:noescape
func structAVX512(p *byte, blocks int, out *uint64, st *strState) int

// hasStructKernel reports whether structKernel runs on this CPU.
func hasStructKernel() bool {
	return cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasPCLMULQDQ
}

func structKernel(p *byte, blocks int, out *uint64, st *strState) int {
	return structAVX512(p, blocks, out, st)
}
