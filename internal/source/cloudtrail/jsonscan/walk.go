package jsonscan

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// The fast path of the reader walks a buffer's structure (structure.go):
// it knows, for every byte, whether it is a bracket outside a string or
// the opening quote of a string that may be a key, so it steps from
// bracket to bracket to find where a record ends, looks at the few quotes
// that may open one of the record's own keys, and asks the root mask
// whether the record may be root's, without stopping at each string.

// Walker finds records in a buffer. Its zero value is ready; reused, it
// keeps its masks between buffers.
type Walker struct {
	b     []byte
	masks []uint64 // nStruct words per block of 64 bytes
	// rootAt is the first root mark at or after rootFrom.
	rootAt, rootFrom int
	raw              [rawChunk*nMasks + nMasks]uint64 // structure's scratch
	// Impl is how the structure is computed: StructBest, unless a test or
	// a benchmark asks for another.
	Impl StructImpl
}

// RecordInfo is what the walk learns about a record on its way: the own
// keys that make it a CloudTrail record and its recipient account.
type RecordInfo struct {
	HasEventSource bool
	Recipient      []byte
	EventTime      []byte
}

// Reset computes the structure of b, which Record then walks.
func (w *Walker) Reset(b []byte) {
	w.b = b
	n := (len(b) + 63) / 64 * nStruct
	if cap(w.masks) < n {
		w.masks = make([]uint64, n)
	}
	w.masks = w.masks[:n]
	structure(b, w.masks, &w.raw, w.Impl)
	w.rootAt, w.rootFrom = -1, 0
}

// Release drops the masks when one huge buffer made them large, so that a
// reused Walker does not hold them.
func (w *Walker) Release() {
	if len(w.masks) > 1<<16 {
		w.masks = nil
	}
}

// Record walks the object or array that starts at b[start] (outside any
// string). It returns the offset just past its end (-1 when it does not
// end within b), what it learnt of the object's own keys, and whether a
// root mark (HasRootMark) is inside it.
func (w *Walker) Record(start int) (end int, info RecordInfo, rootMark bool) {
	depth := 0
	from := ^uint64(0) << (start & 63)
	masks := w.masks
	for blk := start >> 6; blk*nStruct < len(masks); blk++ {
		m := masks[blk*nStruct : blk*nStruct+nStruct : blk*nStruct+nStruct]
		opens, closes := m[sOpen], m[sClose]
		// seg: the bytes of the block after the last bracket, at the
		// current depth; at a depth of 1 its keys are the record's own.
		seg := from
		for todo := (opens | closes) & from; ; todo &= todo - 1 {
			bit := todo & -todo // the next bracket; none: 0, and bit-1 is all
			if depth == 1 {
				// The record's own keys among the candidates (sKey): most
				// are other keys, or values (SWAR marks every string);
				// their first eight bytes tell.
				for c := m[sKey] & seg & (bit - 1); c != 0; c &= c - 1 {
					at := blk<<6 + bits.TrailingZeros64(c)
					if at+8 > len(w.b) {
						break // too short for any of them, as are the later ones
					}
					switch binary.LittleEndian.Uint64(w.b[at:]) {
					case prefixEventSource, prefixEventTime, prefixRecipient:
						w.key(at, &info)
					}
				}
			}
			if bit == 0 {
				break
			}
			if opens&bit != 0 {
				depth++
			} else if depth--; depth == 0 {
				end = blk<<6 + bits.TrailingZeros64(bit) + 1
				// oot" ends a string, so it ends before the closing bracket.
				return end, info, w.nextRoot(start)+len(ootLower) <= end
			}
			seg = -(bit << 1) // the bytes after the bracket
		}
		from = ^uint64(0)
	}
	return -1, info, false
}

var (
	keyEventSource = []byte(`"eventSource"`)
	keyRecipient   = []byte(`"recipientAccountId"`)
	keyEventTime   = []byte(`"eventTime"`)
)

// The first eight bytes of the keys, little-endian (TestKeyPrefixes).
const (
	prefixEventSource = 0x6f53746e65766522 // "eventSo
	prefixEventTime   = 0x6954746e65766522 // "eventTi
	prefixRecipient   = 0x6569706963657222 // "recipie
)

// key notes the record's own key whose opening quote is at b[at], when it
// is one the reader wants.
func (w *Walker) key(at int, info *RecordInfo) {
	rest := w.b[at:]
	// The byte after "event, then the closing quote, tell the names
	// apart before they are compared (eventVersion, eventName, eventID …
	// are candidates too).
	var name []byte
	switch {
	case len(rest) < len(keyEventTime):
		return
	case rest[1] == 'r':
		name = keyRecipient
	case rest[6] == 'S':
		name = keyEventSource
	case rest[6] == 'T':
		name = keyEventTime
	default:
		return
	}
	if len(rest) < len(name) || rest[len(name)-1] != '"' || !bytes.Equal(rest[:len(name)], name) {
		return
	}
	colon := SkipSpace(w.b, at+len(name))
	if colon >= len(w.b) || w.b[colon] != ':' {
		return // a string value, not a key
	}
	if len(name) == len(keyEventSource) {
		info.HasEventSource = true
		return
	}
	v := SkipSpace(w.b, colon+1)
	var value []byte
	if v < len(w.b) && w.b[v] == '"' {
		if e := stringEnd(w.b, v+1); e >= 0 {
			value = w.b[v+1 : e]
		}
	}
	if len(name) == len(keyRecipient) {
		info.Recipient = value
	} else {
		info.EventTime = value
	}
}

// nextRoot returns the offset of the first root mark at or after from, or
// len(b).
func (w *Walker) nextRoot(from int) int {
	if from >= w.rootFrom && w.rootAt >= from {
		return w.rootAt
	}
	p := len(w.b)
	mask := ^uint64(0) << (from & 63)
	for blk := from >> 6; blk*nStruct < len(w.masks); blk++ {
		if r := w.masks[blk*nStruct+sRoot] & mask; r != 0 {
			p = blk<<6 + bits.TrailingZeros64(r)
			break
		}
		mask = ^uint64(0)
	}
	w.rootAt, w.rootFrom = p, from
	return p
}

// escapedAt reports whether the quote at b[i] follows an odd number of
// backslashes.
func escapedAt(b []byte, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && b[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

// stringEnd returns the offset of the quote that closes the string whose
// contents start at i, or -1.
func stringEnd(b []byte, i int) int {
	for {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return -1
		}
		i += q
		if !escapedAt(b, i) {
			return i
		}
		i++
	}
}

// SkipSpace returns the offset of the first byte at or after i that is not
// JSON white space.
func SkipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}
