package jsonscan

import (
	"math/rand/v2"
	"testing"
)

// checkMasks compares computeMasks (vectorised where the CPU allows) and
// every kernel this CPU runs, the SWAR one included, with masksGeneric on
// b.
func checkMasks(t *testing.T, b []byte) {
	t.Helper()
	n := (len(b) + 63) / 64 * nMasks
	want := make([]uint64, n)
	masksGeneric(b, want)
	ways := map[string]func([]byte, []uint64){"computeMasks": computeMasks}
	for name, kernel := range maskKernels() {
		ways[name] = func(b []byte, out []uint64) {
			if done := kernel(b, out); done*64 < len(b) {
				masksGeneric(b[done*64:], out[done*nMasks:])
			}
		}
	}
	for name, way := range ways {
		got := make([]uint64, n)
		way(b, got)
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s, len %d: block %d mask %d: %064b, want %064b", name, len(b), i/nMasks, i%nMasks, got[i], want[i])
			}
		}
	}
}

// TestEachKernel: every kernel this CPU runs (SWAR everywhere) does the
// whole blocks that have three bytes after them, and only those.
func TestEachKernel(t *testing.T) {
	kernels := maskKernels()
	if _, ok := kernels["swar"]; !ok {
		t.Fatal("the SWAR kernel is not among those tested")
	}
	for name, kernel := range kernels {
		for n := range 300 {
			b := make([]byte, n)
			out := make([]uint64, (n+63)/64*nMasks)
			want := 0
			if n >= 67 {
				want = (n - 3) / 64
			}
			if got := kernel(b, out); got != want {
				t.Errorf("%s, %d bytes: %d blocks done, want %d", name, n, got, want)
			}
		}
	}
}

// TestMasks: the kernel equals the reference on every length around the
// block size, on text dense in what it looks for (any casing), and on
// random bytes.
func TestMasks(t *testing.T) {
	alphabet := []byte(`"\{}[]oOtTeEvVrRcC: ,a` + "\x00\x02\x5b\x7b\x5d\x7d")
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 300; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		checkMasks(t, b)
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		checkMasks(t, b)
	}
	b := []byte(`{"eventSource":"signin.amazonaws.com","userIdentity":{"type":"Root"},"RECipientAccountId":"1","x":"ROOT","y":["AssumeRoot"]}`)
	for range 5 {
		b = append(b, b...)
	}
	checkMasks(t, b)
}

func FuzzMasks(f *testing.F) {
	f.Add([]byte(`{"eventTime":"2026-01-01T00:00:00Z","type":"Root"}`))
	f.Fuzz(func(t *testing.T, b []byte) { checkMasks(t, b) })
}

func BenchmarkMasks(b *testing.B) {
	buf := make([]byte, 256<<10)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range buf {
		buf[i] = byte(r.IntN(96) + 32)
	}
	out := make([]uint64, (len(buf)+63)/64*nMasks)
	for name, kernel := range maskKernels() {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				kernel(buf, out)
			}
		})
	}
}

// TestHasRootMark: any casing of a string ending in oot" is a mark, across
// the kernel's 4 KiB chunks; nothing else is.
func TestHasRootMark(t *testing.T) {
	for s, want := range map[string]bool{`"Root"`: true, `"rOOt"`: true, `"ROOT"`: true, `"AssumeRoot"`: true, `"assumedRoot"`: true,
		`"Roots"`: false, `oot`: false, `"RootX"`: false, `"Ro ot"`: false, ``: false} {
		if got := HasRootMark([]byte(s)); got != want {
			t.Errorf("HasRootMark(%s) = %v", s, got)
		}
	}
	for _, at := range []int{4090, 4092, 4093, 4094, 4095, 4096, 8191} {
		b := make([]byte, at+4)
		for i := range b {
			b[i] = 'x'
		}
		copy(b[at:], `Oot"`)
		if !HasRootMark(b) {
			t.Errorf("a mark at %d is missed", at)
		}
		if HasRootMark(b[:at+3]) {
			t.Errorf("a cut mark at %d is found", at)
		}
	}
}
