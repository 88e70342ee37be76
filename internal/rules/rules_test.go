package rules

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/evidence/credreport"
	"github.com/rootwatch/rootwatch/internal/finding"
)

var asOf = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

var defaults = Settings{Window: 15 * 24 * time.Hour, MaxReportAge: 4 * time.Hour, Threshold: 3}

const header = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"

// rootRowCSV is a root row with every column overridable by name.
func rootRowCSV(over map[string]string) string {
	cells := map[string]string{
		"user": "<root_account>", "arn": "arn:aws:iam::123456789012:root", "user_creation_time": "2019-01-01T00:00:00+00:00",
		"password_enabled": "not_supported", "password_last_used": "no_information", "password_last_changed": "not_supported",
		"password_next_rotation": "not_supported", "mfa_active": "true",
		"access_key_1_active": "false", "access_key_1_last_rotated": "N/A", "access_key_1_last_used_date": "N/A", "access_key_1_last_used_region": "N/A", "access_key_1_last_used_service": "N/A",
		"access_key_2_active": "false", "access_key_2_last_rotated": "N/A", "access_key_2_last_used_date": "N/A", "access_key_2_last_used_region": "N/A", "access_key_2_last_used_service": "N/A",
		"cert_1_active": "false", "cert_1_last_rotated": "N/A", "cert_2_active": "false", "cert_2_last_rotated": "N/A",
	}
	for k, v := range over {
		cells[k] = v
	}
	var out []string
	for _, c := range strings.Split(header, ",") {
		out = append(out, cells[c])
	}
	return strings.Join(out, ",")
}

// account builds evidence from a report (generated one hour before asOf
// unless gen says otherwise) with only the credential report collected.
func account(t *testing.T, csv string, gen time.Time) *evidence.Account {
	t.Helper()
	rep, err := credreport.Parse([]byte(csv), "test.csv", gen)
	if err != nil {
		t.Fatal(err)
	}
	a := &evidence.Account{ID: "123456789012", Partition: "aws", CredentialReport: rep}
	a.SetSource(evidence.SourceCredentialReport, evidence.SourceStatus{State: evidence.StateOK})
	return a
}

func withRoot(t *testing.T, over map[string]string) *evidence.Account {
	return account(t, header+"\n"+rootRowCSV(over)+"\n", asOf.Add(-time.Hour))
}

func ago(d time.Duration) string { return asOf.Add(-d).Format("2006-01-02T15:04:05+00:00") }

const day = 24 * time.Hour

type ruleCase struct {
	name     string
	acct     func(t *testing.T) *evidence.Account
	settings *Settings
	status   finding.Status
	message  string // substring
	evidence map[string]any
}

func runCases(t *testing.T, r Rule, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := defaults
			if tc.settings != nil {
				s = *tc.settings
			}
			res := r.Eval(Input{Account: tc.acct(t), AsOf: asOf, Settings: s})
			if len(res) != 1 {
				t.Fatalf("results = %d, want 1", len(res))
			}
			got := res[0]
			if got.Status != tc.status {
				t.Errorf("status = %s, want %s (message: %s)", got.Status, tc.status, got.Message)
			}
			if !strings.Contains(got.Message, tc.message) {
				t.Errorf("message = %q, want it to contain %q", got.Message, tc.message)
			}
			for k, v := range tc.evidence {
				if fmt.Sprint(got.Evidence[k]) != fmt.Sprint(v) {
					t.Errorf("evidence[%s] = %v, want %v (all: %v)", k, got.Evidence[k], v, got.Evidence)
				}
			}
		})
	}
}

func root(over map[string]string) func(*testing.T) *evidence.Account {
	return func(t *testing.T) *evidence.Account { return withRoot(t, over) }
}

func TestActivePassword(t *testing.T) {
	pw := func(v string) func(*testing.T) *evidence.Account {
		return root(map[string]string{"password_last_used": v})
	}
	window36h := defaults
	window36h.Window = 36 * time.Hour
	runCases(t, activePassword(), []ruleCase{
		{"inside window", pw(ago(3*day + 5*time.Hour)), nil, finding.StatusFail, "3.2 days ago (window 15 days)",
			map[string]any{"age_days": 3.2, "window": "15d", "password_last_used": ago(3*day + 5*time.Hour), "report_line": 2}},
		{"exactly at the window edge", pw(ago(15 * day)), nil, finding.StatusFail, "15.0 days ago", nil},
		{"one second outside", pw(ago(15*day + time.Second)), nil, finding.StatusPass, "outside the window of 15 days", map[string]any{"age_days": 15.0}},
		{"old use", pw(ago(60 * day)), nil, finding.StatusPass, "60.0 days ago", nil},
		{"window in hours", pw(ago(40 * time.Hour)), &window36h, finding.StatusPass, "window of 36 hours", map[string]any{"window": "36h"}},
		{"window in hours, inside", pw(ago(20 * time.Hour)), &window36h, finding.StatusFail, "0.8 days ago", nil},
		{"Z suffix", pw(asOf.Add(-day).Format(time.RFC3339)), nil, finding.StatusFail, "1.0 days ago", nil},
		{"N/A: no password", pw("N/A"), nil, finding.StatusPass, "no password", map[string]any{"password_last_used": "N/A"}},
		{"no_information", pw("no_information"), nil, finding.StatusPass, "no_information", nil},
		{"not_supported", pw("not_supported"), nil, finding.StatusUnknown, "not_supported", nil},
		{"future time", pw(asOf.Add(2 * day).Format(time.RFC3339)), nil, finding.StatusFail, "after the as-of time", nil},
		{"invalid", pw("2026-02-30"), nil, finding.StatusUnknown, `invalid value "2026-02-30" (line 2)`, nil},
		{"empty", pw(""), nil, finding.StatusUnknown, "invalid value", nil},
		{"password_enabled false is not trusted alone", root(map[string]string{"password_enabled": "false", "password_last_used": ago(day)}), nil, finding.StatusFail, "1.0 days ago", nil},
		{"no root row", func(t *testing.T) *evidence.Account {
			return account(t, header+"\nbob,arn:aws:iam::123456789012:user/bob,2020-01-01T00:00:00+00:00,true,"+ago(day)+",N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n", asOf)
		}, nil, finding.StatusUnknown, "the credential report has no root row", nil},
		{"inconsistent root row", root(map[string]string{"arn": "arn:aws:iam::123456789012:user/x", "password_last_used": ago(90 * day)}), nil, finding.StatusUnknown, "is not a root ARN", nil},
		{"stale report, no recent use", func(t *testing.T) *evidence.Account {
			return account(t, header+"\n"+rootRowCSV(map[string]string{"password_last_used": ago(90 * day)})+"\n", asOf.Add(-3*day))
		}, nil, finding.StatusUnknown, "older than the maximum report age of 4h", map[string]any{"report_age_days": 3.0}},
		{"stale report, recent use still fails", func(t *testing.T) *evidence.Account {
			return account(t, header+"\n"+rootRowCSV(map[string]string{"password_last_used": ago(4 * day)})+"\n", asOf.Add(-3*day))
		}, nil, finding.StatusFail, "4.0 days ago", nil},
		{"unknown generation time passes with a note", func(t *testing.T) *evidence.Account {
			return account(t, header+"\n"+rootRowCSV(map[string]string{"password_last_used": ago(90 * day)})+"\n", time.Time{})
		}, nil, finding.StatusPass, "generation time is unknown", map[string]any{"report_generated_time": "unknown"}},
		{"source denied", func(t *testing.T) *evidence.Account {
			a := &evidence.Account{ID: "123456789012"}
			a.SetSource(evidence.SourceCredentialReport, evidence.SourceStatus{State: evidence.StateDenied, Detail: "AccessDenied on GetCredentialReport"})
			return a
		}, nil, finding.StatusUnknown, "denied (AccessDenied on GetCredentialReport)", nil},
		{"source never collected", func(t *testing.T) *evidence.Account { return &evidence.Account{ID: "123456789012"} }, nil, finding.StatusUnknown, "missing", nil},
		{"source error", func(t *testing.T) *evidence.Account {
			a := &evidence.Account{ID: "123456789012"}
			a.SetSource(evidence.SourceCredentialReport, evidence.SourceStatus{State: evidence.StateError, Detail: "report not ready after 2m"})
			return a
		}, nil, finding.StatusError, "report not ready after 2m", nil},
	})
}

func TestAccessKeyActive(t *testing.T) {
	summary := func(over map[string]string, present int) func(*testing.T) *evidence.Account {
		return func(t *testing.T) *evidence.Account {
			a := withRoot(t, over)
			a.AccountSummary = map[string]int{evidence.SummaryAccessKeysPresent: present}
			a.SetSource(evidence.SourceAccountSummary, evidence.SourceStatus{State: evidence.StateOK})
			return a
		}
	}
	runCases(t, accessKeyActive(), []ruleCase{
		{"key 1 active", root(map[string]string{"access_key_1_active": "true", "access_key_1_last_rotated": ago(400 * day)}), nil, finding.StatusFail, "access key 1 (last rotated", map[string]any{"access_key_1_active": "true"}},
		{"key 2 active upper case", root(map[string]string{"access_key_2_active": "TRUE"}), nil, finding.StatusFail, "access key 2", nil},
		{"none active", root(nil), nil, finding.StatusPass, "no active access key", nil},
		{"invalid cell", root(map[string]string{"access_key_1_active": "yes"}), nil, finding.StatusUnknown, `access_key_1_active has an invalid value "yes"`, nil},
		{"active wins over invalid", root(map[string]string{"access_key_1_active": "yes", "access_key_2_active": "true"}), nil, finding.StatusFail, "access key 2", nil},
		{"summary says none", summary(nil, 0), nil, finding.StatusPass, "AccountAccessKeysPresent = 0", nil},
		{"summary present, report inactive", summary(nil, 1), nil, finding.StatusPass, "no active access key", map[string]any{"AccountAccessKeysPresent": 1}},
		{"report missing, summary none", func(t *testing.T) *evidence.Account {
			a := &evidence.Account{ID: "123456789012", AccountSummary: map[string]int{evidence.SummaryAccessKeysPresent: 0}}
			a.SetSource(evidence.SourceAccountSummary, evidence.SourceStatus{State: evidence.StateOK})
			a.SetSource(evidence.SourceCredentialReport, evidence.SourceStatus{State: evidence.StateDenied, Detail: "AccessDenied"})
			return a
		}, nil, finding.StatusPass, "account summary shows no root access key", nil},
		{"report missing, summary present", func(t *testing.T) *evidence.Account {
			a := &evidence.Account{ID: "123456789012", AccountSummary: map[string]int{evidence.SummaryAccessKeysPresent: 1}}
			a.SetSource(evidence.SourceAccountSummary, evidence.SourceStatus{State: evidence.StateOK})
			return a
		}, nil, finding.StatusUnknown, "credential_report source is missing", nil},
		{"stale report", func(t *testing.T) *evidence.Account {
			return account(t, header+"\n"+rootRowCSV(nil)+"\n", asOf.Add(-2*day))
		}, nil, finding.StatusUnknown, "maximum report age", nil},
	})
}

func TestSigningCertActive(t *testing.T) {
	runCases(t, signingCertActive(), []ruleCase{
		{"cert 1 active", root(map[string]string{"cert_1_active": "true", "cert_1_last_rotated": ago(10 * day)}), nil, finding.StatusFail, "signing certificate 1", map[string]any{"cert_1_active": "true"}},
		{"none", root(nil), nil, finding.StatusPass, "no active signing certificate", nil},
		{"not_supported is not a boolean", root(map[string]string{"cert_2_active": "not_supported"}), nil, finding.StatusUnknown, "cert_2_active", nil},
	})
}

func TestAccessKeyUsed(t *testing.T) {
	legacy := "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_2_active,access_key_2_last_rotated,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n"
	runCases(t, accessKeyUsed(), []ruleCase{
		{"key used 2 days ago", root(map[string]string{"access_key_1_active": "true", "access_key_1_last_rotated": ago(100 * day), "access_key_1_last_used_date": ago(2 * day), "access_key_1_last_used_service": "s3", "access_key_1_last_used_region": "us-east-1"}),
			nil, finding.StatusFail, "access key 1 last used", map[string]any{"access_key_1_age_days": 2.0}},
		{"inactive key used recently still fails", root(map[string]string{"access_key_2_last_rotated": ago(100 * day), "access_key_2_last_used_date": ago(day)}), nil, finding.StatusFail, "access key 2", nil},
		{"key used long ago", root(map[string]string{"access_key_1_active": "true", "access_key_1_last_rotated": ago(100 * day), "access_key_1_last_used_date": ago(50 * day)}), nil, finding.StatusPass, "50.0 days ago", nil},
		{"key never used", root(map[string]string{"access_key_1_active": "true", "access_key_1_last_rotated": ago(100 * day)}), nil, finding.StatusPass, "N/A", nil},
		{"no keys", root(nil), nil, finding.StatusPass, "access key 1: none; access key 2: none", nil},
		{"invalid date", root(map[string]string{"access_key_1_active": "true", "access_key_1_last_rotated": ago(9 * day), "access_key_1_last_used_date": "soon"}), nil, finding.StatusUnknown, `invalid value "soon"`, nil},
		{"16 columns with a key", func(t *testing.T) *evidence.Account {
			return account(t, legacy+"<root_account>,arn:aws:iam::123456789012:root,2015-01-01T00:00:00+00:00,not_supported,N/A,not_supported,not_supported,false,true,2015-01-02T00:00:00+00:00,false,N/A,false,N/A,false,N/A\n", asOf)
		}, nil, finding.StatusUnknown, "no access_key_1_last_used_date column", nil},
		{"16 columns without keys", func(t *testing.T) *evidence.Account {
			return account(t, legacy+"<root_account>,arn:aws:iam::123456789012:root,2015-01-01T00:00:00+00:00,not_supported,N/A,not_supported,not_supported,false,false,N/A,false,N/A,false,N/A,false,N/A\n", asOf)
		}, nil, finding.StatusPass, "none", nil},
	})
}

func TestNoMFA(t *testing.T) {
	withSummary := func(mfaActive string, enabled int) func(*testing.T) *evidence.Account {
		return func(t *testing.T) *evidence.Account {
			a := withRoot(t, map[string]string{"mfa_active": mfaActive})
			a.AccountSummary = map[string]int{evidence.SummaryMFAEnabled: enabled}
			a.SetSource(evidence.SourceAccountSummary, evidence.SourceStatus{State: evidence.StateOK})
			return a
		}
	}
	runCases(t, noMFA(), []ruleCase{
		{"report true", root(map[string]string{"mfa_active": "true"}), nil, finding.StatusPass, "mfa_active = true", map[string]any{"mfa_source": "credential_report"}},
		{"report false", root(map[string]string{"mfa_active": "false"}), nil, finding.StatusFail, "no MFA device", nil},
		{"report FALSE", root(map[string]string{"mfa_active": "FALSE"}), nil, finding.StatusFail, "no MFA device", nil},
		{"report invalid", root(map[string]string{"mfa_active": "1"}), nil, finding.StatusUnknown, `mfa_active has an invalid value "1"`, nil},
		{"summary wins over older report", withSummary("false", 1), nil, finding.StatusPass, "the credential report, older, says mfa_active=false", map[string]any{"AccountMFAEnabled": 1}},
		{"summary says no MFA", withSummary("true", 0), nil, finding.StatusFail, "AccountMFAEnabled = 0", nil},
		{"stale report saying true", func(t *testing.T) *evidence.Account {
			return account(t, header+"\n"+rootRowCSV(nil)+"\n", asOf.Add(-30*day))
		}, nil, finding.StatusUnknown, "maximum report age", nil},
	})
}

func TestNoHardwareMFA(t *testing.T) {
	devices := func(mfa string, devs []evidence.VirtualMFADevice, state evidence.SourceState) func(*testing.T) *evidence.Account {
		return func(t *testing.T) *evidence.Account {
			a := withRoot(t, map[string]string{"mfa_active": mfa})
			a.VirtualMFADevices = devs
			a.SetSource(evidence.SourceVirtualMFA, evidence.SourceStatus{State: state, Detail: "ListVirtualMFADevices: " + string(state)})
			return a
		}
	}
	rootARN := "arn:aws:iam::123456789012:root"
	runCases(t, noHardwareMFA(), []ruleCase{
		{"no MFA at all", devices("false", nil, evidence.StateOK), nil, finding.StatusFail, "no MFA at all", nil},
		{"virtual device on root", devices("true", []evidence.VirtualMFADevice{{SerialNumber: "arn:aws:iam::123456789012:mfa/ops-phone", UserARN: rootARN}}, evidence.StateOK),
			nil, finding.StatusFail, "virtual device (arn:aws:iam::123456789012:mfa/ops-phone)", map[string]any{"virtual_mfa_serial": "arn:aws:iam::123456789012:mfa/ops-phone"}},
		{"hardware: only other users' virtual devices", devices("true", []evidence.VirtualMFADevice{
			{SerialNumber: "arn:aws:iam::123456789012:mfa/root-account-mfa-device", UserARN: "arn:aws:iam::123456789012:user/rootkit"},
			{SerialNumber: "arn:aws:iam::123456789012:mfa/unassigned"},
		}, evidence.StateOK), nil, finding.StatusPass, "its MFA is hardware", map[string]any{"virtual_mfa_devices_listed": 2}},
		{"root ARN of another account does not match", devices("true", []evidence.VirtualMFADevice{{SerialNumber: "x", UserARN: "arn:aws:iam::999999999999:root"}}, evidence.StateOK), nil, finding.StatusPass, "hardware", nil},
		{"offline: no device list", root(map[string]string{"mfa_active": "true"}), nil, finding.StatusUnknown, "only its type is unknown", nil},
		{"device list denied", devices("true", nil, evidence.StateDenied), nil, finding.StatusUnknown, "denied", nil},
		{"device list error", devices("true", nil, evidence.StateError), nil, finding.StatusError, "error", nil},
		{"offline, no MFA: still fails", root(map[string]string{"mfa_active": "false"}), nil, finding.StatusFail, "no MFA at all", nil},
	})
}

func TestOrgRootAccess(t *testing.T) {
	org := func(o *evidence.Organization, state evidence.SourceState) func(*testing.T) *evidence.Account {
		return func(t *testing.T) *evidence.Account {
			a := &evidence.Account{ID: "111111111111", Partition: "aws", Organization: o}
			a.SetSource(evidence.SourceOrganization, evidence.SourceStatus{State: state, Detail: "ListOrganizationsFeatures"})
			return a
		}
	}
	runCases(t, orgRootAccessNotCentralized(), []ruleCase{
		{"management without feature", org(&evidence.Organization{Role: "management", ID: "o-abcdefghij", ManagementAccountID: "111111111111", EnabledFeatures: []string{"RootSessions"}}, evidence.StateOK),
			nil, finding.StatusFail, "has not enabled centralized root credentials management", nil},
		{"management with feature", org(&evidence.Organization{Role: "management", ID: "o-abcdefghij", ManagementAccountID: "111111111111", EnabledFeatures: []string{"RootCredentialsManagement"}}, evidence.StateOK),
			nil, finding.StatusPass, "enabled", nil},
		{"member", org(&evidence.Organization{Role: "member", ID: "o-abcdefghij", ManagementAccountID: "111111111111"}, evidence.StateOK), nil, finding.StatusNotApplicable, "judged on its management account", nil},
		{"standalone", org(&evidence.Organization{Role: "standalone"}, evidence.StateOK), nil, finding.StatusNotApplicable, "not in an AWS Organization", nil},
		{"not collected", func(t *testing.T) *evidence.Account { return &evidence.Account{ID: "1"} }, nil, finding.StatusUnknown, "organization source is missing", nil},
		{"denied", org(nil, evidence.StateDenied), nil, finding.StatusUnknown, "denied", nil},
	})
	res := orgRootAccessNotCentralized().Eval(Input{Account: org(&evidence.Organization{Role: "management", ID: "o-abcdefghij", ManagementAccountID: "111111111111"}, evidence.StateOK)(t), AsOf: asOf, Settings: defaults})
	if want := "arn:aws:organizations::111111111111:organization/o-abcdefghij"; res[0].Resource != want {
		t.Errorf("resource = %q, want %q", res[0].Resource, want)
	}
}

func TestEveryRuleFailsClosedWithoutEvidence(t *testing.T) {
	for _, r := range Catalog() {
		res := r.Eval(Input{Account: &evidence.Account{ID: "123456789012"}, AsOf: asOf, Settings: defaults})
		for _, x := range res {
			if x.Status == finding.StatusPass {
				t.Errorf("%s passed with no evidence at all: %s", r.ID, x.Message)
			}
		}
	}
}
