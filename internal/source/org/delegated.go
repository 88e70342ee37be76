package org

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"

	"github.com/rootwatch/rootwatch/internal/awsx"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/source/live"
)

// ListDelegatedAdministratorsAPI is the call that finds IAM's delegated
// administrator.
type ListDelegatedAdministratorsAPI interface {
	ListDelegatedAdministrators(context.Context, *organizations.ListDelegatedAdministratorsInput, ...func(*organizations.Options)) (*organizations.ListDelegatedAdministratorsOutput, error)
}

// iamServicePrincipal is the service whose delegated administrator may
// call sts:AssumeRoot like the management account.
const iamServicePrincipal = "iam.amazonaws.com"

// rootSessions is what an organization scan learns once of the accounts
// whose principals may open root sessions in members: the management
// account and IAM's delegated administrator.
type rootSessions struct {
	mgmt, orgID string
	admins      *evidence.DelegatedAdministrators
	status      evidence.SourceStatus
}

// readRootSessions reads ListDelegatedAdministrators for iam.amazonaws.com,
// every page, with the scan's own credentials.
func readRootSessions(ctx context.Context, c ListDelegatedAdministratorsAPI, orgID, mgmtID string) rootSessions {
	r := rootSessions{mgmt: mgmtID, orgID: orgID, admins: &evidence.DelegatedAdministrators{Accounts: []string{}}}
	seen := map[string]bool{}
	in := &organizations.ListDelegatedAdministratorsInput{ServicePrincipal: aws.String(iamServicePrincipal)}
	for {
		out, err := c.ListDelegatedAdministrators(ctx, in)
		if err != nil {
			r.status = awsx.Failed("ListDelegatedAdministrators "+iamServicePrincipal, err)
			r.admins = &evidence.DelegatedAdministrators{Error: r.status.Detail}
			return r
		}
		for _, d := range out.DelegatedAdministrators {
			r.admins.Accounts = append(r.admins.Accounts, aws.ToString(d.Id))
		}
		next := aws.ToString(out.NextToken)
		if next == "" {
			break
		}
		if seen[next] {
			r.status = evidence.SourceStatus{State: evidence.StateError, Detail: fmt.Sprintf("ListDelegatedAdministrators returned the same NextToken twice (%q)", next)}
			r.admins = &evidence.DelegatedAdministrators{Error: r.status.Detail}
			return r
		}
		seen[next] = true
		in.NextToken = out.NextToken
	}
	slices.Sort(r.admins.Accounts)
	detail := "no delegated administrator for " + iamServicePrincipal
	if len(r.admins.Accounts) > 0 {
		detail = "delegated administrator for " + iamServicePrincipal + ": " + strings.Join(r.admins.Accounts, ", ")
	}
	r.status = evidence.SourceStatus{State: evidence.StateOK, Detail: detail}
	return r
}

// apply gives one account what the scan knows: the delegated
// administrators in its organization evidence, the call's outcome as a
// source of the scanning account, and, in the management account and IAM's
// delegated administrator, the scope that has their IAM principals read
// (through the same role session as the rest of their evidence).
func (r rootSessions) apply(a *evidence.Account, caller string, opts *live.Options) {
	if r.admins == nil {
		return
	}
	if opts.Organization != nil {
		org := *opts.Organization
		org.IAMDelegatedAdmins = r.admins
		opts.Organization = &org
	}
	if a.ID == caller {
		a.SetSource(evidence.SourceIAMDelegatedAdmin, r.status)
	}
	scope := &live.RootSessionScope{ManagementAccountID: r.mgmt, OrganizationID: r.orgID}
	switch {
	case a.ID == r.mgmt:
		scope.Authority = evidence.AuthorityManagement
	case slices.Contains(r.admins.Accounts, a.ID):
		scope.Authority = evidence.AuthorityDelegatedAdmin
	default:
		return
	}
	opts.RootSessions = scope
}
