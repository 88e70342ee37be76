package cloudtrail

import (
	"bytes"
	"math/bits"
)

// The fast path of the reader walks a buffer's masks (masks.go): it knows,
// for every byte, whether it is inside a string, so it steps from bracket
// to bracket to find where a record ends, looks at the few quotes that may
// open one of the record's own keys, and asks the root mask whether the
// record may be root's, without stopping at each string.

// walker finds records in b.
type walker struct {
	b     []byte
	masks []uint64 // nMasks words per block of 64 bytes
	// instr has a bit set for every byte inside a string, the opening
	// quote included and the closing one not, as the general scanner
	// reads strings: a quote inside a string is escaped when an odd
	// number of backslashes precede it. b starts outside any string.
	instr []uint64
	// rootAt is the first root mark at or after rootFrom.
	rootAt, rootFrom int
}

func (w *walker) reset(b []byte) {
	w.b = b
	nb := (len(b) + 63) / 64
	if cap(w.instr) < nb {
		w.masks, w.instr = make([]uint64, nb*nMasks), make([]uint64, nb)
	}
	w.masks, w.instr = w.masks[:nb*nMasks], w.instr[:nb]
	computeMasks(b, w.masks)
	w.strings()
	w.rootAt, w.rootFrom = -1, 0
}

// strings fills instr. A block without a backslash (nearly all) takes a
// prefix XOR of its quotes; one with a backslash, or after a backslash
// that escapes its first byte, is read byte by byte.
func (w *walker) strings() {
	var carry uint64 // all ones when a string is open at the block's start
	escape := false  // a backslash inside a string ended the last block
	for blk := range w.instr {
		m := w.masks[blk*nMasks : blk*nMasks+nMasks]
		if m[mBackslash] == 0 && !escape {
			in := prefixXor(m[mQuote]) ^ carry
			w.instr[blk] = in
			carry = uint64(int64(in) >> 63)
			continue
		}
		open := carry != 0
		var in uint64
		chunk := w.b[blk*64 : min(blk*64+64, len(w.b))]
		for j, c := range chunk {
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
		w.instr[blk] = in
		carry = 0
		if open {
			carry = ^uint64(0)
		}
	}
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

// record walks the object or array that starts at b[start] (outside any
// string). It returns the offset just past its end (-1 when it does not
// end within b), what it learnt of the object's own keys, and whether the
// object may hold root activity (a root mark inside it).
func (w *walker) record(start int) (end int, info scanInfo, mayBeRoot bool) {
	depth := 0
	from := ^uint64(0) << (start & 63)
	masks, instr := w.masks, w.instr
	for blk := start >> 6; blk < len(instr); blk++ {
		m := masks[blk*nMasks : blk*nMasks+nMasks : blk*nMasks+nMasks]
		in := instr[blk]
		var before uint64 // bit 0: inside a string at the block's start
		if blk > 0 {
			before = instr[blk-1] >> 63
		}
		opens, closes := m[mOpen]&^in, m[mClose]&^in
		keys := m[mKey] & in &^ (in<<1 | before) // quotes that open a string
		for todo := (opens | closes | keys) & from; todo != 0; todo &= todo - 1 {
			j := bits.TrailingZeros64(todo)
			bit := uint64(1) << j
			switch {
			case opens&bit != 0:
				depth++
			case closes&bit != 0:
				if depth--; depth == 0 {
					end = blk<<6 + j + 1
					// oot" ends a string, so it ends before the closing bracket.
					return end, info, w.nextRoot(start)+len(ootLower) <= end
				}
			case depth == 1:
				w.key(blk<<6+j, &info)
			}
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

// key notes the record's own key whose opening quote is at b[at], when it
// is one the reader wants.
func (w *walker) key(at int, info *scanInfo) {
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
	colon := skipSpace(w.b, at+len(name))
	if colon >= len(w.b) || w.b[colon] != ':' {
		return // a string value, not a key
	}
	if len(name) == len(keyEventSource) {
		info.hasEventSource = true
		return
	}
	v := skipSpace(w.b, colon+1)
	var value []byte
	if v < len(w.b) && w.b[v] == '"' {
		if e := stringEnd(w.b, v+1); e >= 0 {
			value = w.b[v+1 : e]
		}
	}
	if len(name) == len(keyRecipient) {
		info.recipient = value
	} else {
		info.eventTime = value
	}
}

// nextRoot returns the offset of the first root mark at or after from, or
// len(b).
func (w *walker) nextRoot(from int) int {
	if from >= w.rootFrom && w.rootAt >= from {
		return w.rootAt
	}
	p := len(w.b)
	mask := ^uint64(0) << (from & 63)
	for blk := from >> 6; blk < len(w.instr); blk++ {
		if r := w.masks[blk*nMasks+mRoot] & mask; r != 0 {
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

// skipSpace returns the offset of the first byte at or after i that is not
// JSON white space.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}
