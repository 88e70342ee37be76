package runcodec

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestSlots: what varies from run to run is cut out; identifiers,
// addresses and versions stay text.
func TestSlots(t *testing.T) {
	for _, c := range []struct {
		raw  string
		want []string // kind:text
	}{
		{`{"message":"last used 2026-02-27T11:00:00Z, 3.2 days ago (window 15 days)."}`, []string{"t:2026-02-27T11:00:00Z", "n:3.2", "n:15"}},
		{`{"evidence":{"age_days":41,"report_line":2,"neg":-3.5e2,"ok":true,"n":null}}`, []string{"n:41", "n:2", "n:-3.5e2"}},
		{`{"evidence":{"from":"2026-02-27T11:00:00.123+00:00","to":"2026-02-27T11:00:00-05:30:"}}`, []string{"t:2026-02-27T11:00:00.123+00:00", "t:2026-02-27T11:00:00-05:30"}},
		{`{"message":"arn:aws:iam::123456789012:root from 203.0.113.24 with v1.2.3, 1.2.3, GAHT1000, 15d, \u0031 and 2026-02-27T11:00:00Zulu"}`, nil},
		{`{"message":"(2 polls); 1 row: 7.","x":"12/34","y":"a-1"}`, []string{"n:2", "n:1", "n:7"}},
		{`{"2026-02-27T11:00:00Z":1,"evidence":{"2026-02-27T11:00:00Z":"k"}}`, []string{"n:1"}},
		{`{"account_id":"123","status":"fail","first_seen":"2026-02-27T11:00:00Z","resource":"r 12","evidence":[1]}`, []string{"n:1"}},
		{`{"message":"escaped \" 12 \\ 34 \\56"}`, []string{"n:12", "n:34"}},
	} {
		var got []string
		for _, s := range slotsOf([]byte(c.raw), FindingFixed) {
			got = append(got, string(s.kind)+":"+c.raw[s.off:s.end])
		}
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("%s\n got %q\nwant %q", c.raw, got, c.want)
		}
	}
}

// TestExceptions: a part written by a later run is its version with the
// few slots that differ, each in the fewest bytes.
func TestExceptions(t *testing.T) {
	asOf := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	later := asOf.Add(24*time.Hour + 17*time.Second)
	mk := func(when time.Time, report string, age string) Part {
		from := when.Add(-15 * 24 * time.Hour)
		raw, _ := json.Marshal(map[string]any{"message": "window " + from.Format(time.RFC3339) + " to " + when.Format(time.RFC3339) + ", used 2026-02-01T00:00:00+00:00, " + age + " days ago",
			"evidence": map[string]any{"report_generated_time": report, "n": 3}})
		return NewPart('f', raw, FindingFixed)
	}
	v0 := mk(asOf, asOf.Add(40*time.Second).Format(time.RFC3339), "28.3")
	v := &Version{ID: 1, AsOf: asOf, Body: v0.Raw, Slots: v0.Slots}
	cur := mk(later, later.Add(-2*time.Minute).Format(time.RFC3339), "29.3")
	if cur.Hash != v0.Hash {
		t.Fatal("the two runs' parts have different templates")
	}
	exc, err := Exceptions(v, cur, later)
	if err != nil {
		t.Fatal(err)
	}
	var codes []byte
	for _, e := range exc.Exc {
		codes = append(codes, '0'+e.code)
	}
	// The window's two ends moved with the as-of time (the default here);
	// the report was generated 2 minutes before it; the time of use stays;
	// the age is text; the 3 is the version's.
	if !exc.Moved || string(codes) != "243" || exc.Exc[0].seconds != -120 || string(exc.Exc[2].text) != "29.3" {
		t.Errorf("Exceptions %+v", exc)
	}
	back, err := Apply(v, exc, later)
	if err != nil || !bytes.Equal(back, cur.Raw) {
		t.Errorf("Apply: %s, %v\nwant %s", back, err, cur.Raw)
	}
	row := Row{Account: Ref{ID: 9, Exc: exc}, Findings: []Ref{{ID: 12}, {ID: 10, Exc: exc}}}
	if got, err := DecodeRow(EncodeRow(row)); err != nil || len(got.Findings) != 2 || got.Findings[1].ID != 10 || len(got.Account.Exc.Exc) != 3 || !got.Findings[1].Exc.Moved || got.Findings[0].Exc.Moved {
		t.Errorf("row round trip: %+v %v", got, err)
	}
	if _, err := DecodeRow(EncodeRow(row)[:5]); err == nil {
		t.Error("a cut row decodes")
	}
}

// TestChangeMarks: a finding's change mark (its last member) is kept apart
// from its version; nothing else is taken for one.
func TestChangeMarks(t *testing.T) {
	for raw, want := range map[string]string{
		`{"a":1,"first_seen":"2026-03-01T00:00:00Z","change":"unchanged"}`: "unchanged",
		`{"a":1,"change":"new_kind"}`:                                      "new_kind",
		`{"e":{"change":"x"}}`:                                             "",
		`{"a":1,"change":"x\"y"}`:                                          "",
		`{"a":"b"}`:                                                        "",
		`{"a":"not a member: ,\"change\":\"x"}`:                            "",
	} {
		body, change := CutChange([]byte(raw))
		if change != want || string(WithChange(body, change)) != raw {
			t.Errorf("%s: cut %q (%s), want %q", raw, change, body, want)
		}
	}
	row := Row{Findings: []Ref{{ID: 3, Change: "unchanged"}, {ID: 4, Change: "a kind of its own"}, {ID: 5}}}
	got, err := DecodeRow(EncodeRow(row))
	if err != nil || got.Findings[0].Change != "unchanged" || got.Findings[1].Change != "a kind of its own" || got.Findings[2].Change != "" {
		t.Errorf("changes round trip: %+v %v", got, err)
	}
}

// FuzzParts: whatever the bytes, slots are in order inside them, and a
// part whose slots changed (to other text, or to times moved by the as-of
// time) is written back exactly from its version.
func FuzzParts(f *testing.F) {
	for _, s := range []string{
		`{"message":"last used 2026-02-27T11:00:00Z, 3.2 days ago","evidence":{"a":[1,2.5,{"t":"2026-02-27T11:00:00.5+02:00"}]}}`,
		`{"x":"\u00312026-02-27T11:00:00Z 1.2.3 4"}`, `{"a":"unterminated 12`, `[1,"2",{"3":4}]`, `-`,
	} {
		f.Add([]byte(s), int64(86400))
	}
	f.Fuzz(func(t *testing.T, raw []byte, shift int64) {
		p := NewPart('f', raw, FindingFixed)
		prev := 0
		for _, s := range p.Slots {
			if s.off < prev || s.end <= s.off || s.end > len(raw) {
				t.Fatalf("slot %+v after %d in %d bytes", s, prev, len(raw))
			}
			prev = s.end
		}
		asOf := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		later := asOf.Add(time.Duration(shift%(1<<40)) * time.Second)
		v := &Version{ID: 1, AsOf: asOf, Body: raw, Slots: p.Slots}
		slots, err := DecodeSlots(EncodeSlots(p.Slots), len(raw))
		if err != nil || len(slots) != len(p.Slots) {
			t.Fatalf("slots round trip: %v", err)
		}
		// Another run: every other time slot moved with the as-of time,
		// every third slot another text.
		var cur []byte
		last := 0
		for i, s := range p.Slots {
			cur = append(cur, raw[last:s.off]...)
			text := raw[s.off:s.end]
			switch {
			case i%3 == 2:
				text = []byte("9")
			case s.kind == slotTime && i%2 == 0:
				if st, ok := parseStamp(text); ok {
					text = st.format(st.t.Add(later.Sub(asOf)))
				}
			}
			cur = append(cur, text...)
			last = s.end
		}
		cur = append(cur, raw[last:]...)
		c := NewPart('f', cur, FindingFixed)
		if c.Hash != p.Hash {
			return // the new text made another template (e.g. "9" joined a word)
		}
		exc, err := Exceptions(v, c, later)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Apply(v, exc, later)
		if err != nil || !bytes.Equal(back, cur) {
			t.Fatalf("written back as %q (%v), want %q", back, err, cur)
		}
	})
}

// TestReorder: a stored order puts findings back; one that names a
// finding twice, or one past the end, is a damaged store, not a run with
// a finding lost.
func TestReorder(t *testing.T) {
	fs := [][]byte{[]byte("a"), []byte("b"), []byte("c")}
	enc := func(ps ...uint64) []byte {
		var b []byte
		for _, p := range ps {
			b = binary.AppendUvarint(b, p)
		}
		return b
	}
	got, err := Reorder(fs, enc(2, 0, 1))
	if err != nil || string(bytes.Join(got, nil)) != "cab" {
		t.Errorf("reorder: %q %v", got, err)
	}
	for _, bad := range [][]byte{enc(0, 0, 1), enc(0, 1, 3), enc(0, 1)} {
		if _, err := Reorder(fs, bad); err != ErrCorrupt {
			t.Errorf("order %v: %v, want ErrCorrupt", bad, err)
		}
	}
}
