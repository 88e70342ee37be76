package awsfake

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"hash/fnv"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/rootwatch/rootwatch/internal/policy"
	"github.com/rootwatch/rootwatch/internal/policy/eval"
)

// IAMSpec is an account's IAM principals and policies, served by
// GetAccountAuthorizationDetails and evaluated by SimulatePrincipalPolicy.
type IAMSpec struct {
	Users    []IAMUserSpec   `yaml:"users"`
	Groups   []IAMGroupSpec  `yaml:"groups"`
	Roles    []IAMRoleSpec   `yaml:"roles"`
	Policies []IAMPolicySpec `yaml:"policies"` // customer managed
	// PageSize is GetAccountAuthorizationDetails' default MaxItems
	// (AWS's is 100).
	PageSize int `yaml:"page_size"`
	// Simulate forces SimulatePrincipalPolicy's decision for a principal
	// (user or role name) and task policy name: a simulator that disagrees.
	Simulate []SimulateOverride `yaml:"simulate"`
}

// IAMUserSpec is an IAM user. It must also be listed under users (the
// credential report lists every user). Managed names an AWS managed
// policy by name (AdministratorAccess), a customer managed one of the
// account by name, or any policy by ARN; so does Boundary.
type IAMUserSpec struct {
	Name     string            `yaml:"name"`
	Path     string            `yaml:"path"`
	Groups   []string          `yaml:"groups"`
	Inline   map[string]string `yaml:"inline"`
	Managed  []string          `yaml:"managed"`
	Boundary string            `yaml:"boundary"`
	Tags     map[string]string `yaml:"tags"`
}

// IAMGroupSpec is an IAM group.
type IAMGroupSpec struct {
	Name    string            `yaml:"name"`
	Path    string            `yaml:"path"`
	Inline  map[string]string `yaml:"inline"`
	Managed []string          `yaml:"managed"`
}

// IAMRoleSpec is an IAM role; Trust defaults to trusting the account.
type IAMRoleSpec struct {
	Name     string            `yaml:"name"`
	Path     string            `yaml:"path"`
	Trust    string            `yaml:"trust"`
	Inline   map[string]string `yaml:"inline"`
	Managed  []string          `yaml:"managed"`
	Boundary string            `yaml:"boundary"`
}

// IAMPolicySpec is a customer managed policy: Document is its default
// version; Older are earlier versions (v1…), which IAM keeps but does not
// evaluate.
type IAMPolicySpec struct {
	Name     string   `yaml:"name"`
	Path     string   `yaml:"path"`
	Document string   `yaml:"document"`
	Older    []string `yaml:"older"`
}

// SimulateOverride is a forced simulator answer.
type SimulateOverride struct {
	Principal string `yaml:"principal"`
	Task      string `yaml:"task"`
	Decision  string `yaml:"decision"` // allowed, implicitDeny, explicitDeny
}

// awsManaged are the AWS managed policies the fake knows, at their
// current default versions (AWS Managed Policy Reference).
var awsManaged = map[string]struct{ version, document string }{
	"AdministratorAccess": {"v1", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`},
	// PowerUserAccess v12 (edited 2026-02-12): everything but iam:*,
	// organizations:* and account:*, and a few reads of those.
	"PowerUserAccess": {"v12", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"},{"Effect":"Allow","Action":["account:GetAccountInformation","account:GetGovCloudAccountInformation","account:GetPrimaryEmail","account:ListRegions","iam:CreateServiceLinkedRole","iam:DeleteServiceLinkedRole","iam:ListRoles","organizations:DescribeEffectivePolicy","organizations:DescribeOrganization"],"Resource":"*"}]}`},
}

// managedPolicy is a managed policy resolved from a reference.
type managedPolicy struct {
	arn, name, path string
	aws             bool
	versions        []string // oldest first; the last is the default
}

func (m managedPolicy) id() string {
	h := fnv.New64a()
	h.Write([]byte(m.arn))
	return "ANPA" + strings.ToUpper(fmt.Sprintf("%016x", h.Sum64()))
}

// resolve finds a managed policy by AWS managed name, customer name or ARN.
func (sp *IAMSpec) resolve(a *Account, ref string) (managedPolicy, bool) {
	p := partition(a)
	for _, c := range sp.Policies {
		path := orDefault(c.Path, "/")
		arn := fmt.Sprintf("arn:%s:iam::%s:policy%s%s", p, a.ID, path, c.Name)
		if ref == c.Name || ref == arn {
			return managedPolicy{arn: arn, name: c.Name, path: path, versions: append(slices.Clone(c.Older), c.Document)}, true
		}
	}
	for name, m := range awsManaged {
		arn := fmt.Sprintf("arn:%s:iam::aws:policy/%s", p, name)
		if ref == name || ref == arn {
			n, _ := strconv.Atoi(strings.TrimPrefix(m.version, "v"))
			versions := make([]string, n)
			for i := range versions[:n-1] {
				versions[i] = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}`
			}
			versions[n-1] = m.document
			return managedPolicy{arn: arn, name: name, path: "/", aws: true, versions: versions}, true
		}
	}
	return managedPolicy{}, false
}

// validate checks references: users in the credential report, groups,
// managed policies and simulator overrides that exist, documents IAM
// would accept.
func (sp *IAMSpec) validate(a *Account) error {
	if sp == nil {
		return nil
	}
	docs := func(who string, inline map[string]string, managed []string, boundary string) error {
		for name, d := range inline {
			if _, err := policy.Parse([]byte(d)); err != nil {
				return fmt.Errorf("iam %s inline policy %s: %w", who, name, err)
			}
		}
		for _, m := range append(slices.Clone(managed), boundary) {
			if _, ok := sp.resolve(a, m); m != "" && !ok {
				return fmt.Errorf("iam %s: no managed policy %q (customer policies go under iam.policies; AWS managed ones known: %s)", who, m, strings.Join(slices.Sorted(maps.Keys(awsManaged)), ", "))
			}
		}
		return nil
	}
	for _, p := range sp.Policies {
		for _, d := range append(slices.Clone(p.Older), p.Document) {
			if _, err := policy.Parse([]byte(d)); err != nil {
				return fmt.Errorf("iam policy %s: %w", p.Name, err)
			}
		}
	}
	groups := map[string]bool{}
	for _, g := range sp.Groups {
		groups[g.Name] = true
		if err := docs("group "+g.Name, g.Inline, g.Managed, ""); err != nil {
			return err
		}
	}
	for _, u := range sp.Users {
		if !slices.ContainsFunc(a.Users, func(p Principal) bool { return p.Name == u.Name }) {
			return fmt.Errorf("iam user %s is not under users (the credential report lists every user)", u.Name)
		}
		for _, g := range u.Groups {
			if !groups[g] {
				return fmt.Errorf("iam user %s: no group %s", u.Name, g)
			}
		}
		if err := docs("user "+u.Name, u.Inline, u.Managed, u.Boundary); err != nil {
			return err
		}
	}
	for _, r := range sp.Roles {
		if r.Trust != "" {
			if _, err := policy.Parse([]byte(r.Trust)); err != nil {
				return fmt.Errorf("iam role %s trust policy: %w", r.Name, err)
			}
		}
		if err := docs("role "+r.Name, r.Inline, r.Managed, r.Boundary); err != nil {
			return err
		}
	}
	for _, o := range sp.Simulate {
		switch o.Decision {
		case "allowed", "implicitDeny", "explicitDeny":
		default:
			return fmt.Errorf("iam simulate %s: decision %q (want allowed, implicitDeny or explicitDeny)", o.Principal, o.Decision)
		}
	}
	return nil
}

// encodeDocument URL-encodes a policy document as IAM returns it (RFC
// 3986: a space is %20, not +).
func encodeDocument(d string) string { return strings.ReplaceAll(url.QueryEscape(d), "+", "%20") }

type xmlPolicyDetail struct {
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

type xmlAttached struct {
	PolicyName string `xml:"PolicyName"`
	PolicyArn  string `xml:"PolicyArn"`
}

type xmlBoundary struct {
	PermissionsBoundaryType string `xml:"PermissionsBoundaryType"`
	PermissionsBoundaryArn  string `xml:"PermissionsBoundaryArn"`
}

type xmlTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type xmlUserDetail struct {
	Path                    string            `xml:"Path"`
	UserName                string            `xml:"UserName"`
	UserID                  string            `xml:"UserId"`
	Arn                     string            `xml:"Arn"`
	CreateDate              string            `xml:"CreateDate"`
	UserPolicyList          []xmlPolicyDetail `xml:"UserPolicyList>member"`
	GroupList               []string          `xml:"GroupList>member"`
	AttachedManagedPolicies []xmlAttached     `xml:"AttachedManagedPolicies>member"`
	PermissionsBoundary     *xmlBoundary      `xml:"PermissionsBoundary,omitempty"`
	Tags                    []xmlTag          `xml:"Tags>member"`
}

type xmlGroupDetail struct {
	Path                    string            `xml:"Path"`
	GroupName               string            `xml:"GroupName"`
	GroupID                 string            `xml:"GroupId"`
	Arn                     string            `xml:"Arn"`
	CreateDate              string            `xml:"CreateDate"`
	GroupPolicyList         []xmlPolicyDetail `xml:"GroupPolicyList>member"`
	AttachedManagedPolicies []xmlAttached     `xml:"AttachedManagedPolicies>member"`
}

type xmlRoleDetail struct {
	Path                     string            `xml:"Path"`
	RoleName                 string            `xml:"RoleName"`
	RoleID                   string            `xml:"RoleId"`
	Arn                      string            `xml:"Arn"`
	CreateDate               string            `xml:"CreateDate"`
	AssumeRolePolicyDocument string            `xml:"AssumeRolePolicyDocument"`
	RolePolicyList           []xmlPolicyDetail `xml:"RolePolicyList>member"`
	AttachedManagedPolicies  []xmlAttached     `xml:"AttachedManagedPolicies>member"`
	PermissionsBoundary      *xmlBoundary      `xml:"PermissionsBoundary,omitempty"`
}

type xmlPolicyVersion struct {
	Document         string `xml:"Document"`
	VersionID        string `xml:"VersionId"`
	IsDefaultVersion bool   `xml:"IsDefaultVersion"`
	CreateDate       string `xml:"CreateDate"`
}

type xmlManagedPolicy struct {
	PolicyName                    string             `xml:"PolicyName"`
	PolicyID                      string             `xml:"PolicyId"`
	Arn                           string             `xml:"Arn"`
	Path                          string             `xml:"Path"`
	DefaultVersionID              string             `xml:"DefaultVersionId"`
	AttachmentCount               int                `xml:"AttachmentCount"`
	PermissionsBoundaryUsageCount int                `xml:"PermissionsBoundaryUsageCount"`
	IsAttachable                  bool               `xml:"IsAttachable"`
	CreateDate                    string             `xml:"CreateDate"`
	UpdateDate                    string             `xml:"UpdateDate"`
	PolicyVersionList             []xmlPolicyVersion `xml:"PolicyVersionList>member"`
}

type authDetailsResult struct {
	XMLName         xml.Name
	UserDetailList  []xmlUserDetail    `xml:"UserDetailList>member"`
	GroupDetailList []xmlGroupDetail   `xml:"GroupDetailList>member"`
	RoleDetailList  []xmlRoleDetail    `xml:"RoleDetailList>member"`
	Policies        []xmlManagedPolicy `xml:"Policies>member"`
	IsTruncated     bool               `xml:"IsTruncated"`
	Marker          string             `xml:"Marker,omitempty"`
}

const fakeCreateDate = "2024-01-02T03:04:05Z"

func inlineDetails(m map[string]string) []xmlPolicyDetail {
	var out []xmlPolicyDetail
	for _, name := range slices.Sorted(maps.Keys(m)) {
		out = append(out, xmlPolicyDetail{PolicyName: name, PolicyDocument: encodeDocument(m[name])})
	}
	return out
}

// serveIAMAuthorization answers GetAccountAuthorizationDetails and
// SimulatePrincipalPolicy; it reports whether the operation was one of them.
func (s *Server) serveIAMAuthorization(w http.ResponseWriter, req request) bool {
	switch req.op {
	case "GetAccountAuthorizationDetails":
		s.authorizationDetails(w, req)
	case "SimulatePrincipalPolicy":
		s.simulatePrincipalPolicy(w, req)
	default:
		return false
	}
	return true
}

func (s *Server) authorizationDetails(w http.ResponseWriter, req request) {
	a := req.acct.spec
	sp := a.IAM
	if sp == nil {
		sp = &IAMSpec{}
	}
	want := map[string]bool{}
	for i := 1; ; i++ {
		f := req.form.Get(fmt.Sprintf("Filter.member.%d", i))
		if f == "" {
			break
		}
		switch f {
		case "User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy":
			want[f] = true
		default:
			s.writeQueryError(w, iamNS, http.StatusBadRequest, "ValidationError", fmt.Sprintf("Value '%s' at 'filter' failed to satisfy constraint: Member must satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]", f))
			return
		}
	}
	all := len(want) == 0
	p := partition(a)
	attach := func(refs []string, counts map[string]int) []xmlAttached {
		var out []xmlAttached
		for _, r := range refs {
			m, _ := sp.resolve(a, r)
			counts[m.arn]++
			out = append(out, xmlAttached{PolicyName: m.name, PolicyArn: m.arn})
		}
		return out
	}
	boundary := func(ref string, counts map[string]int) *xmlBoundary {
		if ref == "" {
			return nil
		}
		m, _ := sp.resolve(a, ref)
		counts[m.arn]++
		return &xmlBoundary{PermissionsBoundaryType: "PermissionsBoundaryPolicy", PermissionsBoundaryArn: m.arn}
	}
	attachments, boundaries := map[string]int{}, map[string]int{}
	var items []any // one entry per user, group, role and policy: what a page counts
	var users []any
	for i, u := range sp.Users {
		path := orDefault(u.Path, "/")
		d := xmlUserDetail{Path: path, UserName: u.Name, UserID: fmt.Sprintf("AIDAFAKE%012d", i), Arn: fmt.Sprintf("arn:%s:iam::%s:user%s%s", p, a.ID, path, u.Name),
			CreateDate: fakeCreateDate, UserPolicyList: inlineDetails(u.Inline), GroupList: u.Groups,
			AttachedManagedPolicies: attach(u.Managed, attachments), PermissionsBoundary: boundary(u.Boundary, boundaries)}
		for _, k := range slices.Sorted(maps.Keys(u.Tags)) {
			d.Tags = append(d.Tags, xmlTag{k, u.Tags[k]})
		}
		users = append(users, d)
	}
	var groups []any
	for i, g := range sp.Groups {
		path := orDefault(g.Path, "/")
		groups = append(groups, xmlGroupDetail{Path: path, GroupName: g.Name, GroupID: fmt.Sprintf("AGPAFAKE%012d", i), Arn: fmt.Sprintf("arn:%s:iam::%s:group%s%s", p, a.ID, path, g.Name),
			CreateDate: fakeCreateDate, GroupPolicyList: inlineDetails(g.Inline), AttachedManagedPolicies: attach(g.Managed, attachments)})
	}
	var roles []any
	for i, r := range sp.Roles {
		path := orDefault(r.Path, "/")
		trust := r.Trust
		if trust == "" {
			trust = fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:%s:iam::%s:root"},"Action":"sts:AssumeRole"}]}`, p, a.ID)
		}
		roles = append(roles, xmlRoleDetail{Path: path, RoleName: r.Name, RoleID: fmt.Sprintf("AROAFAKE%012d", i), Arn: fmt.Sprintf("arn:%s:iam::%s:role%s%s", p, a.ID, path, r.Name),
			CreateDate: fakeCreateDate, AssumeRolePolicyDocument: encodeDocument(trust), RolePolicyList: inlineDetails(r.Inline),
			AttachedManagedPolicies: attach(r.Managed, attachments), PermissionsBoundary: boundary(r.Boundary, boundaries)})
	}
	// Customer managed policies, all of them; AWS managed ones only where
	// the account uses them.
	var policies []any
	seen := map[string]bool{}
	addPolicy := func(m managedPolicy) {
		if seen[m.arn] {
			return
		}
		seen[m.arn] = true
		mp := xmlManagedPolicy{PolicyName: m.name, PolicyID: m.id(), Arn: m.arn, Path: m.path, DefaultVersionID: fmt.Sprintf("v%d", len(m.versions)),
			AttachmentCount: attachments[m.arn], PermissionsBoundaryUsageCount: boundaries[m.arn], IsAttachable: true, CreateDate: fakeCreateDate, UpdateDate: fakeCreateDate}
		for i, d := range m.versions {
			mp.PolicyVersionList = append(mp.PolicyVersionList, xmlPolicyVersion{Document: encodeDocument(d), VersionID: fmt.Sprintf("v%d", i+1), IsDefaultVersion: i == len(m.versions)-1, CreateDate: fakeCreateDate})
		}
		policies = append(policies, mp)
	}
	if all || want["LocalManagedPolicy"] {
		for _, c := range sp.Policies {
			m, _ := sp.resolve(a, c.Name)
			addPolicy(m)
		}
	}
	if all || want["AWSManagedPolicy"] {
		for _, arn := range slices.Sorted(maps.Keys(attachments)) {
			if m, _ := sp.resolve(a, arn); m.aws {
				addPolicy(m)
			}
		}
		for _, arn := range slices.Sorted(maps.Keys(boundaries)) {
			if m, _ := sp.resolve(a, arn); m.aws {
				addPolicy(m)
			}
		}
	}
	for _, part := range []struct {
		kind string
		list []any
	}{{"User", users}, {"Group", groups}, {"Role", roles}, {"", policies}} {
		if all || want[part.kind] || part.kind == "" {
			items = append(items, part.list...)
		}
	}

	start, ok := s.pageStart(w, req, len(items))
	if !ok {
		return
	}
	size := 100
	if sp.PageSize > 0 {
		size = sp.PageSize
	}
	if v := req.form.Get("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			s.writeQueryError(w, iamNS, http.StatusBadRequest, "ValidationError", "MaxItems must be between 1 and 1000")
			return
		}
		size = n
	}
	end := min(start+size, len(items))
	res := &authDetailsResult{}
	for _, it := range items[start:end] {
		switch v := it.(type) {
		case xmlUserDetail:
			res.UserDetailList = append(res.UserDetailList, v)
		case xmlGroupDetail:
			res.GroupDetailList = append(res.GroupDetailList, v)
		case xmlRoleDetail:
			res.RoleDetailList = append(res.RoleDetailList, v)
		case xmlManagedPolicy:
			res.Policies = append(res.Policies, v)
		}
	}
	if end < len(items) {
		res.IsTruncated, res.Marker = true, base64.RawURLEncoding.EncodeToString([]byte("aad:"+strconv.Itoa(end)))
	}
	s.writeQueryResult(w, iamNS, req.op, res)
}

// pageStart reads a Marker this fake issued ("aad:N" or "sim:N").
func (s *Server) pageStart(w http.ResponseWriter, req request, n int) (int, bool) {
	m := req.form.Get("Marker")
	if m == "" {
		return 0, true
	}
	raw, err := base64.RawURLEncoding.DecodeString(m)
	_, num, _ := strings.Cut(string(raw), ":")
	start, err2 := strconv.Atoi(num)
	if err != nil || err2 != nil || start < 0 || start > n {
		s.writeQueryError(w, iamNS, http.StatusBadRequest, "InvalidInput", "Invalid Marker")
		return 0, false
	}
	return start, true
}

// principalPolicies builds what IAM evaluates for a user or role of the
// account, by ARN: identity policies (the user's groups' too) and the
// permissions boundary.
func (s *Server) principalPolicies(a *Account, arn string) (eval.Policies, string, bool) {
	sp := a.IAM
	if sp == nil {
		return eval.Policies{}, "", false
	}
	p := partition(a)
	var out eval.Policies
	add := func(name, doc string) {
		if pol, err := eval.Parse([]byte(doc)); err == nil { // checked by validate
			out.Identity = append(out.Identity, eval.Named{Name: name, Policy: pol})
		}
	}
	addAll := func(inline map[string]string, managed []string) {
		for _, n := range slices.Sorted(maps.Keys(inline)) {
			add(n, inline[n])
		}
		for _, ref := range managed {
			m, _ := sp.resolve(a, ref)
			add(m.arn, m.versions[len(m.versions)-1])
		}
	}
	bound := func(ref string) {
		if ref == "" {
			return
		}
		m, _ := sp.resolve(a, ref)
		if pol, err := eval.Parse([]byte(m.versions[len(m.versions)-1])); err == nil {
			out.Boundary = &eval.Named{Name: m.arn, Policy: pol}
		}
	}
	for _, u := range sp.Users {
		if fmt.Sprintf("arn:%s:iam::%s:user%s%s", p, a.ID, orDefault(u.Path, "/"), u.Name) != arn {
			continue
		}
		addAll(u.Inline, u.Managed)
		for _, gn := range u.Groups {
			for _, g := range sp.Groups {
				if g.Name == gn {
					addAll(g.Inline, g.Managed)
				}
			}
		}
		bound(u.Boundary)
		return out, u.Name, true
	}
	for _, r := range sp.Roles {
		if fmt.Sprintf("arn:%s:iam::%s:role%s%s", p, a.ID, orDefault(r.Path, "/"), r.Name) != arn {
			continue
		}
		addAll(r.Inline, r.Managed)
		bound(r.Boundary)
		return out, r.Name, true
	}
	return eval.Policies{}, "", false
}

type xmlResourceResult struct {
	EvalResourceName                  string                `xml:"EvalResourceName"`
	EvalResourceDecision              string                `xml:"EvalResourceDecision"`
	MissingContextValues              []string              `xml:"MissingContextValues>member"`
	PermissionsBoundaryDecisionDetail *xmlBoundaryDecision  `xml:"PermissionsBoundaryDecisionDetail,omitempty"`
	MatchedStatements                 []xmlMatchedStatement `xml:"MatchedStatements>member"`
}

type xmlBoundaryDecision struct {
	AllowedByPermissionsBoundary bool `xml:"AllowedByPermissionsBoundary"`
}

type xmlOrgDecision struct {
	AllowedByOrganizations bool `xml:"AllowedByOrganizations"`
}

type xmlMatchedStatement struct {
	SourcePolicyID   string `xml:"SourcePolicyId"`
	SourcePolicyType string `xml:"SourcePolicyType"`
}

type xmlEvaluationResult struct {
	EvalActionName                    string                `xml:"EvalActionName"`
	EvalResourceName                  string                `xml:"EvalResourceName"`
	EvalDecision                      string                `xml:"EvalDecision"`
	MatchedStatements                 []xmlMatchedStatement `xml:"MatchedStatements>member"`
	MissingContextValues              []string              `xml:"MissingContextValues>member"`
	OrganizationsDecisionDetail       *xmlOrgDecision       `xml:"OrganizationsDecisionDetail,omitempty"`
	PermissionsBoundaryDecisionDetail *xmlBoundaryDecision  `xml:"PermissionsBoundaryDecisionDetail,omitempty"`
	ResourceSpecificResults           []xmlResourceResult   `xml:"ResourceSpecificResults>member"`
}

type simulateResult struct {
	XMLName           xml.Name
	EvaluationResults []xmlEvaluationResult `xml:"EvaluationResults>member"`
	IsTruncated       bool                  `xml:"IsTruncated"`
	Marker            string                `xml:"Marker,omitempty"`
}

// simulatePrincipalPolicy evaluates the principal's policies with
// internal/policy/eval, for each action and resource, with the context given
// (keys not given are absent), unless the world forces an answer.
func (s *Server) simulatePrincipalPolicy(w http.ResponseWriter, req request) {
	a := req.acct.spec
	source := req.form.Get("PolicySourceArn")
	pols, name, ok := s.principalPolicies(a, source)
	if !ok {
		s.writeQueryError(w, iamNS, http.StatusNotFound, "NoSuchEntity", "The user or role with ARN "+source+" cannot be found.")
		return
	}
	list := func(prefix string) []string {
		var out []string
		for i := 1; ; i++ {
			v, ok := req.form[fmt.Sprintf("%s.member.%d", prefix, i)]
			if !ok {
				return out
			}
			out = append(out, v[0])
		}
	}
	actions, resources := list("ActionNames"), list("ResourceArns")
	if len(actions) == 0 {
		s.writeQueryError(w, iamNS, http.StatusBadRequest, "ValidationError", "1 validation error detected: Value null at 'actionNames' failed to satisfy constraint: Member must not be null")
		return
	}
	ctx := map[string]eval.Value{}
	for i := 1; ; i++ {
		pre := fmt.Sprintf("ContextEntries.member.%d.", i)
		key := req.form.Get(pre + "ContextKeyName")
		if key == "" {
			break
		}
		vals := list(pre + "ContextKeyValues")
		switch typ := req.form.Get(pre + "ContextKeyType"); {
		case strings.HasSuffix(typ, "List"):
			ctx[key] = eval.Strings(vals...)
		case len(vals) == 1:
			ctx[key] = eval.String(vals[0])
		default:
			s.writeQueryError(w, iamNS, http.StatusBadRequest, "InvalidInput", "Context key "+key+" of type "+typ+" takes one value")
			return
		}
	}
	context := eval.NewContext(ctx)
	missing := missingKeys(pols, context)
	decide := func(action, resource string) (string, *xmlBoundaryDecision) {
		r := eval.Evaluate(eval.Request{Action: action, Resource: resource, Context: context}, pols)
		d := map[eval.Decision]string{eval.Allowed: "allowed", eval.ExplicitDeny: "explicitDeny", eval.ImplicitDeny: "implicitDeny"}[r.Decision]
		if task, ok := context.Get("sts:TaskPolicyArn"); ok {
			for _, o := range a.IAM.Simulate {
				if o.Principal == name && strings.HasSuffix(task.String(), "/"+o.Task) {
					d = o.Decision
				}
			}
		}
		var bd *xmlBoundaryDecision
		if pols.Boundary != nil {
			br := eval.Evaluate(eval.Request{Action: action, Resource: resource, Context: context}, eval.Policies{Identity: []eval.Named{*pols.Boundary}})
			bd = &xmlBoundaryDecision{AllowedByPermissionsBoundary: br.Decision == eval.Allowed}
		}
		return d, bd
	}
	var results []xmlEvaluationResult
	for _, act := range actions {
		er := xmlEvaluationResult{EvalActionName: act}
		if a.Organization != nil {
			// No SCPs are modelled here: Organizations allows.
			er.OrganizationsDecisionDetail = &xmlOrgDecision{AllowedByOrganizations: true}
		}
		if len(resources) == 0 {
			er.EvalResourceName = "*"
			er.EvalDecision, er.PermissionsBoundaryDecisionDetail = decide(act, "*")
			er.MissingContextValues = missing
		} else {
			er.EvalResourceName = "arn:${Partition}:iam::${Account}:root"
			er.EvalDecision = "allowed"
			for _, res := range resources {
				d, bd := decide(act, res)
				er.ResourceSpecificResults = append(er.ResourceSpecificResults, xmlResourceResult{EvalResourceName: res, EvalResourceDecision: d, MissingContextValues: missing, PermissionsBoundaryDecisionDetail: bd})
				switch {
				case d == "explicitDeny":
					er.EvalDecision = d
				case d == "implicitDeny" && er.EvalDecision == "allowed":
					er.EvalDecision = d
				}
			}
		}
		results = append(results, er)
	}
	start, ok := s.pageStart(w, req, len(results))
	if !ok {
		return
	}
	size := 100
	if v := req.form.Get("MaxItems"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 1 && n <= 1000 {
			size = n
		}
	}
	end := min(start+size, len(results))
	out := &simulateResult{EvaluationResults: results[start:end]}
	if end < len(results) {
		out.IsTruncated, out.Marker = true, base64.RawURLEncoding.EncodeToString([]byte("sim:"+strconv.Itoa(end)))
	}
	s.writeQueryResult(w, iamNS, req.op, out)
}

// missingKeys lists the condition keys of the principal's policies that
// the context does not give, as the simulator reports them.
func missingKeys(p eval.Policies, ctx eval.Context) []string {
	named := slices.Clone(p.Identity)
	if p.Boundary != nil {
		named = append(named, *p.Boundary)
	}
	seen := map[string]bool{}
	var out []string
	for _, n := range named {
		for _, st := range n.Policy.Statements {
			for _, c := range st.Conditions {
				lk := strings.ToLower(c.Key)
				if _, ok := ctx.Get(c.Key); ok || seen[lk] {
					continue
				}
				seen[lk] = true
				out = append(out, c.Key)
			}
		}
	}
	return out
}

// addRootSessionPrincipals gives a generated organization's management
// account principals allowed sts:AssumeRoot in every way a real one may
// be: AdministratorAccess, PowerUserAccess, grants scoped by task and by
// member, one limited by a permissions boundary, one stopped by an
// explicit Deny in its group, and the scanner's own read-only user. A
// clean organization has only the scanner: nobody holds it.
func addRootSessionPrincipals(a *Account, clean bool) {
	scanner := IAMUserSpec{Name: "rootwatch-scanner", Inline: map[string]string{"read": `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["iam:Get*","iam:List*","iam:GenerateCredentialReport","iam:SimulatePrincipalPolicy","organizations:Describe*","organizations:List*","sts:AssumeRole"],"Resource":"*"}}`}}
	a.Users = append(a.Users, Principal{Name: scanner.Name, Created: "-400d"})
	a.IAM = &IAMSpec{Users: []IAMUserSpec{scanner}}
	if clean {
		return
	}
	task := func(names ...string) string {
		var arns []string
		for _, n := range names {
			arns = append(arns, `"arn:aws:iam::aws:policy/root-task/`+n+`"`)
		}
		return strings.Join(arns, ",")
	}
	member := fmt.Sprintf("1%011d", 1)
	for _, n := range []string{"ops-admin", "dev-power", "denied-admin"} {
		a.Users = append(a.Users, Principal{Name: n, Created: "-400d"})
	}
	a.IAM.Users = append(a.IAM.Users,
		IAMUserSpec{Name: "ops-admin", Managed: []string{"AdministratorAccess"}},
		IAMUserSpec{Name: "dev-power", Managed: []string{"PowerUserAccess"}},
		IAMUserSpec{Name: "denied-admin", Groups: []string{"admins-no-root"}})
	a.IAM.Groups = []IAMGroupSpec{{Name: "admins-no-root", Managed: []string{"AdministratorAccess"},
		Inline: map[string]string{"no-root": `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"sts:AssumeRoot","Resource":"*"}}`}}}
	a.IAM.Roles = []IAMRoleSpec{
		{Name: "BreakGlassAudit", Inline: map[string]string{"audit": `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRoot","Resource":"arn:aws:iam::*:root","Condition":{"StringEquals":{"sts:TaskPolicyArn":[` + task("IAMAuditRootUserCredentials", "IAMDeleteRootUserCredentials") + `]},"Bool":{"aws:MultiFactorAuthPresent":"true"}}}}`}},
		{Name: "UnlockPolicies", Inline: map[string]string{"unlock": `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:Assume*","Resource":"*","Condition":{"ArnLike":{"sts:TaskPolicyArn":"arn:aws:iam::aws:policy/root-task/*Unlock*"}}}}`}},
		{Name: "OneMemberCleanup", Inline: map[string]string{"cleanup": `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRoot","Resource":"arn:aws:iam::` + member + `:root","Condition":{"ForAnyValue:StringEquals":{"sts:TaskPolicyArn":[` + task("IAMDeleteRootUserCredentials") + `]}}}}`}},
		{Name: "BoundedAdmin", Managed: []string{"AdministratorAccess"}, Boundary: "RootAuditOnly"},
	}
	a.IAM.Policies = []IAMPolicySpec{{Name: "RootAuditOnly", Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"sts:AssumeRoot","Resource":"*"},{"Effect":"Allow","Action":"sts:AssumeRoot","Resource":"*","Condition":{"StringEquals":{"sts:TaskPolicyArn":` + task("IAMAuditRootUserCredentials") + `}}}]}`}}
}
