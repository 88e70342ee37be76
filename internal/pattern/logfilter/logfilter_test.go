package logfilter

import (
	"strings"
	"testing"
)

// event is the example log event of the CloudWatch Logs guide's JSON
// filter-pattern page, written again.
const event = `{
  "eventType": "UpdateTrail",
  "sourceIPAddress": "123.123.123.123",
  "arrayKey": ["value", "another value"],
  "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
  "SomeObject": null,
  "ThisFlag": true,
  "OtherFlag": false,
  "user": {"id": 1, "email": "John.Stiles@example.com"},
  "users": [{"id": 2, "email": "John.Doe@example.com"}],
  "coordinates": [[0, 1], [2, 3]],
  "actions": ["GET", "PUT", "DELETE"],
  "latency": 1.5e3,
  "nested": {"list": [1, 2]}
}`

func TestDocumentationExamples(t *testing.T) {
	cases := []struct {
		pattern string
		want    bool
	}{
		{`{ $.eventType = "UpdateTrail" }`, true},
		{`{ $.eventType = UpdateTrail }`, true},
		{`{ $.eventType != "UpdateTrail" }`, false},
		{`{ $.sourceIPAddress != 123.123.* }`, false},
		{`{ $.sourceIPAddress = 123.123.* }`, true},
		{`{ $.sourceIPAddress = "*.123" }`, true},
		{`{ $.eventType = *Trail }`, true},
		{`{ $.eventType = Update* }`, true},
		{`{ $.eventType = *date* }`, true},
		{`{ $.eventType = * }`, true},
		{`{ $.missing = * }`, false},
		{`{ $.arrayKey[0] = "value" }`, true},
		{`{ $.arrayKey[1] = "value" }`, false},
		{`{ $.arrayKey[5] = "value" }`, false},
		{`{ $.objectList[1].id = 2 }`, true},
		{`{ $.objectList[1].id > 1 }`, true},
		{`{ $.objectList[1].id >= 3 }`, false},
		{`{ $.objectList[0].id <= 1 }`, true},
		{`{ $.objectList[0].id < 1 }`, false},
		{`{ $.objectList[0].id != 1 }`, false},
		{`{ $.latency = 1500 }`, true},
		{`{ $.latency > -1.5e2 }`, true},
		{`{ $.SomeObject IS NULL }`, true},
		{`{ $.eventType IS NULL }`, false},
		{`{ $.missing IS NULL }`, false},
		{`{ $.SomeOtherObject NOT EXISTS }`, true},
		{`{ $.SomeObject NOT EXISTS }`, false},
		{`{ $.eventType.deeper NOT EXISTS }`, true},
		{`{ $.ThisFlag IS TRUE }`, true},
		{`{ $.ThisFlag IS FALSE }`, false},
		{`{ $.OtherFlag IS FALSE }`, true},
		{`{ $.eventType IS TRUE }`, false},
		{`{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }`, true},
		{`{ $.user.id = 2 && $.users[0].email = "John.Doe@example.com" }`, false},
		// && binds tighter than ||: true || (false && false).
		{`{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch" && $.actions[2] = "nonmatch" }`, true},
		{`{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch") && $.actions[2] = "nonmatch" }`, false},
		{`{ $.coordinates[1][0] = 2 }`, true},
		// A selector at an object or array never matches, with = or !=.
		{`{ $.user = "x" }`, false},
		{`{ $.user != "x" }`, false},
		{`{ $.arrayKey != "x" }`, false},
		{`{ $.nested.list = * }`, false},
		// Case-sensitive values and names.
		{`{ $.eventType = "updatetrail" }`, false},
		{`{ $.EventType = "UpdateTrail" }`, false},
		// A number does not equal a string.
		{`{ $.eventType = 1 }`, false},
		// Regular expressions.
		{`{ $.eventType = %Update.*% }`, true},
		{`{ $.eventType = %^Trail% }`, false},
		{`{ $.eventType != %Delete% }`, true},
		// Whitespace, newlines included, is free between tokens.
		{"{$.eventType=\"UpdateTrail\"&&$.ThisFlag IS TRUE}", true},
		{"{\n  $.eventType = UpdateTrail\n  &&\n  $.SomeOtherObject\n  NOT   EXISTS\n}", true},
		// Term patterns.
		{`UpdateTrail`, true},
		{`"another value"`, true},
		{`UpdateTrail -DELETE`, false},
		{`?nomatch ?UpdateTrail`, true},
		{`?nomatch ?nothing`, false},
		{``, true},
	}
	for _, c := range cases {
		p, err := Parse(c.pattern)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.pattern, err)
			continue
		}
		if got := p.Match([]byte(event)); got != c.want {
			t.Errorf("%q on the guide's event = %v, want %v", c.pattern, got, c.want)
		}
	}
}

func TestRefusedPatterns(t *testing.T) {
	cases := map[string]string{
		`{ $.userIdentity.type = 'Root' }`:        "single-quoted",
		`{ $.userIdentity.type == "Root" }`:       "unknown operator",
		`{ $.userIdentity.type => "Root" }`:       "unknown operator",
		`{ $.userIdentity.type "Root" }`:          "expected an operator",
		`{ $.userIdentity.type = "Root" `:         "closing }",
		`{ $.userIdentity.type = "Root }`:         "not closed",
		`{ userIdentity.type = "Root" }`:          "starting with $",
		`{ $ = "Root" }`:                          "at least one .name",
		`{ $.a[x] = 1 }`:                          "array index",
		`{ $.a = 1 } extra`:                       "after the closing }",
		`{ ($.a = 1 }`:                            "missing )",
		`{ $.a = 1 &&& $.b = 2 }`:                 "selector",
		`{ $.a = 1 & $.b = 2 }`:                   "expected &&",
		`{ $.a < "x" }`:                           "needs a number",
		`{ $.a = %(x)% }`:                         "groups",
		`{ $.a = %x }`:                            "not closed",
		`{ $.a = %a% || $.b = %b% || $.c = %c% }`: "more than 2",
		`{ $.a IS NOTNULL }`:                      "expected an operator",
		`{ $.a = b,c }`:                           "double-quoted",
		`[ip, user]`:                              "space-delimited",
		`userIdentity.type=Root`:                  "not a term pattern",
		`'Root'`:                                  "single-quoted",
		`{}`:                                      "selector",
		strings.Repeat(" ", 1025):                 "longer than",
	}
	for pattern, want := range cases {
		_, err := Parse(pattern)
		if err == nil {
			t.Errorf("Parse(%q) succeeded; want an error with %q", pattern, want)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v; want it to say %q", pattern, err, want)
		}
	}
}

func TestNotJSONNeverMatchesAJSONPattern(t *testing.T) {
	p, err := Parse(`{ $.a NOT EXISTS }`)
	if err != nil {
		t.Fatal(err)
	}
	for _, msg := range []string{`not json`, `[1,2]`, `"a"`, ``} {
		if p.Match([]byte(msg)) {
			t.Errorf("%q matched a JSON pattern", msg)
		}
	}
	if !p.Match([]byte(`{"b":1}`)) {
		t.Error("NOT EXISTS did not match an object without the field")
	}
}

func TestCanonical(t *testing.T) {
	cis := `{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`
	same := []string{
		cis,
		`{ $.userIdentity.type = Root && $.userIdentity.invokedBy NOT EXISTS && $.eventType != AwsServiceEvent }`,
		"{$.eventType!=\"AwsServiceEvent\"&&$.userIdentity.invokedBy NOT EXISTS&&$.userIdentity.type=\"Root\"}",
		"{ ($.userIdentity.type = \"Root\") &&\n ($.userIdentity.invokedBy NOT EXISTS) && ($.eventType != \"AwsServiceEvent\") }",
	}
	want := mustParse(t, cis).Canonical()
	for _, s := range same {
		if got := mustParse(t, s).Canonical(); got != want {
			t.Errorf("Canonical(%q) = %q, want %q", s, got, want)
		}
	}
	different := []string{
		`{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AWsServiceEvent" }`,
		`{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS }`,
		`{ $.userIdentity.type = "Root" || $.userIdentity.invokedBy NOT EXISTS || $.eventType != "AwsServiceEvent" }`,
	}
	for _, s := range different {
		if got := mustParse(t, s).Canonical(); got == want {
			t.Errorf("Canonical(%q) equals the CIS pattern's", s)
		}
	}
}

func mustParse(t *testing.T, s string) *Pattern {
	t.Helper()
	p, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return p
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`,
		`{ ($.a = 1) || $.b[0].c IS NULL }`, `{ $.x = %a.*% }`, `ERROR -DEBUG ?x "a b"`, `[a, b]`, ``,
	} {
		f.Add(s, event)
	}
	f.Fuzz(func(t *testing.T, pattern, msg string) {
		p, err := Parse(pattern)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Parse(%q) returned %T, not *Error", pattern, err)
			}
			return
		}
		_ = p.Match([]byte(msg))
		// The canonical form is itself a pattern with the same meaning.
		if p.IsJSON() {
			q, err := Parse(p.Canonical())
			if err != nil {
				t.Fatalf("canonical form %q of %q does not parse: %v", p.Canonical(), pattern, err)
			}
			if q.Canonical() != p.Canonical() {
				t.Fatalf("canonical form is not stable: %q then %q", p.Canonical(), q.Canonical())
			}
			if q.Match([]byte(msg)) != p.Match([]byte(msg)) {
				t.Fatalf("%q and its canonical form %q disagree on %q", pattern, p.Canonical(), msg)
			}
		}
	})
}
