// Package collect gathers evidence from live AWS accounts with
// aws-sdk-go-v2. Each source is collected on its own and records ok,
// denied or error with the reason; a failed source never stops the others.
// Collectors never judge: that is the rules' job.
package live

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rootwatch/rootwatch/internal/awsx"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/source/cloudtrail"
)

// IAMAPI lists the IAM calls rootwatch makes: all read-only, except
// GenerateCredentialReport, which only refreshes the account's report.
type IAMAPI interface {
	GenerateCredentialReport(context.Context, *iam.GenerateCredentialReportInput, ...func(*iam.Options)) (*iam.GenerateCredentialReportOutput, error)
	GetCredentialReport(context.Context, *iam.GetCredentialReportInput, ...func(*iam.Options)) (*iam.GetCredentialReportOutput, error)
	GetAccountSummary(context.Context, *iam.GetAccountSummaryInput, ...func(*iam.Options)) (*iam.GetAccountSummaryOutput, error)
	ListVirtualMFADevices(context.Context, *iam.ListVirtualMFADevicesInput, ...func(*iam.Options)) (*iam.ListVirtualMFADevicesOutput, error)
	ListOrganizationsFeatures(context.Context, *iam.ListOrganizationsFeaturesInput, ...func(*iam.Options)) (*iam.ListOrganizationsFeaturesOutput, error)
}

// OrganizationsAPI lists the Organizations calls rootwatch makes.
type OrganizationsAPI interface {
	DescribeOrganization(context.Context, *organizations.DescribeOrganizationInput, ...func(*organizations.Options)) (*organizations.DescribeOrganizationOutput, error)
}

// Clients are the service clients for one account.
type Clients struct {
	IAM           IAMAPI
	STS           awsx.STSAPI
	Organizations OrganizationsAPI
	// CloudTrail is a client for us-east-1, where root sign-ins and
	// global-service events are recorded (and, since November 2021, the
	// only region whose LookupEvents shows them).
	CloudTrail cloudtrail.LookupAPI
	// Monitoring reads what would alert on root activity; nil skips it.
	Monitoring *MonitoringClients
	// Authorization reads who may open root sessions, where that matters
	// (the management account, IAM's delegated administrator); nil skips it.
	Authorization IAMAuthorizationAPI
}

// NewClients builds the clients from an SDK configuration.
func NewClients(cfg aws.Config) Clients {
	return Clients{
		IAM: iam.NewFromConfig(cfg), STS: sts.NewFromConfig(cfg), Organizations: organizations.NewFromConfig(cfg),
		CloudTrail:    cloudtrail.NewLookupClient(cfg),
		Monitoring:    new(NewMonitoringClients(cfg)),
		Authorization: iam.NewFromConfig(cfg),
	}
}

// Options tune collection.
type Options struct {
	// MaxReportAge: an existing credential report younger than this is reused.
	MaxReportAge time.Duration
	// ReportTimeout bounds the wait for a new credential report.
	ReportTimeout time.Duration
	// PollInterval is the first wait between report polls (default 1 s); it
	// doubles up to PollMax (default 5 s), and further while IAM throttles
	// (see reportBackoff).
	PollInterval time.Duration
	PollMax      time.Duration
	// PollClock spaces the polls and measures ReportTimeout (default: real
	// time). It is apart from Now, which dates the evidence and which the
	// demo and tests freeze.
	PollClock Clock
	// Jitter returns a number in [0, 1) that spreads each wait (default
	// math/rand/v2); tests fix it.
	Jitter func() float64
	// Now is the clock (default time.Now).
	Now func() time.Time
	// AsOf is the moment the scan judges (default: Now). LookupEvents reads
	// [AsOf − TrailLookback, AsOf], the same period the rules' windows
	// measure back from, so evidence collected a moment after the as-of
	// time was fixed still covers them.
	AsOf time.Time
	// TrailLookback is how far back LookupEvents is read (at most 90 days).
	TrailLookback time.Duration
	// LookupInterval spaces LookupEvents calls (AWS allows two a second).
	LookupInterval time.Duration
	// Organization, when set, is used instead of asking DescribeOrganization
	// and ListOrganizationsFeatures (an org scan already knows it).
	Organization *evidence.Organization
	// Regions limits the regional monitoring reads (EventBridge rules,
	// GuardDuty) to these; empty reads every enabled region.
	Regions []string
	// RootSessions, set by an organization scan for the management
	// account and IAM's delegated administrator, has their IAM principals
	// read (GetAccountAuthorizationDetails, SimulatePrincipalPolicy). A
	// single-account scan decides from the organization source.
	RootSessions *RootSessionScope
}

func (o Options) withDefaults() Options {
	if o.MaxReportAge <= 0 {
		o.MaxReportAge = 4 * time.Hour
	}
	if o.ReportTimeout <= 0 {
		o.ReportTimeout = 2 * time.Minute
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.PollMax <= 0 {
		o.PollMax = 5 * time.Second
	}
	o.PollMax = max(o.PollMax, o.PollInterval)
	if o.PollClock == nil {
		o.PollClock = realClock{}
	}
	if o.Jitter == nil {
		o.Jitter = rand.Float64
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.TrailLookback <= 0 || o.TrailLookback > cloudtrail.MaxLookback {
		o.TrailLookback = cloudtrail.MaxLookback
	}
	return o
}

// Account collects every source of the account the clients land in.
func Account(ctx context.Context, c Clients, opts Options) (*evidence.Account, error) {
	opts = opts.withDefaults()
	id, err := awsx.WhoAmI(ctx, c.STS)
	if err != nil {
		return nil, err
	}
	a := &evidence.Account{ID: id.Account, Partition: id.Partition, CollectedAt: opts.Now().UTC()}
	CollectInto(ctx, c, opts, a)
	if err := ctx.Err(); err != nil {
		return a, fmt.Errorf("collection of account %s interrupted: %w", a.ID, err)
	}
	return a, nil
}

// CollectInto fills every source of an account whose identity is known;
// one source's failure never stops another.
func CollectInto(ctx context.Context, c Clients, opts Options, a *evidence.Account) {
	opts = opts.withDefaults()
	stamp := func(st evidence.SourceStatus) evidence.SourceStatus {
		st.CollectedAt = opts.Now().UTC()
		return st
	}
	// The report may take several polls to generate: collect the other
	// sources while it does, so the waits overlap the calls.
	var rep *evidence.CredentialReport
	var repSt evidence.SourceStatus
	reportDone := make(chan struct{})
	go func() {
		defer close(reportDone)
		rep, repSt = CredentialReport(ctx, c.IAM, opts)
	}()
	defer func() {
		<-reportDone
		a.CredentialReport = rep
		a.SetSource(evidence.SourceCredentialReport, stamp(repSt))
	}()
	// Monitoring spans many regions: it runs beside the rest too, on its
	// own copy of the account's sources, merged at the end.
	if c.Monitoring != nil {
		mon := &evidence.Account{ID: a.ID, Partition: a.Partition}
		monDone := make(chan struct{})
		go func() {
			defer close(monDone)
			mon.Monitoring = monitoring(ctx, *c.Monitoring, opts, mon, stamp)
		}()
		defer func() {
			<-monDone
			a.Monitoring = mon.Monitoring
			for name, st := range mon.Sources {
				a.SetSource(name, st)
			}
		}()
	}

	summary, st := accountSummary(ctx, c.IAM)
	a.AccountSummary = summary
	a.SetSource(evidence.SourceAccountSummary, stamp(st))

	devices, st := virtualMFADevices(ctx, c.IAM)
	a.VirtualMFADevices = devices
	a.SetSource(evidence.SourceVirtualMFA, stamp(st))

	if opts.Organization != nil {
		a.Organization = opts.Organization
		a.SetSource(evidence.SourceOrganization, stamp(evidence.SourceStatus{State: evidence.StateOK, Detail: "from the organization scan"}))
	} else {
		org, st := organization(ctx, c, a.ID)
		a.Organization = org
		a.SetSource(evidence.SourceOrganization, stamp(st))
	}

	if scope := rootSessionScope(opts, a); scope != nil && c.Authorization != nil {
		// Beside CloudTrail: a large account's details take several pages.
		done := make(chan struct{})
		var auth *evidence.IAMAuthorization
		var sims *evidence.PolicySimulations
		var authSt, simSt evidence.SourceStatus
		go func() {
			defer close(done)
			auth, authSt = IAMAuthorization(ctx, c.Authorization, *scope)
			if auth != nil {
				sims, simSt = PolicySimulations(ctx, c.Authorization, a.ID, a.Partition, auth)
			}
		}()
		defer func() {
			<-done
			a.IAMAuthorization = auth
			a.SetSource(evidence.SourceIAMAuthorization, stamp(authSt))
			if auth != nil {
				a.PolicySimulations = sims
				a.SetSource(evidence.SourcePolicySimulation, stamp(simSt))
			}
		}()
	}

	if c.CloudTrail != nil {
		ct, st := rootActivity(ctx, c.CloudTrail, opts, a.ID, a.Organization)
		a.CloudTrail = ct
		a.SetSource(evidence.SourceCloudTrail, stamp(st))
	}
}

// rootActivity reads the account's root events with LookupEvents
// (Username=root in us-east-1) over the lookback. In a management account
// (or IAM's delegated administrator) it also reads the calls made there
// about members' roots, which no root makes: EventName=AssumeRoot and
// EventSource=account.amazonaws.com (primary e-mail changes); an
// organization scan gives each to the member it names.
func rootActivity(ctx context.Context, c cloudtrail.LookupAPI, opts Options, account string, org *evidence.Organization) (*evidence.CloudTrail, evidence.SourceStatus) {
	end := opts.AsOf.UTC()
	if end.IsZero() {
		end = opts.Now().UTC()
	}
	start, end, _ := cloudtrail.LookupWindow(end.Add(-opts.TrailLookback), end, opts.Now().UTC())
	desc := fmt.Sprintf("LookupEvents %s, Username=root, %s to %s", cloudtrail.LookupRegion, start.Format(time.RFC3339), end.Format(time.RFC3339))
	var last time.Time
	query := func(q cloudtrail.LookupQuery) ([]evidence.Event, evidence.SourceStats) {
		q.Start, q.End, q.Interval, q.Source, q.Last = start, end, opts.LookupInterval, "LookupEvents "+cloudtrail.LookupRegion, &last
		return cloudtrail.Lookup(ctx, c, q)
	}
	events, stats := query(cloudtrail.LookupQuery{})
	extra := 0
	if stats.Error == "" && org != nil && org.Role == evidence.OrgRoleManagement {
		for _, q := range []cloudtrail.LookupQuery{{EventName: "AssumeRoot"}, {EventSource: "account.amazonaws.com"}} {
			evs, st := query(q)
			if st.Error != "" {
				stats.Error = st.Error
				break
			}
			events = append(events, evs...)
			stats.Undecodable += st.Undecodable
			stats.Problems = append(stats.Problems, st.Problems...)
			extra += st.Events
		}
		desc += ", EventName=AssumeRoot, EventSource=account.amazonaws.com"
	}
	if stats.Error != "" {
		st := evidence.SourceStatus{State: evidence.StateError, Detail: stats.Error}
		switch {
		case awsx.IsInterrupted(ctx.Err()):
			st.Detail = awsx.Describe(desc, ctx.Err())
		case strings.Contains(stats.Error, "AccessDenied"):
			st.State = evidence.StateDenied
		}
		return nil, st
	}
	if extra > 0 {
		// An event two queries read (an AssumeRoot call made by root,
		// were there one) is one event.
		events, _, _ = cloudtrail.Merge(events)
	}
	ct := &evidence.CloudTrail{From: start, To: end, Description: desc, AccountEvents: stats.Events + extra}
	visitors := 0 // other accounts' roots acting on this account's resources
	for _, e := range events {
		if e.Concerns(account) || e.AccountID == "" {
			ct.Events = append(ct.Events, e)
		} else {
			visitors++
		}
	}
	cloudtrail.LinkRootSessions(ct.Events)
	evidence.SortNewestFirst(ct.Events)
	if stats.Undecodable > 0 {
		ct.Problems = append(ct.Problems, fmt.Sprintf("%d events with a CloudTrailEvent that is not valid JSON (%s)", stats.Undecodable, strings.Join(stats.Problems, "; ")))
	}
	detail := desc + ": " + evidence.Count(len(ct.Events), "root event")
	if visitors > 0 {
		detail += fmt.Sprintf("; %s by other accounts' roots on this account's resources (their root activity, not this one's)", evidence.Count(visitors, "root event"))
	}
	if len(ct.Problems) > 0 {
		detail += "; " + strings.Join(ct.Problems, "; ")
	}
	return ct, evidence.SourceStatus{State: evidence.StateOK, Detail: detail}
}

func accountSummary(ctx context.Context, c IAMAPI) (map[string]int, evidence.SourceStatus) {
	out, err := c.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
	if err != nil {
		return nil, awsx.Failed("GetAccountSummary", err)
	}
	m := make(map[string]int, len(out.SummaryMap))
	for k, v := range out.SummaryMap {
		m[k] = int(v)
	}
	return m, evidence.SourceStatus{State: evidence.StateOK}
}

// virtualMFADevices lists every page of assigned virtual MFA devices.
func virtualMFADevices(ctx context.Context, c IAMAPI) ([]evidence.VirtualMFADevice, evidence.SourceStatus) {
	devices := []evidence.VirtualMFADevice{}
	p := iam.NewListVirtualMFADevicesPaginator(c, &iam.ListVirtualMFADevicesInput{AssignmentStatus: iamtypes.AssignmentStatusTypeAssigned})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, awsx.Failed("ListVirtualMFADevices", err)
		}
		pages++
		for _, d := range out.VirtualMFADevices {
			dev := evidence.VirtualMFADevice{SerialNumber: aws.ToString(d.SerialNumber), EnableDate: aws.ToTime(d.EnableDate)}
			if d.User != nil {
				dev.UserARN = aws.ToString(d.User.Arn)
			}
			devices = append(devices, dev)
		}
	}
	return devices, evidence.SourceStatus{State: evidence.StateOK, Detail: evidence.Count(len(devices), "assigned device") + " in " + evidence.Count(pages, "page")}
}

// Organization finds the account's place in AWS Organizations: standalone,
// member, or management (or delegated administrator) with its features.
func Organization(ctx context.Context, c Clients, account string) (*evidence.Organization, evidence.SourceStatus) {
	return organization(ctx, c, account)
}

func organization(ctx context.Context, c Clients, account string) (*evidence.Organization, evidence.SourceStatus) {
	ok := evidence.SourceStatus{State: evidence.StateOK}
	out, err := c.Organizations.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		if awsx.CodeIs(err, "AWSOrganizationsNotInUseException") {
			ok.Detail = "the account is not in an organization"
			return &evidence.Organization{Role: evidence.OrgRoleStandalone}, ok
		}
		return nil, awsx.Failed("DescribeOrganization", err)
	}
	org := &evidence.Organization{Role: evidence.OrgRoleMember}
	if out.Organization != nil {
		org.ID = aws.ToString(out.Organization.Id)
		org.ManagementAccountID = aws.ToString(out.Organization.MasterAccountId)
	}
	feats, err := c.IAM.ListOrganizationsFeatures(ctx, &iam.ListOrganizationsFeaturesInput{})
	switch {
	case err == nil:
		org.Role = evidence.OrgRoleManagement
		for _, f := range feats.EnabledFeatures {
			org.EnabledFeatures = append(org.EnabledFeatures, string(f))
		}
		if org.EnabledFeatures == nil {
			org.EnabledFeatures = []string{}
		}
		if org.ID == "" {
			org.ID = aws.ToString(feats.OrganizationId)
		}
		if org.ManagementAccountID != account {
			ok.Detail = "delegated administrator for IAM"
		}
	case awsx.CodeIs(err, "AccountNotManagementOrDelegatedAdministrator"):
		if org.ManagementAccountID == account {
			return nil, evidence.SourceStatus{State: evidence.StateError, Detail: "the management account was refused ListOrganizationsFeatures: " + awsx.Describe("ListOrganizationsFeatures", err)}
		}
		ok.Detail = "member account; features are read on the management account " + org.ManagementAccountID
	case awsx.CodeIs(err, "ServiceAccessNotEnabled"):
		// IAM trusted access is off, so centralized root access cannot be on.
		if org.ManagementAccountID != account {
			return nil, awsx.Failed("ListOrganizationsFeatures", err)
		}
		org.Role, org.EnabledFeatures = evidence.OrgRoleManagement, []string{}
		ok.Detail = "trusted access for IAM is not enabled: " + awsx.Describe("ListOrganizationsFeatures", err)
	default:
		return nil, awsx.Failed("ListOrganizationsFeatures", err)
	}
	return org, ok
}
