package bundle

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/evidence/credreport"
	"github.com/rootwatch/rootwatch/internal/window"
)

var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// csvReport has a BOM, CRLF line ends, a cell that is not UTF-8 and hostile
// text: the bytes must come back exactly.
const csvReport = "\xef\xbb\xbfuser,arn,user_creation_time,password_enabled,password_last_used,mfa_active\r\n" +
	"<root_account>,arn:aws:iam::111111111111:root,2019-08-04T23:23:00+00:00,not_supported,2026-02-25T18:23:00+00:00,true\r\n" +
	"\"<script>\xff\",arn:aws:iam::111111111111:user/x,2019-08-04T23:23:00+00:00,true,N/A,false\r\n"

func accounts(t *testing.T) []*evidence.Account {
	t.Helper()
	rep, err := credreport.Parse([]byte(csvReport), "GetCredentialReport", t0.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	ok := evidence.SourceStatus{State: evidence.StateOK, CollectedAt: t0}
	a := &evidence.Account{ID: "111111111111", Partition: "aws", CollectedAt: t0, CredentialReport: rep,
		Sources: map[string]evidence.SourceStatus{evidence.SourceCredentialReport: ok, evidence.SourceAccountSummary: ok,
			evidence.SourceVirtualMFA: ok, evidence.SourceOrganization: ok, evidence.SourceCloudTrail: ok, evidence.SourceRootCredentials: ok},
		AccountSummary:    map[string]int{},
		VirtualMFADevices: []evidence.VirtualMFADevice{},
		Organization:      &evidence.Organization{Role: evidence.OrgRoleManagement, ID: "o-abc", EnabledFeatures: []string{}},
		CloudTrail: &evidence.CloudTrail{Description: "files", AccountEvents: 3, Events: []evidence.Event{
			{EventID: "e1", EventTime: "2026-02-27T10:00:00Z", Category: evidence.CategoryConsoleLogin, UserAgent: `"><img onerror=alert(1)>`},
			{EventID: "e2", EventTime: "yesterday", TimeProblem: "invalid", Category: evidence.CategoryAPICall},
		}},
		RootCredentials: &evidence.RootCredentials{Password: true, PasswordCreated: t0.Add(-48 * time.Hour), AccessKeys: []evidence.RootCredential{{ID: "AKIA1", Status: "Active", Created: t0}}},
		SCPs:            &evidence.SCPs{ManagementAccount: true, ManagementAccountID: "111111111111", Problems: []string{}},
	}
	a.Sources[evidence.SourceSCPs] = ok
	b := &evidence.Account{ID: "222222222222", Partition: "aws-us-gov", Error: "AssumeRole: AccessDenied",
		Organization: &evidence.Organization{Role: evidence.OrgRoleMember},
		Sources: map[string]evidence.SourceStatus{evidence.SourceOrganization: {State: evidence.StateOK, Detail: "from the organization scan"},
			evidence.SourceAccountSummary: {State: evidence.StateDenied, Detail: "AccessDenied"},
			evidence.SourceSCPs:           {State: evidence.StateDenied, Detail: "DescribePolicy p-12345678: AccessDeniedException"}},
		// What was read beside the refused DescribePolicy is kept.
		SCPs: &evidence.SCPs{OrganizationID: "o-abc", ManagementAccountID: "111111111111", RootID: "r-abcd", PolicyTypeStatus: evidence.SCPTypeEnabled,
			Path: []evidence.SCPTarget{
				{ID: "r-abcd", Type: evidence.TargetRoot, Policies: []evidence.SCPPolicy{{ID: "p-FullAWSAccess", Name: "FullAWSAccess", AWSManaged: true, Content: `{"Statement":[]}`}}},
				{ID: "ou-abcd-12345678", Type: evidence.TargetOU, Error: "ListPoliciesForTarget ou-abcd-12345678: AccessDeniedException"},
				{ID: "222222222222", Type: evidence.TargetAccount, Policies: []evidence.SCPPolicy{{ID: "p-12345678", Error: "DescribePolicy p-12345678: AccessDeniedException"}}}},
			Problems: []string{"DescribePolicy p-12345678: AccessDeniedException", "ListPoliciesForTarget ou-abcd-12345678: AccessDeniedException"}}}
	return []*evidence.Account{a, b}
}

func TestRoundTrip(t *testing.T) {
	for _, name := range []string{"b.json", "b.json.gz"} {
		path := filepath.Join(t.TempDir(), name)
		saved := New(accounts(t), "rootwatch", "v1", t0, t0)
		saved.Window, saved.MaxReportAge = window.Window(400*24*time.Hour), window.Window(90*time.Minute)
		if err := saved.Save(context.Background(), path); err != nil {
			t.Fatal(err)
		}
		b, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := b.Evidence(path)
		if err != nil {
			t.Fatal(err)
		}
		a, m := got[0], got[1]
		if string(a.CredentialReport.CSV) != csvReport || len(a.CredentialReport.Rows) != 2 || !a.CredentialReport.GeneratedTime.Equal(t0.Add(-time.Hour)) {
			t.Errorf("%s: credential report not exact: %q", name, a.CredentialReport.CSV)
		}
		if a.CredentialReport.Rows[1].User != "<script>\xff" {
			t.Errorf("%s: hostile user name changed: %q", name, a.CredentialReport.Rows[1].User)
		}
		// Read but empty stays distinct from not read.
		if a.AccountSummary == nil || a.VirtualMFADevices == nil || a.Organization.EnabledFeatures == nil || !a.Organization.FeaturesKnown() {
			t.Errorf("%s: empty evidence came back as missing: %+v %+v %+v", name, a.AccountSummary, a.VirtualMFADevices, a.Organization)
		}
		if m.AccountSummary != nil || m.VirtualMFADevices != nil || m.Organization.FeaturesKnown() || m.CredentialReport != nil || m.Error == "" {
			t.Errorf("%s: missing evidence came back as present: %+v", name, m)
		}
		ev := a.CloudTrail.Events
		if !ev[0].Time.Equal(time.Date(2026, 2, 27, 10, 0, 0, 0, time.UTC)) || !ev[1].Time.IsZero() || ev[0].UserAgent != `"><img onerror=alert(1)>` {
			t.Errorf("%s: events: %+v", name, ev)
		}
		if m.Source(evidence.SourceAccountSummary).State != evidence.StateDenied || !a.RootCredentials.Password || a.RootCredentials.AccessKeys[0].ID != "AKIA1" {
			t.Errorf("%s: sources or root credentials lost: %+v %+v", name, a.Sources, a.RootCredentials)
		}
		if !a.SCPs.ManagementAccount || m.SCPs == nil || len(m.SCPs.Path) != 3 || m.SCPs.Path[0].Policies[0].Content != `{"Statement":[]}` ||
			m.SCPs.Path[1].Policies != nil || m.SCPs.Path[1].Error == "" || m.SCPs.Path[2].Policies[0].Error == "" || len(m.SCPs.Problems) != 2 {
			t.Errorf("%s: SCPs: %+v %+v", name, a.SCPs, m.SCPs)
		}
		if !b.AsOf.Equal(t0) || b.ToolVersion != "v1" || b.Window != saved.Window || b.MaxReportAge != saved.MaxReportAge {
			t.Errorf("%s: header: %+v", name, b)
		}
	}
}

func TestReadRefuses(t *testing.T) {
	valid := func(edit func(map[string]any)) string {
		var buf bytes.Buffer
		if err := New(accounts(t), "rootwatch", "v1", t0, t0).Write(&buf, false); err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		edit(doc)
		out, _ := json.Marshal(doc)
		return string(out)
	}
	first := func(doc map[string]any) map[string]any { return doc["accounts"].([]any)[0].(map[string]any) }
	for name, tc := range map[string]struct{ data, want string }{
		"empty":         {"", "x.json: empty file"},
		"csv":           {"user,arn\n", "x.json: not a rootwatch evidence bundle"},
		"bad gzip":      {"\x1f\x8bnot gzip", "x.json: not a valid gzip file"},
		"other format":  {valid(func(d map[string]any) { d["format"] = "sarif" }), `format is "sarif"`},
		"newer version": {valid(func(d map[string]any) { d["version"] = 2 }), "bundle version 2, this rootwatch reads version 1"},
		"no accounts":   {valid(func(d map[string]any) { d["accounts"] = []any{} }), "holds no account"},
		"unknown field": {valid(func(d map[string]any) { d["secrets"] = "x" }), `unknown field "secrets"`},
		"account id":    {valid(func(d map[string]any) { first(d)["account_id"] = "1111" }), `accounts[0] (1111): account_id "1111" is not 12 digits`},
		"duplicate":     {valid(func(d map[string]any) { d["accounts"] = []any{first(d), first(d)} }), "account 111111111111 appears twice"},
		"source state": {valid(func(d map[string]any) {
			first(d)["sources"].(map[string]any)["account_summary"].(map[string]any)["state"] = "great"
		}), `source account_summary has state "great"`},
		"event time": {valid(func(d map[string]any) {
			first(d)["cloudtrail"].(map[string]any)["events"].([]any)[0].(map[string]any)["event_time"] = "soon"
		}), `cloudtrail.events[0]: event e1: event_time "soon"`},
		"report of another account": {valid(func(d map[string]any) {
			first(d)["account_id"] = "333333333333"
		}), "accounts[0] (333333333333): credential_report: its ARNs name account 111111111111 in aws, not account_id 333333333333 in aws"},
		"unknown partition": {valid(func(d map[string]any) { first(d)["partition"] = "azure" }), `accounts[0] (111111111111): partition "azure" is not an AWS partition`},
		"unknown category": {valid(func(d map[string]any) {
			first(d)["cloudtrail"].(map[string]any)["events"].([]any)[0].(map[string]any)["category"] = "root_party"
		}), `accounts[0] (111111111111): cloudtrail.events[0].category: "root_party" is not a category`},
		"ok without data": {valid(func(d map[string]any) { first(d)["virtual_mfa_devices"] = nil }),
			"accounts[0] (111111111111): sources.virtual_mfa_devices is ok but the bundle holds no virtual_mfa_devices"},
		"missing with data": {valid(func(d map[string]any) {
			first(d)["sources"].(map[string]any)["organization"].(map[string]any)["state"] = "missing"
		}), "accounts[0] (111111111111): sources.organization is missing but the bundle holds organization data"},
		"scps ok without data": {valid(func(d map[string]any) { delete(first(d), "scps") }),
			"accounts[0] (111111111111): sources.scps is ok but the bundle holds no scps"},
		"scps not recorded": {valid(func(d map[string]any) { delete(first(d)["sources"].(map[string]any), "scps") }),
			"accounts[0] (111111111111): sources.scps is not recorded but the bundle holds scps"},
		"not a report":    {valid(func(d map[string]any) { first(d)["credential_report"].(map[string]any)["csv"] = "aGVsbG8K" }), "accounts[0] (111111111111): credential_report:"},
		"bad window":      {valid(func(d map[string]any) { d["window"] = "15x" }), `x.json: not a rootwatch evidence bundle: "15x" is not a duration (use e.g. 15d, 36h, 90m)`},
		"zero report age": {valid(func(d map[string]any) { d["max_report_age"] = "0d" }), `x.json: not a rootwatch evidence bundle: "0d" must be longer than zero`},
		"truncated json":  {valid(func(map[string]any) {})[:200], "not a rootwatch evidence bundle"},
	} {
		b, err := Read(strings.NewReader(tc.data), "x.json")
		if err == nil {
			_, err = b.Evidence("x.json")
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", name, err, tc.want)
		}
	}
}

// TestCountsAcceptWhatReadersWrite: counts are checked against what the
// readers derive them from, so that no honest bundle is refused: coverage is
// counted to the second and only from times CloudTrail's way (UTC, "Z"), and
// a detail in a form this version does not write is not read.
func TestCountsAcceptWhatReadersWrite(t *testing.T) {
	a := accounts(t)[0]
	a.CloudTrail.From, a.CloudTrail.To = time.Date(2026, 2, 27, 9, 0, 0, 0, time.UTC), time.Date(2026, 2, 27, 10, 0, 0, 0, time.UTC)
	a.CloudTrail.Events = append(a.CloudTrail.Events,
		// Within the last second of the coverage, which the readers truncate.
		evidence.Event{EventID: "e3", EventTime: "2026-02-27T10:00:00.750Z", Category: evidence.CategorySignin},
		// Not CloudTrail's format: the readers do not count it in the coverage.
		evidence.Event{EventID: "e4", EventTime: "2026-02-27T23:00:00+02:00", Category: evidence.CategorySignin},
		// LookupEvents keeps events that name no account.
		evidence.Event{EventID: "e5", EventTime: "2026-02-27T09:30:00Z", Category: evidence.CategorySignin})
	for i := range a.CloudTrail.Events {
		if err := a.CloudTrail.Events[i].RestoreTime(); err != nil {
			t.Fatal(err)
		}
	}
	a.SetSource(evidence.SourceCloudTrail, evidence.SourceStatus{State: evidence.StateOK, Detail: "files: 3 events for this account, 5 of them root's, from 2026-02-27T09:00:00Z to 2026-02-27T10:00:00Z"})
	a.SetSource(evidence.SourceCredentialReport, evidence.SourceStatus{State: evidence.StateOK, Detail: "read from r.csv (2 rows, 6 columns)"})
	a.SetSource(evidence.SourceRootCredentials, evidence.SourceStatus{State: evidence.StateOK, Detail: "AssumeRoot arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials: password true, 1 access key, 0 MFA devices, 0 signing certificates"})
	if err := checkCounts(a); err != nil {
		t.Fatalf("an honest account refused: %v", err)
	}
	// The same counts, wrong: each is caught.
	for detail, want := range map[string]string{
		"files: 3 events for this account, 4 of them root's, from 2026-02-27T09:00:00Z to 2026-02-27T10:00:00Z": "says 4 root events but cloudtrail.events holds 5",
		"files: 3 events for this account, 5 of them root's":                                                    "cloudtrail.from: the coverage bounds disagree",
		"files: 3 events for this account, 5 of them root's, from 2026-02-27T09:00:00Z to 2026-02-27T11:00:00Z": "cloudtrail.from: the coverage bounds disagree",
	} {
		a.Sources[evidence.SourceCloudTrail] = evidence.SourceStatus{State: evidence.StateOK, Detail: detail}
		if err := checkCounts(a); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", detail, err, want)
		}
	}
	// A form this version does not write says nothing checkable.
	a.Sources[evidence.SourceCloudTrail] = evidence.SourceStatus{State: evidence.StateOK, Detail: "a future rootwatch wrote this: 12 root events somewhere"}
	if err := checkCounts(a); err != nil {
		t.Errorf("an unknown detail form was read: %v", err)
	}
	// Structural checks need no detail: an event past the coverage.
	a.CloudTrail.Events[0].EventTime, a.CloudTrail.Events[0].Time = "2026-02-27T10:00:01Z", time.Date(2026, 2, 27, 10, 0, 1, 0, time.UTC)
	if err := checkCounts(a); err == nil || !strings.Contains(err.Error(), "cloudtrail.events[0].event_time: the coverage and the events disagree") {
		t.Errorf("event past the coverage: %v", err)
	}
	a.CloudTrail.Events[0].Time = a.CloudTrail.From
	a.CloudTrail.From = a.CloudTrail.To.Add(time.Hour)
	if err := checkCounts(a); err == nil || !strings.Contains(err.Error(), "cloudtrail.from: the coverage bounds disagree: from 2026-02-27T11:00:00Z is after to") {
		t.Errorf("from after to: %v", err)
	}
}

// TestRoundTripTakeoverEvidence: a bundle carries what the could-anyone
// rules read: the root e-mail as domain and masked local part, each MFA
// device with its kind, and the takeover steps with their categories,
// callers, targets, tasks and keys.
func TestRoundTripTakeoverEvidence(t *testing.T) {
	ok := evidence.SourceStatus{State: evidence.StateOK, CollectedAt: t0}
	re := evidence.ParseRootEmail("Zoë@Bücher.example", "ListAccounts")
	re.ManagementDomain = "corp.example"
	at := time.Date(2026, 2, 20, 10, 0, 0, 0, time.UTC)
	events := []evidence.Event{
		{EventID: "a", EventTime: at.Format(time.RFC3339), AccountID: "999999999999", Recipient: "999999999999", EventSource: "sts.amazonaws.com", EventName: "AssumeRoot",
			Category: evidence.CategoryAssumeRoot, Caller: "arn:aws:sts::999999999999:assumed-role/PowerUser/alice", Target: "222222222222",
			TaskPolicy: "arn:aws:iam::aws:policy/root-task/IAMCreateRootUserPassword", SessionKeyID: "ASIASESSION", Result: "success"},
		{EventID: "b", EventTime: at.Add(time.Minute).Format(time.RFC3339), AccountID: "222222222222", EventSource: "iam.amazonaws.com", EventName: "CreateLoginProfile",
			Category: evidence.CategoryLoginProfile, AccessKeyID: "ASIASESSION", Caller: "arn:aws:sts::999999999999:assumed-role/PowerUser/alice", Result: "success"},
		{EventID: "c", EventTime: at.Add(2 * time.Minute).Format(time.RFC3339), AccountID: "222222222222", EventSource: "signin.amazonaws.com", EventName: "PasswordRecoveryCompleted",
			Category: evidence.CategoryPasswordRecovery, Result: "success"},
		{EventID: "d", EventTime: at.Add(3 * time.Minute).Format(time.RFC3339), AccountID: "999999999999", EventSource: "account.amazonaws.com", EventName: "StartPrimaryEmailUpdate",
			Category: evidence.CategoryEmailChange, Caller: "arn:aws:sts::999999999999:assumed-role/PowerUser/alice", Target: "222222222222", Result: "success"},
	}
	a := &evidence.Account{ID: "222222222222", Partition: "aws", CollectedAt: t0,
		Sources:   map[string]evidence.SourceStatus{evidence.SourceRootEmail: ok, evidence.SourceRootCredentials: ok, evidence.SourceCloudTrail: ok},
		RootEmail: &re,
		RootCredentials: &evidence.RootCredentials{Password: true, MFADevices: []evidence.RootCredential{
			{ID: "arn:aws:iam::222222222222:mfa/phone", Kind: evidence.MFAVirtual, Created: t0},
			{ID: "arn:aws:iam::222222222222:u2f/root/key-1", Kind: evidence.MFAFIDO, Created: t0}}},
		CloudTrail: &evidence.CloudTrail{Description: "files", AccountEvents: 4, Events: events},
	}
	path := filepath.Join(t.TempDir(), "b.json")
	if err := New([]*evidence.Account{a}, "rootwatch", "v1", t0, t0).Save(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	b, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.Evidence(path)
	if err != nil {
		t.Fatal(err)
	}
	g := got[0]
	if *g.RootEmail != re || g.RootEmail.Masked != "Z***@bücher.example" || g.RootEmail.Domain != "xn--bcher-kva.example" {
		t.Errorf("root e-mail: %+v", g.RootEmail)
	}
	if d := g.RootCredentials.MFADevices; len(d) != 2 || d[0].Kind != evidence.MFAVirtual || d[1].Kind != evidence.MFAFIDO || d[1].MFAKind() != evidence.MFAFIDO {
		t.Errorf("MFA devices: %+v", d)
	}
	for i, e := range g.CloudTrail.Events {
		w := events[i]
		w.Time = e.Time
		if !reflect.DeepEqual(e, w) || e.Time.IsZero() {
			t.Errorf("event %d: %+v, want %+v", i, e, w)
		}
	}
	if g.CloudTrail.Events[0].TargetAccount() != "222222222222" || !g.CloudTrail.Events[0].Privileged() {
		t.Errorf("the AssumeRoot call lost its target or task: %+v", g.CloudTrail.Events[0])
	}
	raw, _ := json.Marshal(b)
	if bytes.Contains(raw, []byte("Zoë@")) || bytes.Contains(raw, []byte("zoë@")) {
		t.Errorf("the bundle holds the whole address")
	}
	// A device whose kind disagrees with its serial number is refused.
	a.RootCredentials.MFADevices[0].Kind = evidence.MFAFIDO
	odd := filepath.Join(t.TempDir(), "odd.json")
	if err := New([]*evidence.Account{a}, "rootwatch", "v1", t0, t0).Save(context.Background(), odd); err != nil {
		t.Fatal(err)
	}
	if b, err := Load(odd); err == nil {
		if _, err := b.Evidence(odd); err == nil || !strings.Contains(err.Error(), `mfa_devices[0]: kind "fido", but its serial number "arn:aws:iam::222222222222:mfa/phone" is a virtual`) {
			t.Errorf("a device kind that disagrees with its serial: %v", err)
		}
	}
	a.RootCredentials.MFADevices[0].Kind = evidence.MFAVirtual
	// A root e-mail without its source recorded is refused, as any data is.
	delete(a.Sources, evidence.SourceRootEmail)
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := New([]*evidence.Account{a}, "rootwatch", "v1", t0, t0).Save(context.Background(), bad); err != nil {
		t.Fatal(err)
	}
	if b, err := Load(bad); err == nil {
		if _, err := b.Evidence(bad); err == nil || !strings.Contains(err.Error(), "sources.root_email") {
			t.Errorf("a root e-mail without its source: %v", err)
		}
	}
}
