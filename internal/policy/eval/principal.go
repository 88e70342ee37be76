package eval

import (
	"regexp"
	"strings"

	"github.com/rootwatch/rootwatch/internal/policy"
)

// PrincipalMatch is how a resource-based policy statement's Principal
// names the caller.
type PrincipalMatch int

// The ways a Principal element can match. The zero value is for layers
// that have no Principal element.
const (
	NoPrincipalElement PrincipalMatch = iota
	// PrincipalNamed: the caller itself (its ARN, the role of its session,
	// its service principal name) or everyone ("*").
	PrincipalNamed
	// PrincipalAccount: the caller's account (its 12-digit id or
	// arn:…:iam::<id>:root), which "delegates authority to the account":
	// the account's own policies must also allow the caller.
	PrincipalAccount
)

func (m PrincipalMatch) String() string {
	return [...]string{"", "named", "account"}[m]
}

var accountID = regexp.MustCompile(`^[0-9]{12}$`)

// MatchPrincipal reports how a Principal or NotPrincipal element's entries
// name a caller, given as its ARN (an IAM user or role, an assumed-role
// session, an account root) or, for services, its service principal name
// (ec2.amazonaws.com). Principal ARNs are compared exactly: IAM allows no
// wildcard in them, only "*" alone.
func MatchPrincipal(p *policy.Principal, caller string) (PrincipalMatch, bool) {
	if p.Any {
		return PrincipalNamed, true
	}
	callerAccount := arnField(caller, 4)
	best, found := PrincipalMatch(0), false
	for _, e := range p.Entries {
		for _, v := range e.Values.List {
			var m PrincipalMatch
			switch {
			case e.Type == "AWS" && v == "*":
				m = PrincipalNamed
			case v == caller:
				m = PrincipalNamed
			case e.Type == "AWS" && sessionOfRole(caller, v):
				m = PrincipalNamed
			case e.Type == "AWS" && callerAccount != "" &&
				(v == callerAccount || (arnField(v, 4) == callerAccount && arnField(v, 2) == "iam" && arnField(v, 5) == "root")):
				m = PrincipalAccount
			default:
				continue
			}
			if !found || m == PrincipalNamed {
				best, found = m, true
			}
		}
	}
	return best, found
}

// sessionOfRole reports whether caller is a session of role
// (arn:aws:sts::111122223333:assumed-role/Name/session and
// arn:aws:iam::111122223333:role/path/Name).
func sessionOfRole(caller, role string) bool {
	rest, ok := strings.CutPrefix(arnField(caller, 5), "assumed-role/")
	if !ok || arnField(caller, 2) != "sts" || arnField(role, 2) != "iam" {
		return false
	}
	name, _, _ := strings.Cut(rest, "/")
	roleRes, ok := strings.CutPrefix(arnField(role, 5), "role/")
	if !ok {
		return false
	}
	return arnField(caller, 1) == arnField(role, 1) && arnField(caller, 4) == arnField(role, 4) &&
		roleRes[strings.LastIndexByte(roleRes, '/')+1:] == name
}

// arnField returns field i (0 "arn", 1 partition, 2 service, 3 region,
// 4 account, 5 resource) of an ARN, or "".
func arnField(s string, i int) string {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return ""
	}
	return parts[i]
}

// EvaluateResourcePolicy returns the statements of a resource-based policy
// (a role's trust policy, a bucket policy) that apply, or may apply, to
// the caller's request: those whose Principal names the caller (or whose
// NotPrincipal does not) and whose action, resource and conditions match.
// How they combine with the caller's own policies (within one account, a
// statement naming the caller grants on its own; one naming the account
// needs the identity policies too; across accounts both sides must allow)
// is the caller's to apply: this package does not model cross-account
// requests.
func EvaluateResourcePolicy(n Named, caller string, req Request) (allows, denies []Match) {
	return matches(req, LayerResource, "", n, func(st *policy.Statement) (PrincipalMatch, bool) {
		if st.Principal == nil {
			return 0, false
		}
		how, ok := MatchPrincipal(st.Principal, caller)
		if st.NotPrincipal {
			return PrincipalNamed, !ok
		}
		return how, ok
	})
}
