package awsfake

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// iamCall sends one IAM Query call for key straight to the server's handler
// and returns the status and body.
func iamCall(t *testing.T, s *Server, key, action string) (int, string) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("Action="+action+"&Version=2010-05-08"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+key+"/20260301/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=x")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w.Code, w.Body.String()
}

// TestReportGenerationTakesItsDelay: a report is ready when its delay has
// passed on the fake's clock, however often it is polled in between; a
// world's report.delay wins over the server's default; never is never.
func TestReportGenerationTakesItsDelay(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := &testClock{t: start}
	w, err := ParseWorld([]byte(`
accounts:
  - {id: "111111111111", access_keys: [AKIADEFAULT000000001]}
  - {id: "222222222222", access_keys: [AKIAOWN0000000000002], report: {delay: 10s}}
  - {id: "333333333333", access_keys: [AKIANEVER00000000003], report: {delay: never}}
`), "w")
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(w, Options{Now: clock.Now, ReportDelay: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	state := func(key string) string {
		code, body := iamCall(t, s, key, "GenerateCredentialReport")
		if code != http.StatusOK {
			t.Fatalf("%s: GenerateCredentialReport %d %s", key, code, body)
		}
		for _, st := range []string{"STARTED", "INPROGRESS", "COMPLETE"} {
			if strings.Contains(body, "<State>"+st+"</State>") {
				return st
			}
		}
		t.Fatalf("no state in %s", body)
		return ""
	}
	keys := []string{"AKIADEFAULT000000001", "AKIAOWN0000000000002", "AKIANEVER00000000003"}
	for _, k := range keys {
		if got := state(k); got != "STARTED" {
			t.Errorf("%s: first generate %s", k, got)
		}
	}
	// A hundred polls in the same instant do not hurry it.
	for range 100 {
		for _, k := range keys {
			if got := state(k); got != "INPROGRESS" {
				t.Fatalf("%s: %s before any time passed", k, got)
			}
		}
	}
	if code, body := iamCall(t, s, keys[0], "GetCredentialReport"); code != http.StatusNotFound || !strings.Contains(body, "ReportInProgress") {
		t.Errorf("Get while in progress: %d %s", code, body)
	}
	at := func(d time.Duration, want ...string) {
		t.Helper()
		clock.Set(start.Add(d))
		for i, k := range keys {
			if got := state(k); got != want[i] {
				t.Errorf("at +%s, %s: %s, want %s", d, k, got, want[i])
			}
		}
	}
	at(2999*time.Millisecond, "INPROGRESS", "INPROGRESS", "INPROGRESS")
	at(3*time.Second, "COMPLETE", "INPROGRESS", "INPROGRESS")
	at(10*time.Second, "COMPLETE", "COMPLETE", "INPROGRESS")
	at(4*time.Hour, "COMPLETE", "COMPLETE", "INPROGRESS")
	code, body := iamCall(t, s, keys[0], "GetCredentialReport")
	if code != http.StatusOK || !strings.Contains(body, "<GeneratedTime>2026-03-01T12:00:03Z</GeneratedTime>") {
		t.Errorf("the report is dated when generation finished: %d %s", code, body)
	}
	if got := s.CallsByAccount("GenerateCredentialReport", "GetCredentialReport"); got["111111111111"] != 107 || got["333333333333"] != 105 {
		t.Errorf("report calls per account %v", got)
	}
}

func TestReportDelayValidation(t *testing.T) {
	for in, want := range map[string]string{
		`accounts: [{id: "111111111111", report: {delay: soon}}]`: "report.delay",
		`accounts: [{id: "111111111111", report: {delay: -3s}}]`:  "negative",
		`accounts: [{id: "111111111111", report: {polls: 2}}]`:    "field polls not found",
	} {
		if _, err := ParseWorld([]byte(in), "w.yaml"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", in, err, want)
		}
	}
}
