package cloudtrail

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/testutil"
)

// takeoverFixture is testdata/takeover/takeover-chain.records.json: the
// steps of a root takeover, written from their documented shapes (kept
// apart from testdata/cloudtrail, whose files the scan and trail tests
// read as one organization's trail).
func takeoverFixture(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "testdata", "takeover", "takeover-chain.records.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// takeoverWant is how each record of the takeover fixture is classified: the steps of a root takeover,
// each in a category of its own.
var takeoverWant = map[string]struct {
	category, result, account, target, caller, task string
}{
	"01": {evidence.CategoryAssumeRoot, "success", "111111111111", "222222222222", "arn:aws:sts::111111111111:assumed-role/PowerUser/alice", "arn:aws:iam::aws:policy/root-task/IAMCreateRootUserPassword"},
	"02": {category: evidence.CategoryLoginProfile, result: "success", account: "222222222222"},
	"03": {category: evidence.CategoryAPICall, result: "success", account: "222222222222"}, // an IAM user's password, made by root
	"04": {category: evidence.CategoryPasswordRecovery, result: "success", account: "222222222222"},
	"05": {category: evidence.CategoryPasswordRecovery, result: "success", account: "222222222222"},
	"06": {category: evidence.CategoryConsoleLogin, result: "success", account: "222222222222"},
	"07": {evidence.CategoryEmailChange, "success", "111111111111", "222222222222", "arn:aws:sts::111111111111:assumed-role/PowerUser/alice", ""},
	"08": {evidence.CategoryEmailChange, "success", "111111111111", "222222222222", "arn:aws:sts::111111111111:assumed-role/PowerUser/alice", ""},
	"09": {category: evidence.CategoryEmailChange, result: "success", account: "222222222222", caller: "arn:aws:iam::222222222222:root"},
	"10": {evidence.CategoryAssumeRoot, "success", "111111111111", "arn:aws:iam::222222222222:root", "arn:aws:sts::111111111111:assumed-role/PowerUser/alice", "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"},
	"11": {category: evidence.CategoryPasswordRecovery, result: "success", account: "222222222222"},
	"12": {category: evidence.CategoryPasswordRecovery, result: "failure", account: "222222222222"},
}

func checkTakeover(t *testing.T, shape string, evs []evidence.Event, st evidence.SourceStats) {
	t.Helper()
	if st.Error != "" || st.Events != 13 || st.RootEvents != len(takeoverWant) {
		t.Errorf("%s: stats %+v, want 13 events, %d root", shape, st, len(takeoverWant))
	}
	got := byID(evs)
	for n, w := range takeoverWant {
		e, ok := got["d0000003-0000-4000-8000-0000000000"+n]
		if !ok {
			t.Errorf("%s: record %s not classified", shape, n)
			continue
		}
		if e.Category != w.category || e.Result != w.result || e.AccountID != w.account || e.Target != w.target || e.Caller != w.caller || e.TaskPolicy != w.task {
			t.Errorf("%s: record %s: %s/%s account %s target %q caller %q task %q; want %+v", shape, n, e.Category, e.Result, e.AccountID, e.Target, e.Caller, e.TaskPolicy, w)
		}
	}
	if _, ok := got["d0000003-0000-4000-8000-000000000013"]; ok {
		t.Errorf("%s: GetPrimaryEmail taken for a change", shape)
	}
	if call := got["d0000003-0000-4000-8000-000000000001"]; call.SessionKeyID != "ASIAROOTSESSION00001" || !call.Privileged() || call.TargetAccount() != "222222222222" {
		t.Errorf("%s: the AssumeRoot call: %+v", shape, call)
	}
	if audit := got["d0000003-0000-4000-8000-000000000010"]; audit.Privileged() || audit.TargetAccount() != "222222222222" {
		t.Errorf("%s: the audit call is privileged or names no member: %+v", shape, audit)
	}
	// The new address in requestParameters is never kept.
	b, _ := json.Marshal(evs)
	if bytes.Contains(b, []byte("new-owner")) {
		t.Errorf("%s: an e-mail address reached the events: %s", shape, b)
	}
}

// TestTakeoverChainShapes reads the takeover steps in every shape the
// reader takes (the fast path of a Records array, one record per line,
// EventBridge envelopes, LookupEvents output): the e-mail changes, made
// by a principal that is not root, carry no root mark and are found all
// the same.
func TestTakeoverChainShapes(t *testing.T) {
	raw := takeoverFixture(t)
	evs, st := decodeBytes(t, raw)
	checkTakeover(t, "Records", evs, st)
	evs, st = decodeBytes(t, gz(raw))
	checkTakeover(t, "Records, gzip", evs, st)

	var doc struct{ Records []json.RawMessage }
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var lines, envelopes, lookups []string
	for _, r := range doc.Records {
		lines = append(lines, string(r))
		envelopes = append(envelopes, `{"version":"0","id":"x","detail-type":"AWS API Call via CloudTrail","source":"aws.sts","account":"111111111111","detail":`+string(r)+`}`)
		var probe struct{ EventID, EventName string }
		json.Unmarshal(r, &probe)
		s, _ := json.Marshal(string(r))
		lookups = append(lookups, `{"EventId":"`+probe.EventID+`","EventName":"`+probe.EventName+`","Username":"someone","CloudTrailEvent":`+string(s)+`}`)
	}
	evs, st = decodeBytes(t, []byte(strings.Join(lines, "\n")))
	checkTakeover(t, "JSON Lines", evs, st)
	evs, st = decodeBytes(t, []byte("["+strings.Join(lines, ",")+"]"))
	checkTakeover(t, "array", evs, st)
	evs, st = decodeBytes(t, []byte(strings.Join(envelopes, "\n")))
	checkTakeover(t, "EventBridge", evs, st)
	evs, st = decodeBytes(t, []byte(`{"Events":[`+strings.Join(lookups, ",")+`]}`))
	checkTakeover(t, "LookupEvents", evs, st)
}

// TestTakeoverSessionLinked: the root password created in the session
// keeps its category and gains who opened the session and with what
// task; without the AssumeRoot call in the evidence it carries the note
// that says what it may be.
func TestTakeoverSessionLinked(t *testing.T) {
	evs, _ := decodeBytes(t, takeoverFixture(t))
	LinkRootSessions(evs)
	lp := byID(evs)["d0000003-0000-4000-8000-000000000002"]
	if lp.Category != evidence.CategoryLoginProfile || lp.Caller != "arn:aws:sts::111111111111:assumed-role/PowerUser/alice" ||
		evidence.TaskName(lp.TaskPolicy) != evidence.TaskCreateRootUserPassword || lp.Note != "" {
		t.Errorf("linked: %+v", lp)
	}
	var member []evidence.Event
	for _, e := range evs {
		if e.EventName != "AssumeRoot" {
			member = append(member, e)
		}
	}
	for i := range member {
		member[i].Caller, member[i].TaskPolicy, member[i].Target, member[i].Note = "", "", "", ""
	}
	LinkRootSessions(member)
	for _, e := range member {
		switch e.EventID {
		case "d0000003-0000-4000-8000-000000000002":
			if e.Category != evidence.CategoryLoginProfile || e.Note != UnmatchedSessionNote || e.Caller != "" {
				t.Errorf("without its call: %+v", e)
			}
		default:
			if e.Note != "" {
				t.Errorf("%s (%s) got a session note", e.EventID, e.EventName)
			}
		}
	}
}
