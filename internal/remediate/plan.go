// Package remediate removes the root credentials of an organization's
// member accounts the way infrastructure tools change things: a read-only
// plan, reviewed, then applied and verified. Plan reads each member root
// user's credentials in an AssumeRoot audit session; Apply opens a delete
// session (IAMDeleteRootUserCredentials) per account, re-reads, deletes
// only what the plan named and still exists, and audits again. Before
// that, Check holds the plan against the world: the live organization,
// its management account and each named account's state.
//
// What a plan's digest and signature protect: the digest (SHA-256 of the
// plan's content) catches accidental edits and truncation, nothing more,
// since anyone who can edit the file can recompute it. A signature (an
// HMAC-SHA256 of the same content under a key the editor does not have)
// makes apply refuse a plan changed by anyone without the key.
package remediate

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rootwatch/rootwatch/internal/awsx"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/parallel"
	"github.com/rootwatch/rootwatch/internal/source/live"
	"github.com/rootwatch/rootwatch/internal/source/org"
)

// SchemaVersion is the plan file's version. Version 1 plans (before
// signatures, enabling calls as planned actions and the shared definition
// of a root credential) are refused: plans are short-lived, plan again.
const SchemaVersion = "2"

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
	SchemaVersion       string    `json:"schema_version"`
	Tool                string    `json:"tool"`
	CreatedAt           time.Time `json:"created_at"`
	Caller              string    `json:"caller"`
	Partition           string    `json:"partition"`
	OrganizationID      string    `json:"organization_id"`
	ManagementAccountID string    `json:"management_account_id"`
	What                []string  `json:"what"`
	CentralRootAccess   bool      `json:"central_root_access"`
	// EnableCalls are the planned calls that turn centralized root access
	// on, in order (only those not in effect when the plan was made); a
	// plan with them removes nothing.
	EnableCalls []string      `json:"enable_calls,omitempty"`
	Accounts    []AccountPlan `json:"accounts"`
	Digest      string        `json:"digest"`
	// Signature is "hmac-sha256:" and the hex HMAC of the same content as
	// the digest, under the --sign-key key; empty when unsigned.
	Signature string `json:"signature,omitempty"`
}

// The calls that enable centralized root access, in the order they are
// made: IAM's two features need trusted access for IAM first.
const (
	EnableTrustedAccess             = "organizations:EnableAWSServiceAccess iam.amazonaws.com"
	EnableRootCredentialsManagement = "iam:EnableOrganizationsRootCredentialsManagement"
	EnableRootSessions              = "iam:EnableOrganizationsRootSessions"
)

// AllEnableCalls is every enabling call, in order.
func AllEnableCalls() []string {
	return []string{EnableTrustedAccess, EnableRootCredentialsManagement, EnableRootSessions}
}

// AccountPlan is one member account.
type AccountPlan struct {
	AccountID   string                    `json:"account_id"`
	Name        string                    `json:"name,omitempty"`
	Status      string                    `json:"status"`
	Reason      string                    `json:"reason,omitempty"`
	Credentials *evidence.RootCredentials `json:"credentials,omitempty"`
	Actions     []Action                  `json:"actions"`
	// Kept says what the plan leaves in place, and why.
	Kept []string `json:"kept,omitempty"`
}

// Action is one deletion: the IAM call and the credential it removes.
type Action struct {
	Call         string `json:"call"`
	CredentialID string `json:"credential_id,omitempty"`
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

// Enabler lists the calls that enable centralized root access, and the
// read that says whether trusted access for IAM is on.
type Enabler interface {
	ListAWSServiceAccessForOrganization(context.Context, *organizations.ListAWSServiceAccessForOrganizationInput, ...func(*organizations.Options)) (*organizations.ListAWSServiceAccessForOrganizationOutput, error)
	EnableAWSServiceAccess(context.Context, *organizations.EnableAWSServiceAccessInput, ...func(*organizations.Options)) (*organizations.EnableAWSServiceAccessOutput, error)
	EnableOrganizationsRootCredentialsManagement(context.Context, *iam.EnableOrganizationsRootCredentialsManagementInput, ...func(*iam.Options)) (*iam.EnableOrganizationsRootCredentialsManagementOutput, error)
	EnableOrganizationsRootSessions(context.Context, *iam.EnableOrganizationsRootSessionsInput, ...func(*iam.Options)) (*iam.EnableOrganizationsRootSessionsOutput, error)
}

type enabler struct {
	org *organizations.Client
	iam *iam.Client
}

func (e enabler) ListAWSServiceAccessForOrganization(ctx context.Context, in *organizations.ListAWSServiceAccessForOrganizationInput, o ...func(*organizations.Options)) (*organizations.ListAWSServiceAccessForOrganizationOutput, error) {
	return e.org.ListAWSServiceAccessForOrganization(ctx, in, o...)
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
	// EnableCentralRootAccess plans the calls that enable centralized root
	// access when it is off, for apply to make (otherwise the plan only
	// names them).
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
	var needed []string
	if !p.CentralRootAccess {
		needed = enableCallsNeeded(ctx, c, orgEv)
		if o.EnableCentralRootAccess {
			p.EnableCalls = needed
		}
	}
	// Members are audited as their ListAccounts page arrives.
	planAccount := func(ctx context.Context, a *AccountPlan) {
		if !p.CentralRootAccess {
			a.Status, a.Reason = StatusBlocked, "centralized root access is not enabled in "+p.OrganizationID+": it needs "+strings.Join(needed, ", ")
			if !o.EnableCentralRootAccess {
				a.Reason += " (remediate plan --enable-central-root-access plans them)"
			}
			return
		}
		rc, reason := audit(ctx, c, id.Partition, a.AccountID)
		if rc == nil {
			a.Status, a.Reason = StatusBlocked, reason
			return
		}
		a.Credentials = rc
		a.Actions, a.Kept = actionsFor(rc, what)
		a.Status = statusOf(a.Actions)
	}
	var pending []*AccountPlan
	listed := map[string]bool{}
	parallel.Stream(ctx, parallel.Options{Limit: o.Concurrency}, planAccount, nil, func(add func(*AccountPlan) error) {
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
			if err := add(a); err != nil {
				a.Status, a.Reason = StatusBlocked, "not read: "+err.Error()
			}
		})
	})
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

// enableCallsNeeded lists the enabling calls not in effect: the IAM
// features missing from the organization, after trusted access for IAM
// unless ListAWSServiceAccessForOrganization shows it on (when that read
// fails the call stays in: enabling trusted access again changes nothing).
func enableCallsNeeded(ctx context.Context, c Clients, orgEv *evidence.Organization) []string {
	var calls []string
	if !trustedAccessOn(ctx, c) {
		calls = append(calls, EnableTrustedAccess)
	}
	if !orgEv.HasFeature(evidence.FeatureRootCredentialsManagement) {
		calls = append(calls, EnableRootCredentialsManagement)
	}
	if !orgEv.HasFeature(evidence.FeatureRootSessions) {
		calls = append(calls, EnableRootSessions)
	}
	return calls
}

// trustedAccessOn reports whether IAM is among the organization's trusted
// services; false when that cannot be read.
func trustedAccessOn(ctx context.Context, c Clients) bool {
	in := &organizations.ListAWSServiceAccessForOrganizationInput{}
	for {
		out, err := c.Enable.ListAWSServiceAccessForOrganization(ctx, in)
		if err != nil {
			return false
		}
		for _, sp := range out.EnabledServicePrincipals {
			if aws.ToString(sp.ServicePrincipal) == "iam.amazonaws.com" {
				return true
			}
		}
		if aws.ToString(out.NextToken) == "" || aws.ToString(out.NextToken) == aws.ToString(in.NextToken) {
			return false
		}
		in.NextToken = out.NextToken
	}
}

func statusOf(actions []Action) string {
	if len(actions) == 0 {
		return StatusNothingToDo
	}
	return StatusPlanned
}

// actionsFor plans the deletions of the kinds named, in removal order, and
// says what it keeps. A credential is what evidence.RootCredentials.Held
// lists (the scan's definition). MFA devices are not credentials: one is
// deactivated only when the plan leaves the root user no credential at all,
// so a device is never left protecting nothing, nor taken from a password
// that stays, nor deactivated in an account that has no credential.
func actionsFor(rc *evidence.RootCredentials, what []string) ([]Action, []string) {
	out := []Action{}
	var kept []string
	keepUnlessNamed := func(kind, what string) {
		kept = append(kept, what+": "+kind+" is not in --what")
	}
	if rc.Password {
		if slices.Contains(what, Password) {
			out = append(out, Action{Call: "DeleteLoginProfile"})
		} else {
			keepUnlessNamed(Password, "the password")
		}
	}
	for _, k := range rc.AccessKeys {
		if slices.Contains(what, Keys) {
			out = append(out, Action{Call: "DeleteAccessKey", CredentialID: k.ID})
		} else {
			keepUnlessNamed(Keys, "access key "+k.ID)
		}
	}
	for _, c := range rc.Certificates {
		if slices.Contains(what, Certificates) {
			out = append(out, Action{Call: "DeleteSigningCertificate", CredentialID: c.ID})
		} else {
			keepUnlessNamed(Certificates, "signing certificate "+c.ID)
		}
	}
	if len(rc.MFADevices) == 0 {
		return out, kept
	}
	switch {
	case !rc.Any():
		kept = append(kept, rc.MFADeviceCount()+": not a credential (a device alone lets no one sign in), so nothing is removed, as iam-root-credentials-present passes")
	case len(kept) > 0:
		kept = append(kept, rc.MFADeviceCount()+": the root user keeps a credential, so its MFA stays")
	case !slices.Contains(what, MFA):
		keepUnlessNamed(MFA, rc.MFADeviceCount())
	default:
		for _, d := range rc.MFADevices {
			out = append(out, Action{Call: "DeactivateMFADevice", CredentialID: d.ID})
		}
	}
	return out, kept
}

// KeepsCredentials reports whether the account's root user keeps a
// credential the plan does not remove (one of a kind outside --what).
func (a *AccountPlan) KeepsCredentials() bool {
	if a.Credentials == nil {
		return false
	}
	removed := 0
	for _, act := range a.Actions {
		if act.Call != "DeactivateMFADevice" {
			removed++
		}
	}
	return removed < len(a.Credentials.Held())
}
