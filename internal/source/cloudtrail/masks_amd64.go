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
