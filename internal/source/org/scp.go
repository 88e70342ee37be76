package org

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/rootwatch/rootwatch/internal/awsx"
	"github.com/rootwatch/rootwatch/internal/evidence"
)

// SCPAPI is what reading service control policies needs of Organizations,
// called with the management account's (or delegated administrator's)
// credentials.
type SCPAPI interface {
	ListRoots(context.Context, *organizations.ListRootsInput, ...func(*organizations.Options)) (*organizations.ListRootsOutput, error)
	ListParents(context.Context, *organizations.ListParentsInput, ...func(*organizations.Options)) (*organizations.ListParentsOutput, error)
	ListPoliciesForTarget(context.Context, *organizations.ListPoliciesForTargetInput, ...func(*organizations.Options)) (*organizations.ListPoliciesForTargetOutput, error)
	DescribePolicy(context.Context, *organizations.DescribePolicyInput, ...func(*organizations.Options)) (*organizations.DescribePolicyOutput, error)
	DescribeOrganizationalUnit(context.Context, *organizations.DescribeOrganizationalUnitInput, ...func(*organizations.Options)) (*organizations.DescribeOrganizationalUnitOutput, error)
}

// maxOUDepth bounds the walk up from an account: Organizations nests OUs
// at most five deep, so a longer path means the answers loop.
const maxOUDepth = 5

// SCPReader reads the SCPs in force for each account of one organization
// scan. Accounts share the root, their OUs and most policies, so each
// target's parent, name and attachments and each policy are read once per scan,
// however many accounts ask at once: a 1,000-account organization with
// 30 SCPs describes 30 policies.
type SCPReader struct {
	c             SCPAPI
	scan          context.Context // shared reads belong to the scan, not to the account that asked first
	orgID, mgmtID string

	roots    memo[struct{}, rootInfo]
	parents  memo[string, orgtypes.Parent]
	attached memo[string, []orgtypes.PolicySummary]
	policies memo[string, *orgtypes.Policy]
	ouNames  memo[string, string]
}

type rootInfo struct{ id, name, scpStatus string }

// NewSCPReader reads through c for the organization orgID managed by
// mgmtID. ctx bounds every read it shares between accounts.
func NewSCPReader(ctx context.Context, c SCPAPI, orgID, mgmtID string) *SCPReader {
	return &SCPReader{c: c, scan: ctx, orgID: orgID, mgmtID: mgmtID}
}

// Start reads an account's SCPs in the background, so that they arrive
// while the account's own collection runs; the returned function waits
// and records them on the account. ctx is the account's: when it ends the
// account stops waiting, and what was not read is recorded as not read.
func (r *SCPReader) Start(ctx context.Context, id string) func(*evidence.Account) {
	var s *evidence.SCPs
	var st evidence.SourceStatus
	done := make(chan struct{})
	go func() {
		defer close(done)
		s, st = r.Account(ctx, id)
	}()
	return func(a *evidence.Account) {
		<-done
		a.SCPs = s
		a.SetSource(evidence.SourceSCPs, st)
	}
}

// Account reads the SCPs of the account's path: whether SCPs are enabled
// (ListRoots), the path up to the root (ListParents), what is attached at
// each level (ListPoliciesForTarget) and each policy (DescribePolicy). A
// read that fails is recorded where it belongs and in Problems; the state
// is denied when one was refused, error when one failed otherwise. Each
// OU's name (DescribeOrganizationalUnit) is read for OUPath; one that
// cannot be read is replaced by its ID and fails nothing.
func (r *SCPReader) Account(ctx context.Context, id string) (*evidence.SCPs, evidence.SourceStatus) {
	s := &evidence.SCPs{OrganizationID: r.orgID, ManagementAccountID: r.mgmtID, Problems: []string{}}
	if id == r.mgmtID {
		s.ManagementAccount = true
		return s, evidence.SourceStatus{State: evidence.StateOK, Detail: "the management account: SCPs never apply to it, none read"}
	}
	var mu sync.Mutex
	state := evidence.StateOK
	fail := func(op string, err error) string {
		msg := awsx.Describe(op, err)
		mu.Lock()
		defer mu.Unlock()
		s.Problems = append(s.Problems, msg)
		if awsx.IsDenied(err) {
			state = evidence.StateDenied
		} else if state == evidence.StateOK {
			state = evidence.StateError
		}
		return msg
	}
	root, err := r.roots.get(ctx, struct{}{}, r.listRoots)
	if err != nil {
		fail("ListRoots", err)
		return s, status(s, state)
	}
	s.RootID, s.PolicyTypeStatus = root.id, root.scpStatus
	if s.PolicyTypeStatus != evidence.SCPTypeEnabled {
		return s, status(s, state)
	}
	// The path, from the account up to the root, then turned root first.
	path := []evidence.SCPTarget{{ID: id, Type: evidence.TargetAccount}}
	for child := id; ; {
		if len(path) > maxOUDepth+1 {
			fail("ListParents "+child, fmt.Errorf("the path from %s is deeper than Organizations allows (%d OUs)", id, maxOUDepth))
			path = append(path, evidence.SCPTarget{ID: root.id, Type: evidence.TargetRoot})
			break
		}
		c := child
		p, err := r.parents.get(ctx, c, func() (orgtypes.Parent, error) { return r.listParent(c) })
		if err != nil {
			fail("ListParents "+child, err)
			path = append(path, evidence.SCPTarget{ID: root.id, Type: evidence.TargetRoot})
			break
		}
		t := evidence.SCPTarget{ID: aws.ToString(p.Id), Type: string(p.Type)}
		if p.Type == orgtypes.ParentTypeRoot {
			t.Name = root.name
		}
		path = append(path, t)
		if p.Type != orgtypes.ParentTypeOrganizationalUnit {
			break
		}
		child = aws.ToString(p.Id)
	}
	slices.Reverse(path)
	// Each level's attachments and policies, the levels side by side.
	walked := len(s.Problems) == 0
	var wg sync.WaitGroup
	for i := range path {
		wg.Go(func() {
			t := &path[i]
			if t.Type == evidence.TargetOU {
				name, err := r.ouNames.get(ctx, t.ID, func() (string, error) { return r.ouName(t.ID) })
				if err != nil {
					t.NameError = awsx.Describe("DescribeOrganizationalUnit "+t.ID, err)
				}
				t.Name = name
			}
			sums, err := r.attached.get(ctx, t.ID, func() ([]orgtypes.PolicySummary, error) { return r.listAttached(t.ID) })
			if err != nil {
				t.Error = fail("ListPoliciesForTarget "+t.ID, err)
				return
			}
			t.Policies = make([]evidence.SCPPolicy, len(sums))
			var pw sync.WaitGroup
			for j, sum := range sums {
				pw.Go(func() {
					p := evidence.SCPPolicy{ID: aws.ToString(sum.Id), Name: aws.ToString(sum.Name), ARN: aws.ToString(sum.Arn), AWSManaged: sum.AwsManaged}
					pol, err := r.policies.get(ctx, p.ID, func() (*orgtypes.Policy, error) { return r.describe(p.ID) })
					if err != nil {
						p.Error = fail("DescribePolicy "+p.ID, err)
					} else {
						p.Content = aws.ToString(pol.Content)
					}
					t.Policies[j] = p
				})
			}
			pw.Wait()
		})
	}
	wg.Wait()
	s.Path = path
	if walked {
		s.OUPath = ouPath(path)
	}
	slices.Sort(s.Problems) // the levels were read side by side
	return s, status(s, state)
}

// status says how the reads went, in one line.
func status(s *evidence.SCPs, state evidence.SourceState) evidence.SourceStatus {
	if state != evidence.StateOK {
		detail := s.Problems[0]
		if n := len(s.Problems); n > 1 {
			detail += fmt.Sprintf(" (and %d more)", n-1)
		}
		return evidence.SourceStatus{State: state, Detail: detail}
	}
	if s.PolicyTypeStatus != evidence.SCPTypeEnabled {
		st := s.PolicyTypeStatus
		if st == "" {
			st = "not enabled"
		}
		return evidence.SourceStatus{State: evidence.StateOK, Detail: "SCPs " + st + " on root " + s.RootID}
	}
	ids := make([]string, len(s.Path))
	n := 0
	for i, t := range s.Path {
		ids[i] = t.ID
		n += len(t.Policies)
	}
	return evidence.SourceStatus{State: evidence.StateOK, Detail: fmt.Sprintf("%s attached along %s", evidence.Count(n, "SCP"), strings.Join(ids, " → "))}
}

func (r *SCPReader) listRoots() (rootInfo, error) {
	var roots []orgtypes.Root
	err := eachPage(func(token *string) (*string, error) {
		out, err := r.c.ListRoots(r.scan, &organizations.ListRootsInput{NextToken: token})
		if err != nil {
			return nil, err
		}
		roots = append(roots, out.Roots...)
		return out.NextToken, nil
	})
	if err != nil {
		return rootInfo{}, err
	}
	if len(roots) != 1 {
		return rootInfo{}, fmt.Errorf("ListRoots returned %d roots, want the organization's one", len(roots))
	}
	info := rootInfo{id: aws.ToString(roots[0].Id), name: aws.ToString(roots[0].Name)}
	for _, pt := range roots[0].PolicyTypes {
		if pt.Type == orgtypes.PolicyTypeServiceControlPolicy {
			info.scpStatus = string(pt.Status)
		}
	}
	return info, nil
}

func (r *SCPReader) listParent(child string) (orgtypes.Parent, error) {
	var parents []orgtypes.Parent
	err := eachPage(func(token *string) (*string, error) {
		out, err := r.c.ListParents(r.scan, &organizations.ListParentsInput{ChildId: aws.String(child), NextToken: token})
		if err != nil {
			return nil, err
		}
		parents = append(parents, out.Parents...)
		return out.NextToken, nil
	})
	if err != nil {
		return orgtypes.Parent{}, err
	}
	if len(parents) != 1 {
		return orgtypes.Parent{}, fmt.Errorf("ListParents returned %d parents of %s, want one", len(parents), child)
	}
	switch parents[0].Type {
	case orgtypes.ParentTypeRoot, orgtypes.ParentTypeOrganizationalUnit:
		return parents[0], nil
	}
	return orgtypes.Parent{}, fmt.Errorf("ListParents returned a parent of type %q for %s", parents[0].Type, child)
}

func (r *SCPReader) listAttached(target string) ([]orgtypes.PolicySummary, error) {
	var out []orgtypes.PolicySummary
	err := eachPage(func(token *string) (*string, error) {
		page, err := r.c.ListPoliciesForTarget(r.scan, &organizations.ListPoliciesForTargetInput{
			TargetId: aws.String(target), Filter: orgtypes.PolicyTypeServiceControlPolicy, NextToken: token})
		if err != nil {
			return nil, err
		}
		out = append(out, page.Policies...)
		return page.NextToken, nil
	})
	return out, err
}

func (r *SCPReader) ouName(id string) (string, error) {
	out, err := r.c.DescribeOrganizationalUnit(r.scan, &organizations.DescribeOrganizationalUnitInput{OrganizationalUnitId: aws.String(id)})
	if err != nil {
		return "", err
	}
	if out.OrganizationalUnit == nil || aws.ToString(out.OrganizationalUnit.Name) == "" {
		return "", fmt.Errorf("DescribeOrganizationalUnit returned no name for %s", id)
	}
	return aws.ToString(out.OrganizationalUnit.Name), nil
}

// ouPath names the path above the account, root first, an ID standing in
// for a name not read.
func ouPath(path []evidence.SCPTarget) string {
	var names []string
	for _, t := range path {
		if t.Type == evidence.TargetAccount {
			continue
		}
		names = append(names, cmp.Or(t.Name, t.ID))
	}
	return strings.Join(names, "/")
}

func (r *SCPReader) describe(id string) (*orgtypes.Policy, error) {
	out, err := r.c.DescribePolicy(r.scan, &organizations.DescribePolicyInput{PolicyId: aws.String(id)})
	if err != nil {
		return nil, err
	}
	if out.Policy == nil || out.Policy.Content == nil {
		return nil, fmt.Errorf("DescribePolicy returned no content for %s", id)
	}
	return out.Policy, nil
}

// eachPage calls one page after another until no NextToken comes back. A page
// may be empty while more follow; a NextToken seen before is an error (the
// same pages would come back forever).
func eachPage(page func(token *string) (*string, error)) error {
	seen := map[string]bool{}
	var token *string
	for {
		next, err := page(token)
		if err != nil {
			return err
		}
		t := aws.ToString(next)
		if t == "" {
			return nil
		}
		if seen[t] {
			return fmt.Errorf("the same NextToken came back twice (%q)", t)
		}
		seen[t] = true
		token = next
	}
}

// memo runs a read once per key for every caller. The read runs on its
// own, so that a caller whose context ends stops waiting without failing
// the read for the callers still waiting.
type memo[K comparable, V any] struct {
	mu    sync.Mutex
	calls map[K]*memoCall[V]
}

type memoCall[V any] struct {
	done chan struct{}
	v    V
	err  error
}

func (m *memo[K, V]) get(ctx context.Context, key K, read func() (V, error)) (V, error) {
	m.mu.Lock()
	if m.calls == nil {
		m.calls = map[K]*memoCall[V]{}
	}
	c, ok := m.calls[key]
	if !ok {
		c = &memoCall[V]{done: make(chan struct{})}
		m.calls[key] = c
		go func() {
			defer close(c.done)
			c.v, c.err = read()
		}()
	}
	m.mu.Unlock()
	select {
	case <-c.done:
		return c.v, c.err
	case <-ctx.Done():
		var zero V
		return zero, ctx.Err()
	}
}
