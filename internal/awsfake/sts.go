package awsfake

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

type callerIdentityResult struct {
	XMLName xml.Name
	Arn     string `xml:"Arn"`
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
}

type stsCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

type assumeRoleResult struct {
	XMLName         xml.Name
	AssumedRoleUser struct {
		Arn           string `xml:"Arn"`
		AssumedRoleID string `xml:"AssumedRoleId"`
	} `xml:"AssumedRoleUser"`
	Credentials      stsCredentials `xml:"Credentials"`
	PackedPolicySize int            `xml:"PackedPolicySize"`
}

type assumeRootResult struct {
	XMLName        xml.Name
	Credentials    stsCredentials `xml:"Credentials"`
	SourceIdentity string         `xml:"SourceIdentity,omitempty"`
}

// RootTaskPolicies are the five AWS managed task policies AssumeRoot accepts.
var rootTaskPolicies = map[string]bool{
	"arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials":  true,
	"arn:aws:iam::aws:policy/root-task/IAMCreateRootUserPassword":    true,
	"arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials": true,
	"arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy":         true,
	"arn:aws:iam::aws:policy/root-task/SQSUnlockQueuePolicy":         true,
}

// rootTaskAllows reports whether an AssumeRoot session with a task policy
// may call op. IAMAuditRootUserCredentials allows only the per-credential
// reads (AWS.md §3): the credential report and ListVirtualMFADevices are
// denied inside such a session.
func rootTaskAllows(task, op string) bool {
	audit := map[string]bool{"ListAccessKeys": true, "ListSigningCertificates": true, "GetLoginProfile": true,
		"ListMFADevices": true, "GetAccountSummary": true, "GetUser": true, "GetAccessKeyLastUsed": true, "GetCallerIdentity": true}
	switch {
	case strings.HasSuffix(task, "/IAMAuditRootUserCredentials"):
		return audit[op]
	case strings.HasSuffix(task, "/IAMDeleteRootUserCredentials"):
		// The audit reads but GetAccountSummary, and the four deletions.
		return (audit[op] && op != "GetAccountSummary") || op == "DeleteAccessKey" || op == "DeleteSigningCertificate" || op == "DeleteLoginProfile" || op == "DeactivateMFADevice"
	case strings.HasSuffix(task, "/IAMCreateRootUserPassword"):
		return op == "CreateLoginProfile" || op == "GetLoginProfile" || op == "GetCallerIdentity"
	}
	return op == "GetCallerIdentity"
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}

// issue registers new session credentials for an account.
func (s *Server) issue(target *acctState, kind, task string, d time.Duration) stsCredentials {
	key := "ASIA" + randomHex(8)
	s.mu.Lock()
	s.byKey[key] = session{acct: target, kind: kind, task: task}
	s.mu.Unlock()
	return stsCredentials{AccessKeyID: key, SecretAccessKey: "fake-secret-" + randomHex(10), SessionToken: "FwoGZXIvYXdzEFAKE" + randomHex(24),
		Expiration: s.now().Add(d).UTC().Format(time.RFC3339)}
}

var roleARN = regexp.MustCompile(`^arn:(aws[a-z-]*):iam::(\d{12}):role/(?:.*/)?([\w+=,.@-]+)$`)

func (s *Server) serveSTS(w http.ResponseWriter, req request) {
	a := req.acct.spec
	switch req.op {
	case "GetCallerIdentity":
		arn := a.CallerARN
		switch req.session.kind {
		case "role":
			arn = fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/rootwatch", partition(a), a.ID, req.session.task)
		case "root":
			arn = rootARN(a)
		}
		if arn == "" {
			arn = fmt.Sprintf("arn:%s:iam::%s:user/scanner", partition(a), a.ID)
		}
		s.writeQueryResult(w, stsNS, req.op, &callerIdentityResult{Arn: arn, UserID: "AIDAFAKESCANNER" + a.ID[:5], Account: a.ID})
	case "AssumeRole":
		s.assumeRole(w, req)
	case "AssumeRoot":
		s.assumeRoot(w, req)
	default:
		s.writeQueryError(w, stsNS, http.StatusBadRequest, "InvalidAction", "The action "+req.op+" is not valid for this endpoint.")
	}
}

func (s *Server) assumeRole(w http.ResponseWriter, req request) {
	m := roleARN.FindStringSubmatch(req.form.Get("RoleArn"))
	if m == nil {
		s.writeQueryError(w, stsNS, http.StatusBadRequest, "ValidationError", "RoleArn is not a role ARN")
		return
	}
	if n := req.form.Get("RoleSessionName"); n == "" || len(n) > 64 {
		s.writeQueryError(w, stsNS, http.StatusBadRequest, "ValidationError", "RoleSessionName must be 2 to 64 characters")
		return
	}
	s.mu.Lock()
	target := s.accounts[m[2]]
	s.mu.Unlock()
	denied := func() {
		s.writeQueryError(w, stsNS, http.StatusForbidden, "AccessDenied",
			fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", callerARN(req), m[0]))
	}
	if target == nil || req.session.kind != "user" {
		denied()
		return
	}
	roles := target.spec.Roles
	if len(roles) == 0 {
		roles = []string{"OrganizationAccountAccessRole"}
	}
	if !slices.Contains(roles, m[3]) {
		denied()
		return
	}
	if s.applyTargetFaults(w, req, target) {
		return
	}
	res := &assumeRoleResult{Credentials: s.issue(target, "role", m[3], time.Hour), PackedPolicySize: 6}
	res.AssumedRoleUser.Arn = fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", m[1], m[2], m[3], req.form.Get("RoleSessionName"))
	res.AssumedRoleUser.AssumedRoleID = "AROAFAKE" + m[2] + ":" + req.form.Get("RoleSessionName")
	s.writeQueryResult(w, stsNS, req.op, res)
}

func (s *Server) assumeRoot(w http.ResponseWriter, req request) {
	task := req.form.Get("TaskPolicyArn.arn")
	targetID := req.form.Get("TargetPrincipal")
	if i := strings.LastIndex(targetID, ":"); i >= 0 { // an ARN: arn:aws:iam::123456789012:root
		if m := regexp.MustCompile(`::(\d{12}):`).FindStringSubmatch(targetID); m != nil {
			targetID = m[1]
		}
	}
	if !rootTaskPolicies[task] {
		s.writeQueryError(w, stsNS, http.StatusBadRequest, "ValidationError", "TaskPolicyArn is not a root task policy")
		return
	}
	caller := req.acct.spec
	s.mu.Lock()
	target := s.accounts[targetID]
	s.mu.Unlock()
	org := caller.Organization
	allowed := req.session.kind == "user" && org != nil && org.ManagementAccount == caller.ID && target != nil &&
		target.spec.Organization != nil && target.spec.Organization.ID == org.ID && target.spec.ID != caller.ID
	needed := "RootSessions"
	if strings.Contains(task, "/IAM") {
		needed = "RootCredentialsManagement"
	}
	if !allowed || !slices.Contains(org.Features, needed) {
		s.writeQueryError(w, stsNS, http.StatusForbidden, "AccessDenied",
			fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRoot on resource: arn:aws:iam::%s:root", callerARN(req), targetID))
		return
	}
	if s.applyTargetFaults(w, req, target) {
		return
	}
	s.writeQueryResult(w, stsNS, req.op, &assumeRootResult{Credentials: s.issue(target, "root", task, 15*time.Minute), SourceIdentity: "rootwatch"})
}

func callerARN(req request) string {
	a := req.acct.spec
	if a.CallerARN != "" {
		return a.CallerARN
	}
	return fmt.Sprintf("arn:%s:iam::%s:user/scanner", partition(a), a.ID)
}
