//go:build !amd64 || purego

package jsonscan

// Without the vector kernels of masks_amd64.s (another CPU, or the purego
// build tag), everything is computed in portable Go (masks_swar.go).

func wholeMasks(b []byte, out []uint64) int { return masksSWAR(b, out) }

func maskKernels() map[string]func([]byte, []uint64) int {
	return map[string]func([]byte, []uint64) int{"swar": masksSWAR}
}

func structKernel(p *byte, blocks int, out *uint64, st *strState) int { return 0 }

func bestStruct() StructImpl { return StructSWAR }

func StructImpls() []StructImpl { return []StructImpl{StructSWAR, StructMasks} }
