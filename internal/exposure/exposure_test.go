package exposure

import (
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

const (
	couldMgmt   = "111111111111"
	couldMember = "222222222222"
	couldOther  = "333333333333"
	couldHidden = "444444444444"
)

// couldRun is an organization's run: a holder in the management account
// that reaches every member but one it is denied, an SCP with a gap, a
// root e-mail on free mail, root credentials with a virtual MFA device;
// hostile is put into the AWS text (a principal name, a gap, an OU name).
func couldRun(hostile string) *finding.Run {
	holder := "arn:aws:iam::" + couldMgmt + ":user/ops" + hostile
	f := func(acct, rule string, st finding.Status, msg string, ev map[string]any) finding.Finding {
		return finding.Finding{RuleID: rule, AccountID: acct, Status: st, Severity: finding.SeverityHigh, Message: msg, Evidence: ev}
	}
	member := func(id string) []finding.Finding {
		return []finding.Finding{
			f(id, "org-root-access-not-centralized", finding.StatusNotApplicable, "member", map[string]any{"management_account_id": couldMgmt, "org_role": "member"}),
			f(id, ruleHolders, finding.StatusNotApplicable, "member, judged on the management account", map[string]any{"org_role": "member"}),
		}
	}
	fs := []finding.Finding{
		f(couldMgmt, ruleHolders, finding.StatusFail, "User "+holder+" can open root sessions", map[string]any{
			"authority": evidence.AuthorityManagement, "principal": holder, "principal_type": "user",
			"tasks":   []string{"IAMAuditRootUserCredentials", "IAMCreateRootUserPassword"},
			"targets": []map[string]any{{"member": "any member", "tasks": []string{"IAMAuditRootUserCredentials", "IAMCreateRootUserPassword"}}, {"member": couldHidden, "tasks": []string{}}, {"member": "members matching arn:aws:iam::3333*:root", "tasks": []string{"IAMAuditRootUserCredentials"}}}}),
		f(couldMgmt, ruleHolders, finding.StatusPass, "Role BreakGlass is expected", map[string]any{
			"authority": evidence.AuthorityManagement, "principal": "arn:aws:iam::" + couldMgmt + ":role/BreakGlass", "principal_type": "role", "allowed_by": "arn:aws:iam::*:role/BreakGlass",
			"targets": []map[string]any{{"member": "any member", "tasks": []string{"IAMDeleteRootUserCredentials"}}}}),
		f(couldMgmt, ruleSCPDeny, finding.StatusNotApplicable, "the management account: SCPs never apply", map[string]any{"source": "scps"}),
		f(couldMember, ruleSCPDeny, finding.StatusFail, "No SCP denies every action", map[string]any{"gaps": []string{"p-deny on OU ou-x: NotAction leaves out s3:PutBucketPolicy" + hostile}}),
		f(couldMember, ruleRootEmail, finding.StatusFail, "The root e-mail address (s***@gmail.com) is on gmail.com, a free-mail provider", map[string]any{"domain": "gmail.com"}),
		f(couldMember, ruleCredentials, finding.StatusPass, "no password, keys or certificates", map[string]any{"mfa_devices": []map[string]any{{"id": "arn:aws:iam::" + couldMember + ":mfa/phone", "kind": "virtual"}}}),
		f(couldMember, "iam-root-no-hardware-mfa", finding.StatusFail, "a virtual MFA device", map[string]any{}),
		f(couldOther, ruleSCPDeny, finding.StatusPass, "SCP p-guard denies every action", map[string]any{"denied_by": []map[string]any{{"policy_id": "p-guard", "policy_name": "Guard", "target": "r-ab12"}}, "gaps": []string{}}),
		f(couldHidden, ruleSCPDeny, finding.StatusPass, "SCP p-guard denies every action", map[string]any{}),
	}
	fs = append(fs, member(couldMember)...)
	fs = append(fs, member(couldOther)...)
	fs = append(fs, member(couldHidden)...)
	return &finding.Run{Tool: finding.Tool{Version: "v"}, AsOf: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Settings: map[string]string{"window": "15d"},
		Accounts: []finding.Account{
			{AccountID: couldMgmt, Status: finding.AccountAssessed},
			{AccountID: couldMember, Status: finding.AccountAssessed, OUPath: "Root/Sandbox" + hostile},
			{AccountID: couldOther, Status: finding.AccountAssessed},
			{AccountID: couldHidden, Status: finding.AccountAssessed},
			{AccountID: "555555555555", Status: finding.AccountFailed, Error: "AssumeRole: AccessDenied"},
		},
		Findings: fs}
}

func rowOf(t *testing.T, c Account, prefix string) Row {
	t.Helper()
	for _, r := range c.Rows {
		if strings.HasPrefix(r.Question, prefix) {
			return r
		}
	}
	t.Fatalf("%s: no row %q among %+v", c.AccountID, prefix, c.Rows)
	return Row{}
}

// TestCouldAnyone: each account's answer is put together from the SCP,
// session holder, root e-mail and credential findings, holders reaching
// it by the targets their findings name.
func TestCouldAnyone(t *testing.T) {
	cs := Answer(couldRun(""))
	if len(cs) != 5 {
		t.Fatalf("%d accounts, want every account of the run", len(cs))
	}
	byID := map[string]Account{}
	for _, c := range cs {
		byID[c.AccountID] = c
	}
	mgmt := byID[couldMgmt]
	if r := rowOf(t, mgmt, "Who can open"); r.Status != finding.StatusNotApplicable || !strings.Contains(r.Answer, "cannot target the management account") {
		t.Errorf("management account: %+v", r)
	}
	m := byID[couldMember]
	if m.Verdict != finding.StatusFail || !strings.HasPrefix(m.Answer, "yes") || m.OUPath != "Root/Sandbox" {
		t.Errorf("member: %s %q %q", m.Verdict, m.Answer, m.OUPath)
	}
	scp := rowOf(t, m, "Does an SCP")
	if scp.Status != finding.StatusFail || len(scp.Details) != 1 || !strings.Contains(scp.Details[0], "gap: p-deny on OU ou-x: NotAction") {
		t.Errorf("scp row %+v", scp)
	}
	h := rowOf(t, m, "Who can open")
	details := strings.Join(h.Details, "\n")
	if h.Status != finding.StatusFail || !strings.Contains(details, "user arn:aws:iam::"+couldMgmt+":user/ops: IAMAuditRootUserCredentials, IAMCreateRootUserPassword") ||
		!strings.Contains(details, "role/BreakGlass: IAMDeleteRootUserCredentials (pass: arn:aws:iam::*:role/BreakGlass)") {
		t.Errorf("holders row %+v", h)
	}
	if r := rowOf(t, m, "Can someone recover"); r.Status != finding.StatusFail || !strings.Contains(r.Answer, "gmail.com") {
		t.Errorf("e-mail row %+v", r)
	}
	cr := rowOf(t, m, "Does its root user hold")
	if cr.Status != finding.StatusFail || cr.Answer != "a virtual MFA device" || !strings.Contains(strings.Join(cr.Details, "\n"), "MFA devices: virtual arn:aws:iam::"+couldMember+":mfa/phone") {
		t.Errorf("credentials row %+v", cr)
	}
	// A pattern naming it narrows the holder's tasks; a target naming it
	// with no task takes the holder away.
	if d := strings.Join(rowOf(t, byID[couldOther], "Who can open").Details, "\n"); !strings.Contains(d, "user/ops: IAMAuditRootUserCredentials\n") {
		t.Errorf("pattern target: %s", d)
	}
	if r := rowOf(t, byID[couldHidden], "Who can open"); r.Status != finding.StatusPass || strings.Contains(strings.Join(r.Details, ""), "user/ops") {
		t.Errorf("denied target: %+v", r)
	}
	if r := rowOf(t, byID[couldOther], "Does an SCP"); r.Details[0] != "denied by p-guard (Guard) on r-ab12" {
		t.Errorf("denied by: %+v", r)
	}
	// An account without findings is named, with why.
	if f := byID["555555555555"]; f.Verdict != finding.StatusUnknown || !strings.Contains(f.Answer, "AssumeRole: AccessDenied") {
		t.Errorf("failed account: %s %q", f.Verdict, f.Answer)
	}
}

// TestCouldAnyoneNotJudged: a member whose management account is not in
// the run is not told "nobody".
func TestCouldAnyoneNotJudged(t *testing.T) {
	run := &finding.Run{Accounts: []finding.Account{{AccountID: couldMember, Status: finding.AccountAssessed}},
		Findings: []finding.Finding{
			{RuleID: "org-root-access-not-centralized", AccountID: couldMember, Status: finding.StatusNotApplicable, Evidence: map[string]any{"management_account_id": couldMgmt, "org_role": "member"}},
			{RuleID: ruleHolders, AccountID: couldMember, Status: finding.StatusNotApplicable, Evidence: map[string]any{"org_role": "member"}},
		}}
	r := rowOf(t, Answer(run)[0], "Who can open")
	if r.Status != finding.StatusUnknown || !strings.Contains(r.Answer, "Not judged in this run") || !strings.Contains(r.Answer, couldMgmt) {
		t.Errorf("%+v", r)
	}
}
