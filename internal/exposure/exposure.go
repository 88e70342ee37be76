// Package exposure answers "could anyone become root here?" for each
// account of a run, from the findings of the rules that answer it: the
// deny-root SCP, who can open root sessions, the root e-mail address and
// the root user's credentials. It reads findings only; the HTML and
// Markdown writers show its answers.
package exposure

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/rootsession"
)

// The rules whose findings answer "could anyone become root here?".
const (
	ruleSCPDeny     = "org-root-actions-not-denied"
	ruleHolders     = "org-root-session-holders"
	ruleRootEmail   = "org-root-email-outside-domains"
	ruleCredentials = "iam-root-credentials-present"
)

// credentialRules are the root credential rules, in the order shown.
var credentialRules = []string{ruleCredentials, "iam-root-active-password", "iam-root-access-key-active", "iam-root-signing-cert-active", "iam-root-no-mfa", "iam-root-no-hardware-mfa"}

// Account is one account's answer to "could anyone become root
// here?", put together from the findings of the rules above. Its text is
// the run's: a writer gives a run it has cleaned of terminal controls and
// escapes the text for its format.
type Account struct {
	AccountID, Name, OUPath string
	// Verdict is the worst status of the rows; Answer says it in words.
	Verdict finding.Status
	Answer  string
	Rows    []Row
}

// Row is one question with its status and what answers it.
type Row struct {
	Question string
	Status   finding.Status
	Answer   string
	Details  []string
}

func worst(a, b finding.Status) finding.Status {
	if a == "" || b.Urgency() > a.Urgency() {
		return b
	}
	return a
}

// Answer answers for every account of a run, in the run's order.
func Answer(run *finding.Run) []Account {
	byAccount := map[string]map[string][]finding.Finding{}
	mgmt := map[string]bool{}
	var authorities []string // accounts whose principals may open root sessions
	for _, f := range run.Findings {
		if byAccount[f.AccountID] == nil {
			byAccount[f.AccountID] = map[string][]finding.Finding{}
		}
		byAccount[f.AccountID][f.RuleID] = append(byAccount[f.AccountID][f.RuleID], f)
		if id, ok := f.Evidence["management_account_id"].(string); ok && id != "" {
			mgmt[id] = true
		}
		if f.RuleID == ruleHolders {
			switch f.Evidence["authority"] {
			case evidence.AuthorityManagement:
				mgmt[f.AccountID] = true
				fallthrough
			case evidence.AuthorityDelegatedAdmin:
				if !slices.Contains(authorities, f.AccountID) {
					authorities = append(authorities, f.AccountID)
				}
			}
		}
	}
	slices.Sort(authorities)
	var out []Account
	for _, a := range run.Accounts {
		fs := byAccount[a.AccountID]
		c := Account{AccountID: a.AccountID, Name: a.Name, OUPath: a.OUPath}
		if r, ok := scpRow(fs[ruleSCPDeny]); ok {
			c.Rows = append(c.Rows, r)
		}
		if r, ok := holdersRow(a.AccountID, mgmt[a.AccountID], fs[ruleHolders], authorities, byAccount, mgmt); ok {
			c.Rows = append(c.Rows, r)
		}
		if r, ok := simpleRow("Can someone recover its password through the root e-mail address?", fs[ruleRootEmail]); ok {
			c.Rows = append(c.Rows, r)
		}
		if r, ok := credentialsRow(fs); ok {
			c.Rows = append(c.Rows, r)
		}
		for _, r := range c.Rows {
			c.Verdict = worst(c.Verdict, r.Status)
		}
		switch {
		case len(c.Rows) == 0:
			c.Verdict = finding.StatusUnknown
			c.Answer = "not judged: no finding of these rules in this run"
			if why := a.Reason(); why != "" {
				c.Answer += " (" + string(a.Status) + ": " + why + ")"
			}
		case c.Verdict == finding.StatusFail:
			c.Answer = "yes: see the failing answers"
		case c.Verdict == finding.StatusError || c.Verdict == finding.StatusUnknown:
			c.Answer = "cannot tell: some answers are unknown"
		case c.Verdict == finding.StatusSuppressed:
			c.Answer = "only through what a suppression accepts"
		default:
			c.Answer = "no way found by the rules that answer it"
		}
		out = append(out, c)
	}
	return out
}

// simpleRow is a row from the findings of one rule: the worst status, the
// message of the worst finding.
func simpleRow(question string, fs []finding.Finding) (Row, bool) {
	if len(fs) == 0 {
		return Row{}, false
	}
	r := Row{Question: question}
	for _, f := range fs {
		if r.Status == "" || f.Status.Urgency() > r.Status.Urgency() {
			r.Status, r.Answer = f.Status, f.Message
		}
	}
	return r, true
}

func scpRow(fs []finding.Finding) (Row, bool) {
	r, ok := simpleRow("Does an SCP deny its root user every action?", fs)
	if !ok {
		return r, false
	}
	for _, f := range fs {
		for _, d := range objects(f.Evidence["denied_by"]) {
			r.Details = append(r.Details, fmt.Sprintf("denied by %s on %s", policyName(d), str(d["target"])))
		}
		for _, g := range strs(f.Evidence["gaps"]) {
			r.Details = append(r.Details, "gap: "+g)
		}
		for _, p := range strs(f.Evidence["problems"]) {
			r.Details = append(r.Details, "not read: "+p)
		}
	}
	return r, true
}

func policyName(d map[string]any) string {
	if n := str(d["policy_name"]); n != "" {
		return str(d["policy_id"]) + " (" + n + ")"
	}
	return str(d["policy_id"])
}

// holdersRow answers who can open root sessions in the account: the
// principals of the management account and of IAM's delegated
// administrator whose findings reach it.
func holdersRow(id string, isMgmt bool, own []finding.Finding, authorities []string, byAccount map[string]map[string][]finding.Finding, mgmt map[string]bool) (Row, bool) {
	r := Row{Question: "Who can open a root session in it (sts:AssumeRoot)?"}
	if isMgmt {
		r.Status, r.Answer = finding.StatusNotApplicable, "Nobody: root sessions cannot target the management account's root user."
		return r, true
	}
	if len(own) > 0 && own[0].Status == finding.StatusNotApplicable && own[0].Evidence["org_role"] == evidence.OrgRoleStandalone {
		r.Status, r.Answer = own[0].Status, own[0].Message
		return r, true
	}
	if len(own) == 0 {
		return r, false // the account was not judged: not known to be a member
	}
	var holders, expected, unsure []string
	judged := false
	for _, auth := range authorities {
		for _, f := range byAccount[auth][ruleHolders] {
			if f.AccountID == id && str(f.Evidence["principal"]) == "" {
				continue // the account's own verdict as an authority
			}
			principal := str(f.Evidence["principal"])
			switch {
			case principal == "" && (f.Status == finding.StatusPass || f.Status == finding.StatusSuppressed):
				judged = true
			case principal == "":
				unsure = append(unsure, fmt.Sprintf("%s (%s): %s", auth, f.Status, f.Message))
			case f.Status == finding.StatusUnknown || f.Status == finding.StatusError:
				judged = true
				unsure = append(unsure, fmt.Sprintf("%s %s: %s", str(f.Evidence["principal_type"]), principal, f.Message))
			default:
				judged = true
				tasks := reachTasks(f.Evidence, id)
				if len(tasks) == 0 {
					continue
				}
				line := fmt.Sprintf("%s %s: %s", str(f.Evidence["principal_type"]), principal, strings.Join(tasks, ", "))
				if len(strs(f.Evidence["conditions"])) > 0 {
					line += ", when conditions allow"
				}
				if f.Status == finding.StatusFail {
					holders = append(holders, line)
				} else {
					expected = append(expected, line+" ("+string(f.Status)+": "+cmp.Or(str(f.Evidence["allowed_by"]), "expected")+")")
				}
			}
		}
	}
	switch {
	case len(holders) > 0:
		r.Status, r.Answer = finding.StatusFail, evidence.Count(len(holders), "principal")+" can, and not as expected (allowed_principals)."
	case len(unsure) > 0:
		r.Status, r.Answer = finding.StatusUnknown, "Cannot tell for every principal."
	case !judged:
		r.Status = finding.StatusUnknown
		r.Answer = "Not judged in this run: root sessions are judged on the management account and IAM's delegated administrator"
		var ids []string
		for m := range mgmt {
			ids = append(ids, m)
		}
		slices.Sort(ids)
		if len(ids) > 0 {
			r.Answer += " (" + strings.Join(ids, ", ") + ")"
		}
		r.Answer += ", whose principals this run did not judge."
	case len(expected) > 0:
		r.Status, r.Answer = finding.StatusPass, "Only the principals expected to (allowed_principals)."
	default:
		r.Status, r.Answer = finding.StatusPass, "Nobody: no principal of the management account or IAM's delegated administrator can."
	}
	r.Details = append(append(append(r.Details, holders...), expected...), unsure...)
	return r, true
}

// reachTasks is the tasks a holder's finding lets it use on this account:
// those of the target naming it exactly, else of a pattern matching its
// root user, else of "any member".
func reachTasks(ev map[string]any, id string) []string {
	var exact, pattern, anyMember []string
	found, patterned := false, false
	for _, t := range objects(ev["targets"]) {
		m := str(t["member"])
		switch {
		case m == id:
			exact, found = strs(t["tasks"]), true
		case strings.HasPrefix(m, "members matching "):
			if globARN(strings.TrimPrefix(m, "members matching "), id) {
				pattern, patterned = append(pattern, strs(t["tasks"])...), true
			}
		case m == "any member":
			anyMember = strs(t["tasks"])
		}
	}
	switch {
	case found:
		return exact
	case patterned:
		slices.Sort(pattern)
		return slices.Compact(pattern)
	}
	return anyMember
}

// globARN matches a Resource pattern (* and ? wildcards) against the
// account's root user in any partition.
func globARN(pattern, id string) bool {
	for _, p := range []string{"aws", "aws-us-gov", "aws-cn"} {
		if rootsession.Glob(pattern, "arn:"+p+":iam::"+id+":root") {
			return true
		}
	}
	return false
}

// credentialsRow answers with the worst of the root credential rules'
// findings; the details give each rule's status, the message of every
// other one that is not a pass, and the kinds of MFA devices registered.
func credentialsRow(fs map[string][]finding.Finding) (Row, bool) {
	r := Row{Question: "Does its root user hold credentials (password, access keys, certificates, MFA)?"}
	var all []finding.Finding
	for _, id := range credentialRules {
		all = append(all, fs[id]...)
	}
	if len(all) == 0 {
		return r, false
	}
	shown := -1
	for i, f := range all {
		if shown < 0 || f.Status.Urgency() > all[shown].Status.Urgency() {
			shown = i
		}
	}
	r.Status, r.Answer = all[shown].Status, all[shown].Message
	var each []string
	for i, f := range all {
		each = append(each, f.RuleID+" "+string(f.Status))
		if i != shown && f.Status.Urgency() > finding.StatusPass.Urgency() {
			r.Details = append(r.Details, fmt.Sprintf("%s %s: %s", f.RuleID, f.Status, f.Message))
		}
	}
	r.Details = append([]string{strings.Join(each, " · ")}, r.Details...)
	var kinds []string
	for _, f := range all {
		for _, d := range objects(f.Evidence["mfa_devices"]) {
			k := str(d["kind"]) + " " + str(d["id"])
			if !slices.Contains(kinds, k) {
				kinds = append(kinds, k)
			}
		}
	}
	if len(kinds) > 0 {
		r.Details = append(r.Details, "MFA devices: "+strings.Join(kinds, "; ")+" (any registered device signs in, so the weakest decides)")
	}
	return r, true
}

// str, strs and objects read a cleaned evidence value (decoded JSON).
func str(v any) string {
	s, _ := v.(string)
	return s
}

func strs(v any) []string {
	var out []string
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
	case []string:
		out = x
	}
	return out
}

func objects(v any) []map[string]any {
	var out []map[string]any
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
	case []map[string]any:
		out = x
	}
	return out
}
