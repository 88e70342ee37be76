package jsonscan

import (
	"encoding/binary"
	"math/bits"
)

// The masks and the structure in portable Go (SWAR: eight bytes per
// uint64), for CPUs without the vector kernels of masks_amd64.s (arm64,
// x86 without AVX2, the purego build). Only quotes are frequent in
// CloudTrail (one byte in ten); each word of a block is tested for them,
// in one range test for the rare { } [ ] \ |, and for t in any casing,
// and the bits are transposed into place. The few rare bytes are then told
// apart one by one, and root marks are looked for only where a t comes
// two bytes before a quote.

const (
	lsb  = 0x0101010101010101
	msb  = 0x8080808080808080
	low7 = 0x7f7f7f7f7f7f7f7f
)

// swarBlock is one block and the three bytes after it that its masks read.
type swarBlock = [64 + 3]byte

// transpose8 transposes x as an 8×8 bit matrix (bit 8r+c to bit 8c+r).
// Bit 7 of byte i of the block's word k, shifted right by 7-k, lands on
// bit 8i+k; transposed, it is bit 8k+i: the byte's own place.
func transpose8(x uint64) uint64 {
	t := (x ^ x>>7) & 0x00aa00aa00aa00aa
	x ^= t ^ t<<7
	t = (x ^ x>>14) & 0x0000cccc0000cccc
	x ^= t ^ t<<14
	t = (x ^ x>>28) & 0x00000000f0f0f0f0
	return x ^ t ^ t<<28
}

// classifyWord tests the eight bytes of w at once; each result has bit 7
// of a byte set or clear:
//   - notQuote: set where the byte is not a quote (exactly: no carry
//     crosses bytes);
//   - rare: set where OR 0x20 makes the byte's low seven bits 0x7b…0x7f:
//     { } [ ] \ | and the rarer ^ _ ~ DEL and some bytes ≥ 0x80, told
//     apart later;
//   - notT: clear where the byte may be t or T (bytes ≥ 0x80 may be taken
//     for one; they are checked again).
func classifyWord(w uint64) (notQuote, rare, notT uint64) {
	x := w ^ '"'*lsb
	notQuote = (x&low7 + low7 | x) & msb
	v := (w | 0x20*lsb) & low7
	rare = (v + 0x05*lsb) & msb
	notT = (v ^ 't'*lsb + low7) & msb
	return notQuote, rare, notT
}

// classified is a block as classifyBlock leaves it: still transposed
// (bit 8i+k is byte 8k+i), each word a bit per byte.
type classified struct {
	notQuote, rare, notT uint64
}

// classifyBlock tests the block's eight words.
func classifyBlock(p *swarBlock) classified {
	le := binary.LittleEndian
	q, r, t := classifyWord(le.Uint64(p[0:8]))
	q, r, t = q>>7, r>>7, t>>7
	q1, r1, t1 := classifyWord(le.Uint64(p[8:16]))
	q, r, t = q|q1>>6, r|r1>>6, t|t1>>6
	q1, r1, t1 = classifyWord(le.Uint64(p[16:24]))
	q, r, t = q|q1>>5, r|r1>>5, t|t1>>5
	q1, r1, t1 = classifyWord(le.Uint64(p[24:32]))
	q, r, t = q|q1>>4, r|r1>>4, t|t1>>4
	q1, r1, t1 = classifyWord(le.Uint64(p[32:40]))
	q, r, t = q|q1>>3, r|r1>>3, t|t1>>3
	q1, r1, t1 = classifyWord(le.Uint64(p[40:48]))
	q, r, t = q|q1>>2, r|r1>>2, t|t1>>2
	q1, r1, t1 = classifyWord(le.Uint64(p[48:56]))
	q, r, t = q|q1>>1, r|r1>>1, t|t1>>1
	q1, r1, t1 = classifyWord(le.Uint64(p[56:64]))
	return classified{q | q1, r | r1, t | t1}
}

// quotes returns the block's quotes.
func (c classified) quotes() uint64 { return ^transpose8(c.notQuote) }

// tQuotes returns where in the block a t (in any casing, or a byte ≥ 0x80
// taken for one) is followed by a quote, the first byte after the block
// included: the only places a root mark can end. It is transposed, as
// classified is; the byte after byte 8k+i is bit 8(i+1)+k, or for i = 7
// bit k+1 (for k = 7, the next block's first byte).
func (c classified) tQuotes(p *swarBlock) uint64 {
	next := c.notQuote>>8 | (c.notQuote>>1&0x7f)<<56 | b2u(p[64] != '"')<<63
	return ^(c.notT | next)
}

// place returns the place in the block of bit b of a transposed word.
func place(b int) int { return b&7<<3 | b>>3 }

// splitRare tells the rare bytes apart, given transposed (classified.rare):
// a switch measured faster than the same without branches, and placing the
// few bits faster than transposing them.
func splitRare(p *swarBlock, rare uint64) (opens, closes, backslashes uint64) {
	for ; rare != 0; rare &= rare - 1 {
		i := place(bits.TrailingZeros64(rare)) & 63
		switch p[i] {
		case '{', '[':
			opens |= 1 << i
		case '}', ']':
			closes |= 1 << i
		case '\\':
			backslashes |= 1 << i
		}
	}
	return opens, closes, backslashes
}

// keysAt returns which of the quotes at can open a key the reader wants:
// followed by ev or rec, in any casing (mKey). (masksSWAR's only:
// structureSWAR leaves the keys to the walk.)
func keysAt(p *swarBlock, at uint64) (keys uint64) {
	for ; at != 0; at &= at - 1 {
		i := bits.TrailingZeros64(at) & 63
		u := binary.LittleEndian.Uint32(p[i:i+4]) | 0x20202000
		if u&0xffffff == '"'|'e'<<8|'v'<<16 || u == '"'|'r'<<8|'e'<<16|'c'<<24 {
			keys |= 1 << i
		}
	}
	return keys
}

// isRootMark reports whether b[i:] starts with oot" in any casing.
func isRootMark(b []byte, i int) bool {
	return binary.LittleEndian.Uint32(b[i:i+4])|0x202020 == 'o'|'o'<<8|'t'<<16|'"'<<24
}

// rootMarks sets the root marks of the block at b[at:] and of the last two
// bytes of the block before it (at > 0) in m (nStride words per block,
// the mark's at index r), given where the block's t-quote pairs are
// (transposed). Those of the block's own last two bytes end in the next
// block's first bytes: they are the next block's, or lastRootMarks'.
func rootMarks(b []byte, at int, pairs uint64, m []uint64, nStride, r int) {
	for ; pairs != 0; pairs &= pairs - 1 {
		i := at + place(bits.TrailingZeros64(pairs)) - 2 // the o of oot"
		if i >= 0 && isRootMark(b, i) {
			m[i>>6*nStride+r] |= 1 << (i & 63)
		}
	}
}

// lastRootMarks sets the marks of the last two bytes of the block at b[at:]
// (three bytes follow it) in m.
func lastRootMarks(b []byte, at int, m []uint64, nStride, r int) {
	for i := at + 62; i < at+64; i++ {
		if isRootMark(b, i) {
			m[i>>6*nStride+r] |= 1 << (i & 63)
		}
	}
}

// masksSWAR is masksGeneric in SWAR: it fills out for the whole blocks of
// b that have three bytes after them, and returns how many it did.
func masksSWAR(b []byte, out []uint64) int {
	blocks := 0
	if len(b) >= 67 {
		blocks = (len(b) - 3) / 64
	}
	for blk := range blocks {
		p := (*swarBlock)(b[blk*64:])
		c := classifyBlock(p)
		quotes := c.quotes()
		opens, closes, backslashes := splitRare(p, c.rare)
		m := out[blk*nMasks : blk*nMasks+nMasks : blk*nMasks+nMasks]
		m[mQuote] = quotes
		m[mBackslash] = backslashes
		m[mOpen] = opens
		m[mClose] = closes
		m[mRoot] = 0
		m[mKey] = keysAt(p, quotes)
		rootMarks(b, blk*64, c.tQuotes(p), out, nMasks, mRoot)
	}
	if blocks > 0 {
		lastRootMarks(b, (blocks-1)*64, out, nMasks, mRoot)
	}
	return blocks
}

// structureSWAR is the structure kernel in SWAR: it fills out (nStruct
// words per block) for the whole blocks of b that have three bytes after
// them, from st, and returns how many it did. A block with backslashes
// follows escapes as the AVX-512 kernel does, or byte by byte when one of
// them is outside a string (not JSON; the reading of the general scanner).
// Its sKey words hold every opening quote: telling those followed by ev or
// rec here measured slower than the walk's own look at the few of a
// record's depth.
func structureSWAR(b []byte, out []uint64, st *strState) int {
	blocks := 0
	inString, escapedIn, before := st.inString, st.escaped, st.before // in registers
	for rest, o := b, out; len(rest) >= 67 && len(o) >= nStruct; rest, o = rest[64:], o[nStruct:] {
		p, o := (*swarBlock)(rest), (*[nStruct]uint64)(o)
		c := classifyBlock(p)
		quotes := c.quotes()
		var opens, closes, backslashes uint64
		if c.rare != 0 {
			opens, closes, backslashes = splitRare(p, c.rare)
		}
		var in uint64
		if backslashes|escapedIn == 0 {
			in = prefixXor(quotes) ^ inString
			inString = uint64(int64(in) >> 63)
		} else {
			escaped, carry := escapes(backslashes, escapedIn)
			in = prefixXor(quotes&^escaped) ^ inString
			if backslashes&^in == 0 {
				inString = uint64(int64(in) >> 63)
				escapedIn = carry
			} else {
				s := strState{inString: inString, escaped: escapedIn}
				in = stringsByByte(p[:64], &s)
				inString, escapedIn = s.inString, s.escaped
			}
		}
		o[sOpen] = opens &^ in
		o[sClose] = closes &^ in
		o[sKey] = in &^ (in<<1 | before)
		o[sRoot] = 0
		before = in >> 63
		if pairs := c.tQuotes(p); pairs != 0 {
			rootMarks(b, blocks*64, pairs, out, nStruct, sRoot)
		}
		blocks++
	}
	st.inString, st.escaped, st.before = inString, escapedIn, before
	if blocks > 0 {
		lastRootMarks(b, (blocks-1)*64, out, nStruct, sRoot)
	}
	return blocks
}

// escapes returns the bytes escaped by the backslashes of a block (each
// run escapes the byte after it when its length is odd) and whether the
// next block's first byte is escaped, given whether this block's is: the
// branchless scan of simdjson (json_escape_scanner), which reads every
// backslash as inside a string.
func escapes(backslash, escapedIn uint64) (escaped, escapedOut uint64) {
	const even = 0x5555555555555555
	backslash &^= escapedIn // an escaped backslash escapes nothing
	follows := backslash<<1 | escapedIn
	oddStarts := backslash &^ even &^ follows
	evenStarts, carry := bits.Add64(oddStarts, backslash, 0)
	return (even ^ evenStarts<<1) & follows, carry
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
