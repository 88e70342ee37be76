package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

// hostileCouldRun is a member under a management account whose session
// holder, SCP gap and OU name carry hostile text from AWS.
func hostileCouldRun(hostile string) *finding.Run {
	const mgmt, member = "111111111111", "222222222222"
	holder := "arn:aws:iam::" + mgmt + ":user/ops" + hostile
	return &finding.Run{AsOf: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		Accounts: []finding.Account{
			{AccountID: mgmt, Status: finding.AccountAssessed},
			{AccountID: member, Status: finding.AccountAssessed, OUPath: "Root/Sandbox" + hostile},
		},
		Findings: []finding.Finding{
			{RuleID: "org-root-session-holders", AccountID: mgmt, Status: finding.StatusFail, Severity: finding.SeverityHigh, Message: "User " + holder + " can open root sessions",
				Evidence: map[string]any{"authority": evidence.AuthorityManagement, "principal": holder, "principal_type": "user", "tasks": []string{"IAMCreateRootUserPassword"},
					"targets": []map[string]any{{"member": "any member", "tasks": []string{"IAMCreateRootUserPassword"}}}}},
			{RuleID: "org-root-actions-not-denied", AccountID: member, Status: finding.StatusFail, Severity: finding.SeverityHigh, Message: "No SCP denies every action",
				Evidence: map[string]any{"gaps": []string{"p-deny on OU ou-x: NotAction leaves out s3:PutBucketPolicy" + hostile}}},
			{RuleID: "org-root-session-holders", AccountID: member, Status: finding.StatusNotApplicable, Severity: finding.SeverityHigh, Message: "member",
				Evidence: map[string]any{"org_role": "member"}},
			{RuleID: "org-root-access-not-centralized", AccountID: member, Status: finding.StatusNotApplicable, Severity: finding.SeverityMedium, Message: "member",
				Evidence: map[string]any{"management_account_id": mgmt, "org_role": "member"}},
		}}
}

// TestCouldAnyoneHostileText: ESC and U+202E in AWS text are shown
// escaped in the HTML and Markdown answers, never written raw.
func TestCouldAnyoneHostileText(t *testing.T) {
	run := hostileCouldRun("\x1b[2J\u202e")
	for name, w := range map[string]Writer{"html": HTML{}, "markdown": Markdown{}} {
		var b bytes.Buffer
		if err := w.Write(&b, run); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if !strings.Contains(out, "Could anyone become root?") {
			t.Errorf("%s: no could-anyone section", name)
		}
		if strings.ContainsRune(out, 0x1b) || strings.ContainsRune(out, '\u202e') {
			t.Errorf("%s: control or bidi character written raw", name)
		}
		section := out[strings.Index(out, "Could anyone become root?"):]
		for _, want := range []string{"user/ops", "Root/Sandbox", "NotAction leaves out s3:PutBucketPolicy"} {
			i := strings.Index(section, want)
			if i < 0 || !strings.Contains(section[i:min(len(section), i+len(want)+30)], `x1b`) || !strings.Contains(section[i:min(len(section), i+len(want)+40)], `u202e`) {
				t.Errorf("%s: %q not followed by the escaped text", name, want)
			}
		}
	}
}
