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

	"github.com/klauspost/compress/gzip"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/source/cloudtrail/jsonscan"
)

// The framing and shapes of CloudTrail data: Decode sniffs the shape and
// reads the records of arrays through the walk of jsonscan, leaving the
// rest to its general scanner (jsonscan.Stream); the records that may be
// root's are decoded and classified (event.go).

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
	walk          jsonscan.Walker
	slow          bool // no fast path (tests compare the two)
}

// NewReader returns a Reader.
func NewReader() *Reader {
	return &Reader{raw: bufio.NewReaderSize(nil, 256<<10), inflated: bufio.NewReaderSize(nil, 256<<10)}
}

// Decode is the package-level Decode with the Reader's buffers.
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
	d := &decoder{Stream: jsonscan.Stream{R: br, Buf: rd.buf[:0], Max: MaxRecord}, source: source, stats: evidence.SourceStats{Path: source}, fast: !rd.slow, walk: &rd.walk}
	if err := d.top(); err != nil {
		d.stats.Error = err.Error()
	}
	if cap(d.Buf) <= 1<<20 {
		rd.buf = d.Buf // keep a grown buffer unless one huge record made it so
	}
	rd.walk.Release() // nor the masks of one huge record
	d.finishCoverage()
	return d.events, d.stats
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

var overLimit = fmt.Sprintf("over the %d bytes (%s) rootwatch reads of one record (CloudTrail writes events of at most 256 KB): not read", MaxRecord, evidence.Bytes(MaxRecord))

// skipped reports whether err is a value over MaxRecord, and if so lists it
// as undecodable: the values after it are still read.
func (d *decoder) skipped(err error) bool {
	var tl *jsonscan.TooLarge
	if !errors.As(err, &tl) {
		return false
	}
	d.stats.Undecodable++
	d.problem("a JSON value at byte %d is %d bytes, %s", tl.At, tl.Size, overLimit)
	return true
}

// decoder reads one decompressed stream.
type decoder struct {
	jsonscan.Stream
	source string
	stats  evidence.SourceStats
	events []evidence.Event
	// accounts counts records per recipient account (last is the entry
	// of lastID, the account of the previous record).
	accounts map[string]*accountStat
	last     *accountStat
	lastID   []byte
	// fast reads the records of arrays from the buffered window (the
	// walk); off, the reader takes every value through the Stream.
	fast bool
	walk *jsonscan.Walker
	// lookup is set while the elements of a LookupEvents {"Events": [...]}
	// are streamed: each is a result whose record is a string.
	lookup bool
}

// MaxProblems is how many problems a source lists; more are counted only.
const MaxProblems = 5

func (d *decoder) problem(format string, args ...any) {
	if len(d.stats.Problems) < MaxProblems {
		d.stats.Problems = append(d.stats.Problems, fmt.Sprintf(format, args...))
	}
}

// mayBeRoot is the pre-filter: records without its marks are counted,
// never decoded. Every record the classifier could call root activity
// holds a string ending in Root (userIdentity.type "Root", eventName
// "AssumeRoot", sessionContext "assumedRoot"), and so a root mark (the
// bytes oot" in any casing: a type in another casing, "root" or "ROOT",
// is listed as unverified rather than skipped); the rare other strings
// ending in oot" are decoded and found not to be root's. Records of
// primary e-mail changes hold emailUpdateMark instead.
func mayBeRoot(raw []byte) bool {
	return jsonscan.HasRootMark(raw) || bytes.Contains(raw, emailUpdateMark)
}

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

// lines reads JSON Lines one line at a time, so that one bad line is
// counted and listed (undecodable) and the lines after it are still read.
func (d *decoder) lines() error {
	n := 0
	for {
		at := d.Offset
		line, over, err := d.ReadLine()
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
					return fmt.Errorf("truncated at byte %d (line %d)", d.Offset, n)
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
			return d.ReadErr(err)
		}
	}
}

// top reads every top-level JSON value of the stream.
func (d *decoder) top() error {
	if d.IsJSONLines() {
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
		c, err := d.SkipSpace()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return d.ReadErr(err)
		}
		values++
		switch c {
		case '[':
			d.Next()
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
			raw, err := d.ReadValue()
			if d.skipped(err) {
				continue
			}
			if err != nil {
				return err
			}
			d.element(raw)
		default:
			return fmt.Errorf("not JSON: unexpected %q at byte %d", c, d.Offset)
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

// recordsPrefix consumes `{"Records":[` (the S3 log-file form) or
// `{"Events":[` (LookupEvents output) when the object starts with it, so
// that its array can be streamed, and says which key it was ("" when
// neither).
func (d *decoder) recordsPrefix() (string, error) {
	head, err := d.R.Peek(64)
	if err != nil && len(head) == 0 {
		return "", d.ReadErr(err)
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
			if _, err := d.R.Discard(n + 1); err != nil {
				return "", d.ReadErr(err)
			}
			d.Offset += int64(n + 1)
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
		c, err := d.SkipSpace()
		if err != nil {
			return d.ReadErr(err)
		}
		if c == ']' {
			d.Next()
			return nil
		}
		if i > 0 {
			if c != ',' {
				return fmt.Errorf("invalid JSON: expected ',' or ']' at byte %d, found %q", d.Offset, c)
			}
			d.Next()
			if c, err = d.SkipSpace(); err != nil {
				return d.ReadErr(err)
			}
		}
		if c != '{' && c != '[' {
			if err := d.SkipScalar(); err != nil {
				return err
			}
			d.stats.Skipped++
			d.problem("array element %d is not an object", i)
			continue
		}
		raw, err := d.ReadValue()
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
		d.walk.Reset(raw)
		_, info, root := d.walk.Record(0)
		d.arrayElement(raw, info, root)
	}
}

// arrayElement takes one object of an array: a record with eventSource
// among its own keys that cannot be root's is counted; anything else takes
// the general path.
func (d *decoder) arrayElement(raw []byte, info jsonscan.RecordInfo, rootMark bool) {
	if info.HasEventSource && !rootMark && !bytes.Contains(raw, emailUpdateMark) {
		d.stats.Events++
		d.countAccountBytes(info.Recipient, info.EventTime)
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
		win, _ := d.R.Peek(d.R.Size()) // a read error comes back to the general path: the readers are sticky
		base := d.Offset
		d.walk.Reset(win)
		pos := 0 // bytes of win consumed: whole elements and their separators
		for {
			p := jsonscan.SkipSpace(win, pos)
			if p < len(win) && win[p] == ']' {
				pos, closed = p+1, true
				break
			}
			if i+n > 0 {
				if p >= len(win) || win[p] != ',' {
					break
				}
				p = jsonscan.SkipSpace(win, p+1)
			}
			if p >= len(win) || win[p] != '{' {
				break
			}
			end, info, root := d.walk.Record(p)
			if end < 0 {
				break
			}
			d.Offset = base + int64(end)
			d.arrayElement(win[p:end], info, root)
			pos = end
			n++
		}
		d.Offset = base + int64(pos)
		if _, err := d.R.Discard(pos); err != nil || closed || pos == 0 {
			return n, closed
		}
	}
}

// skipRestOfObject consumes what follows a streamed Records array up to the
// object's closing brace (normally nothing but the brace).
func (d *decoder) skipRestOfObject() error {
	c, err := d.SkipSpace()
	if err != nil {
		return d.ReadErr(err)
	}
	if c == '}' {
		d.Next()
		return nil
	}
	if c != ',' {
		return fmt.Errorf("invalid JSON: expected ',' or '}' at byte %d, found %q", d.Offset, c)
	}
	// Other keys after Records: read them as one value by re-opening the object.
	d.Next()
	raw, err := d.ReadObjectRest()
	if d.skipped(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var rest map[string]json.RawMessage
	if err := json.Unmarshal(raw, &rest); err != nil {
		return fmt.Errorf("invalid JSON after Records at byte %d: %v", d.Offset, err)
	}
	return nil
}

// recipientOf reads recipientAccountId from a raw record without decoding it.
func recipientOf(raw []byte) string { return string(jsonscan.StringValue(raw, recipientKey, 32)) }

// element handles one JSON value: counted cheaply when it cannot hold root
// activity, decoded by shape when it can.
func (d *decoder) element(raw []byte) {
	candidate := mayBeRoot(raw)
	container := bytes.Contains(raw, recordsKey) || bytes.Contains(raw, eventsKey)
	if !candidate && !container {
		if bytes.Contains(raw, eventSourceKey) || bytes.Contains(raw, lookupEventSourceKey) {
			d.stats.Events++
			d.countAccount(recipientOf(raw), jsonscan.StringValue(raw, eventTimeKey, 40))
		} else {
			d.stats.Skipped++
			d.problem("a JSON value at byte %d has no eventSource: not a CloudTrail event", d.Offset-int64(len(raw)))
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
		d.problem("a record at byte %d is not valid JSON: %v", d.Offset-int64(len(raw)), err)
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
	var r Record
	if err := json.Unmarshal(raw, &r); err != nil {
		d.stats.Undecodable++
		d.problem("a record could not be decoded: %v", err)
		return
	}
	if !r.LooksLikeEvent() {
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
	if ct := []byte(cloudTrailEvent); !mayBeRoot(ct) && username != "root" {
		d.countAccount(recipientOf([]byte(cloudTrailEvent)), jsonscan.StringValue([]byte(cloudTrailEvent), eventTimeKey, 40))
		return
	}
	var r Record
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
