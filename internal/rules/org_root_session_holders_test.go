package rules

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

const (
	mgmtID    = "111111111111"
	memberA   = "222222222222"
	memberB   = "333333333333"
	adminARN  = "arn:aws:iam::aws:policy/AdministratorAccess"
	powerARN  = "arn:aws:iam::aws:policy/PowerUserAccess"
	taskARN   = "arn:aws:iam::aws:policy/root-task/"
	allTasks  = "IAMAuditRootUserCredentials,IAMCreateRootUserPassword,IAMDeleteRootUserCredentials,S3UnlockBucketPolicy,SQSUnlockQueuePolicy"
	adminDoc  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	powerDoc  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"},{"Effect":"Allow","Action":["account:GetAccountInformation","account:GetGovCloudAccountInformation","account:GetPrimaryEmail","account:ListRegions","iam:CreateServiceLinkedRole","iam:DeleteServiceLinkedRole","iam:ListRoles","organizations:DescribeEffectivePolicy","organizations:DescribeOrganization"],"Resource":"*"}]}`
	trustSelf = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}`
)

// stmt is a one-statement identity policy.
func stmt(effect, action, resource, condition string) string {
	s := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":%q,%s,%s`, effect, elem("Action", action), elem("Resource", resource))
	if condition != "" {
		s += `,"Condition":` + condition
	}
	return s + "}]}"
}

// elem writes "Action": x, or "NotAction": x when x starts with "!", a
// list when x holds commas.
func elem(name, v string) string {
	if strings.HasPrefix(v, "!") {
		name, v = "Not"+name, v[1:]
	}
	if strings.Contains(v, ",") {
		b, _ := json.Marshal(strings.Split(v, ","))
		return fmt.Sprintf("%q:%s", name, b)
	}
	return fmt.Sprintf("%q:%q", name, v)
}

func inline(docs ...string) []evidence.InlinePolicy {
	var out []evidence.InlinePolicy
	for i, d := range docs {
		out = append(out, evidence.InlinePolicy{Name: fmt.Sprintf("p%d", i), Document: d})
	}
	return out
}

// holdersAccount is a management account with root sessions enabled and
// the given IAM evidence; AdministratorAccess and PowerUserAccess are
// among its managed policies.
func holdersAccount(auth *evidence.IAMAuthorization) *evidence.Account {
	a := &evidence.Account{ID: mgmtID, Partition: "aws",
		Organization: &evidence.Organization{Role: evidence.OrgRoleManagement, ID: "o-abcdefghij", ManagementAccountID: mgmtID,
			EnabledFeatures: []string{evidence.FeatureRootCredentialsManagement, evidence.FeatureRootSessions}}}
	a.SetSource(evidence.SourceOrganization, evidence.SourceStatus{State: evidence.StateOK})
	if auth.Authority == "" {
		auth.Authority = evidence.AuthorityManagement
	}
	auth.ManagementAccountID, auth.OrganizationID = mgmtID, "o-abcdefghij"
	auth.Policies = append(auth.Policies,
		evidence.IAMPolicy{ARN: adminARN, Name: "AdministratorAccess", Version: "v1", Document: adminDoc},
		evidence.IAMPolicy{ARN: powerARN, Name: "PowerUserAccess", Version: "v12", Document: powerDoc})
	a.IAMAuthorization = auth
	a.SetSource(evidence.SourceIAMAuthorization, evidence.SourceStatus{State: evidence.StateOK})
	return a
}

func user(name string, docs ...string) evidence.IAMUser {
	return evidence.IAMUser{Name: name, ARN: "arn:aws:iam::" + mgmtID + ":user/" + name, Inline: inline(docs...)}
}

func role(name, trust string, docs ...string) evidence.IAMRole {
	return evidence.IAMRole{Name: name, ARN: "arn:aws:iam::" + mgmtID + ":role/" + name, Trust: trust, Inline: inline(docs...)}
}

func settingsWith(allowed ...string) Settings {
	return Settings{Values: map[string]int64{}, Lists: map[string][]string{ParamAllowedPrincipals: allowed}}
}

func evalHolders(t *testing.T, a *evidence.Account, s Settings) []Result {
	t.Helper()
	res := orgRootSessionHolders().Eval(Input{Account: a, AsOf: asOf, Settings: s})
	if len(res) == 0 {
		t.Fatal("no result")
	}
	return res
}

func resultFor(t *testing.T, res []Result, resource string) Result {
	t.Helper()
	for _, r := range res {
		if r.Resource == resource {
			return r
		}
	}
	t.Fatalf("no result for %s among %d", resource, len(res))
	return Result{}
}

func tasksOf(r Result) string {
	ts, _ := r.Evidence["tasks"].([]string)
	return strings.Join(ts, ",")
}

// TestRootSessionHolderPolicies evaluates one user per case, with one or
// more inline policies, and checks the task policies it can use.
func TestRootSessionHolderPolicies(t *testing.T) {
	member := "arn:aws:iam::" + memberA + ":root"
	cases := []struct {
		name  string
		docs  []string
		tasks string // "" when the user holds nothing
	}{
		// Each spelling of the action.
		{"Action *", []string{stmt("Allow", "*", "*", "")}, allTasks},
		{"sts:*", []string{stmt("Allow", "sts:*", "*", "")}, allTasks},
		{"sts:Assume*", []string{stmt("Allow", "sts:Assume*", "*", "")}, allTasks},
		{"sts:AssumeRoot", []string{stmt("Allow", "sts:AssumeRoot", "*", "")}, allTasks},
		{"case-insensitive action", []string{stmt("Allow", "STS:assumeroot", "*", "")}, allTasks},
		{"? wildcard", []string{stmt("Allow", "sts:AssumeRo?t", "*", "")}, allTasks},
		{"*Root", []string{stmt("Allow", "sts:*Root", "*", "")}, allTasks},
		{"sts:AssumeRole only", []string{stmt("Allow", "sts:AssumeRole", "*", "")}, ""},
		{"another service", []string{stmt("Allow", "s3:*", "*", "")}, ""},
		// NotAction.
		{"NotAction without sts", []string{stmt("Allow", "!iam:*,organizations:*", "*", "")}, allTasks},
		{"NotAction sts:*", []string{stmt("Allow", "!sts:*", "*", "")}, ""},
		{"NotAction sts:AssumeRoot", []string{stmt("Allow", "!sts:AssumeRoot", "*", "")}, ""},
		// Resources.
		{"Resource the member root", []string{stmt("Allow", "sts:AssumeRoot", member, "")}, allTasks},
		{"Resource any root", []string{stmt("Allow", "sts:AssumeRoot", "arn:aws:iam::*:root", "")}, allTasks},
		{"Resource any partition", []string{stmt("Allow", "sts:AssumeRoot", "arn:*:iam::*:root", "")}, allTasks},
		{"Resource a role", []string{stmt("Allow", "sts:AssumeRoot", "arn:aws:iam::*:role/*", "")}, ""},
		{"Resource the management root only", []string{stmt("Allow", "sts:AssumeRoot", "arn:aws:iam::"+mgmtID+":root", "")}, ""},
		{"NotResource any root", []string{stmt("Allow", "sts:AssumeRoot", "!arn:aws:iam::*:root", "")}, ""},
		{"NotResource a bucket", []string{stmt("Allow", "sts:AssumeRoot", "!arn:aws:s3:::b", "")}, allTasks},
		// sts:TaskPolicyArn under each operator.
		{"StringEquals", []string{stmt("Allow", "sts:AssumeRoot", "*", `{"StringEquals":{"sts:TaskPolicyArn":"`+taskARN+`IAMAuditRootUserCredentials"}}`)}, "IAMAuditRootUserCredentials"},
		{"StringEquals list", []string{stmt("Allow", "sts:AssumeRoot", "*", `{"StringEquals":{"sts:TaskPolicyArn":["`+taskARN+`IAMAuditRootUserCredentials","`+taskARN+`S3UnlockBucketPolicy"]}}`)}, "IAMAuditRootUserCredentials,S3UnlockBucketPolicy"},
		{"StringLike", []string{stmt("Allow", "sts:AssumeRoot", "*", `{"StringLike":{"sts:TaskPolicyArn":"*/IAM*"}}`)}, "IAMAuditRootUserCredentials,IAMCreateRootUserPassword,IAMDeleteRootUserCredentials"},
		{"ArnEquals", []string{stmt("Allow", "sts:AssumeRoot", "*", `{"ArnEquals":{"sts:TaskPolicyArn":"`+taskARN+`SQSUnlockQueuePolicy"}}`)}, "SQSUnlockQueuePolicy"},
		{"ArnLike", []string{stmt("Allow", "sts:AssumeRoot", "*", `{"ArnLike":{"sts:TaskPolicyArn":"arn:aws:iam::aws:policy/root-task/S3*"}}`)}, "S3UnlockBucketPolicy"},
		{"ForAnyValue:StringEquals", []string{stmt("Allow", "sts:AssumeRoot", "*", `{"ForAnyValue:StringEquals":{"sts:TaskPolicyArn":"`+taskARN+`IAMDeleteRootUserCredentials"}}`)}, "IAMDeleteRootUserCredentials"},
		{"ForAnyValue:StringLike", []string{stmt("Allow", "sts:AssumeRoot", "*", `{"ForAnyValue:StringLike":{"sts:TaskPolicyArn":["*SQS*","*S3*"]}}`)}, "S3UnlockBucketPolicy,SQSUnlockQueuePolicy"},
		{"ForAnyValue:ArnEquals", []string{stmt("Allow", "sts:AssumeRoot", "*", `{"ForAnyValue:ArnEquals":{"sts:TaskPolicyArn":"`+taskARN+`IAMCreateRootUserPassword"}}`)}, "IAMCreateRootUserPassword"},
		{"ForAnyValue:ArnLike", []string{stmt("Allow", "sts:AssumeRoot", "*", `{"ForAnyValue:ArnLike":{"sts:TaskPolicyArn":"arn:aws:iam::aws:policy/root-task/*Password"}}`)}, "IAMCreateRootUserPassword"},
		{"StringNotEquals", []string{stmt("Allow", "sts:AssumeRoot", "*", `{"StringNotEquals":{"sts:TaskPolicyArn":"`+taskARN+`IAMCreateRootUserPassword"}}`)}, "IAMAuditRootUserCredentials,IAMDeleteRootUserCredentials,S3UnlockBucketPolicy,SQSUnlockQueuePolicy"},
		{"a task ARN of another partition", []string{stmt("Allow", "sts:AssumeRoot", "*", `{"StringEquals":{"sts:TaskPolicyArn":"arn:aws-cn:iam::aws:policy/root-task/IAMAuditRootUserCredentials"}}`)}, ""},
		// Explicit deny in another policy.
		{"deny in another policy", []string{adminDoc, stmt("Deny", "sts:AssumeRoot", "*", "")}, ""},
		{"deny one task", []string{adminDoc, stmt("Deny", "sts:*", "*", `{"StringEquals":{"sts:TaskPolicyArn":"`+taskARN+`IAMCreateRootUserPassword"}}`)}, "IAMAuditRootUserCredentials,IAMDeleteRootUserCredentials,S3UnlockBucketPolicy,SQSUnlockQueuePolicy"},
		{"deny NotAction leaves sts", []string{adminDoc, stmt("Deny", "!sts:*", "*", "")}, allTasks},
		{"deny the member root only", []string{stmt("Allow", "sts:AssumeRoot", member, ""), stmt("Deny", "sts:AssumeRoot", member, "")}, ""},
		// Conditions the evidence cannot decide are reported, not assumed.
		{"MFA condition", []string{stmt("Allow", "sts:AssumeRoot", "*", `{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`)}, allTasks},
		// What is known of the principal decides.
		{"PrincipalArn of another user", []string{stmt("Allow", "sts:AssumeRoot", "*", `{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111111111111:user/someone-else"}}`)}, ""},
		{"username variable", []string{stmt("Allow", "sts:AssumeRoot", "*", `{"StringEquals":{"aws:username":"${aws:username}"}}`)}, allTasks},
		{"other organization", []string{stmt("Allow", "sts:AssumeRoot", "*", `{"StringEquals":{"aws:PrincipalOrgID":"o-other00000"}}`)}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := holdersAccount(&evidence.IAMAuthorization{Users: []evidence.IAMUser{user("u", c.docs...)}})
			res := evalHolders(t, a, settingsWith())
			if c.tasks == "" {
				if len(res) != 1 || res[0].Status != finding.StatusPass || res[0].Resource != "" {
					t.Fatalf("want the account's single pass, got %+v", res)
				}
				return
			}
			r := resultFor(t, res, "arn:aws:iam::111111111111:user/u")
			if r.Status != finding.StatusFail || tasksOf(r) != c.tasks {
				t.Errorf("status %s tasks %q, want fail %q; %s", r.Status, tasksOf(r), c.tasks, r.Message)
			}
		})
	}
}

func TestRootSessionHolderEvidence(t *testing.T) {
	t.Run("PowerUserAccess attached", func(t *testing.T) {
		u := user("power")
		u.Attached = []string{powerARN}
		r := evalHolders(t, holdersAccount(&evidence.IAMAuthorization{Users: []evidence.IAMUser{u}}), settingsWith())[0]
		via := strings.Join(r.Evidence["via"].([]string), "\n")
		if r.Status != finding.StatusFail || tasksOf(r) != allTasks || !strings.Contains(via, powerARN+" Statement[0]") || !strings.Contains(via, `"NotAction":["iam:*","organizations:*","account:*"]`) {
			t.Errorf("%s %q via %s", r.Status, tasksOf(r), via)
		}
		if !strings.Contains(r.Message, "IAMCreateRootUserPassword it can give a member's root user a password") {
			t.Errorf("message %q does not say what the password task allows", r.Message)
		}
	})
	t.Run("groups", func(t *testing.T) {
		u := user("g")
		u.Groups = []string{"admins", "nodeny"}
		auth := &evidence.IAMAuthorization{Users: []evidence.IAMUser{u}, Groups: []evidence.IAMGroup{
			{Name: "admins", Attached: []string{adminARN}},
			{Name: "nodeny", Inline: inline(stmt("Deny", "sts:AssumeRoot", "*", `{"StringLike":{"sts:TaskPolicyArn":"*/S*"}}`))},
		}}
		r := evalHolders(t, holdersAccount(auth), settingsWith())[0]
		if tasksOf(r) != "IAMAuditRootUserCredentials,IAMCreateRootUserPassword,IAMDeleteRootUserCredentials" {
			t.Errorf("tasks %q", tasksOf(r))
		}
		if via := strings.Join(r.Evidence["via"].([]string), "\n"); !strings.Contains(via, adminARN+" (through group admins)") {
			t.Errorf("via %s", via)
		}
		if d := strings.Join(r.Evidence["denies"].([]string), "\n"); !strings.Contains(d, "inline policy p0 of group nodeny") {
			t.Errorf("denies %s", d)
		}
	})
	t.Run("group deny wins", func(t *testing.T) {
		u := user("g", adminDoc)
		u.Groups = []string{"deny"}
		auth := &evidence.IAMAuthorization{Users: []evidence.IAMUser{u}, Groups: []evidence.IAMGroup{{Name: "deny", Inline: inline(stmt("Deny", "sts:*", "*", ""))}}}
		if r := evalHolders(t, holdersAccount(auth), settingsWith())[0]; r.Status != finding.StatusPass {
			t.Errorf("%s %s", r.Status, r.Message)
		}
	})
	t.Run("boundaries", func(t *testing.T) {
		boundaryARN := "arn:aws:iam::111111111111:policy/Boundary"
		onlyAudit := stmt("Allow", "*", "*", `{"StringEqualsIfExists":{"sts:TaskPolicyArn":"`+taskARN+`IAMAuditRootUserCredentials"}}`)
		noSTS := stmt("Allow", "s3:*", "*", "")
		denySTS := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"sts:AssumeRoot","Resource":"*"}]}`
		for _, c := range []struct {
			name, doc, tasks string
		}{{"boundary scopes", onlyAudit, "IAMAuditRootUserCredentials"}, {"boundary without sts", noSTS, ""}, {"deny in the boundary", denySTS, ""}} {
			u := user("b", adminDoc)
			u.Boundary = boundaryARN
			rl := role("rb", trustSelf, adminDoc)
			rl.Boundary = boundaryARN
			auth := &evidence.IAMAuthorization{Users: []evidence.IAMUser{u}, Roles: []evidence.IAMRole{rl},
				Policies: []evidence.IAMPolicy{{ARN: boundaryARN, Name: "Boundary", Version: "v3", Document: c.doc}}}
			res := evalHolders(t, holdersAccount(auth), settingsWith())
			if c.tasks == "" {
				if len(res) != 1 || res[0].Status != finding.StatusPass {
					t.Errorf("%s: %+v", c.name, res)
				}
				continue
			}
			for _, arn := range []string{u.ARN, rl.ARN} {
				r := resultFor(t, res, arn)
				if tasksOf(r) != c.tasks || r.Evidence["boundary"] != boundaryARN {
					t.Errorf("%s %s: tasks %q boundary %v", c.name, arn, tasksOf(r), r.Evidence["boundary"])
				}
			}
		}
	})
	t.Run("other conditions are reported", func(t *testing.T) {
		a := holdersAccount(&evidence.IAMAuthorization{Users: []evidence.IAMUser{user("mfa",
			stmt("Allow", "sts:AssumeRoot", "*", `{"Bool":{"aws:MultiFactorAuthPresent":"true"},"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`))}})
		r := evalHolders(t, a, settingsWith())[0]
		conds := strings.Join(r.Evidence["conditions"].([]string), "\n")
		if r.Status != finding.StatusFail || !strings.Contains(conds, `Bool {"aws:MultiFactorAuthPresent": "true"}`) || !strings.Contains(conds, "aws:SourceIp") || !strings.Contains(r.Message, "when conditions allow") {
			t.Errorf("%s %q conditions %s", r.Status, r.Message, conds)
		}
	})
	t.Run("one member named", func(t *testing.T) {
		a := holdersAccount(&evidence.IAMAuthorization{Users: []evidence.IAMUser{user("one",
			stmt("Allow", "sts:AssumeRoot", "arn:aws:iam::"+memberB+":root", ""))}})
		r := evalHolders(t, a, settingsWith())[0]
		targets := r.Evidence["targets"].([]map[string]any)
		if len(targets) != 2 || targets[0]["member"] != "any member" || len(targets[0]["tasks"].([]string)) != 0 ||
			targets[1]["member"] != memberB || len(targets[1]["tasks"].([]string)) != 5 || !strings.Contains(r.Message, "in "+memberB+" with") {
			t.Errorf("targets %v message %q", targets, r.Message)
		}
	})
	t.Run("every member but one", func(t *testing.T) {
		a := holdersAccount(&evidence.IAMAuthorization{Users: []evidence.IAMUser{user("but",
			stmt("Allow", "sts:AssumeRoot", "*", ""), stmt("Deny", "sts:AssumeRoot", "arn:aws:iam::"+memberB+":root", ""))}})
		r := evalHolders(t, a, settingsWith())[0]
		targets := r.Evidence["targets"].([]map[string]any)
		if len(targets) != 2 || len(targets[0]["tasks"].([]string)) != 5 || len(targets[1]["tasks"].([]string)) != 0 || !strings.Contains(r.Message, "in any member except "+memberB+" with") {
			t.Errorf("targets %v message %q", targets, r.Message)
		}
	})
	t.Run("a pattern of members", func(t *testing.T) {
		a := holdersAccount(&evidence.IAMAuthorization{Users: []evidence.IAMUser{user("pat",
			stmt("Allow", "sts:AssumeRoot", "arn:aws:iam::4444*:root", ""))}})
		r := evalHolders(t, a, settingsWith())[0]
		if r.Status != finding.StatusFail || !strings.Contains(r.Message, "members matching arn:aws:iam::4444*:root") {
			t.Errorf("%s %q", r.Status, r.Message)
		}
	})
	t.Run("allowed_principals", func(t *testing.T) {
		a := holdersAccount(&evidence.IAMAuthorization{
			Users: []evidence.IAMUser{user("alice", adminDoc)},
			Roles: []evidence.IAMRole{role("BreakGlassAudit", trustSelf, stmt("Allow", "sts:AssumeRoot", "*", `{"StringEquals":{"sts:TaskPolicyArn":"`+taskARN+`IAMAuditRootUserCredentials"}}`))}})
		res := evalHolders(t, a, settingsWith("arn:aws:iam::111111111111:role/BreakGlass*", "arn:aws:iam::*:role/other"))
		bg := resultFor(t, res, "arn:aws:iam::111111111111:role/BreakGlassAudit")
		if bg.Status != finding.StatusPass || bg.Evidence["allowed_by"] != "arn:aws:iam::111111111111:role/BreakGlass*" || !strings.Contains(bg.Message, "allowed_principals") {
			t.Errorf("break-glass: %s %v %q", bg.Status, bg.Evidence["allowed_by"], bg.Message)
		}
		if al := resultFor(t, res, "arn:aws:iam::111111111111:user/alice"); al.Status != finding.StatusFail {
			t.Errorf("alice: %s", al.Status)
		}
	})
	t.Run("one hop", func(t *testing.T) {
		assume := stmt("Allow", "sts:AssumeRole", "arn:aws:iam::111111111111:role/Admin", "")
		named := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111111111111:user/named","arn:aws:iam::999999999999:root"],"Federated":"arn:aws:iam::111111111111:saml-provider/AWSSSO_x"},"Action":["sts:AssumeRole","sts:AssumeRoleWithSAML"]},{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`
		a := holdersAccount(&evidence.IAMAuthorization{
			Users: []evidence.IAMUser{user("named"), user("allowed", assume), user("denied", assume, stmt("Deny", "sts:AssumeRole", "*", "")), user("nothing")},
			Roles: []evidence.IAMRole{role("Admin", named, adminDoc)}})
		r := resultFor(t, evalHolders(t, a, settingsWith()), "arn:aws:iam::111111111111:role/Admin")
		hops := r.Evidence["one_hop"].([]map[string]any)
		var got []string
		for _, h := range hops {
			got = append(got, h["principal"].(string))
		}
		if want := []string{"arn:aws:iam::111111111111:user/allowed", "arn:aws:iam::111111111111:user/named"}; !slices.Equal(got, want) {
			t.Errorf("one hop %v, want %v", got, want)
		}
		if hops[0]["conditions"] == nil || !strings.Contains(hops[1]["how"].(string), "named in the trust policy") {
			t.Errorf("hops %v", hops)
		}
		outside := r.Evidence["trusted_outside_account"].([]string)
		if !slices.Contains(outside, "AWS arn:aws:iam::999999999999:root") || !slices.Contains(outside, "Federated arn:aws:iam::111111111111:saml-provider/AWSSSO_x") {
			t.Errorf("outside %v", outside)
		}
	})
	t.Run("unread policies", func(t *testing.T) {
		u1 := user("holder", adminDoc)
		u1.Attached = []string{"arn:aws:iam::111111111111:policy/Gone"}
		u2 := user("unknown", `{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}`)
		a := holdersAccount(&evidence.IAMAuthorization{Users: []evidence.IAMUser{u1, u2}})
		res := evalHolders(t, a, settingsWith())
		if r := resultFor(t, res, u1.ARN); r.Status != finding.StatusFail || !strings.Contains(strings.Join(r.Evidence["unread"].([]string), ""), "policy/Gone: not in GetAccountAuthorizationDetails") {
			t.Errorf("holder: %s %v", r.Status, r.Evidence["unread"])
		}
		if r := resultFor(t, res, u2.ARN); r.Status != finding.StatusUnknown || !strings.Contains(r.Message, "cannot be read") {
			t.Errorf("unknown: %s %q", r.Status, r.Message)
		}
	})
	t.Run("root sessions not enabled", func(t *testing.T) {
		a := holdersAccount(&evidence.IAMAuthorization{Users: []evidence.IAMUser{user("u", adminDoc)}})
		a.Organization.EnabledFeatures = []string{evidence.FeatureRootCredentialsManagement}
		r := evalHolders(t, a, settingsWith())[0]
		if r.Status != finding.StatusFail || !strings.HasPrefix(r.Evidence["root_sessions"].(string), "not enabled") || !strings.Contains(r.Message, "takes effect as soon as they are enabled") {
			t.Errorf("%s %v %q", r.Status, r.Evidence["root_sessions"], r.Message)
		}
	})
	t.Run("delegated administrator", func(t *testing.T) {
		a := holdersAccount(&evidence.IAMAuthorization{Authority: evidence.AuthorityDelegatedAdmin, Users: []evidence.IAMUser{user("u", adminDoc)}})
		r := evalHolders(t, a, settingsWith())[0]
		if r.Status != finding.StatusFail || !strings.Contains(r.Evidence["scps"].(string), "were not read for it") || r.Evidence["authority"] != evidence.AuthorityDelegatedAdmin {
			t.Errorf("%s %v", r.Status, r.Evidence)
		}
	})
	t.Run("nobody", func(t *testing.T) {
		a := holdersAccount(&evidence.IAMAuthorization{Users: []evidence.IAMUser{user("reader", stmt("Allow", "s3:Get*", "*", ""))}, Roles: []evidence.IAMRole{role("r", trustSelf)}})
		res := evalHolders(t, a, settingsWith())
		if len(res) != 1 || res[0].Status != finding.StatusPass || !strings.Contains(res[0].Message, "1 user and 1 role evaluated") {
			t.Errorf("%+v", res)
		}
	})
}

// TestRootSessionSimulator: the simulator's answers are compared with
// rootwatch's; disagreements are reported either way, never resolved.
func TestRootSessionSimulator(t *testing.T) {
	sim := func(principal, task, decision string, missing ...string) evidence.PolicySimulation {
		return evidence.PolicySimulation{Principal: principal, Resource: "arn:aws:iam::999999999999:root", TaskPolicyARN: taskARN + task, Decision: decision, MissingContext: missing}
	}
	holder := user("holder", stmt("Allow", "sts:AssumeRoot", "*", `{"StringEquals":{"sts:TaskPolicyArn":"`+taskARN+`IAMAuditRootUserCredentials"}}`))
	other := user("other", stmt("Allow", "s3:*", "*", ""))
	mfa := user("mfa", stmt("Allow", "sts:AssumeRoot", "*", `{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`))
	left := user("left", adminDoc)
	a := holdersAccount(&evidence.IAMAuthorization{Users: []evidence.IAMUser{holder, other, mfa, left}})
	a.PolicySimulations = &evidence.PolicySimulations{Principals: 3, Left: []string{left.ARN}, LeftReason: "more than 1 principal to simulate", Results: []evidence.PolicySimulation{
		sim(holder.ARN, "IAMAuditRootUserCredentials", "allowed"),
		sim(holder.ARN, "IAMCreateRootUserPassword", "implicitDeny"),
		sim(holder.ARN, "S3UnlockBucketPolicy", "allowed"), // disagrees
		sim(other.ARN, "SQSUnlockQueuePolicy", "allowed"),  // disagrees
		sim(mfa.ARN, "IAMAuditRootUserCredentials", "implicitDeny", "aws:MultiFactorAuthPresent"),
	}}
	a.SetSource(evidence.SourcePolicySimulation, evidence.SourceStatus{State: evidence.StateOK, Detail: "3 principals"})
	res := evalHolders(t, a, settingsWith())

	h := resultFor(t, res, holder.ARN)
	s := h.Evidence["simulation"].(map[string]any)
	if h.Status != finding.StatusFail || s["agreements"] != 2 || len(s["disagreements"].([]string)) != 1 || !strings.Contains(h.Message, "simulator disagrees") {
		t.Errorf("holder: %s %v %q", h.Status, s, h.Message)
	}
	if d := s["disagreements"].([]string)[0]; !strings.Contains(d, "S3UnlockBucketPolicy") || !strings.Contains(d, "rootwatch: implicit deny") || !strings.Contains(d, "simulator: allowed") {
		t.Errorf("disagreement %q", d)
	}
	o := resultFor(t, res, other.ARN)
	if o.Status != finding.StatusFail || tasksOf(o) != "SQSUnlockQueuePolicy" || !strings.Contains(o.Message, "disagree") {
		t.Errorf("non-holder the simulator calls a holder: %s %q %q", o.Status, tasksOf(o), o.Message)
	}
	m := resultFor(t, res, mfa.ARN).Evidence["simulation"].(map[string]any)
	if m["disagreements"] != nil || len(m["conditional"].([]string)) != 1 || !strings.Contains(m["conditional"].([]string)[0], "it lacked aws:MultiFactorAuthPresent") {
		t.Errorf("a conditional answer cannot disagree: %v", m)
	}
	if l := resultFor(t, res, left.ARN).Evidence["simulation"].(map[string]any); !strings.Contains(l["not_compared"].(string), "more than 1 principal") {
		t.Errorf("left out: %v", l)
	}

	a.SetSource(evidence.SourcePolicySimulation, evidence.SourceStatus{State: evidence.StateDenied, Detail: "SimulatePrincipalPolicy: AccessDenied"})
	a.PolicySimulations = nil
	h = resultFor(t, evalHolders(t, a, settingsWith()), holder.ARN)
	if s := h.Evidence["simulation"].(map[string]any); !strings.Contains(s["not_compared"].(string), "denied (SimulatePrincipalPolicy: AccessDenied)") {
		t.Errorf("denied simulator: %v", s)
	}
}

func TestRootSessionApplicability(t *testing.T) {
	org := func(o *evidence.Organization) func(*testing.T) *evidence.Account {
		return func(*testing.T) *evidence.Account {
			a := &evidence.Account{ID: memberA, Partition: "aws", Organization: o}
			a.SetSource(evidence.SourceOrganization, evidence.SourceStatus{State: evidence.StateOK})
			return a
		}
	}
	member := func(d *evidence.DelegatedAdministrators) *evidence.Organization {
		return &evidence.Organization{Role: evidence.OrgRoleMember, ID: "o-abcdefghij", ManagementAccountID: mgmtID, IAMDelegatedAdmins: d}
	}
	denied := func(*testing.T) *evidence.Account {
		a := &evidence.Account{ID: mgmtID, Partition: "aws"}
		a.SetSource(evidence.SourceIAMAuthorization, evidence.SourceStatus{State: evidence.StateDenied, Detail: "GetAccountAuthorizationDetails: AccessDenied (HTTP 403): not authorized"})
		return a
	}
	s := settingsWith()
	runCases(t, orgRootSessionHolders(), []ruleCase{
		{"standalone", org(&evidence.Organization{Role: evidence.OrgRoleStandalone}), &s, finding.StatusNotApplicable, "not in an AWS Organization", nil},
		{"member, single-account scan", org(member(nil)), &s, finding.StatusNotApplicable, "ListOrganizationsFeatures was refused", nil},
		{"member, not the delegated admin", org(member(&evidence.DelegatedAdministrators{Accounts: []string{memberB}})), &s, finding.StatusNotApplicable, "not IAM's delegated administrator", nil},
		{"member, delegated admins unknown", org(member(&evidence.DelegatedAdministrators{Error: "ListDelegatedAdministrators: AccessDenied"})), &s, finding.StatusUnknown, "Cannot tell whether this member is IAM's delegated administrator", nil},
		{"delegated admin not read", org(member(&evidence.DelegatedAdministrators{Accounts: []string{memberA}})), &s, finding.StatusUnknown, "were not read", nil},
		{"management not read", org(&evidence.Organization{Role: evidence.OrgRoleManagement, ManagementAccountID: memberA}), &s, finding.StatusUnknown, "GetAccountAuthorizationDetails) were not read", nil},
		{"organization unreadable", func(*testing.T) *evidence.Account { return &evidence.Account{ID: "1"} }, &s, finding.StatusUnknown, "organization source is missing", nil},
		{"denied collection", denied, &s, finding.StatusUnknown, "GetAccountAuthorizationDetails: AccessDenied", nil},
	})
}

// TestDelegatedAdminSCPs: the SCPs in force for IAM's delegated
// administrator limit its principals' sts:AssumeRoot; SCPs that could not
// be read never take a holder away.
func TestDelegatedAdminSCPs(t *testing.T) {
	const delegated = "444444444444"
	const ou = "ou-ab12-deleg001"
	denyAssumeRoot := stmt("Deny", "sts:AssumeRoot", "*", "")
	// Denies every task but the audit.
	denyButAudit := stmt("Deny", "sts:AssumeRoot", "*", `{"StringNotEquals":{"sts:TaskPolicyArn":"`+taskARN+`IAMAuditRootUserCredentials"}}`)
	denyOutsideRegion := stmt("Deny", "*", "*", `{"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}}`)
	onlyS3 := stmt("Allow", "s3:*", "*", "")
	full := evidence.SCPPolicy{ID: "p-FullAWSAccess", Name: "FullAWSAccess", AWSManaged: true, Content: adminDoc}
	pol := func(id, doc string) evidence.SCPPolicy { return evidence.SCPPolicy{ID: id, Name: id, Content: doc} }
	account := func(s *evidence.SCPs, st evidence.SourceStatus) *evidence.Account {
		u := evidence.IAMUser{Name: "ops", ARN: "arn:aws:iam::" + delegated + ":user/ops", Inline: inline(adminDoc)}
		a := holdersAccount(&evidence.IAMAuthorization{Authority: evidence.AuthorityDelegatedAdmin, Users: []evidence.IAMUser{u}})
		a.ID = delegated
		a.Organization.Role = evidence.OrgRoleMember
		a.SCPs = s
		if s != nil || st.State != "" {
			a.SetSource(evidence.SourceSCPs, st)
		}
		return a
	}
	path := func(ouPolicies ...evidence.SCPPolicy) *evidence.SCPs {
		return &evidence.SCPs{OrganizationID: "o-abcdefghij", ManagementAccountID: mgmtID, RootID: "r-ab12", PolicyTypeStatus: evidence.SCPTypeEnabled, Problems: []string{},
			Path: []evidence.SCPTarget{
				{ID: "r-ab12", Type: evidence.TargetRoot, Policies: []evidence.SCPPolicy{full}},
				{ID: ou, Type: evidence.TargetOU, Policies: ouPolicies},
				{ID: delegated, Type: evidence.TargetAccount, Policies: []evidence.SCPPolicy{full}},
			}}
	}
	ok := evidence.SourceStatus{State: evidence.StateOK}
	const holder = "arn:aws:iam::" + delegated + ":user/ops"

	t.Run("an SCP on its OU denies sts:AssumeRoot", func(t *testing.T) {
		res := evalHolders(t, account(path(full, pol("p-denyassumeroot", denyAssumeRoot)), ok), settingsWith())
		if len(res) != 1 || res[0].Status != finding.StatusPass || res[0].Resource != "" {
			t.Fatalf("want one pass for the account, got %+v", res)
		}
		if note := res[0].Evidence["scps"].(string); !strings.Contains(note, "applied: 4 SCPs along r-ab12 → "+ou+" → "+delegated) {
			t.Errorf("scps note %q", note)
		}
		if !strings.Contains(res[0].Message, "SCPs in force for it were applied") {
			t.Errorf("message %q", res[0].Message)
		}
	})
	t.Run("an SCP leaves it the audit task", func(t *testing.T) {
		r := resultFor(t, evalHolders(t, account(path(full, pol("p-onlyaudit01", denyButAudit)), ok), settingsWith()), holder)
		if r.Status != finding.StatusFail || !slices.Equal(r.Evidence["tasks"].([]string), []string{"IAMAuditRootUserCredentials"}) {
			t.Errorf("%s %v", r.Status, r.Evidence["tasks"])
		}
	})
	t.Run("an SCP with a condition the evidence cannot decide", func(t *testing.T) {
		r := resultFor(t, evalHolders(t, account(path(full, pol("p-regions0001", denyOutsideRegion)), ok), settingsWith()), holder)
		conds, _ := r.Evidence["conditions"].([]string)
		if r.Status != finding.StatusFail || len(conds) == 0 || !strings.Contains(strings.Join(conds, " "), "aws:RequestedRegion") || !strings.Contains(r.Message, "when conditions allow") {
			t.Errorf("%s %v %q", r.Status, r.Evidence["conditions"], r.Message)
		}
	})
	t.Run("an allow list at one level without sts", func(t *testing.T) {
		res := evalHolders(t, account(path(pol("p-onlys30001", onlyS3)), ok), settingsWith())
		if len(res) != 1 || res[0].Status != finding.StatusPass {
			t.Errorf("%+v", res)
		}
	})
	// Fail closed: what could not be read never takes a holder away.
	for _, c := range []struct {
		name string
		a    *evidence.Account
		note string
	}{
		{"SCP evidence missing", account(nil, evidence.SourceStatus{}), "were not read for it"},
		{"SCP source denied", account(nil, evidence.SourceStatus{State: evidence.StateDenied, Detail: "ListRoots: AccessDenied"}), "could not be read (denied: ListRoots: AccessDenied)"},
		{"ListRoots refused", account(&evidence.SCPs{OrganizationID: "o-abcdefghij", Problems: []string{"ListRoots: AccessDenied"}}, evidence.SourceStatus{State: evidence.StateDenied, Detail: "ListRoots: AccessDenied"}), "whether they are enabled is unknown (ListRoots: AccessDenied)"},
		{"the denying SCP not described", func() *evidence.Account {
			s := path(pol("p-onlys30001", onlyS3), evidence.SCPPolicy{ID: "p-secret0001", Name: "Secret", Error: "DescribePolicy p-secret0001: AccessDenied"})
			s.Problems = []string{"DescribePolicy p-secret0001: AccessDenied"}
			return account(s, evidence.SourceStatus{State: evidence.StateDenied, Detail: s.Problems[0]})
		}(), "evaluated as allowing everything: SCP p-secret0001 (Secret) on " + ou + ": DescribePolicy p-secret0001: AccessDenied"},
		{"the OU's attachments not listed", func() *evidence.Account {
			s := path()
			s.Path[1].Policies, s.Path[1].Error = nil, "ListPoliciesForTarget "+ou+": AccessDenied"
			s.Problems = []string{s.Path[1].Error}
			return account(s, evidence.SourceStatus{State: evidence.StateDenied, Detail: s.Problems[0]})
		}(), "the SCPs attached to " + ou},
		{"an SCP that does not parse", account(path(pol("p-onlys30001", onlyS3), pol("p-broken0001", `{"Statement":`)), ok), "SCP p-broken0001 (p-broken0001) on " + ou + " does not parse"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := resultFor(t, evalHolders(t, c.a, settingsWith()), holder)
			note, _ := r.Evidence["scps"].(string)
			if r.Status != finding.StatusFail || !strings.Contains(note, c.note) {
				t.Errorf("%s, scps %q; want fail and %q", r.Status, note, c.note)
			}
		})
	}
	t.Run("SCPs not enabled", func(t *testing.T) {
		s := &evidence.SCPs{OrganizationID: "o-abcdefghij", RootID: "r-ab12", Problems: []string{}}
		r := resultFor(t, evalHolders(t, account(s, ok), settingsWith()), holder)
		if r.Status != finding.StatusFail || !strings.Contains(r.Evidence["scps"].(string), "not enabled") {
			t.Errorf("%s %v", r.Status, r.Evidence["scps"])
		}
	})
}
