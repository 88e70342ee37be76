package policy

import (
	"bytes"
	"encoding/json"
)

// MarshalJSON prints the policy back: its elements in the canonical order
// (Version, Id, Statement), each written as it was (a string or a list;
// condition values as strings, numbers or booleans). Parse reads it back
// to an equal Policy.
func (p *Policy) MarshalJSON() ([]byte, error) {
	var w jsonWriter
	w.open('{')
	if p.Version != "" {
		w.key("Version")
		w.str(p.Version)
	}
	if p.HasID {
		w.key("Id")
		w.str(p.ID)
	}
	w.key("Statement")
	if p.StatementArray {
		w.open('[')
		for i := range p.Statements {
			w.item()
			p.Statements[i].write(&w)
		}
		w.close(']')
	} else if len(p.Statements) == 1 {
		p.Statements[0].write(&w)
	} else {
		w.raw("[]")
	}
	w.close('}')
	return w.buf.Bytes(), nil
}

// MarshalJSON prints one statement as it appears in its policy, for
// evidence ("which policy, which statement").
func (s *Statement) MarshalJSON() ([]byte, error) {
	var w jsonWriter
	s.write(&w)
	return w.buf.Bytes(), nil
}

// JSON returns the statement's JSON text.
func (s *Statement) JSON() string {
	b, _ := s.MarshalJSON()
	return string(b)
}

func (s *Statement) write(w *jsonWriter) {
	w.open('{')
	if s.HasSid {
		w.key("Sid")
		w.str(s.Sid)
	}
	w.key("Effect")
	w.str(string(s.Effect))
	if s.Principal != nil {
		w.key(pick(s.NotPrincipal, "NotPrincipal", "Principal"))
		if s.Principal.Any {
			w.str("*")
		} else {
			w.open('{')
			for _, e := range s.Principal.Entries {
				w.key(e.Type)
				w.values(e.Values)
			}
			w.close('}')
		}
	}
	w.key(pick(s.NotAction, "NotAction", "Action"))
	w.values(s.Action)
	if s.Resource != nil {
		w.key(pick(s.NotResource, "NotResource", "Resource"))
		w.values(*s.Resource)
	}
	if len(s.Conditions) > 0 {
		w.key("Condition")
		w.open('{')
		for i := 0; i < len(s.Conditions); {
			// Consecutive conditions under one operator name share a block.
			op := s.Conditions[i].Operator
			w.key(op)
			w.open('{')
			for ; i < len(s.Conditions) && s.Conditions[i].Operator == op; i++ {
				c := &s.Conditions[i]
				w.key(c.Key)
				if c.Array {
					w.open('[')
				}
				for _, v := range c.Values {
					if c.Array {
						w.item()
					}
					if v.Type == TypeString {
						w.str(v.Text)
					} else {
						w.raw(v.Text)
					}
				}
				if c.Array {
					w.close(']')
				}
			}
			w.close('}')
		}
		w.close('}')
	}
	w.close('}')
}

func pick(cond bool, yes, no string) string {
	if cond {
		return yes
	}
	return no
}

// jsonWriter writes compact JSON, strings without HTML escaping (policy
// evidence is shown as text; the report writers escape for their format).
type jsonWriter struct {
	buf   bytes.Buffer
	first []bool // per open container: no element written yet
}

func (w *jsonWriter) open(c byte) {
	w.buf.WriteByte(c)
	w.first = append(w.first, true)
}

func (w *jsonWriter) close(c byte) {
	w.first = w.first[:len(w.first)-1]
	w.buf.WriteByte(c)
}

// item separates list elements and object members.
func (w *jsonWriter) item() {
	if top := len(w.first) - 1; !w.first[top] {
		w.buf.WriteByte(',')
	} else {
		w.first[top] = false
	}
}

func (w *jsonWriter) key(k string) {
	w.item()
	w.str(k)
	w.buf.WriteByte(':')
}

func (w *jsonWriter) str(s string) {
	enc := json.NewEncoder(&w.buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	w.buf.Truncate(w.buf.Len() - 1)
}

func (w *jsonWriter) raw(s string) { w.buf.WriteString(s) }

func (w *jsonWriter) values(v Values) {
	if !v.Array {
		w.str(v.List[0])
		return
	}
	w.open('[')
	for _, s := range v.List {
		w.item()
		w.str(s)
	}
	w.close(']')
}
