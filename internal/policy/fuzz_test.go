package policy

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzParse: Parse never panics, and a policy it reads prints back to a
// document it reads to the same policy, which prints the same.
func FuzzParse(f *testing.F) {
	// testdata/seeds.txt holds one policy a line; the evaluation fuzzer
	// (internal/policy/eval) starts from them too.
	seeds, err := os.ReadFile(filepath.Join("testdata", "seeds.txt"))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range bytes.Split(bytes.TrimSpace(seeds), []byte("\n")) {
		f.Add(s)
	}
	f.Add([]byte(`{"Statement":[]}`))
	f.Add([]byte(`{"Statement":{"Effect":"Allow","Action":"a:b","Effect":"Deny"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		printed, err := p.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		again, err := Parse(printed)
		if err != nil {
			t.Fatalf("printed policy does not parse: %v\n%s", err, printed)
		}
		if !reflect.DeepEqual(p, again) {
			t.Fatalf("round trip changed the policy:\n%s\n%#v\n%#v", printed, p, again)
		}
		reprinted, _ := again.MarshalJSON()
		if !bytes.Equal(printed, reprinted) {
			t.Fatalf("printing is not stable:\n%s\n%s", printed, reprinted)
		}
		for i := range p.Statements {
			_ = p.Statements[i].JSON()
			for j := range p.Statements[i].Conditions {
				_ = p.Statements[i].Conditions[j].String()
			}
		}
	})
}
