package rootsession

import (
	"strings"
	"testing"

	"github.com/rootwatch/rootwatch/internal/evidence"
)

func userWith(resources ...string) evidence.IAMUser {
	var stmts []string
	for _, r := range resources {
		stmts = append(stmts, `{"Effect":"Allow","Action":"sts:AssumeRoot","Resource":"`+r+`"}`)
	}
	return evidence.IAMUser{Name: "u", ARN: "arn:aws:iam::111111111111:user/u",
		Inline: []evidence.InlinePolicy{{Name: "p", Document: `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`}}}
}

// TestTargets: one generic member that no specific pattern matches, each
// account named exactly, a made-up account per partial pattern; never the
// management account; nothing for resources that are not root users.
func TestTargets(t *testing.T) {
	m := Build(&evidence.IAMAuthorization{ManagementAccountID: "111111111111", Users: []evidence.IAMUser{userWith(
		"arn:aws:iam::222222222222:root",
		"arn:aws:iam::111111111111:root",
		"arn:aws:iam::9999*:root",
		"arn:aws:iam::33333333333?:root",
		"arn:aws:iam::444444444444:role/x",
		"arn:aws:iam::*:root",
		"arn:aws:s3:::bucket",
	)}}, "111111111111", "aws-us-gov")
	var got []string
	for _, tg := range m.Targets {
		got = append(got, tg.Account+" "+tg.Describe()+" "+tg.ARN)
	}
	// 999999999999, the first choice, is among the accounts 9999* names.
	want := []string{
		"610665624098 any member arn:aws-us-gov:iam::610665624098:root",
		"222222222222 222222222222 arn:aws-us-gov:iam::222222222222:root",
		"333333333330 members matching arn:aws-us-gov:iam::33333333333?:root arn:aws-us-gov:iam::333333333330:root",
		"999900000000 members matching arn:aws-us-gov:iam::9999*:root arn:aws-us-gov:iam::999900000000:root",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("targets:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestGlob(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"9999*", "999912345678", true},
		{"9999*", "899912345678", false},
		{"1?3", "123", true},
		{"1?3", "13", false},
		{"arn:aws:iam::*:role/BreakGlass*", "arn:aws:iam::111122223333:role/BreakGlassAudit", true},
		{"arn:aws:iam::*:role/BreakGlass*", "arn:aws:iam::111122223333:role/ops/BreakGlassAudit", false},
		{"arn:aws:iam::*:role/*BreakGlass*", "arn:aws:iam::111122223333:role/ops/BreakGlassAudit", true},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
	}
	for _, c := range cases {
		if got := Glob(c.pattern, c.s); got != c.want {
			t.Errorf("Glob(%q, %q) = %v", c.pattern, c.s, got)
		}
	}
}

func TestTaskName(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials":          "IAMAuditRootUserCredentials",
		"arn:aws-cn:iam::aws:policy/root-task/SQSUnlockQueuePolicy":              "SQSUnlockQueuePolicy",
		"arn:aws:iam::aws:policy/root-task/IAMUnlockRootUserCredentials":         "",
		"arn:aws:iam::111122223333:policy/root-task/IAMAuditRootUserCredentials": "",
	} {
		if got := TaskName(arn); got != want {
			t.Errorf("TaskName(%q) = %q, want %q", arn, got, want)
		}
	}
}
