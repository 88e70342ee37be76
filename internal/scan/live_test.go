package scan

import (
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/finding"
)

// TestLiveScanAllJudged: an account with every source readable and
// nothing wrong passes every rule that applies to it.
func TestLiveScanAllJudged(t *testing.T) {
	r := run(t, fakeLive(t, liveWorld(t, "{existing: 1h}", "[]")))
	if len(r.Accounts) != 1 || r.Accounts[0].AccountID != liveAccount || r.Accounts[0].Status != finding.AccountAssessed {
		t.Errorf("accounts %+v", r.Accounts)
	}
	for _, f := range r.Findings {
		if f.Status != finding.StatusPass && f.Status != finding.StatusNotApplicable {
			t.Errorf("%s: %s %s", f.RuleID, f.Status, f.Message)
		}
	}
}

// TestLiveScanDeniedMFADevicesOnlyAffectsHardwareRule: one denied read
// leaves unknown only the rule that needs it, every other verdict what it
// is when the read is allowed, and the account partial.
func TestLiveScanDeniedMFADevicesOnlyAffectsHardwareRule(t *testing.T) {
	allowed := map[string]finding.Status{}
	for _, f := range run(t, fakeLive(t, liveWorld(t, "{existing: 1h}", "[]"))).Findings {
		allowed[f.Fingerprint] = f.Status
	}
	r := run(t, fakeLive(t, liveWorld(t, "{existing: 1h}", "[{op: ListVirtualMFADevices, code: AccessDenied, status: 403}]")))
	if len(r.Findings) != len(allowed) {
		t.Errorf("%d findings, %d when the read is allowed", len(r.Findings), len(allowed))
	}
	for _, f := range r.Findings {
		want := allowed[f.Fingerprint]
		if f.RuleID == "iam-root-no-hardware-mfa" {
			want = finding.StatusUnknown
		}
		if f.Status != want {
			t.Errorf("%s = %s (%s), want %s", f.RuleID, f.Status, f.Message, want)
		}
	}
	if r.Accounts[0].Status != finding.AccountPartial {
		t.Errorf("account status %s", r.Accounts[0].Status)
	}
}

// TestLiveScanReportNeverCompletes: a credential report IAM never finishes
// is missing after ReportTimeout, and the rules that need it are unknown.
func TestLiveScanReportNeverCompletes(t *testing.T) {
	o := fakeLive(t, liveWorld(t, "{delay: never}", "[]"))
	o.ReportTimeout = 300 * time.Millisecond
	r := run(t, o)
	for _, rule := range []string{"iam-root-active-password", "iam-root-access-key-used"} {
		if f := statusOf(t, *r, liveAccount, rule); f.Status != finding.StatusUnknown {
			t.Errorf("%s = %s, want unknown", rule, f.Status)
		}
	}
	found := false
	for _, s := range r.Accounts[0].Sources {
		if s.Name == "credential_report" {
			found = s.State == "missing" && strings.Contains(s.Detail, "not ready within 300ms")
		}
	}
	if !found {
		t.Errorf("sources %+v", r.Accounts[0].Sources)
	}
}
