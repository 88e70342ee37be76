// Package jsonscan is the CloudTrail reader's JSON scanning: bit-parallel
// masks of a buffer (AVX2 and AVX-512 kernels in masks_amd64.s, SWAR in
// portable Go elsewhere and under the purego build tag), the structure the
// walk follows (brackets outside strings, possible keys, root marks), the
// walk from record to record (walk.go), and the general scanner that
// reads a stream value by value (stream.go). What it looks for is
// CloudTrail's (the keys eventSource, eventTime and recipientAccountId,
// strings ending in Root); what a record means is the cloudtrail
// package's.
package jsonscan

// The reader's fast path classifies its buffer 64 bytes at a time into
// bit masks (bit i of a block's word is byte 64*block+i), so that what it
// then walks is bits, not bytes: CloudTrail records are ~1.4 KB with ~140
// quotes but ~20 brackets. The masks of one block, in this order:
const (
	mQuote     = iota // "
	mBackslash        // \
	mOpen             // { or [
	mClose            // } or ]
	// mRoot marks where the bytes oot" start, in any casing: every record
	// the classifier may call root's holds a string ending so (Root,
	// AssumeRoot, assumedRoot, and any casing of a type Root).
	mRoot
	// mKey marks quotes followed by ev or rec (any casing): where the
	// keys eventSource, eventTime and recipientAccountId may start.
	mKey
	nMasks
)

// computeMasks is masksGeneric, vectorised where the CPU allows and in
// SWAR elsewhere.
func computeMasks(b []byte, out []uint64) {
	n := wholeMasks(b, out)
	if n*64 < len(b) {
		masksGeneric(b[n*64:], out[n*nMasks:])
	}
}

// masksGeneric fills out (nMasks words per block) for the blocks of b, the
// last one short when len(b) is not a multiple of 64; bytes past the end
// of b read as zero. It is the reference the other ways must equal.
func masksGeneric(b []byte, out []uint64) {
	at := func(i int) byte {
		if i < len(b) {
			return b[i]
		}
		return 0
	}
	for blk := 0; blk*64 < len(b); blk++ {
		var m [nMasks]uint64
		for j := range 64 {
			i := blk*64 + j
			if i >= len(b) {
				break
			}
			c, bit := b[i], uint64(1)<<j
			f0, f1, f2, f3 := c|0x20, at(i+1)|0x20, at(i+2)|0x20, at(i+3)|0x20
			if c == '"' {
				m[mQuote] |= bit
				if f1 == 'e' && f2 == 'v' || f1 == 'r' && f2 == 'e' && f3 == 'c' {
					m[mKey] |= bit
				}
			}
			if c == '\\' {
				m[mBackslash] |= bit
			}
			if f0 == '{' {
				m[mOpen] |= bit
			}
			if f0 == '}' {
				m[mClose] |= bit
			}
			if f0 == 'o' && f1 == 'o' && f2 == 't' && at(i+3) == '"' {
				m[mRoot] |= bit
			}
		}
		copy(out[blk*nMasks:], m[:])
	}
}

// HasRootMark reports whether b holds a root mark: the bytes oot" in any
// casing, which end every string the classifier may call root's (Root,
// AssumeRoot, assumedRoot, and a type Root in another casing). The marks
// are found with the vectorised kernel, 4 KiB at a time.
func HasRootMark(b []byte) bool {
	const chunk = 4096
	var m [(chunk/64 + 1) * nMasks]uint64
	for i := 0; i < len(b); i += chunk {
		// Three bytes past the chunk, for a mark that starts at its end.
		computeMasks(b[i:min(i+chunk+len(ootLower)-1, len(b))], m[:])
		for blk := range min(chunk, len(b)-i+63) / 64 {
			if m[blk*nMasks+mRoot] != 0 {
				return true
			}
		}
	}
	return false
}

var ootLower = []byte(`oot"`)
