package reference_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/rootwatch/rootwatch/internal/pattern/eventpattern"
	"github.com/rootwatch/rootwatch/internal/pattern/logfilter"
	"github.com/rootwatch/rootwatch/internal/pattern/reference"
	"github.com/rootwatch/rootwatch/internal/source/cloudtrail"
	"github.com/rootwatch/rootwatch/internal/testutil"
)

// Filter patterns that peers and AWS publish, and what each does with the
// reference set.
var filters = map[string]string{
	"CIS v1.4 (quoted)":        `{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`,
	"CIS v4+ (unquoted)":       `{ $.userIdentity.type = Root && $.userIdentity.invokedBy NOT EXISTS && $.eventType != AwsServiceEvent }`,
	"Control Tower (misspelt)": `{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AWsServiceEvent"}`,
	"sign-ins only":            `{ $.userIdentity.type = "Root" && $.eventName = "ConsoleLogin" }`,
	"everyone":                 `{ $.eventName = * }`,
}

var rules = map[string]string{
	"AWS blog":   `{"detail-type":["AWS API Call via CloudTrail","AWS Console Sign In via CloudTrail"],"detail":{"userIdentity":{"type":["Root"]}}}`,
	"CIS parity": `{"detail":{"userIdentity":{"type":["Root"],"invokedBy":[{"exists":false}]},"eventType":[{"anything-but":"AwsServiceEvent"}]}}`,
}

func TestReferenceVerdicts(t *testing.T) {
	want := map[string]map[string]bool{ // pattern → event file → match
		"CIS v1.4 (quoted)": {
			"root-console-signin-success.json": true, "root-console-signin-failure.json": true, "root-api-call-with-keys.json": true,
			"root-api-call-via-console.json": false, "service-event-as-root.json": false, "root-invoked-by-service.json": false,
			"iam-user-api-call.json": false, "iam-user-console-signin.json": false,
		},
		"Control Tower (misspelt)": {
			"root-console-signin-success.json": true, "root-console-signin-failure.json": true, "root-api-call-with-keys.json": true,
			"root-api-call-via-console.json": false, "service-event-as-root.json": true, "root-invoked-by-service.json": false,
			"iam-user-api-call.json": false, "iam-user-console-signin.json": false,
		},
		"sign-ins only": {
			"root-console-signin-success.json": true, "root-console-signin-failure.json": true, "root-api-call-with-keys.json": false,
			"iam-user-console-signin.json": false,
		},
		"everyone": {"root-api-call-with-keys.json": true, "iam-user-api-call.json": true},
	}
	want["CIS v4+ (unquoted)"] = want["CIS v1.4 (quoted)"]
	for name, src := range filters {
		p, err := logfilter.Parse(src)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, e := range reference.Events() {
			w, ok := want[name][e.File]
			if !ok {
				continue
			}
			if got := p.Match(e.Record("eu-west-1")); got != w {
				t.Errorf("%s on %s = %v, want %v", name, e.Name, got, w)
			}
		}
	}
	for name, src := range rules {
		p, err := eventpattern.Parse(src)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, e := range reference.Events() {
			got, err := p.Match(e.EventBridge("eu-west-1"))
			if err != nil {
				t.Fatal(err)
			}
			w := e.Kind == reference.MustMatch
			if name == "AWS blog" && (e.Kind == reference.Noise || e.Kind == reference.MayMatch) {
				w = true // the blog's pattern raises on every Root event
			}
			if got != w {
				t.Errorf("%s on %s = %v, want %v", name, e.Name, got, w)
			}
		}
	}
}

func TestEventBridgeEnvelope(t *testing.T) {
	for _, e := range reference.Events() {
		var env struct {
			DetailType string         `json:"detail-type"`
			Region     string         `json:"region"`
			Detail     map[string]any `json:"detail"`
		}
		if err := json.Unmarshal(e.EventBridge("ap-south-1"), &env); err != nil {
			t.Fatal(err)
		}
		wantRegion, wantType := "ap-south-1", "AWS API Call via CloudTrail"
		if e.SignIn {
			wantRegion, wantType = "us-east-1", "AWS Console Sign In via CloudTrail"
		}
		if env.Region != wantRegion || env.DetailType != wantType || env.Detail["awsRegion"] != wantRegion {
			t.Errorf("%s: region %q, detail-type %q, awsRegion %v; want %s, %s", e.File, env.Region, env.DetailType, env.Detail["awsRegion"], wantRegion, wantType)
		}
	}
}

// TestReferenceStandsForRealEvents reads the published examples in
// ../shared/data: each reference event must be classified as its real
// counterparts are, and every pattern above must treat it as it treats them.
func TestReferenceStandsForRealEvents(t *testing.T) {
	dir := filepath.Join(testutil.RepoRoot(), "..", "shared", "data", "cloudtrail")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("third-party data not found at %s: %v", dir, err)
	}
	counterparts := map[string][]string{
		"root-console-signin-success.json": {"awsdocs-root-consolelogin-success-no-mfa.json", "panther-root-consolelogin-success-no-mfa.json", "awsdocs-root-consolelogin-success-mfa-uppercase-YES.json"},
		"root-console-signin-failure.json": {"awsdocs-root-consolelogin-failure-no-mfa.json"},
		"root-api-call-with-keys.json":     {"panther-root-api-putbucketversioning.json"},
		"iam-user-api-call.json":           {"awsdocs-iam-user-startinstances.records.json", "awsdocs-iam-user-checkmfa.json"},
		"iam-user-console-signin.json":     {"awsdocs-iam-user-consolelogin-success-mfa.json", "panther-iam-user-consolelogin-success-no-mfa.json"},
	}
	refs := map[string]reference.Event{}
	for _, e := range reference.Events() {
		refs[e.File] = e
	}
	for ref, reals := range counterparts {
		e := refs[ref]
		refClass := classOf(t, ref, e.Record(""))
		for _, real := range reals {
			for i, rec := range records(t, filepath.Join(dir, real)) {
				if got := classOf(t, real, rec); got != refClass {
					t.Errorf("%s[%d] is classified %q; its reference %s is %q", real, i, got, ref, refClass)
				}
				for name, src := range filters {
					p, _ := logfilter.Parse(src)
					if p.Match(rec) != p.Match(e.Record("")) {
						t.Errorf("%s: %s[%d] and reference %s disagree", name, real, i, ref)
					}
				}
			}
		}
	}
}

// classOf is the category rootwatch's classifier gives, "" for not root.
func classOf(t *testing.T, name string, rec []byte) string {
	t.Helper()
	events, stats := cloudtrail.Decode(bytes.NewReader(rec), name)
	if stats.Error != "" {
		t.Fatalf("%s: %s", name, stats.Error)
	}
	if len(events) == 0 {
		return ""
	}
	return events[0].Category + "/" + events[0].Result
}

func records(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var wrapped struct {
		Records []json.RawMessage `json:"Records"`
	}
	if json.Unmarshal(b, &wrapped) == nil && len(wrapped.Records) > 0 {
		out := make([][]byte, len(wrapped.Records))
		for i, r := range wrapped.Records {
			out[i] = r
		}
		return out
	}
	return [][]byte{b}
}
