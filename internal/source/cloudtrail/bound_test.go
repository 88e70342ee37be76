package cloudtrail

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// hugeRoot is a root record just over MaxRecord, its size in one request
// parameter full of quotes, backslashes and brackets escaped as JSON
// writes them (so that skipping it must follow its strings exactly).
const fillerUnit = `a\\\"}]{[\"\\`

func hugeRoot() string {
	filler := strings.Repeat(fillerUnit, MaxRecord/len(fillerUnit)+1024)
	return `{"eventVersion":"1.08","userIdentity":{"type":"Root","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},` +
		`"eventTime":"2026-02-27T09:00:00Z","eventSource":"s3.amazonaws.com","eventName":"PutBucketPolicy","requestParameters":{"policy":"` +
		filler + `"},"eventID":"huge","recipientAccountId":"111122223333"}`
}

// TestRecordOverMaxRecord: a record larger than MaxRecord is not held: it
// is listed as undecodable with its offset (so the source is partial and
// no rule passes on it), and every record after it is still read, in
// every shape that holds several records.
func TestRecordOverMaxRecord(t *testing.T) {
	huge := hugeRoot()
	if !json.Valid([]byte(huge)) || len(huge) <= MaxRecord {
		t.Fatalf("the huge record is %d bytes, valid %v", len(huge), json.Valid([]byte(huge)))
	}
	lookup := func(ev string) string {
		s, _ := json.Marshal(ev)
		return `{"EventId":"x","EventName":"ConsoleLogin","Username":"root","EventTime":1772183700,"CloudTrailEvent":` + string(s) + `}`
	}
	for name, tc := range map[string]struct {
		body string
		at   int // the huge value's offset
	}{
		"S3 log file":  {`{"Records":[` + oneUser + `,` + huge + `,` + oneRoot + `]}`, len(`{"Records":[` + oneUser + `,`)},
		"JSON array":   {`[` + huge + `,` + oneUser + `,` + oneRoot + `]`, 1},
		"JSON Lines":   {oneUser + "\n" + huge + "\n" + oneRoot + "\n", len(oneUser) + 1},
		"values":       {oneUser + "  " + huge + " " + oneRoot, len(oneUser) + 2},
		"LookupEvents": {`{"Events":[` + lookup(oneUser) + `,` + lookup(huge) + `,` + lookup(oneRoot) + `],"NextToken":"abc"}`, len(`{"Events":[` + lookup(oneUser) + `,`)},
	} {
		for _, compress := range []bool{false, true} {
			b := []byte(tc.body)
			if compress {
				b = gz(b)
			}
			evs, st := decodeBytes(t, b)
			if st.Error != "" || st.Undecodable != 1 || len(evs) != 1 || evs[0].EventID != "e1" {
				t.Errorf("%s (gzip %v): %d events, stats %+v", name, compress, len(evs), st)
				continue
			}
			if p := strings.Join(st.Problems, "; "); !strings.Contains(p, fmt.Sprintf("at byte %d ", tc.at)) || !strings.Contains(p, fmt.Sprint(MaxRecord)) {
				t.Errorf("%s (gzip %v): problem %q does not name the record's offset %d and the limit", name, compress, p, tc.at)
			}
		}
	}
	// A single record is refused the same way, and says so.
	evs, st := decodeBytes(t, []byte(huge))
	if st.Undecodable != 1 || len(evs) != 0 || len(st.Problems) != 1 {
		t.Errorf("single record: %d events, stats %+v", len(evs), st)
	}
	// A record just under the limit is read.
	under := strings.Replace(huge, strings.Repeat(fillerUnit, 2048), "", 1)
	if len(under) > MaxRecord {
		t.Fatalf("test record %d bytes", len(under))
	}
	if evs, st := decodeBytes(t, []byte(`{"Records":[`+under+`]}`)); st.Undecodable != 0 || len(evs) != 1 {
		t.Errorf("a record of %d bytes: %d events, stats %+v", len(under), len(evs), st)
	}
}
