package window

import (
	"encoding/json"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestParse(t *testing.T) {
	good := map[string]time.Duration{"15d": 15 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "36h": 36 * time.Hour, "90m": 90 * time.Minute, "1h30m": 90 * time.Minute, " 7d ": 7 * 24 * time.Hour}
	for in, want := range good {
		if got, err := Parse(in); err != nil || got.Duration() != want {
			t.Errorf("Parse(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0d", "-1d", "15", "fifteen days", "15y", "99999999d", "3651d", "522w", "87601h", "5256001m", "315360001s", "87601h0m", "99999999999w"} {
		if _, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) accepted", in)
		}
	}
}

// TestLimitIsOneForEveryUnit: ten years is accepted however written.
func TestLimitIsOneForEveryUnit(t *testing.T) {
	for _, in := range []string{"3650d", "521w", "87600h", "5256000m", "315360000s", "87600h0m0s"} {
		if d, err := Parse(in); err != nil || d.Duration() > Max {
			t.Errorf("Parse(%q) = %v, %v", in, d, err)
		}
	}
}

func TestString(t *testing.T) {
	for d, want := range map[time.Duration]string{
		15 * 24 * time.Hour: "15d", 14 * 24 * time.Hour: "14d", 36 * time.Hour: "36h", 90 * time.Minute: "90m",
		100000 * time.Second: "27h46m40s", 1500 * time.Millisecond: "1.5s",
	} {
		if got := Window(d).String(); got != want {
			t.Errorf("Window(%s) = %q, want %q", d, got, want)
		}
	}
}

// TestRoundTrip: whatever Parse accepts is written as text that parses
// back to the same window, directly, in JSON and in YAML; the zero Window
// (not given) is empty text both ways, and one Parse would refuse is not
// written at all.
func TestRoundTrip(t *testing.T) {
	type doc struct {
		W Window `json:"w,omitempty" yaml:"w,omitempty"`
	}
	for _, in := range []string{"15d", "2w", "36h", "90m", "1h30m", "100000s", "1500ms", "3650d", "1s"} {
		w, err := Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		text, err := w.MarshalText()
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		var back Window
		if err := back.UnmarshalText(text); err != nil || back != w {
			t.Errorf("%s: written %q, read back %v (%v)", in, text, back, err)
		}
		j, _ := json.Marshal(doc{w})
		var jd doc
		if err := json.Unmarshal(j, &jd); err != nil || jd.W != w || string(j) != `{"w":"`+w.String()+`"}` {
			t.Errorf("%s: JSON %s read back %v (%v)", in, j, jd.W, err)
		}
		y, _ := yaml.Marshal(doc{w})
		var yd doc
		if err := yaml.Unmarshal(y, &yd); err != nil || yd.W != w {
			t.Errorf("%s: YAML %q read back %v (%v)", in, y, yd.W, err)
		}
	}
	var zero Window
	if text, err := zero.MarshalText(); err != nil || len(text) != 0 {
		t.Errorf("zero: %q, %v", text, err)
	}
	if err := zero.UnmarshalText(nil); err != nil || zero != 0 {
		t.Errorf("empty text: %v, %v", zero, err)
	}
	if j, _ := json.Marshal(doc{}); string(j) != `{}` {
		t.Errorf("zero in JSON: %s", j)
	}
	for _, bad := range []Window{-1, Window(Max + time.Second)} {
		if text, err := bad.MarshalText(); err == nil {
			t.Errorf("%d written as %q", bad, text)
		}
	}
	var w Window
	if err := json.Unmarshal([]byte(`{"w":"15x"}`), &struct{ W *Window }{&w}); err == nil {
		t.Error("JSON 15x accepted")
	}
	if err := yaml.Unmarshal([]byte("w: fortnight\n"), &doc{}); err == nil {
		t.Error("YAML fortnight accepted")
	}
}
