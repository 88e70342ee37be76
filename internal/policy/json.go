package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// jsonKind is the JSON type of a decoded value.
type jsonKind int

const (
	jsonNull jsonKind = iota
	jsonBool
	jsonNumber
	jsonString
	jsonArray
	jsonObject
)

func (k jsonKind) String() string {
	return [...]string{"null", "a boolean", "a number", "a string", "an array", "an object"}[k]
}

// jnode is one decoded JSON value. Objects keep their keys in document
// order; numbers keep their text.
type jnode struct {
	kind jsonKind
	text string // string value, number text, or "true"/"false"
	keys []string
	vals []*jnode // object values, parallel to keys; or array elements
}

// field returns the value of key k in an object, or nil.
func (n *jnode) field(k string) *jnode {
	for i, key := range n.keys {
		if key == k {
			return n.vals[i]
		}
	}
	return nil
}

// maxNesting bounds recursion; a policy is at most four levels deep
// (Statement, Condition, operator, key), so anything far deeper is not a
// policy.
const maxNesting = 32

// decodeJSON reads one JSON value, refusing duplicate object keys (the IAM
// grammar: "Individual elements must not contain multiple instances of the
// same key") and anything after the value.
func decodeJSON(data []byte) (*jnode, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := readNode(dec, "", 0)
	if err != nil {
		return nil, fmt.Errorf("%w (at byte %d)", err, dec.InputOffset())
	}
	if tok, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, fmt.Errorf("after the document: %w (at byte %d)", err, dec.InputOffset())
		}
		return nil, fmt.Errorf("unexpected %v after the document (at byte %d)", tok, dec.InputOffset())
	}
	return n, nil
}

// readNode reads one value; path (Statement[1].Condition) names where it is
// for errors.
func readNode(dec *json.Decoder, path string, depth int) (*jnode, error) {
	if depth > maxNesting {
		return nil, fmt.Errorf("%s: nested too deeply", path)
	}
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	switch t := tok.(type) {
	case nil:
		return &jnode{kind: jsonNull}, nil
	case bool:
		if t {
			return &jnode{kind: jsonBool, text: "true"}, nil
		}
		return &jnode{kind: jsonBool, text: "false"}, nil
	case json.Number:
		return &jnode{kind: jsonNumber, text: t.String()}, nil
	case string:
		return &jnode{kind: jsonString, text: t}, nil
	case json.Delim:
		n := &jnode{kind: jsonArray}
		if t == '{' {
			n.kind = jsonObject
		}
		seen := map[string]bool{}
		for dec.More() {
			if n.kind == jsonObject {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k := kt.(string) // the decoder only yields string keys
				if seen[k] {
					if path == "" {
						return nil, fmt.Errorf("duplicate key %q", k)
					}
					return nil, fmt.Errorf("%s: duplicate key %q", path, k)
				}
				seen[k] = true
				n.keys = append(n.keys, k)
			}
			var sub string
			if n.kind == jsonObject {
				sub = strings.TrimPrefix(path+"."+n.keys[len(n.keys)-1], ".")
			} else {
				sub = fmt.Sprintf("%s[%d]", path, len(n.vals))
			}
			v, err := readNode(dec, sub, depth+1)
			if err != nil {
				return nil, err
			}
			n.vals = append(n.vals, v)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		return n, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}
