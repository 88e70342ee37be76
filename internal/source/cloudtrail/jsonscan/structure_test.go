package jsonscan

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// structureByByte is the reference for structure: every byte read in
// order, strings as the general scanner reads them; sKey marks every
// opening quote (allKeys, as SWAR does) or those of mKey.
func structureByByte(b []byte, allKeys bool) []uint64 {
	raw := make([]uint64, (len(b)+63)/64*nMasks)
	masksGeneric(b, raw)
	out := make([]uint64, (len(b)+63)/64*nStruct)
	inString, escape, prevIn := false, false, false
	for i, c := range b {
		in := inString
		switch {
		case inString && escape:
			escape = false
		case inString && c == '\\':
			escape = true
		case inString && c == '"':
			inString, in = false, false
		case !inString && c == '"':
			inString, in = true, true
		}
		blk, bit := i/64, uint64(1)<<(i%64)
		m, o := raw[blk*nMasks:], out[blk*nStruct:]
		if !in {
			o[sOpen] |= m[mOpen] & bit
			o[sClose] |= m[mClose] & bit
		}
		if in && !prevIn && (allKeys || m[mKey]&bit != 0) {
			o[sKey] |= bit
		}
		o[sRoot] |= m[mRoot] & bit
		prevIn = in
	}
	return out
}

// checkStructure compares every way of computing structure this CPU runs
// (SWAR everywhere) with the reference on b.
func checkStructure(t *testing.T, b []byte) {
	t.Helper()
	var raw [rawChunk*nMasks + nMasks]uint64
	for _, impl := range StructImpls() {
		want := structureByByte(b, impl == StructSWAR)
		got := make([]uint64, len(want))
		structure(b, got, &raw, impl)
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%v, %d bytes: block %d word %d:\n%064b, want\n%064b\n(block %q)", impl, len(b), i/nStruct, i%nStruct,
					got[i], want[i], b[i/nStruct*64:min(i/nStruct*64+64, len(b))])
			}
		}
	}
}

// TestStructure: both ways of following strings equal the reference on
// text dense in quotes and backslashes (runs of every length across block
// ends, backslashes outside strings, which the kernel leaves to Go), on
// every length around the kernel's minimum, and on records.
func TestStructure(t *testing.T) {
	alphabet := []byte(`"""\\\{}[]oOtTeEvVrRcC: ,a`)
	r := rand.New(rand.NewPCG(5, 6))
	for n := 0; n < 2000; n += 1 + r.IntN(7) {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		checkStructure(t, b)
	}
	// Mostly valid strings: escapes inside them only, so that the kernel
	// runs far.
	for round := 0; round < 200; round++ {
		var sb strings.Builder
		for sb.Len() < 64*40 {
			sb.WriteString(`{"eventVersion":"1.08","x":"`)
			sb.WriteString(strings.Repeat(`\`, r.IntN(9)))
			if r.IntN(2) == 0 {
				sb.WriteString(`\"`)
			}
			sb.WriteString(`a\\","recipientAccountId":"1","y":["AssumeRoot"]},`)
			sb.WriteString(strings.Repeat(" ", r.IntN(70)))
		}
		b := []byte(sb.String())
		if round%10 == 0 {
			b[r.IntN(len(b))] = '\\' // perhaps outside a string
		}
		checkStructure(t, b)
	}
	for runs := 1; runs < 12; runs++ {
		for at := 50; at < 70; at++ {
			b := []byte(`"` + strings.Repeat("a", at) + strings.Repeat(`\`, runs) + `"{}"` + strings.Repeat(`x`, 130) + `"}`)
			checkStructure(t, b)
		}
	}
}

func FuzzStructure(f *testing.F) {
	f.Add([]byte(`{"eventTime":"2026-01-01T00:00:00Z","a":"\\\"","type":"Root"}`))
	f.Add([]byte(strings.Repeat(`"\\\"{`, 40)))
	f.Fuzz(func(t *testing.T, b []byte) { checkStructure(t, b) })
}

func BenchmarkStructure(b *testing.B) {
	var sb strings.Builder
	for i := 0; sb.Len() < 256<<10; i++ {
		fmt.Fprintf(&sb, `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/u%d"},"eventTime":"2026-01-01T00:00:00Z","eventSource":"s3.amazonaws.com","recipientAccountId":"111122223333"},`, i)
	}
	buf := []byte(sb.String())
	out := make([]uint64, (len(buf)+63)/64*nStruct)
	var raw [rawChunk*nMasks + nMasks]uint64
	for _, impl := range StructImpls() {
		b.Run(impl.String(), func(b *testing.B) {
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				structure(buf, out, &raw, impl)
			}
		})
	}
}

// TestStructStateCarried: the SWAR path and the AVX-512 kernel start from
// the string state they are given and leave it as the reference does, in
// every state a block can start in (the kernel reads and writes strState
// through go_asm.h's offsets; a field read from the wrong place fails
// here).
func TestStructStateCarried(t *testing.T) {
	ways := map[string]func([]byte, []uint64, *strState) int{"swar": structureSWAR}
	if slices.Contains(StructImpls(), StructKernel512) {
		ways["kernel"] = func(b []byte, out []uint64, st *strState) int {
			return structKernel(&b[0], (len(b)-3)/64, &out[0], st)
		}
	}
	body := strings.Repeat(`,{"a":"c\"d","eventTime":"x\\"},[1,"Root"]`, 8)
	for _, start := range []strState{{}, {before: 1}, {inString: ^uint64(0)}, {inString: ^uint64(0), before: 1},
		{inString: ^uint64(0), escaped: 1}, {inString: ^uint64(0), escaped: 1, before: 1}} {
		// The text goes on from the state: a string open before it closes,
		// after an escaped first byte.
		b := []byte(body)
		if start.inString != 0 {
			b = []byte(`x"` + body)
		}
		if start.escaped != 0 {
			b = []byte(`"x"` + body)
		}
		whole := (len(b) - 3) / 64
		raw := make([]uint64, (len(b)+63)/64*nMasks)
		masksGeneric(b, raw)
		want := make([]uint64, whole*nStruct)
		wantSt := start
		followStrings(b, 0, whole, raw, want, &wantSt, false)
		for name, way := range ways {
			got := make([]uint64, whole*nStruct)
			st := start
			done := way(b, got, &st)
			if done != whole {
				t.Fatalf("%s from %+v: %d blocks done, want %d", name, start, done, whole)
			}
			if name == "swar" { // every opening quote is a key candidate
				for i := sKey; i < len(got); i += nStruct {
					got[i] &= raw[i/nStruct*nMasks+mKey]
				}
			}
			if !slices.Equal(got, want) || st != wantSt {
				t.Errorf("%s from %+v: state %+v, want %+v; words equal: %v", name, start, st, wantSt, slices.Equal(got, want))
			}
		}
	}
}
