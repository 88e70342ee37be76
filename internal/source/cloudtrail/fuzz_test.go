package cloudtrail

import (
	"bytes"
	"testing"
)

// FuzzDecode checks that no input makes the reader panic or hang, and that
// its counts stay consistent with what it returns.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		oneRoot,
		`{"Records":[` + oneRoot + `,` + oneUser + `]}`,
		"[" + oneUser + "," + oneRoot + "]",
		oneUser + "\n" + oneRoot,
		`{"detail-type":"x","detail":` + oneRoot + `}`,
		`{"Events":[{"EventId":"1","Username":"root","CloudTrailEvent":"{\"userIdentity\":{\"type\":\"Root\"}}"}]}`,
		`{"Records":[{"a":"\"}\\"}]}`,
		`[1,"x",null]`,
	} {
		f.Add([]byte(s))
		f.Add(gz([]byte(s)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, st := Decode(bytes.NewReader(data), "fuzz")
		if len(evs) != st.RootEvents {
			t.Fatalf("%d events returned, %d counted", len(evs), st.RootEvents)
		}
		if st.RootEvents > st.Events {
			t.Fatalf("more root events (%d) than events (%d)", st.RootEvents, st.Events)
		}
		for _, e := range evs {
			if e.Category == "" {
				t.Fatalf("event without a category: %+v", e)
			}
		}
	})
}
