// Package rootsession answers "who in this account may open a root session
// in a member account" from the IAM evidence of an organization's
// management account or IAM delegated administrator. It builds each user's
// and role's policies (inline, attached managed at their default version,
// the user's groups', the permissions boundary), chooses the member root
// ARNs worth asking about, and evaluates sts:AssumeRoot for each of the
// five task policies with internal/policy/eval.
//
// It does no I/O. The rule org-root-session-holders judges with it, and
// collection uses it to choose whom to cross-check with IAM's policy
// simulator (a plan of what to read, not a verdict).
package rootsession

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/policy"
	"github.com/rootwatch/rootwatch/internal/policy/eval"
)

// Tasks are the names of the five task policies sts:AssumeRoot accepts,
// sorted.
var Tasks = []string{
	"IAMAuditRootUserCredentials",
	"IAMCreateRootUserPassword",
	"IAMDeleteRootUserCredentials",
	"S3UnlockBucketPolicy",
	"SQSUnlockQueuePolicy",
}

// TaskARN is a task policy's ARN in a partition.
func TaskARN(partition, name string) string {
	return "arn:" + partition + ":iam::aws:policy/root-task/" + name
}

// TaskName is the task policy name of an ARN, or "" when it is none of
// the five.
func TaskName(arn string) string {
	name := arn[strings.LastIndexByte(arn, '/')+1:]
	if !slices.Contains(Tasks, name) || !strings.HasSuffix(arn, ":iam::aws:policy/root-task/"+name) {
		return ""
	}
	return name
}

// Principal is a user or role with what decides its requests.
type Principal struct {
	ARN  string
	Name string
	// Kind is "user" or "role".
	Kind     string
	Policies eval.Policies
	// Unread lists identity policies that could not be read (absent from
	// the evidence, or not parseable), with why: each may grant or deny.
	Unread []string
	// BoundaryUnread says why the permissions boundary could not be read;
	// it is then evaluated as if it allowed everything.
	BoundaryUnread string
	// Trust is a role's trust policy (nil: a user, or TrustUnread says
	// why it could not be read).
	Trust       *eval.Policy
	TrustUnread string
	// Context is what is known of every request the principal makes.
	Context eval.Context
}

// Target is a member root user a principal may ask AssumeRoot for.
type Target struct {
	Account string
	ARN     string
	// Generic stands for every member no policy names specifically.
	Generic bool
	// Pattern is the Resource pattern this account was made up to match
	// (e.g. arn:aws:iam::1111*:root), "" for accounts named exactly.
	Pattern string
}

// Describe names a target for a finding: an account, "any member", or a
// pattern.
func (t Target) Describe() string {
	switch {
	case t.Generic:
		return "any member"
	case t.Pattern != "":
		return "members matching " + t.Pattern
	}
	return t.Account
}

// Model is an account's principals and the targets worth evaluating.
type Model struct {
	Account    string
	Partition  string
	Management string
	Principals []*Principal
	Targets    []Target
}

// Build reads the evidence. account and partition are the account's own.
func Build(a *evidence.IAMAuthorization, account, partition string) *Model {
	if partition == "" {
		partition = "aws"
	}
	m := &Model{Account: account, Partition: partition, Management: a.ManagementAccountID}
	managed := map[string]*eval.Policy{}
	managedErr := map[string]string{}
	for _, p := range a.Policies {
		pol, err := eval.Parse([]byte(p.Document))
		if err != nil {
			managedErr[p.ARN] = fmt.Sprintf("%s (version %s) cannot be read: %v", p.ARN, p.Version, err)
			continue
		}
		managed[p.ARN] = pol
	}
	// attach adds managed policies by ARN; via says through what (a group).
	attach := func(pr *Principal, arns []string, via string) {
		for _, arn := range arns {
			name := arn + via
			switch pol, ok := managed[arn]; {
			case ok:
				pr.Policies.Identity = append(pr.Policies.Identity, eval.Named{Name: name, Policy: pol})
			case managedErr[arn] != "":
				pr.Unread = append(pr.Unread, managedErr[arn]+via)
			default:
				pr.Unread = append(pr.Unread, arn+via+": not in GetAccountAuthorizationDetails' answer")
			}
		}
	}
	inline := func(pr *Principal, ps []evidence.InlinePolicy, owner string) {
		for _, ip := range ps {
			name := "inline policy " + ip.Name + " of " + owner
			pol, err := eval.Parse([]byte(ip.Document))
			if err != nil {
				pr.Unread = append(pr.Unread, name+" cannot be read: "+err.Error())
				continue
			}
			pr.Policies.Identity = append(pr.Policies.Identity, eval.Named{Name: name, Policy: pol})
		}
	}
	boundary := func(pr *Principal, arn string) {
		if arn == "" {
			return
		}
		switch pol, ok := managed[arn]; {
		case ok:
			pr.Policies.Boundary = &eval.Named{Name: arn, Policy: pol}
		case managedErr[arn] != "":
			pr.BoundaryUnread = managedErr[arn]
		default:
			pr.BoundaryUnread = arn + ": not in GetAccountAuthorizationDetails' answer"
		}
	}
	groups := map[string]evidence.IAMGroup{}
	for _, g := range a.Groups {
		groups[g.Name] = g
	}
	for _, u := range a.Users {
		pr := &Principal{ARN: u.ARN, Name: u.Name, Kind: "user"}
		inline(pr, u.Inline, "user "+u.Name)
		attach(pr, u.Attached, "")
		for _, gn := range u.Groups {
			g, ok := groups[gn]
			if !ok {
				pr.Unread = append(pr.Unread, "group "+gn+": not in GetAccountAuthorizationDetails' answer")
				continue
			}
			inline(pr, g.Inline, "group "+gn)
			attach(pr, g.Attached, " (through group "+gn+")")
		}
		boundary(pr, u.Boundary)
		pr.Context = m.scenario(a, pr, u.ID, u.Tags)
		m.Principals = append(m.Principals, pr)
	}
	for _, r := range a.Roles {
		pr := &Principal{ARN: r.ARN, Name: r.Name, Kind: "role"}
		inline(pr, r.Inline, "role "+r.Name)
		attach(pr, r.Attached, "")
		boundary(pr, r.Boundary)
		if t, err := eval.Parse([]byte(r.Trust)); err != nil {
			pr.TrustUnread = "the trust policy cannot be read: " + err.Error()
		} else {
			pr.Trust = t
		}
		pr.Context = m.scenario(a, pr, "", nil)
		m.Principals = append(m.Principals, pr)
	}
	slices.SortFunc(m.Principals, func(x, y *Principal) int { return strings.Compare(x.ARN, y.ARN) })
	m.Targets = m.targets()
	return m
}

// scenario is what every request of the principal carries (IAM User
// Guide, "AWS global condition context keys"): its ARN, account, type and
// organization, a user's name, id and tags; the call is made directly (not
// through a service) and not from a root session. Everything else (MFA,
// source address, time, session tags) is left open.
func (m *Model) scenario(a *evidence.IAMAuthorization, pr *Principal, id string, tags map[string]string) eval.Context {
	vals := map[string]eval.Value{
		"aws:PrincipalArn":          eval.ARN(pr.ARN),
		"aws:PrincipalAccount":      eval.String(m.Account),
		"aws:PrincipalIsAWSService": eval.Bool(false),
		"aws:ViaAWSService":         eval.Bool(false),
	}
	absent := []string{"aws:AssumedRoot"}
	if a.OrganizationID != "" {
		vals["aws:PrincipalOrgID"] = eval.String(a.OrganizationID)
	}
	if pr.Kind == "user" {
		vals["aws:PrincipalType"] = eval.String("User")
		vals["aws:username"] = eval.String(pr.Name)
		if id != "" {
			vals["aws:userid"] = eval.String(id)
		}
		for k, v := range tags {
			vals["aws:PrincipalTag/"+k] = eval.String(v)
		}
	} else {
		vals["aws:PrincipalType"] = eval.String("AssumedRole")
		absent = append(absent, "aws:username")
	}
	return eval.Scenario(vals, absent...)
}

// targets chooses the member roots to evaluate: one standing for every
// member no policy names, each account a Resource names exactly, and one
// account made up to match each partial pattern (arn:aws:iam::1111*:root).
// Each principal is evaluated once per target, not once per member. The
// management account's root is no member: AssumeRoot cannot target it.
func (m *Model) targets() []Target {
	patterns := map[string]bool{}
	for _, pr := range m.Principals {
		named := slices.Clone(pr.Policies.Identity)
		if pr.Policies.Boundary != nil {
			named = append(named, *pr.Policies.Boundary)
		}
		for _, n := range named {
			for _, st := range n.Policy.Statements {
				if st.Resource == nil {
					continue
				}
				for _, r := range st.Resource.List {
					f := strings.SplitN(r, ":", 6)
					if len(f) == 6 && glob(f[2], "iam") && glob(f[5], "root") && f[4] != "*" && f[4] != "" {
						patterns[f[4]] = true
					}
				}
			}
		}
	}
	seen := map[string]bool{m.Management: true, "": true}
	var out []Target
	add := func(t Target) {
		if seen[t.Account] {
			return
		}
		seen[t.Account] = true
		t.ARN = "arn:" + m.Partition + ":iam::" + t.Account + ":root"
		out = append(out, t)
	}
	for _, p := range slices.Sorted(maps.Keys(patterns)) {
		if !strings.ContainsAny(p, "*?") {
			if evidence.ValidAccountID(p) {
				add(Target{Account: p})
			}
			continue
		}
		if s, ok := sample(p, seen); ok {
			add(Target{Account: s, Pattern: "arn:" + m.Partition + ":iam::" + p + ":root"})
		}
	}
	// The generic member: an account no pattern but "*" matches. Patterns
	// are few and finite; a few hundred spread-out candidates find one
	// unless the patterns cover every account (then none is needed).
	n := int64(999999999999)
	for range 500 {
		id := strconv.FormatInt(n, 10)
		if !seen[id] && !matchesAny(patterns, id) {
			add(Target{Account: id, Generic: true})
			break
		}
		n = (n*6364136223846793005+1442695040888963407)&(1<<62-1)%900000000000 + 100000000000
	}
	slices.SortStableFunc(out, func(x, y Target) int {
		if x.Generic != y.Generic {
			if x.Generic {
				return -1
			}
			return 1
		}
		return strings.Compare(x.Account, y.Account)
	})
	return out
}

// sample makes up a 12-digit account id that a pattern of the account
// field matches, avoiding those already taken.
func sample(p string, taken map[string]bool) (string, bool) {
	for _, fill := range "0123456789" {
		stars := strings.Count(p, "*")
		fixed := len(p) - stars
		if fixed > 12 {
			return "", false
		}
		var b strings.Builder
		rest := 12 - fixed
		for _, c := range p {
			switch c {
			case '?':
				b.WriteRune(fill)
			case '*':
				b.WriteString(strings.Repeat(string(fill), rest))
				rest = 0
			default:
				b.WriteRune(c)
			}
		}
		id := b.String()
		if evidence.ValidAccountID(id) && glob(p, id) && !taken[id] {
			return id, true
		}
	}
	return "", false
}

// glob matches s against a pattern with * (any run) and ? (one
// character), as IAM wildcards within one ARN field do.
func glob(pattern, s string) bool {
	px, sx := 0, 0
	star, mark := -1, 0
	for sx < len(s) {
		switch {
		case px < len(pattern) && (pattern[px] == '?' || pattern[px] == s[sx]):
			px++
			sx++
		case px < len(pattern) && pattern[px] == '*':
			star, mark = px, sx
			px++
		case star >= 0:
			px = star + 1
			mark++
			sx = mark
		default:
			return false
		}
	}
	for px < len(pattern) && pattern[px] == '*' {
		px++
	}
	return px == len(pattern)
}

// Glob is glob for callers matching whole ARNs (allowed_principals): *
// matches any run of characters, ? one.
func Glob(pattern, s string) bool { return glob(pattern, s) }

// Answer is the decision for one task on one target.
type Answer struct {
	Target Target
	Task   string
	Result eval.Result
}

// Usable reports whether the task may be used: allowed, or allowed
// depending on conditions the evidence cannot decide.
func (a Answer) Usable() bool {
	return a.Result.Decision == eval.Allowed || a.Result.Decision == eval.Conditional
}

// Holding is what one principal may do with sts:AssumeRoot.
type Holding struct {
	Principal *Principal
	Answers   []Answer
	// Tasks are the task names usable on at least one target, sorted.
	Tasks []string
	// IdentityAllows: some identity policy statement allows (or may allow)
	// sts:AssumeRoot for some task and target, before Denies and the
	// boundary: the principal is a holder or close to one.
	IdentityAllows bool
}

// Holder reports whether the principal may open a root session.
func (h Holding) Holder() bool { return len(h.Tasks) > 0 }

// Request is sts:AssumeRoot on a member root for a task, in the principal's
// scenario.
func (m *Model) Request(p *Principal, resource, task string) eval.Request {
	return eval.Request{Action: "sts:AssumeRoot", Resource: resource,
		Context: p.Context.With("sts:TaskPolicyArn", eval.ARN(TaskARN(m.Partition, task)))}
}

// Decide evaluates one request: the principal, a member root ARN and a
// task name.
func (m *Model) Decide(p *Principal, resource, task string) eval.Result {
	return eval.Evaluate(m.Request(p, resource, task), p.Policies)
}

// Evaluate answers for every target and task.
func (m *Model) Evaluate(p *Principal) Holding {
	h := Holding{Principal: p}
	values := make([]eval.Value, len(Tasks))
	for i, t := range Tasks {
		values[i] = eval.ARN(TaskARN(m.Partition, t))
	}
	usable := map[string]bool{}
	for _, t := range m.Targets {
		req := eval.Request{Action: "sts:AssumeRoot", Resource: t.ARN, Context: p.Context}
		for i, vr := range eval.EvaluateValues(req, p.Policies, "sts:TaskPolicyArn", values) {
			a := Answer{Target: t, Task: Tasks[i], Result: vr.Result}
			h.Answers = append(h.Answers, a)
			if a.Usable() {
				usable[a.Task] = true
			}
			if slices.ContainsFunc(vr.Result.Allows, func(x eval.Match) bool { return x.Layer == eval.LayerIdentity }) {
				h.IdentityAllows = true
			}
		}
	}
	h.Tasks = slices.Sorted(maps.Keys(usable))
	return h
}

// Principal finds a principal by ARN.
func (m *Model) Principal(arn string) *Principal {
	i, ok := slices.BinarySearchFunc(m.Principals, arn, func(p *Principal, a string) int { return strings.Compare(p.ARN, a) })
	if !ok {
		return nil
	}
	return m.Principals[i]
}

// Hop is a principal of the same account that can assume a role.
type Hop struct {
	Principal string
	How       string
	// Conditions the way depends on (trust statements, identity
	// statements or Denies with conditions the evidence cannot decide).
	Conditions []string
}

// OneHop lists the account's other users and roles that may assume the
// role: those its trust policy names (within one account that suffices,
// unless their own policies deny it) and, when it trusts the account,
// those whose own policies allow sts:AssumeRole on it.
func (m *Model) OneHop(role *Principal) []Hop {
	if role.Trust == nil {
		return nil
	}
	trust := eval.Named{Name: "trust policy of " + role.ARN, Policy: role.Trust}
	var out []Hop
	for _, q := range m.Principals {
		if q == role {
			continue
		}
		req := eval.Request{Action: "sts:AssumeRole", Resource: role.ARN, Context: q.Context}
		allows, denies := eval.EvaluateResourcePolicy(trust, q.ARN, req)
		if len(allows) == 0 || slices.ContainsFunc(denies, func(d eval.Match) bool { return len(d.Pending) == 0 }) {
			continue
		}
		own := eval.Evaluate(req, q.Policies)
		if own.Decision == eval.ExplicitDeny {
			continue
		}
		var conds []string
		named := false
		for _, a := range allows {
			named = named || a.Principal == eval.PrincipalNamed
		}
		for _, a := range append(allows, denies...) {
			if len(a.Pending) > 0 {
				conds = append(conds, a.String())
			}
		}
		how := ""
		switch {
		case named:
			how = "named in the trust policy"
		case own.Decision == eval.Allowed || own.Decision == eval.Conditional:
			how = "the trust policy trusts the account and " + q.Kind + " " + q.Name + "'s own policies allow sts:AssumeRole on the role"
			for _, x := range append(own.Allows, own.Denies...) {
				if len(x.Pending) > 0 {
					conds = append(conds, x.String())
				}
			}
		default:
			continue
		}
		out = append(out, Hop{Principal: q.ARN, How: how, Conditions: dedupe(conds)})
	}
	return out
}

// TrustedOutside lists what a role's trust policy lets in from outside
// the account's own users and roles: other accounts, services, identity
// providers (IAM Identity Center's roles trust a SAML provider), everyone.
func (m *Model) TrustedOutside(role *Principal) []string {
	if role.Trust == nil {
		return nil
	}
	var out []string
	for _, st := range role.Trust.Statements {
		if st.Effect != policy.Allow || st.Principal == nil {
			continue
		}
		prefix := ""
		if st.NotPrincipal {
			prefix = "everyone but "
		}
		if st.Principal.Any {
			out = append(out, prefix+"* (anyone)")
			continue
		}
		for _, e := range st.Principal.Entries {
			for _, v := range e.Values.List {
				if e.Type == "AWS" && !st.NotPrincipal && (v == m.Account || strings.Contains(v, ":iam::"+m.Account+":")) {
					continue // the account's own principals: OneHop
				}
				out = append(out, prefix+e.Type+" "+v)
			}
		}
	}
	return dedupe(out)
}

// Statements prints matches as evidence: the layer, policy and statement,
// what it depends on, and the statement's JSON.
func Statements(ms []eval.Match) []string {
	var out []string
	for _, x := range ms {
		out = append(out, x.String()+": "+x.Statement.JSON())
	}
	return dedupe(out)
}

func dedupe(ss []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func matchesAny(patterns map[string]bool, id string) bool {
	for p := range patterns {
		if glob(p, id) {
			return true
		}
	}
	return false
}
