package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestPlanReadsEachReferenceOnce: a plan reads each file: target, and the
// signing key, once however many targets use it and however often it
// sends; sending reads nothing.
func TestPlanReadsEachReferenceOnce(t *testing.T) {
	var mu sync.Mutex
	reads := map[string]int{}
	a, b := &server{}, &server{}
	ha, hb := httptest.NewServer(a), httptest.NewServer(b)
	defer ha.Close()
	defer hb.Close()
	files := map[string]string{"/run/secrets/a": ha.URL + "/A-T0KEN\n", "/run/secrets/b": hb.URL + "/B-T0KEN", "/run/secrets/key": "k3y\n"}
	n := Notifying{
		Targets: []string{"webhook=file:/run/secrets/a", "slack=file:/run/secrets/b", "webhook=file:/run/secrets/a"},
		Secret:  "file:/run/secrets/key", On: "always",
		ReadFile: func(p string) ([]byte, error) {
			mu.Lock()
			defer mu.Unlock()
			reads[p]++
			return []byte(files[p]), nil
		},
		Delivery: Options{Attempts: 1},
	}
	plan, err := n.Plan(false)
	if err != nil {
		t.Fatal(err)
	}
	run := storedRun()
	prev := asOf.Add(-24 * time.Hour)
	run.History.PreviousAsOf = &prev
	for range 2 {
		res, err := plan.Notify(context.Background(), run)
		if err != nil || len(res) != 3 {
			t.Fatalf("%+v %v", res, err)
		}
		for i, r := range res {
			if r.Err != nil || r.Index != i+1 || strings.Contains(r.Target, "T0KEN") {
				t.Errorf("delivery %d: %+v", i, r)
			}
		}
	}
	if reads["/run/secrets/a"] != 1 || reads["/run/secrets/b"] != 1 || reads["/run/secrets/key"] != 1 {
		t.Errorf("reads %v: want each file once", reads)
	}
	if len(a.bodies) != 4 || len(b.bodies) != 2 {
		t.Errorf("%d webhook and %d Slack messages", len(a.bodies), len(b.bodies))
	}
	mac := hmac.New(sha256.New, []byte("k3y"))
	mac.Write(a.bodies[0])
	if a.sigs[0] != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
		t.Errorf("signature %q", a.sigs[0])
	}
}

func TestPlanRefusesBadSettings(t *testing.T) {
	getenv := func(string) string { return "" }
	for _, tc := range []struct {
		n    Notifying
		want string
	}{
		{Notifying{Targets: []string{"webhook=https://x.example/"}}, "needs a store"},
		{Notifying{Targets: []string{"webhook=https://x.example/"}, On: "sometimes"}, `"sometimes": want new, change or always`},
		{Notifying{Targets: []string{"webhook=https://x.example/"}, On: "always", MinSeverity: "dire"}, "dire"},
		{Notifying{Targets: []string{"webhook=env:HOOK"}, On: "always", Getenv: getenv}, "notification 1 (webhook): environment variable HOOK is empty or not set"},
	} {
		if _, err := tc.n.Plan(false); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.n, err, tc.want)
		}
	}
	if p, err := (Notifying{}).Plan(false); err != nil || len(p.Targets) != 0 {
		t.Errorf("no targets: %+v %v", p, err)
	}
	if res, err := (&Plan{}).Notify(context.Background(), storedRun()); res != nil || err != nil {
		t.Errorf("an empty plan sent: %v %v", res, err)
	}
}
