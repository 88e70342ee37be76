package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"
)

// A run is stored as the JSON it was written as, cut into parts: each
// account and each finding is the compact JSON encoding/json gave it. A
// part whose content a store already holds is not copied again: it is a
// version (finding_versions, account_versions), referenced by every run
// that holds it. What varies from one run to the next in a part that did
// not otherwise change (the as-of time in a window's bounds, a report's
// generation time, ages in days) is cut out as slots: a version's hash is
// that of its template (its text with the slots blanked), and a run that
// holds the version records, per slot whose text differs from the
// version's, how to write it: the version's time moved by as much as the
// run's as-of time moved, the run's as-of time plus an offset, or the
// text itself. The version keeps the text and the positions of its slots,
// so reading a run back needs no tokenizer: the bytes are the version's
// with the run's slot texts put in, the same bytes that were written,
// which Save checks before it commits.

// slot kinds
const (
	slotTime   = 't' // an RFC 3339 time inside a string
	slotNumber = 'n' // a JSON number, or a decimal number inside a string
)

type slot struct {
	off, end int
	kind     byte
}

// part is one account or finding as its compact JSON, with its slots.
type part struct {
	raw   []byte
	slots []slot
	hash  string
}

// Top-level keys whose values are never slots: they identify a finding
// or an account, or say what it judged, and a change in them is a new
// version, which is what a reader of the versions tables expects.
var (
	findingFixed = map[string]bool{"rule_id": true, "account_id": true, "resource": true, "fingerprint": true,
		"status": true, "severity": true, "first_seen": true, "change": true, "region": true, "title": true}
	accountFixed = map[string]bool{"account_id": true, "partition": true, "status": true}
)

func newPart(kind byte, raw []byte, fixed map[string]bool) part {
	p := part{raw: raw, slots: slotsOf(raw, fixed)}
	p.hash = templateHash(kind, raw, p.slots)
	return p
}

// templateHash identifies a part's template: its bytes with each slot
// replaced by a NUL and the slot's kind (compact JSON holds no NUL).
func templateHash(kind byte, raw []byte, slots []slot) string {
	h := sha256.New()
	h.Write([]byte{kind, 0})
	prev := 0
	for _, s := range slots {
		h.Write(raw[prev:s.off])
		h.Write([]byte{0, s.kind})
		prev = s.end
	}
	h.Write(raw[prev:])
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// slotsOf finds the slots of a compact JSON object: every number outside
// strings, and inside strings every RFC 3339 time and every decimal
// number standing alone (not part of a word, an identifier, an address
// or a version), except under the top-level keys in fixed and in object
// keys. It never fails: text it does not understand holds no slot.
func slotsOf(raw []byte, fixed map[string]bool) []slot {
	var out []slot
	var stack []byte // '{' or '['
	expectKey := false
	topKey := ""
	for i := 0; i < len(raw); {
		c := raw[i]
		frozen := len(stack) >= 1 && fixed[topKey]
		switch {
		case c == '"':
			j := stringEnd(raw, i+1)
			if expectKey {
				if len(stack) == 1 {
					topKey = string(raw[i+1 : j])
				}
			} else if !frozen {
				out = stringSlots(raw, i+1, j, out)
			}
			i = j + 1
			continue
		case c == '{' || c == '[':
			stack = append(stack, c)
			expectKey = c == '{'
		case c == '}' || c == ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			expectKey = false
		case c == ':':
			expectKey = false
		case c == ',':
			expectKey = len(stack) > 0 && stack[len(stack)-1] == '{'
		case c == '-' || isDigit(c):
			j := i + 1
			for j < len(raw) && (isDigit(raw[j]) || raw[j] == '.' || raw[j] == 'e' || raw[j] == 'E' || raw[j] == '+' || raw[j] == '-') {
				j++
			}
			if !frozen {
				out = append(out, slot{i, j, slotNumber})
			}
			i = j
			continue
		}
		i++
	}
	return out
}

// stringEnd is the index of the quote that ends the string whose content
// starts at i (len(raw) when there is none).
func stringEnd(raw []byte, i int) int {
	for i < len(raw) {
		switch raw[i] {
		case '\\':
			i += 2
			continue
		case '"':
			return i
		}
		i++
	}
	return len(raw)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

// stringSlots appends the slots of the string content raw[start:end].
func stringSlots(raw []byte, start, end int, out []slot) []slot {
	for p := start; p < end; {
		c := raw[p]
		if c == '\\' {
			p += 2
			continue
		}
		if !isDigit(c) {
			p++
			continue
		}
		// A digit: it starts a slot only where nothing word-like is
		// before it (account IDs in ARNs, hex, \u escapes, dotted
		// addresses and versions stay text).
		if p > start {
			if b := raw[p-1]; isAlnum(b) || b == '.' || b == '-' || b == ':' || b == '/' || b == '+' || b == '\\' {
				p = skipNumberish(raw, p, end)
				continue
			}
		}
		if e := timeEnd(raw, p, end); e > 0 {
			out = append(out, slot{p, e, slotTime})
			p = e
			continue
		}
		e := p
		for e < end && isDigit(raw[e]) {
			e++
		}
		if e+1 < end && raw[e] == '.' && isDigit(raw[e+1]) {
			e++
			for e < end && isDigit(raw[e]) {
				e++
			}
		}
		standalone := true
		if e < end {
			a := raw[e]
			switch {
			case isAlnum(a) || a == '-' || a == ':' || a == '/' || a == '\\':
				standalone = false
			case a == '.' && e+1 < end && isDigit(raw[e+1]):
				standalone = false
			}
		}
		if standalone {
			out = append(out, slot{p, e, slotNumber})
			p = e
			continue
		}
		p = skipNumberish(raw, p, end)
	}
	return out
}

// skipNumberish steps over digits and what joins them in identifiers.
func skipNumberish(raw []byte, p, end int) int {
	for p < end && (isAlnum(raw[p]) || raw[p] == '.' || raw[p] == '-' || raw[p] == ':') {
		p++
	}
	return p
}

// timeEnd is the end of an RFC 3339 time starting at p
// (YYYY-MM-DDTHH:MM:SS, optional fraction, Z or ±HH:MM), or 0.
func timeEnd(raw []byte, p, end int) int {
	const shape = "dddd-dd-ddTdd:dd:dd"
	if end-p < len(shape)+1 {
		return 0
	}
	for k := 0; k < len(shape); k++ {
		c := raw[p+k]
		if shape[k] == 'd' {
			if !isDigit(c) {
				return 0
			}
		} else if c != shape[k] {
			return 0
		}
	}
	e := p + len(shape)
	if e < end && raw[e] == '.' {
		f := e + 1
		for f < end && isDigit(raw[f]) {
			f++
		}
		if f == e+1 || f-e-1 > 9 {
			return 0
		}
		e = f
	}
	switch {
	case e < end && raw[e] == 'Z':
		e++
	case e+6 <= end && (raw[e] == '+' || raw[e] == '-') && isDigit(raw[e+1]) && isDigit(raw[e+2]) && raw[e+3] == ':' && isDigit(raw[e+4]) && isDigit(raw[e+5]):
		e += 6
	default:
		return 0
	}
	if e < end && isAlnum(raw[e]) {
		return 0
	}
	return e
}

// stamp is a time slot's text read back: the time, and the layout that
// writes another time the same way (fraction digits, Z or an offset).
type stamp struct {
	t      time.Time
	layout string
}

func parseStamp(tok []byte) (stamp, bool) {
	s := string(tok)
	layout := "2006-01-02T15:04:05"
	if dot := bytes.IndexByte(tok, '.'); dot >= 0 {
		n := 0
		for k := dot + 1; k < len(tok) && isDigit(tok[k]); k++ {
			n++
		}
		layout += "." + string(bytes.Repeat([]byte{'0'}, n))
	}
	if tok[len(tok)-1] == 'Z' {
		layout += "Z07:00"
	} else {
		layout += "-07:00"
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return stamp{}, false
	}
	// The zone as written, never the machine's: an offset that matches
	// Local would otherwise follow its daylight saving time.
	_, off := t.Zone()
	t = t.In(time.FixedZone("", off))
	if tok[len(tok)-1] == 'Z' {
		t = t.UTC()
	}
	return stamp{t, layout}, true
}

func (s stamp) format(t time.Time) []byte {
	return []byte(t.In(s.t.Location()).Format(s.layout))
}

// Exception codes: how a run writes a slot whose text is not its
// version's.
const (
	codeShift  = 1 // the version's time, moved as far as the as-of time moved
	codeOffset = 2 // the run's as-of time plus whole seconds
	codeText   = 3 // the text itself
	codeKeep   = 4 // the version's text, where time slots move (edits.moved)
)

type exception struct {
	slot    int
	code    byte
	seconds int64
	text    []byte
}

// edits say how a run writes a version: its exceptions, and, when moved,
// every time slot they do not name moves as far as the as-of time moved
// (a finding about a window names the few times that stay instead of the
// many that move).
type edits struct {
	moved bool
	exc   []exception
}

// version is a stored part: its text, slots and the as-of time of the run
// that wrote it. A version read from the store keeps its slots packed
// until they are needed: most parts of a run are written as they are.
type version struct {
	id     int64
	asOf   time.Time
	body   []byte
	slots  []slot
	packed []byte
}

func (v *version) unpack() error {
	if v.packed == nil {
		return nil
	}
	slots, err := decodeSlots(v.packed, len(v.body))
	if err != nil {
		return fmt.Errorf("version %d: %w", v.id, err)
	}
	v.slots, v.packed = slots, nil
	return nil
}

// exceptions says how the run (as of asOf) writes cur, a part with the
// same template as v, in as few exceptions as it can.
func exceptions(v *version, cur part, asOf time.Time) (edits, error) {
	if err := v.unpack(); err != nil {
		return edits{}, err
	}
	if len(v.slots) != len(cur.slots) {
		return edits{}, fmt.Errorf("store: version %d has %d slots, the part %d", v.id, len(v.slots), len(cur.slots))
	}
	moved := asOf.Sub(v.asOf)
	var still, shifted []exception
	for i, s := range cur.slots {
		was := v.body[v.slots[i].off:v.slots[i].end]
		now := cur.raw[s.off:s.end]
		same := bytes.Equal(was, now)
		st, isTime := stamp{}, false
		if s.kind == slotTime {
			st, isTime = parseStamp(was)
		}
		if !isTime {
			if !same {
				e := exception{slot: i, code: codeText, text: now}
				still, shifted = append(still, e), append(shifted, e)
			}
			continue
		}
		follows := bytes.Equal(st.format(st.t.Add(moved)), now)
		other := exception{slot: i, code: codeText, text: now}
		if nt, ok := parseStamp(now); ok {
			if d := nt.t.Sub(asOf); d%time.Second == 0 && bytes.Equal(st.format(asOf.Add(d)), now) {
				other = exception{slot: i, code: codeOffset, seconds: int64(d / time.Second)}
			}
		}
		switch {
		case same && follows:
		case same:
			shifted = append(shifted, exception{slot: i, code: codeKeep})
		case follows:
			still = append(still, exception{slot: i, code: codeShift})
		default:
			still, shifted = append(still, other), append(shifted, other)
		}
	}
	if len(shifted) < len(still) {
		return edits{moved: true, exc: shifted}, nil
	}
	return edits{exc: still}, nil
}

// apply writes a version as a run (as of asOf) holds it.
func apply(v *version, ed edits, asOf time.Time) ([]byte, error) {
	if len(ed.exc) == 0 && !ed.moved {
		return v.body, nil
	}
	if err := v.unpack(); err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(v.body)+16*len(ed.exc))
	prev, next := 0, 0
	for i, s := range v.slots {
		var e *exception
		if next < len(ed.exc) && ed.exc[next].slot == i {
			e = &ed.exc[next]
			next++
		}
		if e == nil && (!ed.moved || s.kind != slotTime) {
			continue
		}
		was := v.body[s.off:s.end]
		var text []byte
		switch {
		case e != nil && e.code == codeText:
			text = e.text
		case e != nil && e.code == codeKeep:
			text = was
		default:
			st, ok := parseStamp(was)
			switch {
			case ok && (e == nil || e.code == codeShift):
				text = st.format(st.t.Add(asOf.Sub(v.asOf)))
			case ok && e.code == codeOffset:
				text = st.format(asOf.Add(time.Duration(e.seconds) * time.Second))
			case e == nil:
				text = was // a time that does not read stays
			case e.code != codeShift && e.code != codeOffset:
				return nil, fmt.Errorf("store: version %d: unknown slot code %d", v.id, e.code)
			default:
				return nil, fmt.Errorf("store: version %d: slot %d is not a time", v.id, i)
			}
		}
		out = append(out, v.body[prev:s.off]...)
		out = append(out, text...)
		prev = s.end
	}
	if next != len(ed.exc) {
		return nil, fmt.Errorf("store: version %d has no slot %d", v.id, ed.exc[next].slot)
	}
	return append(out, v.body[prev:]...), nil
}

// encodeSlots and decodeSlots keep a version's slot positions.
func encodeSlots(slots []slot) []byte {
	b := binary.AppendUvarint(nil, uint64(len(slots)))
	prev := 0
	for _, s := range slots {
		b = binary.AppendUvarint(b, uint64(s.off-prev))
		b = binary.AppendUvarint(b, uint64(s.end-s.off))
		b = append(b, s.kind)
		prev = s.end
	}
	return b
}

var errCorrupt = errors.New("store: a stored reference does not decode (the store is damaged)")

func decodeSlots(b []byte, bodyLen int) ([]slot, error) {
	r := reader{b: b}
	n := r.uvarint()
	if r.err != nil || n > uint64(bodyLen) {
		return nil, errCorrupt
	}
	out := make([]slot, 0, n)
	prev := 0
	for range n {
		off := prev + int(r.uvarint())
		end := off + int(r.uvarint())
		kind := r.byte()
		if r.err != nil || off < prev || end > bodyLen || end <= off {
			return nil, errCorrupt
		}
		out = append(out, slot{off, end, kind})
		prev = end
	}
	return out, r.done()
}

// ref is one part of a run_accounts row: the version it holds, how the
// run writes its slots and, for a finding, its change since the run
// before (a store's mark, which every run but a baseline sets).
type ref struct {
	id     int64
	exc    edits
	change string
}

// changeKinds are the change marks a finding's ref names by number (0:
// none); any other is kept as text.
var changeKinds = []string{"", "unchanged", "new_failure", "resolved", "changed", "added", "removed", "not_assessed"}

const changeText = 255

// cutChange takes a finding's change mark off its JSON: it is encoding/json's
// last member (`,"change":"…"}`), and it differs from run to run where
// nothing else does (none in a baseline, then unchanged).
func cutChange(raw []byte) (body []byte, change string) {
	const key = `,"change":"`
	if !bytes.HasSuffix(raw, []byte(`"}`)) {
		return raw, ""
	}
	k := bytes.LastIndex(raw, []byte(key))
	if k < 0 {
		return raw, ""
	}
	v := raw[k+len(key) : len(raw)-2]
	if len(v) == 0 || bytes.ContainsAny(v, `"\`) {
		return raw, ""
	}
	body = append(append([]byte{}, raw[:k]...), '}')
	return body, string(v)
}

// withChange puts a change mark back.
func withChange(body []byte, change string) []byte {
	if change == "" {
		return body
	}
	out := append([]byte{}, body[:len(body)-1]...)
	out = append(out, `,"change":"`...)
	out = append(out, change...)
	return append(out, `"}`...)
}

// row is what a run holds of one account: the account's own part (id 0
// for findings of an account the run does not list) and its findings'.
type refRow struct {
	account  ref
	findings []ref
}

const refsFormat = 1

func appendExceptions(b []byte, ed edits) []byte {
	n := uint64(len(ed.exc)) << 1
	if ed.moved {
		n |= 1
	}
	b = binary.AppendUvarint(b, n)
	next := 0
	for _, e := range ed.exc {
		b = binary.AppendUvarint(b, uint64(e.slot-next))
		b = append(b, e.code)
		switch e.code {
		case codeOffset:
			b = binary.AppendVarint(b, e.seconds)
		case codeText:
			b = binary.AppendUvarint(b, uint64(len(e.text)))
			b = append(b, e.text...)
		}
		next = e.slot + 1
	}
	return b
}

func encodeRow(r refRow) []byte {
	b := []byte{refsFormat}
	b = binary.AppendUvarint(b, uint64(r.account.id))
	if r.account.id != 0 {
		b = appendExceptions(b, r.account.exc)
	}
	b = binary.AppendUvarint(b, uint64(len(r.findings)))
	prev := int64(0)
	for _, f := range r.findings {
		b = binary.AppendVarint(b, f.id-prev)
		if k := slices.Index(changeKinds, f.change); k >= 0 {
			b = append(b, byte(k))
		} else {
			b = append(b, changeText)
			b = binary.AppendUvarint(b, uint64(len(f.change)))
			b = append(b, f.change...)
		}
		b = appendExceptions(b, f.exc)
		prev = f.id
	}
	return b
}

func decodeRow(b []byte) (refRow, error) {
	r := reader{b: b}
	if r.byte() != refsFormat {
		return refRow{}, errCorrupt
	}
	var out refRow
	out.account.id = int64(r.uvarint())
	if out.account.id != 0 {
		out.account.exc = r.exceptions()
	}
	n := r.uvarint()
	if n > uint64(len(b)) {
		return refRow{}, errCorrupt
	}
	out.findings = make([]ref, n)
	prev := int64(0)
	for i := range out.findings {
		prev += r.varint()
		f := ref{id: prev}
		switch k := r.byte(); {
		case k == changeText:
			n := r.uvarint()
			if n > uint64(len(r.b)) {
				r.fail()
				break
			}
			f.change, r.b = string(r.b[:n]), r.b[n:]
		case int(k) < len(changeKinds):
			f.change = changeKinds[k]
		default:
			r.fail()
		}
		f.exc = r.exceptions()
		out.findings[i] = f
	}
	return out, r.done()
}

// reader decodes varints, remembering the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) byte() byte {
	if len(r.b) == 0 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = errCorrupt
	}
	r.b = nil
}

func (r *reader) exceptions() edits {
	n := r.uvarint()
	out := edits{moved: n&1 == 1}
	n >>= 1
	if n > uint64(len(r.b)) {
		r.fail()
		return edits{}
	}
	next := 0
	for range n {
		e := exception{slot: next + int(r.uvarint()), code: r.byte()}
		switch e.code {
		case codeShift, codeKeep:
		case codeOffset:
			e.seconds = r.varint()
		case codeText:
			l := r.uvarint()
			if l > uint64(len(r.b)) {
				r.fail()
				return edits{}
			}
			e.text = r.b[:l]
			r.b = r.b[l:]
		default:
			r.fail()
			return edits{}
		}
		out.exc = append(out.exc, e)
		next = e.slot + 1
	}
	return out
}

func (r *reader) done() error {
	if r.err == nil && len(r.b) != 0 {
		return errCorrupt
	}
	return r.err
}
