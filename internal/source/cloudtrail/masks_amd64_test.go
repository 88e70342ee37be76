package cloudtrail

import (
	"math/rand/v2"
	"slices"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestEachKernel checks every kernel this CPU runs, not only the one
// computeMasks picks, against the reference.
func TestEachKernel(t *testing.T) {
	kernels := map[string]func(*byte, int, *uint64){}
	if cpu.X86.HasAVX2 {
		kernels["avx2"] = masksAVX2
	}
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW {
		kernels["avx512"] = masksAVX512
	}
	if len(kernels) == 0 {
		t.Skip("this CPU has neither AVX2 nor AVX-512")
	}
	alphabet := []byte(`"\{}[]oOtTeEvVrRcC: ,a` + "\x00\x02")
	r := rand.New(rand.NewPCG(3, 4))
	for name, k := range kernels {
		for n := 67; n < 1200; n += 1 + r.IntN(40) {
			b := make([]byte, n)
			for i := range b {
				b[i] = alphabet[r.IntN(len(alphabet))]
			}
			blocks := (n - 3) / 64
			want := make([]uint64, (n+63)/64*nMasks)
			masksGeneric(b, want)
			got := make([]uint64, blocks*nMasks)
			k(&b[0], blocks, &got[0])
			// A whole block's masks do not depend on what follows it
			// beyond three bytes, which both read.
			if !slices.Equal(got, want[:blocks*nMasks]) {
				t.Fatalf("%s, %d bytes: kernel and reference differ", name, n)
			}
		}
	}
}
