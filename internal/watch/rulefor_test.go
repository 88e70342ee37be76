package watch

import (
	"testing"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/rules"
)

// TestEachAlertIsOneCatalogRule: every root event the watch alerts on is
// claimed by exactly one rule of the catalog, the one whose guidance the
// alert carries.
func TestEachAlertIsOneCatalogRule(t *testing.T) {
	w := &watcher{rules: alertRules()}
	ev := func(category, result, mfa string) evidence.Event {
		return evidence.Event{Category: category, EventName: "AssumeRoot", Result: result, MFA: mfa, TaskPolicy: "arn:aws:iam::aws:policy/root-task/IAMCreateRootUserPassword"}
	}
	for _, c := range []struct {
		e    evidence.Event
		rule string
	}{
		{ev(evidence.CategoryConsoleLogin, "failure", "no"), "iam-root-failed-logins"},
		{ev(evidence.CategoryConsoleLogin, "success", "no"), "iam-root-login-without-mfa"},
		{ev(evidence.CategoryConsoleLogin, "success", "unknown"), "iam-root-login-without-mfa"},
		{ev(evidence.CategoryConsoleLogin, "success", "yes"), "iam-root-console-login"},
		{ev(evidence.CategorySignin, "success", ""), "iam-root-active-password"},
		{ev(evidence.CategoryAPICall, "success", ""), "iam-root-api-activity"},
		{ev(evidence.CategoryLoginProfile, "success", ""), "iam-root-recovery-activity"},
		{ev(evidence.CategoryPasswordRecovery, "success", ""), "iam-root-recovery-activity"},
		{ev(evidence.CategoryEmailChange, "success", ""), "iam-root-recovery-activity"},
		{ev(evidence.CategoryAssumeRoot, "success", ""), "iam-root-recovery-activity"},
	} {
		if !alertable(c.e) {
			t.Errorf("%s/%s/%s: not alertable", c.e.Category, c.e.Result, c.e.MFA)
		}
		var claimed []string
		for _, r := range rules.Catalog() {
			if r.Alerts != nil && r.Alerts(c.e) {
				claimed = append(claimed, r.ID)
			}
		}
		if len(claimed) != 1 || w.ruleFor(c.e) != c.rule {
			t.Errorf("%s/%s/%s: claimed by %v, alerted as %q; want %s alone", c.e.Category, c.e.Result, c.e.MFA, claimed, w.ruleFor(c.e), c.rule)
		}
	}
}
