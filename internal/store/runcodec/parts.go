package runcodec

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

// Slot is where in a part's text a value that moves between runs is: a
// time or a number.
type Slot struct {
	off, end int
	kind     byte
}

// Part is one account or finding as its compact JSON, with its slots.
type Part struct {
	Raw   []byte
	Slots []Slot
	Hash  string
}

// Top-level keys whose values are never slots: they identify a finding
// or an account, or say what it judged, and a change in them is a new
// version, which is what a Reader of the versions tables expects.
var (
	FindingFixed = map[string]bool{"rule_id": true, "account_id": true, "resource": true, "fingerprint": true,
		"status": true, "severity": true, "first_seen": true, "change": true, "region": true, "title": true}
	AccountFixed = map[string]bool{"account_id": true, "partition": true, "status": true}
)

func NewPart(kind byte, raw []byte, fixed map[string]bool) Part {
	p := Part{Raw: raw, Slots: slotsOf(raw, fixed)}
	p.Hash = templateHash(kind, raw, p.Slots)
	return p
}

// templateHash identifies a part's template: its bytes with each slot
// replaced by a NUL and the slot's kind (compact JSON holds no NUL).
func templateHash(kind byte, raw []byte, slots []Slot) string {
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
func slotsOf(raw []byte, fixed map[string]bool) []Slot {
	var out []Slot
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
				out = append(out, Slot{i, j, slotNumber})
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
func stringSlots(raw []byte, start, end int, out []Slot) []Slot {
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
			out = append(out, Slot{p, e, slotTime})
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
			out = append(out, Slot{p, e, slotNumber})
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
	codeKeep   = 4 // the version's text, where time slots move (edits.Moved)
)

type exception struct {
	Slot    int
	code    byte
	seconds int64
	text    []byte
}

// Edits say how a run writes a version: its exceptions, and, when moved,
// every time slot they do not name moves as far as the as-of time moved
// (a finding about a window names the few times that stay instead of the
// many that move).
type Edits struct {
	Moved bool
	Exc   []exception
}

// Version is a stored part: its text, slots and the as-of time of the run
// that wrote it. A version read from the store keeps its slots packed
// until they are needed: most parts of a run are written as they are.
type Version struct {
	ID     int64
	AsOf   time.Time
	Body   []byte
	Slots  []Slot
	Packed []byte
}

func (v *Version) unpack() error {
	if v.Packed == nil {
		return nil
	}
	slots, err := DecodeSlots(v.Packed, len(v.Body))
	if err != nil {
		return fmt.Errorf("version %d: %w", v.ID, err)
	}
	v.Slots, v.Packed = slots, nil
	return nil
}

// Exceptions says how the run (as of asOf) writes cur, a part with the
// same template as v, in as few exceptions as it can.
func Exceptions(v *Version, cur Part, asOf time.Time) (Edits, error) {
	if err := v.unpack(); err != nil {
		return Edits{}, err
	}
	if len(v.Slots) != len(cur.Slots) {
		return Edits{}, fmt.Errorf("store: Version %d has %d slots, the Part %d", v.ID, len(v.Slots), len(cur.Slots))
	}
	moved := asOf.Sub(v.AsOf)
	var still, shifted []exception
	for i, s := range cur.Slots {
		was := v.Body[v.Slots[i].off:v.Slots[i].end]
		now := cur.Raw[s.off:s.end]
		same := bytes.Equal(was, now)
		st, isTime := stamp{}, false
		if s.kind == slotTime {
			st, isTime = parseStamp(was)
		}
		if !isTime {
			if !same {
				e := exception{Slot: i, code: codeText, text: now}
				still, shifted = append(still, e), append(shifted, e)
			}
			continue
		}
		follows := bytes.Equal(st.format(st.t.Add(moved)), now)
		other := exception{Slot: i, code: codeText, text: now}
		if nt, ok := parseStamp(now); ok {
			if d := nt.t.Sub(asOf); d%time.Second == 0 && bytes.Equal(st.format(asOf.Add(d)), now) {
				other = exception{Slot: i, code: codeOffset, seconds: int64(d / time.Second)}
			}
		}
		switch {
		case same && follows:
		case same:
			shifted = append(shifted, exception{Slot: i, code: codeKeep})
		case follows:
			still = append(still, exception{Slot: i, code: codeShift})
		default:
			still, shifted = append(still, other), append(shifted, other)
		}
	}
	if len(shifted) < len(still) {
		return Edits{Moved: true, Exc: shifted}, nil
	}
	return Edits{Exc: still}, nil
}

// Apply writes a version as a run (as of asOf) holds it.
func Apply(v *Version, ed Edits, asOf time.Time) ([]byte, error) {
	if len(ed.Exc) == 0 && !ed.Moved {
		return v.Body, nil
	}
	if err := v.unpack(); err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(v.Body)+16*len(ed.Exc))
	prev, next := 0, 0
	for i, s := range v.Slots {
		var e *exception
		if next < len(ed.Exc) && ed.Exc[next].Slot == i {
			e = &ed.Exc[next]
			next++
		}
		if e == nil && (!ed.Moved || s.kind != slotTime) {
			continue
		}
		was := v.Body[s.off:s.end]
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
				text = st.format(st.t.Add(asOf.Sub(v.AsOf)))
			case ok && e.code == codeOffset:
				text = st.format(asOf.Add(time.Duration(e.seconds) * time.Second))
			case e == nil:
				text = was // a time that does not read stays
			case e.code != codeShift && e.code != codeOffset:
				return nil, fmt.Errorf("store: Version %d: unknown Slot code %d", v.ID, e.code)
			default:
				return nil, fmt.Errorf("store: Version %d: Slot %d is not a time", v.ID, i)
			}
		}
		out = append(out, v.Body[prev:s.off]...)
		out = append(out, text...)
		prev = s.end
	}
	if next != len(ed.Exc) {
		return nil, fmt.Errorf("store: Version %d has no Slot %d", v.ID, ed.Exc[next].Slot)
	}
	return append(out, v.Body[prev:]...), nil
}

// EncodeSlots and DecodeSlots keep a version's slot positions.
func EncodeSlots(slots []Slot) []byte {
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

var ErrCorrupt = errors.New("store: a stored reference does not decode (the store is damaged)")

func DecodeSlots(b []byte, bodyLen int) ([]Slot, error) {
	r := Reader{B: b}
	n := r.Uvarint()
	if r.Err != nil || n > uint64(bodyLen) {
		return nil, ErrCorrupt
	}
	out := make([]Slot, 0, n)
	prev := 0
	for range n {
		off := prev + int(r.Uvarint())
		end := off + int(r.Uvarint())
		kind := r.byte()
		if r.Err != nil || off < prev || end > bodyLen || end <= off {
			return nil, ErrCorrupt
		}
		out = append(out, Slot{off, end, kind})
		prev = end
	}
	return out, r.Done()
}

// Ref is one part of a run_accounts row: the version it holds, how the
// run writes its slots and, for a finding, its change since the run
// before (a store's mark, which every run but a baseline sets).
type Ref struct {
	ID     int64
	Exc    Edits
	Change string
}

// changeKinds are the change marks a finding's ref names by number (0:
// none); any other is kept as text.
var changeKinds = []string{"", "unchanged", "new_failure", "resolved", "changed", "added", "removed", "not_assessed"}

const changeText = 255

// CutChange takes a finding's change mark off its JSON: it is encoding/json's
// last member (`,"change":"…"}`), and it differs from run to run where
// nothing else does (none in a baseline, then unchanged).
func CutChange(raw []byte) (body []byte, change string) {
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

// WithChange puts a change mark back.
func WithChange(body []byte, change string) []byte {
	if change == "" {
		return body
	}
	out := append([]byte{}, body[:len(body)-1]...)
	out = append(out, `,"change":"`...)
	out = append(out, change...)
	return append(out, `"}`...)
}

// Row is what a run holds of one account: the account's own part (id 0
// for findings of an account the run does not list) and its findings'.
type Row struct {
	Account  Ref
	Findings []Ref
}

const refsFormat = 1

func appendExceptions(b []byte, ed Edits) []byte {
	n := uint64(len(ed.Exc)) << 1
	if ed.Moved {
		n |= 1
	}
	b = binary.AppendUvarint(b, n)
	next := 0
	for _, e := range ed.Exc {
		b = binary.AppendUvarint(b, uint64(e.Slot-next))
		b = append(b, e.code)
		switch e.code {
		case codeOffset:
			b = binary.AppendVarint(b, e.seconds)
		case codeText:
			b = binary.AppendUvarint(b, uint64(len(e.text)))
			b = append(b, e.text...)
		}
		next = e.Slot + 1
	}
	return b
}

func EncodeRow(r Row) []byte {
	b := []byte{refsFormat}
	b = binary.AppendUvarint(b, uint64(r.Account.ID))
	if r.Account.ID != 0 {
		b = appendExceptions(b, r.Account.Exc)
	}
	b = binary.AppendUvarint(b, uint64(len(r.Findings)))
	prev := int64(0)
	for _, f := range r.Findings {
		b = binary.AppendVarint(b, f.ID-prev)
		if k := slices.Index(changeKinds, f.Change); k >= 0 {
			b = append(b, byte(k))
		} else {
			b = append(b, changeText)
			b = binary.AppendUvarint(b, uint64(len(f.Change)))
			b = append(b, f.Change...)
		}
		b = appendExceptions(b, f.Exc)
		prev = f.ID
	}
	return b
}

func DecodeRow(b []byte) (Row, error) {
	r := Reader{B: b}
	if r.byte() != refsFormat {
		return Row{}, ErrCorrupt
	}
	var out Row
	out.Account.ID = int64(r.Uvarint())
	if out.Account.ID != 0 {
		out.Account.Exc = r.Exceptions()
	}
	n := r.Uvarint()
	if n > uint64(len(b)) {
		return Row{}, ErrCorrupt
	}
	out.Findings = make([]Ref, n)
	prev := int64(0)
	for i := range out.Findings {
		prev += r.varint()
		f := Ref{ID: prev}
		switch k := r.byte(); {
		case k == changeText:
			n := r.Uvarint()
			if n > uint64(len(r.B)) {
				r.fail()
				break
			}
			f.Change, r.B = string(r.B[:n]), r.B[n:]
		case int(k) < len(changeKinds):
			f.Change = changeKinds[k]
		default:
			r.fail()
		}
		f.Exc = r.Exceptions()
		out.Findings[i] = f
	}
	return out, r.Done()
}

// Reader decodes varints, remembering the first error.
type Reader struct {
	B   []byte
	Err error
}

// Uvarint reads an unsigned varint; Done says whether all was read well.
func (r *Reader) Uvarint() uint64 {
	v, n := binary.Uvarint(r.B)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.B = r.B[n:]
	return v
}

func (r *Reader) varint() int64 {
	v, n := binary.Varint(r.B)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.B = r.B[n:]
	return v
}

func (r *Reader) byte() byte {
	if len(r.B) == 0 {
		r.fail()
		return 0
	}
	c := r.B[0]
	r.B = r.B[1:]
	return c
}

func (r *Reader) fail() {
	if r.Err == nil {
		r.Err = ErrCorrupt
	}
	r.B = nil
}

func (r *Reader) Exceptions() Edits {
	n := r.Uvarint()
	out := Edits{Moved: n&1 == 1}
	n >>= 1
	if n > uint64(len(r.B)) {
		r.fail()
		return Edits{}
	}
	next := 0
	for range n {
		e := exception{Slot: next + int(r.Uvarint()), code: r.byte()}
		switch e.code {
		case codeShift, codeKeep:
		case codeOffset:
			e.seconds = r.varint()
		case codeText:
			l := r.Uvarint()
			if l > uint64(len(r.B)) {
				r.fail()
				return Edits{}
			}
			e.text = r.B[:l]
			r.B = r.B[l:]
		default:
			r.fail()
			return Edits{}
		}
		out.Exc = append(out.Exc, e)
		next = e.Slot + 1
	}
	return out
}

func (r *Reader) Done() error {
	if r.Err == nil && len(r.B) != 0 {
		return ErrCorrupt
	}
	return r.Err
}
