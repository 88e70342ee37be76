package remediate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/smithy-go/middleware"

	"github.com/rootwatch/rootwatch/internal/awsx"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/parallel"
	"github.com/rootwatch/rootwatch/internal/source/live"
	"github.com/rootwatch/rootwatch/internal/source/org"
)

// Outcomes of an account in an apply.
const (
	OutcomeDone    = "done"    // every planned credential is gone, verified
	OutcomeSkipped = "skipped" // nothing planned, or blocked
	OutcomeFailed  = "failed"  // something failed or could not be verified
)

// ApplyOptions tune an apply.
type ApplyOptions struct {
	MaxPlanAge  time.Duration // default 1h
	Concurrency int           // default 32
	Now         func() time.Time
	// Log receives one JSON line per action (and per refused session).
	Log io.Writer
	// SignKey, when set, makes Check require the plan's signature under it.
	SignKey []byte
}

// AccountResult is what an apply did in one account.
type AccountResult struct {
	AccountID string `json:"account_id"`
	Outcome   string `json:"outcome"`
	Reason    string `json:"reason,omitempty"`
	Done      int    `json:"done"`
	Gone      int    `json:"already_gone"`
	// New lists credentials found that the plan did not name: never
	// deleted, reported.
	New []string `json:"new,omitempty"`
}

// LogLine is one line of the audit log.
type LogLine struct {
	Time         time.Time `json:"time"`
	Caller       string    `json:"caller"`
	AccountID    string    `json:"account_id"`
	Action       string    `json:"action"`
	CredentialID string    `json:"credential_id,omitempty"`
	Result       string    `json:"result"`
	RequestID    string    `json:"request_id,omitempty"`
}

// Checked is a plan Check accepted, with who checked it; Apply takes
// nothing else.
type Checked struct {
	Identity awsx.Identity
	plan     *Plan
	digest   string
	// members are the organization's ACTIVE member accounts as Check read
	// them, without the management account and the caller's own.
	members map[string]bool
}

// Plan is the plan that was checked.
func (c *Checked) Plan() *Plan { return c.plan }

// Check refuses a plan that cannot be applied now by this caller, before
// any change: of another schema version, edited (its digest does not
// match), not signed under opts.SignKey when one is given, too old,
// inconsistent with itself, for another organization or management
// account, or naming an account that is the management account, the
// caller's, outside the organization or not ACTIVE there (ListAccounts is
// read again). One bad account refuses the whole plan. Each problem names
// its field.
func Check(ctx context.Context, c Clients, p *Plan, o ApplyOptions) (*Checked, error) {
	o = o.withDefaults()
	if err := p.verify(o.SignKey); err != nil {
		return nil, err
	}
	if age := o.Now().Sub(p.CreatedAt); age > o.MaxPlanAge || age < -time.Minute {
		return nil, fmt.Errorf("%w: created_at: it was made at %s, %s ago, longer than the maximum plan age of %s: plan again", ErrRefused,
			p.CreatedAt.Format(time.RFC3339), age.Round(time.Second), o.MaxPlanAge)
	}
	if problems := validate(p); len(problems) > 0 {
		return nil, refusal(problems)
	}
	id, err := awsx.WhoAmI(ctx, c.STS)
	if err != nil {
		return nil, err
	}
	desc, err := c.Organizations.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		return nil, fmt.Errorf("DescribeOrganization: %s", awsx.Describe("DescribeOrganization", err))
	}
	liveOrg, liveMgmt := aws.ToString(desc.Organization.Id), aws.ToString(desc.Organization.MasterAccountId)
	if liveOrg != p.OrganizationID {
		return nil, fmt.Errorf("%w: organization_id: it is for organization %s, but these credentials manage %s", ErrRefused, p.OrganizationID, liveOrg)
	}
	if liveMgmt != p.ManagementAccountID {
		return nil, fmt.Errorf("%w: management_account_id: the plan says %s, but the management account of %s is %s", ErrRefused, p.ManagementAccountID, liveOrg, liveMgmt)
	}
	if id.Partition != p.Partition {
		return nil, fmt.Errorf("%w: partition: the plan is for %s, but these credentials are in %s", ErrRefused, p.Partition, id.Partition)
	}
	states := map[string]string{}
	if err := org.EachListed(ctx, c.Organizations, func(l org.Listed) { states[l.ID] = l.State }); err != nil {
		return nil, fmt.Errorf("ListAccounts, to check the plan's accounts against the organization: %s", awsx.Describe("ListAccounts", err))
	}
	chk := &Checked{Identity: id, plan: p, digest: p.Digest, members: map[string]bool{}}
	var problems []string
	for i, a := range p.Accounts {
		field := fmt.Sprintf("accounts[%d].account_id %s", i, a.AccountID)
		state, listed := states[a.AccountID]
		switch {
		case a.AccountID == liveMgmt:
			problems = append(problems, field+": is the management account of "+liveOrg+" (AssumeRoot cannot target it; remediate never plans it)")
		case a.AccountID == id.Account:
			problems = append(problems, field+": is the caller's own account ("+id.ARN+"); remediate never plans it")
		case !listed:
			problems = append(problems, field+": is not in organization "+liveOrg+" (ListAccounts)")
		case state != "ACTIVE":
			problems = append(problems, field+": is "+state+" in "+liveOrg+", not ACTIVE")
		default:
			chk.members[a.AccountID] = true
		}
	}
	if len(problems) > 0 {
		return nil, refusal(problems)
	}
	return chk, nil
}

// refusal joins problems into one error, the first 20 in full.
func refusal(problems []string) error {
	const shown = 20
	msg := strings.Join(problems[:min(len(problems), shown)], "; ")
	if len(problems) > shown {
		msg += fmt.Sprintf("; and %d more", len(problems)-shown)
	}
	return fmt.Errorf("%w: %s", ErrRefused, msg)
}

// validate checks the plan against itself, without AWS: known kinds,
// statuses and calls; each account once and a 12-digit ID; and each
// account's actions exactly those its own credentials and what give
// (actionsFor), so a plan whose digest was recomputed after an edit still
// cannot name an action the plan's reading did not.
func validate(p *Plan) []string {
	var problems []string
	for i, w := range p.What {
		if !slices.Contains(AllKinds(), w) {
			problems = append(problems, fmt.Sprintf("what[%d] %q: want one of %s", i, w, strings.Join(AllKinds(), ", ")))
		}
	}
	if len(p.What) == 0 {
		problems = append(problems, "what: empty")
	}
	for i, call := range p.EnableCalls {
		if !slices.Contains(AllEnableCalls(), call) {
			problems = append(problems, fmt.Sprintf("enable_calls[%d] %q: want one of %s", i, call, strings.Join(AllEnableCalls(), ", ")))
		}
	}
	if len(p.EnableCalls) > 0 && p.CentralRootAccess {
		problems = append(problems, "enable_calls: present, but central_root_access says it is on")
	}
	seen := map[string]bool{}
	for i, a := range p.Accounts {
		field := fmt.Sprintf("accounts[%d] (%s)", i, a.AccountID)
		if !evidence.ValidAccountID(a.AccountID) {
			problems = append(problems, fmt.Sprintf("accounts[%d].account_id %q: not a 12-digit account ID", i, a.AccountID))
			continue
		}
		if seen[a.AccountID] {
			problems = append(problems, fmt.Sprintf("accounts[%d].account_id %s: listed twice", i, a.AccountID))
		}
		seen[a.AccountID] = true
		switch a.Status {
		case StatusPlanned, StatusNothingToDo:
			if a.Credentials == nil {
				problems = append(problems, field+".credentials: missing for status "+a.Status)
				continue
			}
			if len(p.EnableCalls) > 0 && len(a.Actions) > 0 {
				problems = append(problems, field+".actions: a plan that enables centralized root access removes nothing")
			}
			want, _ := actionsFor(a.Credentials, p.What)
			if !slices.Equal(a.Actions, want) {
				problems = append(problems, fmt.Sprintf("%s.actions: %s, but its credentials and what give %s", field, describeActions(a.Actions), describeActions(want)))
			}
			if a.Status != statusOf(want) {
				problems = append(problems, fmt.Sprintf("%s.status: %s, but its credentials and what give %s", field, a.Status, statusOf(want)))
			}
		case StatusBlocked:
			if len(a.Actions) > 0 {
				problems = append(problems, field+".actions: a blocked account has none")
			}
		default:
			problems = append(problems, fmt.Sprintf("%s.status %q: want %s, %s or %s", field, a.Status, StatusPlanned, StatusNothingToDo, StatusBlocked))
		}
	}
	return problems
}

func describeActions(acts []Action) string {
	if len(acts) == 0 {
		return "none"
	}
	var s []string
	for _, a := range acts {
		s = append(s, strings.TrimSpace(a.Call+" "+a.CredentialID))
	}
	return "[" + strings.Join(s, ", ") + "]"
}

func (o ApplyOptions) withDefaults() ApplyOptions {
	if o.MaxPlanAge <= 0 {
		o.MaxPlanAge = time.Hour
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 32
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return o
}

// Apply carries out a checked plan: per planned account, a delete session,
// a fresh read, the deletions the plan named that still exist, then a
// fresh audit session to verify. One account's failure never stops the
// others; when ctx ends, each planned account not yet started is failed,
// "not applied". It touches only the accounts Check found ACTIVE in the
// organization, never the management account; an enabling plan makes its
// calls instead. It refuses a plan changed since Check.
func Apply(ctx context.Context, c Clients, chk *Checked, o ApplyOptions) ([]AccountResult, error) {
	o = o.withDefaults()
	if chk == nil || chk.plan == nil || chk.plan.ComputeDigest() != chk.digest {
		return nil, fmt.Errorf("%w: the plan changed after it was checked", ErrRefused)
	}
	p, id := chk.plan, chk.Identity
	var logMu sync.Mutex
	log := func(l LogLine) {
		l.Time, l.Caller = o.Now().UTC(), id.ARN
		b, _ := json.Marshal(l)
		logMu.Lock()
		o.Log.Write(append(b, '\n'))
		logMu.Unlock()
	}
	if len(p.EnableCalls) > 0 {
		// Centralized root access was off when the plan was made, so it
		// holds no credentials to remove: turn it on, and plan again.
		return []AccountResult{enableCentralRootAccess(ctx, c, p, log)}, nil
	}
	accounts := append([]AccountPlan(nil), p.Accounts...)
	results := make([]AccountResult, len(accounts))
	byID := map[string]int{}
	for i, a := range accounts {
		byID[a.AccountID] = i
		results[i] = AccountResult{AccountID: a.AccountID, Outcome: OutcomeSkipped, Reason: a.Status}
	}
	// An account not started when ctx ended is a planned removal not made:
	// failed, never skipped.
	one := func(ctx context.Context, i int, started bool) {
		a := &accounts[i]
		r := &results[byID[a.AccountID]]
		switch {
		case a.Status != StatusPlanned:
			if a.Reason != "" {
				r.Reason = a.Status + ": " + a.Reason
			}
		case !chk.members[a.AccountID]:
			r.Outcome, r.Reason = OutcomeFailed, "not an ACTIVE member account when the plan was checked: not touched"
		case !started:
			r.Outcome, r.Reason = OutcomeFailed, "not applied: "+ctx.Err().Error()+" before the account's turn; nothing in it was changed"
		default:
			applyAccount(ctx, c, p, id, a, r, log)
		}
	}
	_, notRun := parallel.Map(ctx, len(accounts), parallel.Options{Limit: o.Concurrency}, func(ctx context.Context, i int) struct{} {
		one(ctx, i, true)
		return struct{}{}
	})
	for _, i := range notRun {
		one(ctx, i, false)
	}
	return results, nil
}

// enableCentralRootAccess makes the plan's enabling calls in order, each
// only when it is not already in effect (so a second apply of the same
// plan calls nothing), then reads the features again to verify. Trusted
// access is verified through them: IAM refuses both features without it.
func enableCentralRootAccess(ctx context.Context, c Clients, p *Plan, log func(LogLine)) AccountResult {
	r := AccountResult{AccountID: p.ManagementAccountID}
	fail := func(why string) AccountResult { r.Outcome, r.Reason = OutcomeFailed, why; return r }
	features, err := featuresOn(ctx, c)
	if err != nil {
		return fail("cannot read the organization's features before enabling: " + err.Error())
	}
	steps := map[string]struct {
		on bool
		do func() error
	}{
		EnableTrustedAccess: {trustedAccessOn(ctx, c), func() error {
			_, err := c.Enable.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String("iam.amazonaws.com")})
			return err
		}},
		EnableRootCredentialsManagement: {features[evidence.FeatureRootCredentialsManagement], func() error {
			_, err := c.Enable.EnableOrganizationsRootCredentialsManagement(ctx, &iam.EnableOrganizationsRootCredentialsManagementInput{})
			return err
		}},
		EnableRootSessions: {features[evidence.FeatureRootSessions], func() error {
			_, err := c.Enable.EnableOrganizationsRootSessions(ctx, &iam.EnableOrganizationsRootSessionsInput{})
			return err
		}},
	}
	for _, call := range p.EnableCalls {
		st := steps[call]
		if st.on {
			r.Gone++
			log(LogLine{AccountID: p.ManagementAccountID, Action: call, Result: "already enabled"})
			continue
		}
		if err := st.do(); err != nil {
			log(LogLine{AccountID: p.ManagementAccountID, Action: call, Result: "failed: " + awsx.Describe(call, err)})
			return fail(call + " failed: " + awsx.Describe(call, err))
		}
		r.Done++
		log(LogLine{AccountID: p.ManagementAccountID, Action: call, Result: "done"})
	}
	after, err := featuresOn(ctx, c)
	if err != nil {
		return fail("enabled, but not verified: " + err.Error())
	}
	for call, feature := range map[string]string{EnableRootCredentialsManagement: evidence.FeatureRootCredentialsManagement, EnableRootSessions: evidence.FeatureRootSessions} {
		if slices.Contains(p.EnableCalls, call) && !after[feature] {
			return fail("not verified: ListOrganizationsFeatures does not list " + feature + " after " + call)
		}
	}
	r.Outcome, r.Reason = OutcomeDone, "centralized root access is enabled: plan again to remove member root credentials"
	return r
}

// featuresOn reads the organization's centralized root access features;
// trusted access for IAM being off means none.
func featuresOn(ctx context.Context, c Clients) (map[string]bool, error) {
	out, err := c.IAM.ListOrganizationsFeatures(ctx, &iam.ListOrganizationsFeaturesInput{})
	if awsx.CodeIs(err, "ServiceAccessNotEnabled") {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, errors.New(awsx.Describe("ListOrganizationsFeatures", err))
	}
	on := map[string]bool{}
	for _, f := range out.EnabledFeatures {
		on[string(f)] = true
	}
	return on, nil
}

func applyAccount(ctx context.Context, c Clients, p *Plan, id awsx.Identity, a *AccountPlan, r *AccountResult, log func(LogLine)) {
	fail := func(why string) { r.Outcome, r.Reason = OutcomeFailed, why }
	// A session lives at most 900 seconds; the account's work is bounded
	// to fit inside it.
	sctx, cancel := context.WithTimeout(ctx, awsx.MaxRootSession-time.Minute)
	defer cancel()
	cfg, err := awsx.AssumeRoot(sctx, c.STS, c.Config, a.AccountID, awsx.TaskPolicyARN(id.Partition, awsx.TaskDeleteRootCredentials))
	if err != nil {
		log(LogLine{AccountID: a.AccountID, Action: "AssumeRoot " + awsx.TaskDeleteRootCredentials, Result: "refused: " + awsx.Describe("AssumeRoot", err)})
		fail("AssumeRoot refused: " + awsx.Describe("AssumeRoot", err))
		return
	}
	rootIAM := c.RootIAM(cfg)
	now, st := live.RootCredentials(sctx, rootIAM)
	if st.State != evidence.StateOK {
		fail("cannot read the root user's credentials: " + st.Detail)
		return
	}
	present := credentialIDs(now)
	planned := map[string]bool{}
	for _, act := range a.Actions {
		planned[act.Call+"/"+act.CredentialID] = true
	}
	for _, k := range now.AccessKeys {
		if !planned["DeleteAccessKey/"+k.ID] && slices.Contains(p.What, Keys) {
			r.New = append(r.New, "access key "+k.ID)
		}
	}
	for _, ct := range now.Certificates {
		if !planned["DeleteSigningCertificate/"+ct.ID] && slices.Contains(p.What, Certificates) {
			r.New = append(r.New, "signing certificate "+ct.ID)
		}
	}
	for _, d := range now.MFADevices {
		if !planned["DeactivateMFADevice/"+d.ID] && slices.Contains(p.What, MFA) {
			r.New = append(r.New, "MFA device "+d.ID)
		}
	}
	if now.Password && !planned["DeleteLoginProfile/"] && slices.Contains(p.What, Password) {
		r.New = append(r.New, "password")
	}
	// An MFA device is deactivated only when the root user is left no
	// credential: one added since the plan keeps it.
	var staying []string
	for k := range present {
		if call, id, _ := strings.Cut(k, "/"); call != "DeactivateMFADevice" && !planned[k] {
			staying = append(staying, strings.TrimSpace(map[string]string{"DeleteLoginProfile": "password",
				"DeleteAccessKey": "access key", "DeleteSigningCertificate": "signing certificate"}[call]+" "+id))
		}
	}
	slices.Sort(staying)
	failed, mfaKept := false, false
	for _, act := range a.Actions {
		if act.Call == "DeactivateMFADevice" && len(staying) > 0 {
			mfaKept = true
			log(LogLine{AccountID: a.AccountID, Action: act.Call, CredentialID: act.CredentialID,
				Result: fmt.Sprintf("kept: the root user has a credential the plan does not remove (%s)", strings.Join(staying, ", "))})
			continue
		}
		if !present[act.Call+"/"+act.CredentialID] {
			r.Gone++
			log(LogLine{AccountID: a.AccountID, Action: act.Call, CredentialID: act.CredentialID, Result: "already gone"})
			continue
		}
		reqID, err := call(sctx, rootIAM, act)
		if err != nil {
			failed = true
			log(LogLine{AccountID: a.AccountID, Action: act.Call, CredentialID: act.CredentialID, Result: "failed: " + awsx.Describe(act.Call, err), RequestID: reqID})
			continue
		}
		r.Done++
		log(LogLine{AccountID: a.AccountID, Action: act.Call, CredentialID: act.CredentialID, Result: "done", RequestID: reqID})
	}
	// Verify in a fresh audit session.
	after, reason := audit(sctx, c, id.Partition, a.AccountID)
	if after == nil {
		fail("not verified: " + reason)
		return
	}
	left := credentialIDs(after)
	var remaining []string
	for _, act := range a.Actions {
		if left[act.Call+"/"+act.CredentialID] && !(mfaKept && act.Call == "DeactivateMFADevice") {
			remaining = append(remaining, act.Call+" "+act.CredentialID)
		}
	}
	switch {
	case mfaKept:
		fail(fmt.Sprintf("MFA left active: the root user has credentials the plan does not remove (%s); plan again", strings.Join(staying, ", ")))
	case len(remaining) > 0:
		fail(fmt.Sprintf("still present after apply: %v", remaining))
	case failed:
		fail("some deletions failed (see the log)")
	default:
		r.Outcome, r.Reason = OutcomeDone, ""
		if len(r.New) > 0 {
			r.Reason = fmt.Sprintf("%d credentials added since the plan were left alone: %v", len(r.New), r.New)
		}
	}
}

// credentialIDs keys what exists as the action that would remove it.
func credentialIDs(rc *evidence.RootCredentials) map[string]bool {
	m := map[string]bool{}
	if rc.Password {
		m["DeleteLoginProfile/"] = true
	}
	for _, k := range rc.AccessKeys {
		m["DeleteAccessKey/"+k.ID] = true
	}
	for _, c := range rc.Certificates {
		m["DeleteSigningCertificate/"+c.ID] = true
	}
	for _, d := range rc.MFADevices {
		m["DeactivateMFADevice/"+d.ID] = true
	}
	return m
}

// call makes one deletion and returns AWS's request id.
func call(ctx context.Context, c RootAPI, act Action) (string, error) {
	var meta middleware.Metadata
	var err error
	switch act.Call {
	case "DeleteLoginProfile":
		var out *iam.DeleteLoginProfileOutput
		if out, err = c.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{}); err == nil {
			meta = out.ResultMetadata
		}
	case "DeleteAccessKey":
		var out *iam.DeleteAccessKeyOutput
		if out, err = c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(act.CredentialID)}); err == nil {
			meta = out.ResultMetadata
		}
	case "DeleteSigningCertificate":
		var out *iam.DeleteSigningCertificateOutput
		if out, err = c.DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{CertificateId: aws.String(act.CredentialID)}); err == nil {
			meta = out.ResultMetadata
		}
	case "DeactivateMFADevice":
		var out *iam.DeactivateMFADeviceOutput
		if out, err = c.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{SerialNumber: aws.String(act.CredentialID)}); err == nil {
			meta = out.ResultMetadata
		}
	default:
		return "", fmt.Errorf("unknown call %q in the plan", act.Call)
	}
	if err != nil {
		var re *awshttp.ResponseError
		if errors.As(err, &re) {
			return re.ServiceRequestID(), err
		}
		return "", err
	}
	id, _ := awsmiddleware.GetRequestIDMetadata(meta)
	return id, nil
}
