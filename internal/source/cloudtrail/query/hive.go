package query

import (
	"fmt"
	"strings"
)

// hiveType is a Glue column type (Hive's type grammar): a struct's fields
// by lower-cased name; other types by their kind and text.
type hiveType struct {
	kind   string // struct, array, map, or the primitive type's name
	text   string
	fields map[string]*hiveType
}

// parseHiveType reads a type such as
// struct<type:string,sessioncontext:struct<sessionissuer:struct<arn:string>>>.
func parseHiveType(s string) (*hiveType, error) {
	p := &hiveParser{s: s}
	t, err := p.typ()
	if err != nil {
		return nil, err
	}
	if p.skip(); p.i != len(p.s) {
		return nil, fmt.Errorf("type %q: unexpected %q at %d", s, p.s[p.i:], p.i)
	}
	return t, nil
}

type hiveParser struct {
	s string
	i int
}

func (p *hiveParser) skip() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

// word reads a name or a primitive type (letters, digits, '_', and the
// parenthesised arguments of decimal(10,2) or varchar(65535)).
func (p *hiveParser) word() string {
	p.skip()
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '(' {
			if j := strings.IndexByte(p.s[p.i:], ')'); j > 0 {
				p.i += j + 1
				continue
			}
		}
		if !(c == '_' || c == '-' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			break
		}
		p.i++
	}
	return p.s[start:p.i]
}

func (p *hiveParser) expect(c byte) error {
	p.skip()
	if p.i >= len(p.s) || p.s[p.i] != c {
		return fmt.Errorf("type %q: expected %q at %d", p.s, c, p.i)
	}
	p.i++
	return nil
}

func (p *hiveParser) peek() byte {
	p.skip()
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *hiveParser) typ() (*hiveType, error) {
	start := p.i
	name := strings.ToLower(p.word())
	if name == "" {
		return nil, fmt.Errorf("type %q: expected a type at %d", p.s, p.i)
	}
	t := &hiveType{kind: name}
	switch name {
	case "struct":
		t.fields = map[string]*hiveType{}
		if err := p.expect('<'); err != nil {
			return nil, err
		}
		for p.peek() != '>' {
			field := strings.ToLower(strings.Trim(p.word(), "`"))
			if field == "" {
				return nil, fmt.Errorf("type %q: expected a field name at %d", p.s, p.i)
			}
			if err := p.expect(':'); err != nil {
				return nil, err
			}
			ft, err := p.typ()
			if err != nil {
				return nil, err
			}
			t.fields[field] = ft
			if p.peek() != ',' {
				break
			}
			p.i++
		}
		if err := p.expect('>'); err != nil {
			return nil, err
		}
	case "array", "map":
		if err := p.expect('<'); err != nil {
			return nil, err
		}
		n := 1
		if name == "map" {
			n = 2
		}
		for k := range n {
			if k > 0 {
				if err := p.expect(','); err != nil {
					return nil, err
				}
			}
			if _, err := p.typ(); err != nil {
				return nil, err
			}
		}
		if err := p.expect('>'); err != nil {
			return nil, err
		}
	}
	t.text = strings.TrimSpace(p.s[start:p.i])
	return t, nil
}
