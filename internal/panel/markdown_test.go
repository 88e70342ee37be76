package panel

import (
	"strings"
	"testing"

	"github.com/rootwatch/rootwatch/internal/rules"
)

func TestMarkdown(t *testing.T) {
	cases := map[string]string{
		"one\ntwo\n\nthree": "<p>one two</p>\n<p>three</p>\n",
		"- a `x<y>`\n- **b** and [AWS](https://docs.aws.amazon.com/x?a=1&b=2)": "<ul>\n<li>a <code>x&lt;y&gt;</code></li>\n" +
			`<li><strong>b</strong> and <a href="https://docs.aws.amazon.com/x?a=1&amp;b=2" rel="noopener noreferrer">AWS</a></li>` + "\n</ul>\n",
		"1. first\n   goes on\n2. second\n\nafter": "<ol>\n<li>first goes on</li>\n<li>second</li>\n</ol>\n<p>after</p>\n",
		// No HTML passes through, and a link is one only to http(s).
		"<script>alert(1)</script> <b onclick=x>":                          "<p>&lt;script&gt;alert(1)&lt;/script&gt; &lt;b onclick=x&gt;</p>\n",
		"[click](javascript:alert(1)) [rel](/local) [x](data:text/html,1)": "<p>click) rel x</p>\n",
		"[a \"quote\"](https://e.example/\"onmouseover=\")":                `<p><a href="https://e.example/%22onmouseover=%22" rel="noopener noreferrer">a &#34;quote&#34;</a></p>` + "\n",
		"a * b ** c `unclosed [x](":                                        "<p>a * b ** c `unclosed [x](</p>\n",
	}
	for in, want := range cases {
		if got := string(Markdown(in)); got != want {
			t.Errorf("Markdown(%q)\n got %q\nwant %q", in, got, want)
		}
	}
	// Every page of the knowledge base renders its lists and links.
	for _, r := range rules.Catalog() {
		p, err := rules.LoadPage(r.ID)
		if err != nil {
			t.Fatal(err)
		}
		refs := string(Markdown(p.Sections["References"]))
		if !strings.HasPrefix(refs, "<ul>\n<li><a href=\"https://") {
			t.Errorf("%s: references render as %.80q", r.ID, refs)
		}
		if action := string(Markdown(p.Sections["Suggested Action"])); !strings.Contains(action, "<li>") || strings.Contains(action, "**") {
			t.Errorf("%s: the suggested action renders as %.120q", r.ID, action)
		}
	}
}

func TestEvidenceLayout(t *testing.T) {
	ev := NewEvidence(map[string]any{
		"window": "15d", "count": 3, "ratio": 0.5, "ok": true, "none": nil, "empty": []string{},
		"regions": []string{"us-east-1", "eu-west-1"},
		"events":  []map[string]any{{"user_agent": "ua", "event_time": "t1", "zz_new": []string{"x", "y"}, "source_ip": "192.0.2.1"}, {"event_time": "t2", "mfa": "yes", "zz_new": map[string]int{"n": 1}}},
		"nested":  map[string]any{"inner": map[string]any{"deep": "v\u202e"}},
		"mixed":   []any{"a", map[string]string{"k": "v"}},
	})
	by := map[string]EvidenceField{}
	var keys []string
	for _, f := range ev.Fields {
		by[f.Key] = f
		keys = append(keys, f.Key)
	}
	if strings.Join(keys, ",") != "count,empty,events,mixed,nested,none,ok,ratio,regions,window" {
		t.Errorf("keys %v", keys)
	}
	if by["count"].Text != "3" || by["ratio"].Text != "0.5" || by["ok"].Text != "yes" || !by["none"].Empty || !by["empty"].Empty || by["window"].Text != "15d" {
		t.Errorf("scalars: %+v", ev.Fields)
	}
	if got := strings.Join(by["regions"].Items, ","); got != "us-east-1,eu-west-1" {
		t.Errorf("a list of text: %q", got)
	}
	tab := by["events"].Table
	if tab == nil || strings.Join(tab.Columns, "|") != "time|source IP|MFA used|user agent|zz new" || tab.Rows[0][0] != "t1" || tab.Rows[1][2] != "yes" || tab.Rows[1][1] != "" ||
		tab.Rows[0][4] != "x; y" || tab.Rows[1][4] != `{"n":1}` {
		t.Errorf("events table: %+v", tab)
	}
	if deep := by["nested"].Object.Fields[0].Object.Fields[0]; deep.Text != `v\u202e` {
		t.Errorf("nested: %+v", deep)
	}
	if got := strings.Join(by["mixed"].Items, ","); got != `a,{"k":"v"}` {
		t.Errorf("a mixed list: %q", got)
	}
}
