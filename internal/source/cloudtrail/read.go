package cloudtrail

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/rootwatch/rootwatch/internal/evidence"
)

const maxProblems = 5

// MaxRecord is the largest JSON value rootwatch holds in memory to read it:
// one record, one line of JSON Lines, one element of an array, or a
// top-level value that is not a streamed {"Records": [...]} or
// {"Events": [...]}. CloudTrail's events are at most 256 KB (since event
// version 1.05; "Quotas in AWS CloudTrail"), 1 MB in a Lake event data
// store with large events; 4 MiB leaves room for pretty-printing and for
// the escaping of LookupEvents' CloudTrailEvent strings, while a damaged
// or hostile file cannot make a reader hold hundreds of megabytes (a
// 150 MB record took 1.3 GB). A larger value is skipped without being
// held, listed as undecodable with its offset, and the values after it
// are read.
const MaxRecord = 4 << 20

// tooLarge is a JSON value over MaxRecord, skipped.
type tooLarge struct{ at, size int64 }

func (e *tooLarge) Error() string {
	return fmt.Sprintf("a JSON value at byte %d is %d bytes, %s", e.at, e.size, overLimit)
}

var overLimit = fmt.Sprintf("over the %d bytes (%s) rootwatch reads of one record (CloudTrail writes events of at most 256 KB): not read", MaxRecord, evidence.Bytes(MaxRecord))

// skipped reports whether err is a value over MaxRecord, and if so lists it
// as undecodable: the values after it are still read.
func (d *decoder) skipped(err error) bool {
	var tl *tooLarge
	if !errors.As(err, &tl) {
		return false
	}
	d.stats.Undecodable++
	d.problem("%s", tl.Error())
	return true
}

// mayBeRoot is the pre-filter: records without its marks are counted,
// never decoded. Every record the classifier could call root activity
// holds a string ending in Root (userIdentity.type "Root", eventName
// "AssumeRoot", sessionContext "assumedRoot"), and so the bytes oot"; a
// type in another casing ("root", "ROOT", listed as unverified rather than
// skipped) holds them in that casing, so any casing is a mark. The marks
// are found with the vectorised kernel of masks.go, 4 KiB at a time; the
// rare other strings ending in oot" are decoded and found not to be
// root's.
func mayBeRoot(raw []byte) bool {
	const chunk = 4096
	var m [(chunk/64 + 1) * nMasks]uint64
	for i := 0; i < len(raw); i += chunk {
		// Three bytes past the chunk, for a mark that starts at its end.
		computeMasks(raw[i:min(i+chunk+len(ootLower)-1, len(raw))], m[:])
		for blk := range min(chunk, len(raw)-i+63) / 64 {
			if m[blk*nMasks+mRoot] != 0 {
				return true
			}
		}
	}
	return false
}

var ootLower = []byte(`oot"`)

// emailUpdateMark is in every record of account:StartPrimaryEmailUpdate
// and AcceptPrimaryEmailUpdate (their eventName). The management
// account's principals make those calls to change a member's root e-mail
// address, so their records hold no root mark; the pre-filter looks for
// this one too.
var emailUpdateMark = []byte("PrimaryEmailUpdate")

var (
	eventSourceKey       = []byte(`"eventSource"`)
	lookupEventSourceKey = []byte(`"EventSource"`)
	recordsKey           = []byte(`"Records"`)
	eventsKey            = []byte(`"Events"`)
	recipientKey         = []byte(`"recipientAccountId"`)
	eventTimeKey         = []byte(`"eventTime"`)
)

// countAccount adds one event to the account it was recorded for, and its
// time (the raw eventTime text) to what the source shows of the account.
func (d *decoder) countAccount(account string, eventTime []byte) {
	d.countAccountBytes([]byte(account), eventTime)
}

// countAccountBytes is countAccount for the fast path: a log file holds one
// account's records, so the last account's entry is kept at hand and most
// records cost no map lookup and no allocation.
func (d *decoder) countAccountBytes(account, eventTime []byte) {
	if len(account) == 0 {
		account = unknownAccount
	}
	st := d.last
	if st == nil || !bytes.Equal(account, d.lastID) {
		if st = d.accounts[string(account)]; st == nil {
			if d.accounts == nil {
				d.accounts = map[string]*accountStat{}
			}
			st = &accountStat{}
			d.accounts[string(account)] = st
		}
		d.last, d.lastID = st, append(d.lastID[:0], account...)
	}
	st.events++
	if !cloudTrailTime(eventTime) {
		return
	}
	// CloudTrail writes eventTime as YYYY-MM-DDThh:mm:ssZ, which orders as
	// text: compare bytes here and parse two strings per account at the end.
	t := eventTime[:19]
	if len(st.from) == 0 || bytes.Compare(t, st.from) < 0 {
		st.from = append(st.from[:0], t...)
	}
	if len(st.to) == 0 || bytes.Compare(t, st.to) > 0 {
		st.to = append(st.to[:0], t...)
	}
}

var unknownAccount = []byte("unknown")

// accountStat is what a source shows of one account: its events, and the
// earliest and latest eventTime seen, as text.
type accountStat struct {
	events   int
	from, to []byte
}

// cloudTrailTime reports whether b is a UTC time as CloudTrail writes it
// (2026-03-01T12:00:00Z, optionally with fractional seconds). Other texts
// say nothing about coverage.
func cloudTrailTime(b []byte) bool {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' || b[len(b)-1] != 'Z' {
		return false
	}
	digit := func(c byte) bool { return c-'0' < 10 }
	if !(digit(b[0]) && digit(b[1]) && digit(b[2]) && digit(b[3]) && digit(b[5]) && digit(b[6]) && digit(b[8]) &&
		digit(b[9]) && digit(b[11]) && digit(b[12]) && digit(b[14]) && digit(b[15]) && digit(b[17]) && digit(b[18])) {
		return false
	}
	two := func(i int) int { return int(b[i]-'0')*10 + int(b[i+1]-'0') }
	month, day, hour, minute, second := two(5), two(8), two(11), two(14), two(17)
	// The day is checked against 31, not the month's length: a 30 February
	// fails to parse at the end and leaves the account without a span,
	// which fails closed.
	return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour < 24 && minute < 60 && second < 60
}

// finishCoverage fills the statistics' per-account counts and spans.
func (d *decoder) finishCoverage() {
	for account, st := range d.accounts {
		if d.stats.Accounts == nil {
			d.stats.Accounts = map[string]int{}
		}
		d.stats.Accounts[account] = st.events
		if len(st.from) == 0 {
			continue
		}
		from, err1 := time.Parse("2006-01-02T15:04:05", string(st.from))
		to, err2 := time.Parse("2006-01-02T15:04:05", string(st.to))
		if err1 != nil || err2 != nil {
			continue // e.g. 30 February: not a time after all
		}
		if d.stats.Coverage == nil {
			d.stats.Coverage = map[string]evidence.Span{}
		}
		d.stats.Coverage[account] = evidence.Span{From: from.UTC(), To: to.UTC()}
	}
}

// stringValue reads the string value of a top-level key from a raw record
// without decoding it ("" when absent or not a short string).
func stringValue(raw, key []byte, maxLen int) []byte {
	i := bytes.Index(raw, key)
	if i < 0 {
		return nil
	}
	rest := raw[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 || j > 8 {
		return nil
	}
	rest = rest[j+1:]
	k := bytes.IndexByte(rest, '"')
	if k < 0 || k > maxLen {
		return nil
	}
	return rest[:k]
}

// recipientOf reads recipientAccountId from a raw record without decoding it.
func recipientOf(raw []byte) string { return string(stringValue(raw, recipientKey, 32)) }

// decoder reads one decompressed stream.
type decoder struct {
	br     *bufio.Reader
	source string
	stats  evidence.SourceStats
	events []evidence.Event
	buf    []byte
	offset int64
	// accounts counts records per recipient account (last is the entry
	// of lastID, the account of the previous record).
	accounts map[string]*accountStat
	last     *accountStat
	lastID   []byte
	// fast reads the records of arrays from the buffered window (walk.go);
	// off, the reader takes every value through scan.
	fast bool
	walk *walker
	// lookup is set while the elements of a LookupEvents {"Events": [...]}
	// are streamed: each is a result whose record is a string.
	lookup bool
}

// Decode reads one CloudTrail source of any supported shape (a single
// event, {"Records": [...]}, a JSON array, JSON Lines, EventBridge
// envelopes, LookupEvents output), gzip-compressed or not, and returns the
// root events it holds with the source's statistics. A read or syntax
// error is recorded in the statistics; events read before it are kept, so
// that a damaged file cannot hide the root activity it does show.
func Decode(r io.Reader, source string) ([]evidence.Event, evidence.SourceStats) {
	return NewReader().Decode(r, source)
}

// Reader decodes sources one after another, reusing its buffers and gzip
// state between them. It is not safe for concurrent use: give each worker
// its own.
type Reader struct {
	raw      *bufio.Reader
	inflated *bufio.Reader
	zr       *gzip.Reader
	// src and unzipped keep the first read error of what the buffers read,
	// so that the fast path may peek past an error and the general path
	// still meets it.
	src, unzipped sticky
	buf           []byte
	walk          walker
	slow          bool // no fast path (tests compare the two)
}

// NewReader returns a Reader.
func NewReader() *Reader {
	return &Reader{raw: bufio.NewReaderSize(nil, 256<<10), inflated: bufio.NewReaderSize(nil, 256<<10)}
}

// sticky is a reader that, once it failed, fails again the same way.
type sticky struct {
	r   io.Reader
	err error
}

func (s *sticky) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.r.Read(p)
	s.err = err
	return n, err
}

func (s *sticky) reset(r io.Reader) { s.r, s.err = r, nil }

// Decode is the package-level Decode with reused buffers.
func (rd *Reader) Decode(r io.Reader, source string) ([]evidence.Event, evidence.SourceStats) {
	rd.src.reset(r)
	rd.raw.Reset(&rd.src)
	br := rd.raw
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		var err error
		if rd.zr == nil {
			rd.zr, err = gzip.NewReader(br)
		} else {
			err = rd.zr.Reset(br)
		}
		if err != nil {
			return nil, evidence.SourceStats{Path: source, Error: "gzip: " + err.Error()}
		}
		rd.unzipped.reset(rd.zr)
		rd.inflated.Reset(&rd.unzipped)
		br = rd.inflated
	}
	d := &decoder{br: br, source: source, stats: evidence.SourceStats{Path: source}, buf: rd.buf[:0], fast: !rd.slow, walk: &rd.walk}
	if err := d.top(); err != nil {
		d.stats.Error = err.Error()
	}
	if cap(d.buf) <= 1<<20 {
		rd.buf = d.buf // keep a grown buffer unless one huge record made it so
	}
	if len(rd.walk.masks) > 1<<16 {
		rd.walk.masks = nil // nor the masks of one huge record
	}
	d.finishCoverage()
	return d.events, d.stats
}

func (d *decoder) problem(format string, args ...any) {
	if len(d.stats.Problems) < maxProblems {
		d.stats.Problems = append(d.stats.Problems, fmt.Sprintf(format, args...))
	}
}

// isJSONLines sniffs the stream: its first line is one whole JSON object
// and the next line starts another. Pretty-printed objects (jq's output)
// and single documents ({"Records": [...]}) are not, and are read by the
// structural scan.
func (d *decoder) isJSONLines() bool {
	b, _ := d.br.Peek(d.br.Size())
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	nl := bytes.IndexByte(b[i:], '\n')
	if nl < 0 || i >= len(b) || b[i] != '{' {
		return false
	}
	first := bytes.TrimSpace(b[i : i+nl])
	rest := bytes.TrimLeft(b[i+nl:], " \t\r\n")
	return len(rest) > 0 && rest[0] == '{' && json.Valid(first)
}

// lines reads JSON Lines one line at a time, so that one bad line is
// counted and listed (undecodable) and the lines after it are still read.
func (d *decoder) lines() error {
	n := 0
	for {
		at := d.offset
		line, over, err := d.readLine()
		if over > 0 {
			n++
			d.stats.Undecodable++
			d.problem("line %d at byte %d is %d bytes, %s", n, at, over, overLimit)
		} else if len(line) > 0 {
			n++
			switch t := bytes.TrimSpace(line); {
			case len(t) == 0:
			case !json.Valid(t):
				if errors.Is(err, io.EOF) && t[0] == '{' {
					return fmt.Errorf("truncated at byte %d (line %d)", d.offset, n)
				}
				d.stats.Undecodable++
				d.problem("line %d is not valid JSON", n)
			default:
				d.element(t)
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return d.readErr(err)
		}
	}
}

// readLine reads up to and including the next newline into d.buf. A line
// longer than MaxRecord is read through without being held: over is then
// its length and the line is nil.
func (d *decoder) readLine() (line []byte, over int64, err error) {
	d.buf = d.buf[:0]
	for {
		chunk, err := d.br.ReadSlice('\n')
		d.offset += int64(len(chunk))
		switch {
		case over > 0:
			over += int64(len(chunk))
		case len(d.buf)+len(chunk) > MaxRecord:
			over = int64(len(d.buf) + len(chunk))
			d.buf = d.buf[:0]
		default:
			d.buf = append(d.buf, chunk...)
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			if over > 0 {
				return nil, over, err
			}
			return d.buf, 0, err
		}
	}
}

// top reads every top-level JSON value of the stream.
func (d *decoder) top() error {
	if d.isJSONLines() {
		if err := d.lines(); err != nil {
			return err
		}
		if d.stats.Events == 0 && d.stats.Skipped > 0 {
			return fmt.Errorf("not CloudTrail: none of its %d JSON values is a CloudTrail event", d.stats.Skipped)
		}
		return nil
	}
	values := 0
	for {
		c, err := d.skipSpace()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return d.readErr(err)
		}
		values++
		switch c {
		case '[':
			d.next()
			if err := d.array(); err != nil {
				return err
			}
		case '{':
			if key, err := d.recordsPrefix(); err != nil {
				return err
			} else if key != "" {
				d.lookup = key == "Events"
				err := d.array()
				d.lookup = false
				if err != nil {
					return err
				}
				if err := d.skipRestOfObject(); err != nil {
					return err
				}
				continue
			}
			raw, err := d.readValue()
			if d.skipped(err) {
				continue
			}
			if err != nil {
				return err
			}
			d.element(raw)
		default:
			return fmt.Errorf("not JSON: unexpected %q at byte %d", c, d.offset)
		}
	}
	switch {
	case values == 0:
		return errors.New("empty: no JSON value")
	case d.stats.Events == 0 && d.stats.Skipped > 0:
		return fmt.Errorf("not CloudTrail: none of its %d JSON values is a CloudTrail event", d.stats.Skipped)
	}
	return nil
}

func (d *decoder) readErr(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("truncated at byte %d", d.offset)
	}
	return fmt.Errorf("read error at byte %d: %w", d.offset, err)
}

func (d *decoder) next() {
	if _, err := d.br.ReadByte(); err == nil {
		d.offset++
	}
}

// skipSpace returns the next non-space byte without consuming it.
func (d *decoder) skipSpace() (byte, error) {
	for {
		c, err := d.br.ReadByte()
		if err != nil {
			return 0, err
		}
		switch c {
		case ' ', '\t', '\r', '\n':
			d.offset++
		default:
			_ = d.br.UnreadByte()
			return c, nil
		}
	}
}

// recordsPrefix consumes `{"Records":[` (the S3 log-file form) or
// `{"Events":[` (LookupEvents output) when the object starts with it, so
// that its array can be streamed, and says which key it was ("" when
// neither).
func (d *decoder) recordsPrefix() (string, error) {
	head, err := d.br.Peek(64)
	if err != nil && len(head) == 0 {
		return "", d.readErr(err)
	}
	compact := make([]byte, 0, 16)
	for n := 0; n < len(head) && len(compact) < 12; n++ {
		c := head[n]
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			continue
		}
		compact = append(compact, c)
		for _, key := range []string{"Records", "Events"} {
			if string(compact) != `{"`+key+`":[` {
				continue
			}
			if _, err := d.br.Discard(n + 1); err != nil {
				return "", d.readErr(err)
			}
			d.offset += int64(n + 1)
			return key, nil
		}
	}
	return "", nil
}

// array streams the elements of an array whose '[' was consumed.
func (d *decoder) array() error {
	for i := 0; ; i++ {
		if d.fast && !d.lookup {
			n, closed := d.fastElements(i)
			if closed {
				return nil
			}
			i += n
		}
		c, err := d.skipSpace()
		if err != nil {
			return d.readErr(err)
		}
		if c == ']' {
			d.next()
			return nil
		}
		if i > 0 {
			if c != ',' {
				return fmt.Errorf("invalid JSON: expected ',' or ']' at byte %d, found %q", d.offset, c)
			}
			d.next()
			if c, err = d.skipSpace(); err != nil {
				return d.readErr(err)
			}
		}
		if c != '{' && c != '[' {
			if err := d.skipScalar(); err != nil {
				return err
			}
			d.stats.Skipped++
			d.problem("array element %d is not an object", i)
			continue
		}
		raw, err := d.readValue()
		if d.skipped(err) {
			continue
		}
		if err != nil {
			return err
		}
		if d.lookup && raw[0] == '{' {
			d.lookupElement(raw)
			continue
		}
		if raw[0] != '{' {
			d.element(raw)
			continue
		}
		d.walk.reset(raw)
		_, info, root := d.walk.record(0)
		d.arrayElement(raw, info, root)
	}
}

// arrayElement takes one object of an array: a record with eventSource
// among its own keys that cannot be root's is counted; anything else takes
// the general path.
func (d *decoder) arrayElement(raw []byte, info scanInfo, mayBeRoot bool) {
	if info.hasEventSource && !mayBeRoot && !bytes.Contains(raw, emailUpdateMark) {
		d.stats.Events++
		d.countAccountBytes(info.recipient, info.eventTime)
		return
	}
	d.element(raw)
}

// fastElements reads whole elements of the array being streamed straight
// from the buffered window, as many as it holds, refilling it as it goes;
// i elements were read before. It stops before anything it does not read
// itself (an element that is not an object, or that does not end within a
// full buffer, a byte that is not a separator, a read error, the end of
// the stream), leaving that to the general path, which reports what is
// wrong exactly as when it reads everything.
func (d *decoder) fastElements(i int) (n int, closed bool) {
	for {
		win, _ := d.br.Peek(d.br.Size()) // a read error comes back to the general path: the readers are sticky
		base := d.offset
		d.walk.reset(win)
		pos := 0 // bytes of win consumed: whole elements and their separators
		for {
			p := skipSpace(win, pos)
			if p < len(win) && win[p] == ']' {
				pos, closed = p+1, true
				break
			}
			if i+n > 0 {
				if p >= len(win) || win[p] != ',' {
					break
				}
				p = skipSpace(win, p+1)
			}
			if p >= len(win) || win[p] != '{' {
				break
			}
			end, info, root := d.walk.record(p)
			if end < 0 {
				break
			}
			d.offset = base + int64(end)
			d.arrayElement(win[p:end], info, root)
			pos = end
			n++
		}
		d.offset = base + int64(pos)
		if _, err := d.br.Discard(pos); err != nil || closed || pos == 0 {
			return n, closed
		}
	}
}

// skipRestOfObject consumes what follows a streamed Records array up to the
// object's closing brace (normally nothing but the brace).
func (d *decoder) skipRestOfObject() error {
	c, err := d.skipSpace()
	if err != nil {
		return d.readErr(err)
	}
	if c == '}' {
		d.next()
		return nil
	}
	if c != ',' {
		return fmt.Errorf("invalid JSON: expected ',' or '}' at byte %d, found %q", d.offset, c)
	}
	// Other keys after Records: read them as one value by re-opening the object.
	d.next()
	d.buf = append(d.buf[:0], '{')
	raw, err := d.scan(1)
	if d.skipped(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var rest map[string]json.RawMessage
	if err := json.Unmarshal(raw, &rest); err != nil {
		return fmt.Errorf("invalid JSON after Records at byte %d: %v", d.offset, err)
	}
	return nil
}

// readValue reads one object or array, returning its raw bytes (valid
// until the next call).
func (d *decoder) readValue() ([]byte, error) {
	d.buf = d.buf[:0]
	return d.scan(0)
}

// scanInfo is what the walk learns about a record on its way: the own keys
// that make it a CloudTrail record and its recipient account.
type scanInfo struct {
	hasEventSource bool
	recipient      []byte
	eventTime      []byte
}

// scan appends bytes to d.buf until the value that starts at depth ends.
// It tracks only strings (one IndexByte per string; a quote is escaped when
// an odd number of backslashes precede it) and nesting: it reads the values
// the fast path leaves (larger than the buffer, cut short, not records),
// one buffer at a time.
//
// A value larger than MaxRecord is read through to its end without being
// held, and reported as *tooLarge.
func (d *decoder) scan(depth int) ([]byte, error) {
	start := d.offset - int64(len(d.buf))
	inString, skipping := false, false
	// slashes counts the backslashes that end what was read before the
	// window (held or not), for a quote escaped across two windows.
	slashes := trailingSlashes(d.buf)
	for {
		if d.br.Buffered() == 0 {
			if _, err := d.br.Peek(1); err != nil {
				return nil, d.readErr(err)
			}
		}
		b, _ := d.br.Peek(d.br.Buffered())
		i, end := 0, -1
		for i < len(b) && end < 0 {
			if inString {
				q := bytes.IndexByte(b[i:], '"')
				if q < 0 {
					i = len(b)
					continue
				}
				i += q
				if escaped(b, i, slashes) {
					i++
					continue
				}
				i++
				inString = false
				continue
			}
			switch b[i] {
			case '"':
				inString = true
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					end = i + 1
				}
			}
			i++
		}
		if t := trailingSlashes(b[:i]); t == i {
			slashes += t
		} else {
			slashes = t
		}
		if !skipping && len(d.buf)+i > MaxRecord {
			skipping, d.buf = true, d.buf[:0]
		}
		if !skipping {
			d.buf = append(d.buf, b[:i]...)
		}
		if _, err := d.br.Discard(i); err != nil {
			return nil, d.readErr(err)
		}
		d.offset += int64(i)
		if end >= 0 {
			if skipping {
				return nil, &tooLarge{at: start, size: d.offset - start}
			}
			return d.buf, nil
		}
	}
}

// escaped reports whether the quote at b[i] is preceded by an odd number of
// backslashes, counting the slashes that ended the bytes before b when
// every byte before it in b is one.
func escaped(b []byte, i, slashes int) bool {
	n := trailingSlashes(b[:i])
	if n == i {
		n += slashes
	}
	return n%2 == 1
}

// trailingSlashes counts the backslashes that end b.
func trailingSlashes(b []byte) int {
	n := 0
	for j := len(b) - 1; j >= 0 && b[j] == '\\'; j-- {
		n++
	}
	return n
}

// skipScalar consumes a non-container array element.
func (d *decoder) skipScalar() error {
	inString, escape := false, false
	for {
		c, err := d.br.ReadByte()
		if err != nil {
			return d.readErr(err)
		}
		d.offset++
		switch {
		case escape:
			escape = false
		case inString && c == '\\':
			escape = true
		case c == '"':
			inString = !inString
		case !inString && (c == ',' || c == ']'):
			_ = d.br.UnreadByte()
			d.offset--
			return nil
		}
	}
}

// element handles one JSON value: counted cheaply when it cannot hold root
// activity, decoded by shape when it can.
func (d *decoder) element(raw []byte) {
	candidate := mayBeRoot(raw) || bytes.Contains(raw, emailUpdateMark)
	container := bytes.Contains(raw, recordsKey) || bytes.Contains(raw, eventsKey)
	if !candidate && !container {
		if bytes.Contains(raw, eventSourceKey) || bytes.Contains(raw, lookupEventSourceKey) {
			d.stats.Events++
			d.countAccount(recipientOf(raw), stringValue(raw, eventTimeKey, 40))
		} else {
			d.stats.Skipped++
			d.problem("a JSON value at byte %d has no eventSource: not a CloudTrail event", d.offset-int64(len(raw)))
		}
		return
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		if raw[0] == '[' {
			var arr []json.RawMessage
			if json.Unmarshal(raw, &arr) == nil {
				for _, e := range arr {
					d.element(e)
				}
				return
			}
		}
		d.stats.Undecodable++
		d.problem("a record at byte %d is not valid JSON: %v", d.offset-int64(len(raw)), err)
		return
	}
	if recs, ok := top["Records"]; ok {
		var arr []json.RawMessage
		if err := json.Unmarshal(recs, &arr); err != nil {
			d.stats.Undecodable++
			d.problem("Records is not an array: %v", err)
			return
		}
		for _, e := range arr {
			d.element(e)
		}
		return
	}
	if evs, ok := top["Events"]; ok {
		var arr []json.RawMessage
		if err := json.Unmarshal(evs, &arr); err != nil {
			d.stats.Undecodable++
			d.problem("Events is not an array: %v", err)
			return
		}
		for _, e := range arr {
			d.lookupElement(e)
		}
		return
	}
	if det, ok := top["detail"]; ok {
		if _, isEnvelope := top["detail-type"]; isEnvelope {
			d.element(det)
			return
		}
	}
	if _, ok := top["CloudTrailEvent"]; ok {
		d.lookupElement(raw)
		return
	}
	d.record(raw)
}

func (d *decoder) record(raw []byte) {
	var r record
	if err := json.Unmarshal(raw, &r); err != nil {
		d.stats.Undecodable++
		d.problem("a record could not be decoded: %v", err)
		return
	}
	if !r.looksLikeEvent() {
		d.stats.Skipped++
		d.problem("a JSON object without eventSource and eventName: not a CloudTrail event")
		return
	}
	d.stats.Events++
	d.countAccount(r.RecipientAccountID, rawString(r.EventTime))
	if ev, ok := classify(&r, d.source); ok {
		ev.Digest = recordDigest(raw)
		d.stats.RootEvents++
		d.events = append(d.events, ev)
	}
}

// recordDigest hashes a record's JSON in canonical form: decoded (numbers
// kept as written) and encoded again, which sorts object keys and drops
// spacing. The same record read from a log file and from LookupEvents
// agrees; records that differ in any field (another principal, other
// request parameters) do not, even when they share an eventID.
func recordDigest(raw []byte) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	canonical := raw
	if dec.Decode(&v) == nil {
		if b, err := json.Marshal(v); err == nil {
			canonical = b
		}
	}
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:16])
}

// rawString is the text of a JSON string value, or nil.
func rawString(raw json.RawMessage) []byte {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return nil
	}
	return raw[1 : len(raw)-1]
}

// lookupElement handles one LookupEvents result: the record is a JSON
// string in CloudTrailEvent.
func (d *decoder) lookupElement(raw []byte) {
	var le struct {
		EventID         string  `json:"EventId"`
		Username        string  `json:"Username"`
		CloudTrailEvent *string `json:"CloudTrailEvent"`
	}
	if err := json.Unmarshal(raw, &le); err != nil || le.CloudTrailEvent == nil {
		d.element(raw) // not a LookupEvents result after all
		return
	}
	d.lookupEvent(le.EventID, le.Username, *le.CloudTrailEvent)
}

// lookupEvent classifies one LookupEvents event given its fields.
func (d *decoder) lookupEvent(eventID, username, cloudTrailEvent string) {
	d.stats.Events++
	if ct := []byte(cloudTrailEvent); !mayBeRoot(ct) && !bytes.Contains(ct, emailUpdateMark) && username != "root" {
		d.countAccount(recipientOf([]byte(cloudTrailEvent)), stringValue([]byte(cloudTrailEvent), eventTimeKey, 40))
		return
	}
	var r record
	if err := json.Unmarshal([]byte(cloudTrailEvent), &r); err != nil {
		d.countAccount("", nil)
		d.stats.Undecodable++
		d.problem("event %s (user %q): CloudTrailEvent is not valid JSON: %v", eventID, username, err)
		return
	}
	d.countAccount(r.RecipientAccountID, rawString(r.EventTime))
	if ev, ok := classify(&r, d.source); ok {
		ev.Digest = recordDigest([]byte(cloudTrailEvent))
		d.stats.RootEvents++
		d.events = append(d.events, ev)
	}
}

func newGzip(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) }
