package remediate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
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
	"github.com/rootwatch/rootwatch/internal/source/live"
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

// Check refuses a plan that cannot be applied now by this caller: edited
// (its digest does not match), too old, for another organization, or
// asking to enable centralized root access (not automated here).
func Check(ctx context.Context, c Clients, p *Plan, o ApplyOptions) (awsx.Identity, error) {
	o = o.withDefaults()
	if p.SchemaVersion != SchemaVersion {
		return awsx.Identity{}, fmt.Errorf("%w: schema_version %q, this rootwatch applies %q", ErrRefused, p.SchemaVersion, SchemaVersion)
	}
	if p.Digest != p.ComputeDigest() {
		return awsx.Identity{}, fmt.Errorf("%w: its digest does not match its content: the plan was changed after it was made; make a new one", ErrRefused)
	}
	if age := o.Now().Sub(p.CreatedAt); age > o.MaxPlanAge || age < -time.Minute {
		return awsx.Identity{}, fmt.Errorf("%w: it was made at %s, %s ago, longer than the maximum plan age of %s: plan again", ErrRefused,
			p.CreatedAt.Format(time.RFC3339), age.Round(time.Second), o.MaxPlanAge)
	}
	id, err := awsx.WhoAmI(ctx, c.STS)
	if err != nil {
		return awsx.Identity{}, err
	}
	desc, err := c.Organizations.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		return awsx.Identity{}, fmt.Errorf("DescribeOrganization: %s", awsx.Describe("DescribeOrganization", err))
	}
	if got := aws.ToString(desc.Organization.Id); got != p.OrganizationID {
		return awsx.Identity{}, fmt.Errorf("%w: it is for organization %s, but these credentials manage %s", ErrRefused, p.OrganizationID, got)
	}
	return id, nil
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
// others. It never touches the management account.
func Apply(ctx context.Context, c Clients, p *Plan, id awsx.Identity, o ApplyOptions) []AccountResult {
	o = o.withDefaults()
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
		return enableCentralRootAccess(ctx, c, p, log)
	}
	accounts := append([]AccountPlan(nil), p.Accounts...)
	results := make([]AccountResult, len(accounts))
	byID := map[string]int{}
	for i, a := range accounts {
		byID[a.AccountID] = i
		results[i] = AccountResult{AccountID: a.AccountID, Outcome: OutcomeSkipped, Reason: a.Status}
	}
	forEach(ctx, accounts, o.Concurrency, func(a *AccountPlan) {
		r := &results[byID[a.AccountID]]
		if a.Status != StatusPlanned || a.AccountID == p.ManagementAccountID || a.AccountID == id.Account {
			if a.Reason != "" {
				r.Reason = a.Status + ": " + a.Reason
			}
			return
		}
		applyAccount(ctx, c, p, id, a, r, log)
	})
	return results
}

// enableCentralRootAccess makes the three enabling calls in order and
// reports them as the management account's result.
func enableCentralRootAccess(ctx context.Context, c Clients, p *Plan, log func(LogLine)) []AccountResult {
	r := AccountResult{AccountID: p.ManagementAccountID, Outcome: OutcomeDone, Reason: "centralized root access enabled: plan again to remove member root credentials"}
	steps := []struct {
		name string
		do   func() error
	}{
		{"organizations:EnableAWSServiceAccess iam.amazonaws.com", func() error {
			_, err := c.Enable.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String("iam.amazonaws.com")})
			return err
		}},
		{"iam:EnableOrganizationsRootCredentialsManagement", func() error {
			_, err := c.Enable.EnableOrganizationsRootCredentialsManagement(ctx, &iam.EnableOrganizationsRootCredentialsManagementInput{})
			return err
		}},
		{"iam:EnableOrganizationsRootSessions", func() error {
			_, err := c.Enable.EnableOrganizationsRootSessions(ctx, &iam.EnableOrganizationsRootSessionsInput{})
			return err
		}},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			log(LogLine{AccountID: p.ManagementAccountID, Action: st.name, Result: "failed: " + awsx.Describe(st.name, err)})
			r.Outcome, r.Reason = OutcomeFailed, st.name+" failed: "+awsx.Describe(st.name, err)
			return []AccountResult{r}
		}
		r.Done++
		log(LogLine{AccountID: p.ManagementAccountID, Action: st.name, Result: "done"})
	}
	return []AccountResult{r}
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
	failed := false
	for _, act := range a.Actions {
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
		if left[act.Call+"/"+act.CredentialID] {
			remaining = append(remaining, act.Call+" "+act.CredentialID)
		}
	}
	switch {
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
