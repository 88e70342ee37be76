package credreport

import (
	"testing"
	"time"
)

// FuzzParse checks that no input makes the parser or the root lookup panic,
// and that a parsed report is internally consistent.
func FuzzParse(f *testing.F) {
	f.Add([]byte(header + "\n" + awsRootRow + "\n"))
	f.Add([]byte("\xef\xbb\xbf" + header + "\r\n" + awsRootRow))
	f.Add([]byte("user,arn,password_last_used,mfa_active\n<root_account>,arn:aws:iam::1:root,\"x\n"))
	f.Add([]byte(`{"Content":"dXNlcixhcm4K","GeneratedTime":"2026-01-01T00:00:00Z"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := ParseFile(data, "fuzz.csv")
		if err != nil {
			return
		}
		for _, c := range requiredColumns {
			if !rep.HasColumn(c) {
				t.Fatalf("parsed a report without column %s", c)
			}
		}
		lk := rep.Root()
		if (lk.Row == nil) == (lk.Problem == "") {
			t.Fatalf("root lookup must give a row or a problem, not %+v", lk)
		}
		_, _, _ = AccountOf(rep)
		_, _ = Parse(data, "fuzz.csv", time.Time{})
	})
}
