package jsonscan

// The walk (walk.go) reads a buffer's structure: for every 64-byte block,
// four words whose bit i is byte 64*block+i, in this order:
const (
	sOpen  = iota // { or [ outside strings
	sClose        // } or ] outside strings
	// sKey marks the opening quotes of strings that may be one of the
	// keys the reader wants: where the masks are vectorised, those followed
	// by ev or rec (mKey); in SWAR, all of them. The walk reads which.
	sKey
	sRoot // mRoot
	nStruct
)

// Strings are read as the general scanner reads them: a quote outside a
// string opens one; a quote inside a string closes it unless an odd number
// of backslashes precede it. The buffer starts outside any string.

// strState is what one block's strings carry into the next.
type strState struct {
	inString uint64 // all ones when a string is open at the block's start
	escaped  uint64 // 1 when the block's first byte is escaped
	before   uint64 // 1 when the last block's last byte is inside a string
}

// StructImpl is a way of computing a buffer's structure.
type StructImpl int

const (
	// StructBest is the fastest way the CPU allows (bestStruct).
	StructBest StructImpl = iota
	// StructSWAR classifies and follows the strings in portable Go
	// (masks_swar.go), a block at a time.
	StructSWAR
	// StructMasks computes the masks of masks.go a chunk at a time into
	// raw, small enough to stay in the first-level cache (vectorised
	// where the CPU allows), and follows them in Go.
	StructMasks
	// StructKernel512: one AVX-512 kernel classifies the bytes and follows
	// the strings (prefix XOR by carry-less multiplication).
	StructKernel512
)

func (s StructImpl) String() string {
	return [...]string{"best", "swar", "masks", "kernel"}[s]
}

// structure fills out (nStruct words per block) for the blocks of b the
// way impl says. The kernel and SWAR stop before the last bytes, which the
// masks way finishes; the kernel also stops before a block it cannot
// follow exactly (a backslash outside a string: not JSON), which is read
// byte by byte.
func structure(b []byte, out []uint64, raw *[rawChunk*nMasks + nMasks]uint64, impl StructImpl) {
	if impl == StructBest {
		impl = bestStruct()
	}
	var st strState
	total := (len(b) + 63) / 64
	done := 0
	switch {
	case impl == StructSWAR:
		done = structureSWAR(b, out, &st)
	case impl == StructKernel512 && len(b) >= 67:
		whole := (len(b) - 3) / 64
		for done < whole {
			done += structKernel(&b[done*64], whole-done, &out[done*nStruct], &st)
			if done < whole {
				lo := done * 64
				masksGeneric(b[lo:min(lo+67, len(b))], raw[:])
				followStrings(b, done, done+1, raw[:], out, &st, false)
				done++
			}
		}
	}
	for done < total {
		n := min(total-done, rawChunk)
		lo, hi := done*64, min((done+n)*64, len(b))
		// Three bytes past the chunk, for a mark that starts at its end.
		computeMasks(b[lo:min(hi+len(ootLower)-1, len(b))], raw[:])
		followStrings(b, done, done+n, raw[:], out, &st, impl == StructSWAR)
		done += n
	}
}

// rawChunk is the blocks of raw masks structure computes at a time (3 KiB).
const rawChunk = 64

// followStrings fills out for blocks from…to of b from their raw masks
// (raw[0] is block from's). A block without a backslash (nearly all) takes
// a prefix XOR of its quotes; one with a backslash, or whose first byte is
// escaped, is read byte by byte. The sKey words hold every opening quote
// when allKeys is set, as structureSWAR's do.
func followStrings(b []byte, from, to int, raw, out []uint64, st *strState, allKeys bool) {
	keys := uint64(0)
	if allKeys {
		keys = ^uint64(0)
	}
	for blk := from; blk < to; blk++ {
		m := raw[(blk-from)*nMasks : (blk-from)*nMasks+nMasks : (blk-from)*nMasks+nMasks]
		var in uint64
		if m[mBackslash] == 0 && st.escaped == 0 {
			in = prefixXor(m[mQuote]) ^ st.inString
			st.inString = uint64(int64(in) >> 63)
		} else {
			in = stringsByByte(b[blk*64:min(blk*64+64, len(b))], st)
		}
		o := out[blk*nStruct : blk*nStruct+nStruct : blk*nStruct+nStruct]
		o[sOpen] = m[mOpen] &^ in
		o[sClose] = m[mClose] &^ in
		o[sKey] = (m[mKey] | keys) & in &^ (in<<1 | st.before)
		o[sRoot] = m[mRoot]
		st.before = in >> 63
	}
}

// stringsByByte returns the in-string bits of one block (the opening quote
// in, the closing one out) and updates st's inString and escaped.
func stringsByByte(block []byte, st *strState) uint64 {
	open, escape := st.inString != 0, st.escaped != 0
	var in uint64
	for j, c := range block {
		switch {
		case open && escape:
			escape = false
		case open && c == '\\':
			escape = true
		case open && c == '"':
			open = false
			continue
		case !open && c == '"':
			open = true
		case !open:
			continue
		}
		in |= 1 << j
	}
	st.inString, st.escaped = 0, 0
	if open {
		st.inString = ^uint64(0)
	}
	if escape {
		st.escaped = 1
	}
	return in
}

// prefixXor sets bit i to the parity of the bits 0…i of x.
func prefixXor(x uint64) uint64 {
	x ^= x << 1
	x ^= x << 2
	x ^= x << 4
	x ^= x << 8
	x ^= x << 16
	x ^= x << 32
	return x
}
