package jsonscan

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Stream is the general scanner: it reads a stream of JSON values from R
// value by value, counting the bytes it consumed, for what the walk does
// not read itself (values larger than the buffer, cut short, not
// records, JSON Lines). It holds at most Max bytes of one value.
type Stream struct {
	R *bufio.Reader
	// Offset is how many bytes of the stream were consumed.
	Offset int64
	// Buf holds the value or line last read (reused).
	Buf []byte
	// Max is the most bytes of one value or line held: a larger one is
	// read through without being held.
	Max int
}

// TooLarge is a value over the Stream's Max, read through and not held.
type TooLarge struct{ At, Size int64 }

func (e *TooLarge) Error() string {
	return fmt.Sprintf("a JSON value at byte %d is %d bytes: not read", e.At, e.Size)
}

// ReadErr says where the stream ended or failed.
func (s *Stream) ReadErr(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("truncated at byte %d", s.Offset)
	}
	return fmt.Errorf("read error at byte %d: %w", s.Offset, err)
}

// Next consumes one byte.
func (s *Stream) Next() {
	if _, err := s.R.ReadByte(); err == nil {
		s.Offset++
	}
}

// SkipSpace returns the next non-space byte without consuming it.
func (s *Stream) SkipSpace() (byte, error) {
	for {
		c, err := s.R.ReadByte()
		if err != nil {
			return 0, err
		}
		switch c {
		case ' ', '\t', '\r', '\n':
			s.Offset++
		default:
			_ = s.R.UnreadByte()
			return c, nil
		}
	}
}

// IsJSONLines sniffs the stream: its first line is one whole JSON object
// and the next line starts another. Pretty-printed objects (jq's output)
// and single documents ({"Records": [...]}) are not.
func (s *Stream) IsJSONLines() bool {
	b, _ := s.R.Peek(s.R.Size())
	i := SkipSpace(b, 0)
	nl := bytes.IndexByte(b[i:], '\n')
	if nl < 0 || i >= len(b) || b[i] != '{' {
		return false
	}
	first := bytes.TrimSpace(b[i : i+nl])
	rest := bytes.TrimLeft(b[i+nl:], " \t\r\n")
	return len(rest) > 0 && rest[0] == '{' && json.Valid(first)
}

// ReadLine reads up to and including the next newline into Buf. A line
// longer than Max is read through without being held: over is then its
// length and the line is nil.
func (s *Stream) ReadLine() (line []byte, over int64, err error) {
	s.Buf = s.Buf[:0]
	for {
		chunk, err := s.R.ReadSlice('\n')
		s.Offset += int64(len(chunk))
		switch {
		case over > 0:
			over += int64(len(chunk))
		case len(s.Buf)+len(chunk) > s.Max:
			over = int64(len(s.Buf) + len(chunk))
			s.Buf = s.Buf[:0]
		default:
			s.Buf = append(s.Buf, chunk...)
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			if over > 0 {
				return nil, over, err
			}
			return s.Buf, 0, err
		}
	}
}

// ReadValue reads one object or array, returning its raw bytes (valid
// until the next read). A value larger than Max is reported as *TooLarge.
func (s *Stream) ReadValue() ([]byte, error) {
	s.Buf = s.Buf[:0]
	return s.value(0)
}

// ReadObjectRest reads what follows a key's value inside an object whose
// opening brace was consumed earlier, up to its closing brace, as one
// object (the brace re-opened).
func (s *Stream) ReadObjectRest() ([]byte, error) {
	s.Buf = append(s.Buf[:0], '{')
	return s.value(1)
}

// value appends bytes to Buf until the value that starts at depth ends.
// It tracks only strings (one IndexByte per string; a quote is escaped
// when an odd number of backslashes precede it) and nesting, one buffer
// at a time. A value larger than Max is read through to its end without
// being held, and reported as *TooLarge.
func (s *Stream) value(depth int) ([]byte, error) {
	start := s.Offset - int64(len(s.Buf))
	inString, skipping := false, false
	// slashes counts the backslashes that end what was read before the
	// window (held or not), for a quote escaped across two windows.
	slashes := trailingSlashes(s.Buf)
	for {
		if s.R.Buffered() == 0 {
			if _, err := s.R.Peek(1); err != nil {
				return nil, s.ReadErr(err)
			}
		}
		b, _ := s.R.Peek(s.R.Buffered())
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
		if !skipping && len(s.Buf)+i > s.Max {
			skipping, s.Buf = true, s.Buf[:0]
		}
		if !skipping {
			s.Buf = append(s.Buf, b[:i]...)
		}
		if _, err := s.R.Discard(i); err != nil {
			return nil, s.ReadErr(err)
		}
		s.Offset += int64(i)
		if end >= 0 {
			if skipping {
				return nil, &TooLarge{At: start, Size: s.Offset - start}
			}
			return s.Buf, nil
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

// SkipScalar consumes a non-container array element.
func (s *Stream) SkipScalar() error {
	inString, escape := false, false
	for {
		c, err := s.R.ReadByte()
		if err != nil {
			return s.ReadErr(err)
		}
		s.Offset++
		switch {
		case escape:
			escape = false
		case inString && c == '\\':
			escape = true
		case c == '"':
			inString = !inString
		case !inString && (c == ',' || c == ']'):
			_ = s.R.UnreadByte()
			s.Offset--
			return nil
		}
	}
}

// StringValue reads the string value of a key from raw JSON without
// decoding it: the first occurrence of key (quoted), a quote within eight
// bytes after it, and the value up to the next quote; nil when absent or
// longer than maxLen.
func StringValue(raw, key []byte, maxLen int) []byte {
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
