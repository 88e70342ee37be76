// Package org scans every account of an AWS Organization: it lists the
// accounts, assumes a role in each (bounded concurrency, a deadline per
// account), collects the same evidence as a single-account scan, and, when
// the organization centralizes root access, reads each member's root
// credentials through an AssumeRoot audit session. Every listed account
// comes back, assessed, partial, failed or skipped, with the reason.
package org

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rootwatch/rootwatch/internal/awsx"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/parallel"
	"github.com/rootwatch/rootwatch/internal/source/live"
)

// DefaultRoleName is the role Organizations creates in accounts it creates.
const DefaultRoleName = "OrganizationAccountAccessRole"

// DefaultConcurrency is the most accounts scanned at once. An account in
// flight mostly waits: IAM takes seconds to generate its credential report
// (polled 1, 2, 4 s apart), so an account takes about 4 to 8 s however
// fast the network is. ListAccounts hands out up to 200 accounts a second
// (20 a page at 100 ms), and keeping up with it takes about 200 × 5 s, a
// thousand, in flight; fewer, and accounts queue behind others that only
// wait. Each account's own API limits are its own, and throttling of the
// management account's shared ones (STS, Organizations) lowers the bound
// while it lasts.
const DefaultConcurrency = 1000

// Options tune an organization scan.
type Options struct {
	RoleName        string // default OrganizationAccountAccessRole
	RoleARNTemplate string // e.g. arn:aws:iam::{account}:role/Audit; overrides RoleName
	ExternalID      string
	SessionName     string // default "rootwatch"
	Include         map[string]bool
	Exclude         map[string]bool
	Concurrency     int           // default DefaultConcurrency
	AccountTimeout  time.Duration // default 5m
	// Names says, in the words of the caller's interface, where Include,
	// Exclude and AccountTimeout came from, for the reasons an account was
	// skipped, failed or timed out (e.g. "--exclude-accounts").
	Names   Names
	Collect live.Options
	// ReadTags reads each account's tags (ListTagsForResource, on the
	// management account), for routing notifications to owners.
	ReadTags bool
	// Progress is called after each account (from one goroutine at a time).
	Progress func(Progress)

	rootSessions rootSessions // read by Scan (delegated.go)
}

// Names label the settings behind skip and failure reasons.
type Names struct {
	Include, Exclude, AccountTimeout string
}

func (n Names) or(label, neutral string) string {
	if label == "" {
		return neutral
	}
	return label
}

// Progress counts accounts as the scan goes; Account is the one just done.
type Progress struct {
	Done, Failed, Total int
	Account             *evidence.Account
	// Limit is the bound on calls in flight to the management account's
	// shared quotas (role and root sessions, tags) when the account
	// finished, and Throttled how many times throttling lowered it so far.
	Limit, Throttled int
}

// ListAccountsAPI and the other narrow interfaces keep fakes small.
type ListAccountsAPI interface {
	ListAccounts(context.Context, *organizations.ListAccountsInput, ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error)
}

// RoleARN renders the role to assume in an account.
func (o Options) RoleARN(partition, account string) string {
	if o.RoleARNTemplate != "" {
		return strings.NewReplacer("{account}", account, "{partition}", partition).Replace(o.RoleARNTemplate)
	}
	name := o.RoleName
	if name == "" {
		name = DefaultRoleName
	}
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", partition, account, name)
}

// ValidateTemplate checks a --role-arn-template.
func ValidateTemplate(t string) error {
	if !strings.Contains(t, "{account}") {
		return errors.New("the role ARN template must contain {account}, e.g. arn:aws:iam::{account}:role/RootwatchAudit")
	}
	if !strings.HasPrefix(t, "arn:") || !strings.Contains(t, ":role/") {
		return fmt.Errorf("the role ARN template %q is not a role ARN", t)
	}
	return nil
}

// Listed is an account as ListAccounts returned it. Email is the root
// user's address: it is kept only as evidence.RootEmail (domain and
// masked local part), never printed or stored whole.
type Listed struct {
	ID, Name, State, Email string
}

// ListAll reads every page of ListAccounts with the SDK's paginator. A page
// may be empty while more follow: only a missing NextToken ends the list. A
// NextToken seen before would list the same accounts again forever; the
// paginator would stop there silently and lose the rest, so it is an error.
func ListAll(ctx context.Context, c ListAccountsAPI) ([]Listed, error) {
	var out []Listed
	err := EachListed(ctx, c, func(l Listed) { out = append(out, l) })
	return out, err
}

// EachListed calls fn for every account of every ListAccounts page as the
// page arrives, so that work on the first accounts starts before the last
// page is read.
func EachListed(ctx context.Context, c ListAccountsAPI, fn func(Listed)) error {
	g := &tokenGuard{c: c, seen: map[string]bool{}}
	p := organizations.NewListAccountsPaginator(g, &organizations.ListAccountsInput{MaxResults: aws.Int32(20)},
		func(o *organizations.ListAccountsPaginatorOptions) { o.StopOnDuplicateToken = false })
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, a := range page.Accounts {
			state := string(a.State)
			if state == "" {
				state = string(a.Status) // Status retires in 2026; State is preferred
			}
			fn(Listed{ID: aws.ToString(a.Id), Name: aws.ToString(a.Name), State: state, Email: aws.ToString(a.Email)})
		}
	}
	return nil
}

// tokenGuard refuses a ListAccounts call whose NextToken was used before.
type tokenGuard struct {
	c    ListAccountsAPI
	seen map[string]bool
}

func (g *tokenGuard) ListAccounts(ctx context.Context, in *organizations.ListAccountsInput, opts ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error) {
	if t := aws.ToString(in.NextToken); t != "" {
		if g.seen[t] {
			return nil, fmt.Errorf("ListAccounts returned the same NextToken twice (%q)", t)
		}
		g.seen[t] = true
	}
	return g.c.ListAccounts(ctx, in, opts...)
}

// Scan scans the organization that base's credentials manage.
func Scan(ctx context.Context, base aws.Config, o Options) ([]*evidence.Account, error) {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	return scan(ctx, base, o, parallel.NewAIMD(o.Concurrency))
}

// scan is Scan with the bound on calls to the management account's shared
// quotas given (tests start it lowered).
func scan(ctx context.Context, base aws.Config, o Options, lim *parallel.AIMD) ([]*evidence.Account, error) {
	if o.AccountTimeout <= 0 {
		o.AccountTimeout = 5 * time.Minute
	}
	if o.SessionName == "" {
		o.SessionName = "rootwatch"
	}
	base = withSharedClient(base, o.Concurrency)
	mgmt := live.NewClients(base)
	// The management account's STS and Organizations quotas are shared by
	// every account in flight: their throttling lowers the bound on calls
	// to them (role and root sessions, tags), not on accounts, which
	// mostly wait on their own credential reports.
	shared := watchThrottling(base, lim.Throttled)
	stsc := sts.NewFromConfig(shared)
	orgc := organizations.NewFromConfig(shared)
	id, err := awsx.WhoAmI(ctx, mgmt.STS)
	if err != nil {
		return nil, err
	}
	desc, err := orgc.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		if ierr := awsx.Interrupted("DescribeOrganization as "+id.ARN, err); ierr != nil {
			return nil, ierr
		}
		return nil, fmt.Errorf("DescribeOrganization as %s: %w (an organization scan runs from the management account or a delegated administrator)", id.ARN, err)
	}
	orgEv, orgSt := live.Organization(ctx, mgmt, id.Account)
	var orgID, mgmtID, mgmtEmail string
	if desc.Organization != nil {
		orgID, mgmtID = aws.ToString(desc.Organization.Id), aws.ToString(desc.Organization.MasterAccountId)
		mgmtEmail = aws.ToString(desc.Organization.MasterAccountEmail)
	}
	var features []string // nil: unknown
	if orgEv != nil && orgEv.Role == evidence.OrgRoleManagement {
		features = orgEv.EnabledFeatures
	}
	centralized := slices.Contains(features, evidence.FeatureRootCredentialsManagement)
	o.rootSessions = readRootSessions(ctx, orgc, orgID, mgmtID)
	scps := NewSCPReader(ctx, orgc, orgID, mgmtID)

	// Accounts are scanned as their ListAccounts page arrives: the listing
	// feeds the pool.
	var mu sync.Mutex
	prog := Progress{}
	scanOne := func(actx context.Context, a *evidence.Account) {
		if o.ReadTags {
			_ = onShared(actx, lim, func() error { return readTags(actx, orgc, a) })
		}
		recordSCPs := scps.Start(actx, a.ID)
		scanAccount(actx, base, stsc, lim, o, id, a, member(a.ID, id.Account, orgEv, orgSt, orgID, mgmtID, features), centralized && a.ID != mgmtID)
		recordSCPs(a)
		if errors.Is(actx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
			a.Error = strings.TrimPrefix(a.Error+"; ", "; ") + fmt.Sprintf("timed out after %s (%s); sources read before are kept", o.AccountTimeout, o.Names.or(o.Names.AccountTimeout, "the account timeout"))
		}
	}
	scanned := func(a *evidence.Account) {
		mu.Lock()
		defer mu.Unlock()
		prog.Done++
		prog.Limit, prog.Throttled = lim.State()
		if a.Error != "" {
			prog.Failed++
		}
		prog.Account = a
		if o.Progress != nil {
			o.Progress(prog)
		}
	}
	var accounts []*evidence.Account
	listed := map[string]bool{}
	var listErr error
	parallel.Stream(ctx, parallel.Options{Limit: o.Concurrency, Timeout: o.AccountTimeout}, scanOne, scanned, func(add func(*evidence.Account) error) {
		listErr = EachListed(ctx, orgc, func(l Listed) {
			listed[l.ID] = true
			a := &evidence.Account{ID: l.ID, Partition: id.Partition, Name: l.Name}
			accounts = append(accounts, a)
			switch {
			case l.State != string(orgtypes.AccountStateActive):
				a.Skipped = "account state " + l.State
			case o.Exclude[l.ID]:
				a.Skipped = "excluded by " + o.Names.or(o.Names.Exclude, "the scan's exclude list")
			case len(o.Include) > 0 && !o.Include[l.ID]:
				a.Skipped = "not selected by " + o.Names.or(o.Names.Include, "the scan's account list")
			default:
				rootEmail(a, l.Email)
				if l.ID == mgmtID && mgmtEmail == "" {
					mgmtEmail = l.Email
				}
				mu.Lock()
				prog.Total++
				mu.Unlock()
				if err := add(a); err != nil {
					a.Error = notScanned(err)
				}
			}
		})
	})
	managementDomain(accounts, mgmtEmail)
	if listErr != nil {
		// Ctrl-C while listing is not a missing permission.
		if ierr := awsx.Interrupted("ListAccounts as "+id.ARN+", listing the organization's accounts", listErr); ierr != nil {
			return nil, ierr
		}
		return nil, fmt.Errorf("ListAccounts as %s: %w (an organization scan needs organizations:ListAccounts in the management account or a delegated administrator)", id.ARN, listErr)
	}
	for _, want := range slices.Sorted(maps.Keys(o.Include)) {
		if !listed[want] {
			accounts = append(accounts, &evidence.Account{ID: want, Partition: id.Partition,
				Error: "asked for with " + o.Names.or(o.Names.Include, "the scan's account list") + ", but ListAccounts does not list it in " + orgID})
		}
	}
	slices.SortFunc(accounts, func(a, b *evidence.Account) int { return strings.Compare(a.ID, b.ID) })
	return accounts, nil
}

// notScanned is why an account the scan stopped before was not scanned.
func notScanned(why error) string {
	if errors.Is(why, context.Canceled) {
		return "not scanned: the scan was interrupted first"
	}
	return "not scanned: " + why.Error()
}

// rootEmail keeps what the rules need of the root user's address from
// ListAccounts: its domain and masked local part.
func rootEmail(a *evidence.Account, addr string) {
	re := evidence.ParseRootEmail(addr, "ListAccounts")
	a.RootEmail = &re
	detail := "ListAccounts: " + re.Masked
	if re.Problem != "" {
		detail = re.Problem
	}
	a.SetSource(evidence.SourceRootEmail, evidence.SourceStatus{State: evidence.StateOK, Detail: detail, CollectedAt: time.Now().UTC()})
}

// managementDomain gives every account the management account's e-mail
// domain (DescribeOrganization MasterAccountEmail, else its ListAccounts
// Email), which root_email_domains defaults to. It runs once the workers
// are done.
func managementDomain(accounts []*evidence.Account, addr string) {
	m := evidence.ParseRootEmail(addr, "DescribeOrganization MasterAccountEmail")
	for _, a := range accounts {
		if a.RootEmail != nil {
			a.RootEmail.ManagementDomain, a.RootEmail.ManagementProblem = m.Domain, m.Problem
		}
	}
}

// readTags reads an account's tags; a failure is kept in the evidence
// (the account's notifications then go to the default targets) and
// returned.
func readTags(ctx context.Context, c *organizations.Client, a *evidence.Account) error {
	p := organizations.NewListTagsForResourcePaginator(c, &organizations.ListTagsForResourceInput{ResourceId: aws.String(a.ID)})
	tags := map[string]string{}
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			a.TagsError = awsx.Describe("ListTagsForResource", err)
			return err
		}
		for _, t := range out.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	a.Tags = tags
	return nil
}

// withSharedClient gives every account's SDK clients one HTTP client (see
// awsx.SharedHTTPClient), unless the caller brought one.
func withSharedClient(base aws.Config, concurrency int) aws.Config {
	if base.HTTPClient == nil {
		base.HTTPClient = awsx.SharedHTTPClient(concurrency)
	}
	return base
}

// member gives an account its organization evidence from what the
// management account read, saving each account two calls.
func member(account, caller string, orgEv *evidence.Organization, orgSt evidence.SourceStatus, orgID, mgmtID string, features []string) func() (*evidence.Organization, evidence.SourceStatus) {
	return func() (*evidence.Organization, evidence.SourceStatus) {
		if account == caller {
			return orgEv, orgSt
		}
		ev := &evidence.Organization{Role: evidence.OrgRoleMember, ID: orgID, ManagementAccountID: mgmtID}
		if account == mgmtID {
			ev.Role = evidence.OrgRoleManagement
		}
		if features != nil {
			ev.EnabledFeatures = append([]string{}, features...)
		} else if orgSt.State != evidence.StateOK {
			ev.FeaturesUnknown = fmt.Sprintf("the management account's own organization reads failed (%s: %s)", orgSt.State, orgSt.Detail)
		} else if orgEv != nil && orgEv.Role != evidence.OrgRoleManagement {
			ev.FeaturesUnknown = "the scanning account " + caller + " is not the management account or IAM's delegated administrator, so ListOrganizationsFeatures was not answered"
		}
		return ev, evidence.SourceStatus{State: evidence.StateOK, Detail: "from the organization scan"}
	}
}

func scanAccount(ctx context.Context, base aws.Config, stsc *sts.Client, lim *parallel.AIMD, o Options, caller awsx.Identity, a *evidence.Account,
	orgOf func() (*evidence.Organization, evidence.SourceStatus), audit bool) {
	cfg := base
	if a.ID != caller.Account {
		role := awsx.Role{ARN: o.RoleARN(caller.Partition, a.ID), SessionName: o.SessionName, ExternalID: o.ExternalID}
		err := onShared(ctx, lim, func() (err error) {
			cfg, err = awsx.AssumeRole(ctx, stsc, base, role)
			return err
		})
		if err != nil {
			if ctx.Err() == nil { // a deadline is said by the caller, not blamed on the role
				a.Error = "role not assumable: " + awsx.Describe("AssumeRole "+role.ARN, err)
			}
			return
		}
	}
	// The organization evidence is the management account's knowledge; when
	// even that failed, the caller's own collection asks again and records why.
	orgEv, _ := orgOf()
	opts := o.Collect
	opts.Organization = orgEv
	o.rootSessions.apply(a, caller.Account, &opts)
	a.CollectedAt = time.Now().UTC()
	if opts.Now != nil {
		a.CollectedAt = opts.Now().UTC()
	}
	// The AssumeRoot audit runs beside the collection, whose credential
	// report usually spends seconds generating.
	var rc *evidence.RootCredentials
	var rcSt evidence.SourceStatus
	auditDone := make(chan struct{})
	go func() {
		defer close(auditDone)
		if !audit {
			return
		}
		var iamc live.RootCredentialsAPI
		err := onShared(ctx, lim, func() (err error) {
			iamc, err = live.OpenRootAudit(ctx, stsc, base, caller.Partition, a.ID)
			return err
		})
		if err != nil {
			rcSt = awsx.Failed("AssumeRoot "+awsx.TaskPolicyARN(caller.Partition, awsx.TaskAuditRootCredentials), err)
			return
		}
		rc, rcSt = live.RootCredentials(ctx, iamc)
	}()
	live.CollectInto(ctx, live.NewClients(cfg), opts, a)
	<-auditDone
	if audit {
		a.RootCredentials = rc
		a.SetSource(evidence.SourceRootCredentials, rcSt)
	}
}
