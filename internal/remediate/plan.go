// Package remediate removes the root credentials of an organization's
// member accounts the way infrastructure tools change things: a read-only
// plan, reviewed, then applied and verified. Plan reads each member root
// user's credentials in an AssumeRoot audit session; Apply opens a delete
// session (IAMDeleteRootUserCredentials) per account, re-reads, deletes
// only what the plan named and still exists, and audits again.
package remediate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rootwatch/rootwatch/internal/awsx"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/source/live"
	"github.com/rootwatch/rootwatch/internal/source/org"
)

// SchemaVersion is the plan file's version.
const SchemaVersion = "1"

// Kinds of credential, in the order they are removed (IAM User Guide,
// "Perform a privileged task on an AWS Organizations member account").
const (
	Password     = "password"
	Keys         = "keys"
	Certificates = "certificates"
	MFA          = "mfa"
)

// AllKinds is every kind, in removal order.
func AllKinds() []string { return []string{Password, Keys, Certificates, MFA} }

// Account statuses in a plan.
const (
	StatusPlanned     = "planned"
	StatusNothingToDo = "nothing_to_do"
	StatusBlocked     = "blocked"
)

// Plan is what remediate plan writes and remediate apply reads.
type Plan struct {
	SchemaVersion       string        `json:"schema_version"`
	Tool                string        `json:"tool"`
	CreatedAt           time.Time     `json:"created_at"`
	Caller              string        `json:"caller"`
	Partition           string        `json:"partition"`
	OrganizationID      string        `json:"organization_id"`
	ManagementAccountID string        `json:"management_account_id"`
	What                []string      `json:"what"`
	CentralRootAccess   bool          `json:"central_root_access"`
	EnableCalls         []string      `json:"enable_calls,omitempty"`
	Accounts            []AccountPlan `json:"accounts"`
	Digest              string        `json:"digest"`
}

// AccountPlan is one member account.
type AccountPlan struct {
	AccountID   string                    `json:"account_id"`
	Name        string                    `json:"name,omitempty"`
	Status      string                    `json:"status"`
	Reason      string                    `json:"reason,omitempty"`
	Credentials *evidence.RootCredentials `json:"credentials,omitempty"`
	Actions     []Action                  `json:"actions"`
}

// Action is one deletion: the IAM call and the credential it removes.
type Action struct {
	Call         string `json:"call"`
	CredentialID string `json:"credential_id,omitempty"`
}

// ComputeDigest is the SHA-256 of the plan's JSON with the digest left out.
func (p *Plan) ComputeDigest() string {
	c := *p
	c.Digest = ""
	b, _ := json.Marshal(c)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Clients are the management account's clients a plan and an apply use.
type Clients struct {
	Config aws.Config
	STS    interface {
		awsx.STSAPI
		awsx.AssumeRootAPI
	}
	Organizations interface {
		org.ListAccountsAPI
		DescribeOrganization(context.Context, *organizations.DescribeOrganizationInput, ...func(*organizations.Options)) (*organizations.DescribeOrganizationOutput, error)
	}
	IAM live.IAMAPI
	// Enable makes the calls that turn centralized root access on.
	Enable Enabler
	// RootIAM builds the IAM client of a root session's configuration.
	RootIAM func(aws.Config) RootAPI
}

// RootAPI is what a root session calls: the audit reads and the deletions.
type RootAPI interface {
	live.RootCredentialsAPI
	DeleteLoginProfile(context.Context, *iam.DeleteLoginProfileInput, ...func(*iam.Options)) (*iam.DeleteLoginProfileOutput, error)
	DeleteAccessKey(context.Context, *iam.DeleteAccessKeyInput, ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error)
	DeleteSigningCertificate(context.Context, *iam.DeleteSigningCertificateInput, ...func(*iam.Options)) (*iam.DeleteSigningCertificateOutput, error)
	DeactivateMFADevice(context.Context, *iam.DeactivateMFADeviceInput, ...func(*iam.Options)) (*iam.DeactivateMFADeviceOutput, error)
}

// Enabler lists the calls that enable centralized root access.
type Enabler interface {
	EnableAWSServiceAccess(context.Context, *organizations.EnableAWSServiceAccessInput, ...func(*organizations.Options)) (*organizations.EnableAWSServiceAccessOutput, error)
	EnableOrganizationsRootCredentialsManagement(context.Context, *iam.EnableOrganizationsRootCredentialsManagementInput, ...func(*iam.Options)) (*iam.EnableOrganizationsRootCredentialsManagementOutput, error)
	EnableOrganizationsRootSessions(context.Context, *iam.EnableOrganizationsRootSessionsInput, ...func(*iam.Options)) (*iam.EnableOrganizationsRootSessionsOutput, error)
}

type enabler struct {
	org *organizations.Client
	iam *iam.Client
}

func (e enabler) EnableAWSServiceAccess(ctx context.Context, in *organizations.EnableAWSServiceAccessInput, o ...func(*organizations.Options)) (*organizations.EnableAWSServiceAccessOutput, error) {
	return e.org.EnableAWSServiceAccess(ctx, in, o...)
}

func (e enabler) EnableOrganizationsRootCredentialsManagement(ctx context.Context, in *iam.EnableOrganizationsRootCredentialsManagementInput, o ...func(*iam.Options)) (*iam.EnableOrganizationsRootCredentialsManagementOutput, error) {
	return e.iam.EnableOrganizationsRootCredentialsManagement(ctx, in, o...)
}

func (e enabler) EnableOrganizationsRootSessions(ctx context.Context, in *iam.EnableOrganizationsRootSessionsInput, o ...func(*iam.Options)) (*iam.EnableOrganizationsRootSessionsOutput, error) {
	return e.iam.EnableOrganizationsRootSessions(ctx, in, o...)
}

// NewClients builds the clients from the management account's configuration.
func NewClients(cfg aws.Config) Clients {
	orgc, iamc := organizations.NewFromConfig(cfg), iam.NewFromConfig(cfg)
	return Clients{Config: cfg, STS: sts.NewFromConfig(cfg), Organizations: orgc, IAM: iamc, Enable: enabler{orgc, iamc},
		RootIAM: func(c aws.Config) RootAPI { return iam.NewFromConfig(c) }}
}

// PlanOptions say what to plan.
type PlanOptions struct {
	What        []string // kinds to remove (default all)
	Include     map[string]bool
	Exclude     map[string]bool
	Concurrency int // default 32
	Now         func() time.Time
	Tool        string
	// EnableCentralRootAccess includes the calls that enable centralized
	// root access when it is off (otherwise the plan only names them).
	EnableCentralRootAccess bool
}

// BuildPlan reads, never writes: for each member account (never the
// management account, never an account outside the organization) an audit
// session lists the root user's credentials, and each that --what names is
// planned for deletion in the documented order.
func BuildPlan(ctx context.Context, c Clients, o PlanOptions) (*Plan, error) {
	if o.Concurrency <= 0 {
		o.Concurrency = 32
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	what := o.What
	if len(what) == 0 {
		what = AllKinds()
	}
	id, err := awsx.WhoAmI(ctx, c.STS)
	if err != nil {
		return nil, err
	}
	desc, err := c.Organizations.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		return nil, fmt.Errorf("DescribeOrganization as %s: %s (remediation runs from the management account or IAM's delegated administrator)", id.ARN, awsx.Describe("DescribeOrganization", err))
	}
	p := &Plan{SchemaVersion: SchemaVersion, Tool: o.Tool, CreatedAt: o.Now().UTC().Truncate(time.Second), Caller: id.ARN, Partition: id.Partition,
		OrganizationID: aws.ToString(desc.Organization.Id), ManagementAccountID: aws.ToString(desc.Organization.MasterAccountId), What: what, Accounts: []AccountPlan{}}
	orgEv, st := live.Organization(ctx, live.Clients{IAM: c.IAM, Organizations: c.Organizations}, id.Account)
	if st.State != evidence.StateOK || orgEv == nil || orgEv.Role != evidence.OrgRoleManagement {
		return nil, fmt.Errorf("cannot read whether centralized root access is enabled: %s", st.Detail)
	}
	p.CentralRootAccess = orgEv.HasFeature(evidence.FeatureRootCredentialsManagement)
	if !p.CentralRootAccess {
		calls := []string{"organizations:EnableAWSServiceAccess (iam.amazonaws.com)", "iam:EnableOrganizationsRootCredentialsManagement", "iam:EnableOrganizationsRootSessions"}
		if o.EnableCentralRootAccess {
			p.EnableCalls = calls
		}
	}
	// Members are audited as their ListAccounts page arrives.
	planAccount := func(a *AccountPlan) {
		if !p.CentralRootAccess {
			a.Status, a.Reason = StatusBlocked, "centralized root access is not enabled in "+p.OrganizationID+
				": it needs organizations:EnableAWSServiceAccess (iam.amazonaws.com), iam:EnableOrganizationsRootCredentialsManagement and iam:EnableOrganizationsRootSessions"
			return
		}
		rc, reason := audit(ctx, c, id.Partition, a.AccountID)
		if rc == nil {
			a.Status, a.Reason = StatusBlocked, reason
			return
		}
		a.Credentials = rc
		a.Actions = actionsFor(rc, what)
		a.Status = StatusPlanned
		if len(a.Actions) == 0 {
			a.Status = StatusNothingToDo
		}
	}
	next := make(chan *AccountPlan)
	var wg sync.WaitGroup
	for range o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for a := range next {
				planAccount(a)
			}
		}()
	}
	var pending []*AccountPlan
	listed := map[string]bool{}
	err = org.EachListed(ctx, c.Organizations, func(l org.Listed) {
		listed[l.ID] = true
		switch {
		case l.ID == p.ManagementAccountID || l.ID == id.Account:
			return // never the management account (AssumeRoot cannot target it)
		case l.State != "ACTIVE", o.Exclude[l.ID], len(o.Include) > 0 && !o.Include[l.ID]:
			return
		}
		a := &AccountPlan{AccountID: l.ID, Name: l.Name, Actions: []Action{}}
		pending = append(pending, a)
		select {
		case next <- a:
		case <-ctx.Done():
			a.Status, a.Reason = StatusBlocked, "not read: "+ctx.Err().Error()
		}
	})
	close(next)
	wg.Wait()
	if err != nil {
		return nil, fmt.Errorf("ListAccounts: %s", awsx.Describe("ListAccounts", err))
	}
	for want := range o.Include {
		if !listed[want] {
			return nil, fmt.Errorf("account %s is not in organization %s: nothing outside it is ever planned", want, p.OrganizationID)
		}
	}
	members := make([]AccountPlan, 0, len(pending))
	for _, a := range pending {
		members = append(members, *a)
	}
	slices.SortFunc(members, func(a, b AccountPlan) int { return strings.Compare(a.AccountID, b.AccountID) })
	p.Accounts = members
	p.Digest = p.ComputeDigest()
	return p, nil
}

// audit reads a member root user's credentials in an audit session.
func audit(ctx context.Context, c Clients, partition, account string) (*evidence.RootCredentials, string) {
	cfg, err := awsx.AssumeRoot(ctx, c.STS, c.Config, account, awsx.TaskPolicyARN(partition, awsx.TaskAuditRootCredentials))
	if err != nil {
		return nil, "AssumeRoot refused: " + awsx.Describe("AssumeRoot "+awsx.TaskAuditRootCredentials, err) +
			" (an SCP, Control Tower's root-user guardrail without ExemptAssumeRoot, or a missing sts:AssumeRoot permission)"
	}
	rc, st := live.RootCredentials(ctx, c.RootIAM(cfg))
	if st.State != evidence.StateOK {
		return nil, "cannot read the root user's credentials: " + st.Detail
	}
	return rc, ""
}

// actionsFor plans the deletions of the kinds named, in removal order.
func actionsFor(rc *evidence.RootCredentials, what []string) []Action {
	out := []Action{}
	if slices.Contains(what, Password) && rc.Password {
		out = append(out, Action{Call: "DeleteLoginProfile"})
	}
	if slices.Contains(what, Keys) {
		for _, k := range rc.AccessKeys {
			out = append(out, Action{Call: "DeleteAccessKey", CredentialID: k.ID})
		}
	}
	if slices.Contains(what, Certificates) {
		for _, c := range rc.Certificates {
			out = append(out, Action{Call: "DeleteSigningCertificate", CredentialID: c.ID})
		}
	}
	if slices.Contains(what, MFA) {
		for _, d := range rc.MFADevices {
			out = append(out, Action{Call: "DeactivateMFADevice", CredentialID: d.ID})
		}
	}
	return out
}

// forEach runs work on every account, at most n at once.
func forEach(ctx context.Context, accounts []AccountPlan, n int, work func(*AccountPlan)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(n, max(len(accounts), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				work(&accounts[i])
			}
		}()
	}
	for i := range accounts {
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
}

// ErrRefused says a plan cannot be applied.
var ErrRefused = errors.New("plan refused")
