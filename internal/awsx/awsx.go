// Package awsx is rootwatch's AWS plumbing, written once: loading the SDK
// configuration and checking its credentials, the caller's identity and
// partition, the HTTP client shared by every account of a scan, role and
// AssumeRoot sessions, and the reading of API errors. Nothing here
// collects evidence or judges it.
package awsx

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
)

// DefaultRegion is used for STS and Organizations when none is configured.
const DefaultRegion = "us-east-1"

// Loader loads the SDK configuration for a profile and region ("" for the
// defaults). Tests replace it to point every client at a fake.
type Loader func(ctx context.Context, profile, region string) (aws.Config, error)

// DefaultLoader uses the SDK's default chain: environment, shared config and
// credentials files (profile or AWS_PROFILE), SSO, container and instance
// roles. AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> are honoured by the
// SDK. IAM is global; STS and Organizations need a region, DefaultRegion
// when none is configured.
func DefaultLoader(ctx context.Context, profile, region string) (aws.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(profile))
	}
	if region != "" {
		opts = append(opts, awsconfig.WithRegion(region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, err
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	return cfg, nil
}

// CredentialsError says the caller's identity could not be established:
// nothing can be judged.
type CredentialsError struct{ Err error }

func (e *CredentialsError) Error() string {
	return fmt.Sprintf("cannot establish the AWS identity to scan with: %v", e.Err)
}

func (e *CredentialsError) Unwrap() error { return e.Err }

// Load loads the configuration and checks that it holds usable credentials,
// so that a scan fails before it starts rather than once per call.
func Load(ctx context.Context, load Loader, profile, region string) (aws.Config, error) {
	if load == nil {
		load = DefaultLoader
	}
	cfg, err := load(ctx, profile, region)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Credentials == nil {
		return aws.Config{}, &CredentialsError{Err: fmt.Errorf("no AWS credentials found")}
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		if ierr := Interrupted("the retrieval of AWS credentials", err); ierr != nil {
			return aws.Config{}, ierr
		}
		return aws.Config{}, &CredentialsError{Err: fmt.Errorf("no usable AWS credentials (%v)", err)}
	}
	return cfg, nil
}

// STSAPI is the identity call.
type STSAPI interface {
	GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// Identity is who a scan runs as. Partition comes from the caller's ARN
// (aws, aws-cn, aws-us-gov), so that every ARN rootwatch builds is right in
// China and GovCloud too.
type Identity struct {
	Account   string
	Partition string
	ARN       string
}

// WhoAmI calls GetCallerIdentity; account and partition come from the ARN.
func WhoAmI(ctx context.Context, c STSAPI) (Identity, error) {
	out, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		if ierr := Interrupted("GetCallerIdentity", err); ierr != nil {
			return Identity{}, ierr
		}
		return Identity{}, &CredentialsError{Err: err}
	}
	id := Identity{Account: aws.ToString(out.Account), ARN: aws.ToString(out.Arn)}
	parsed, perr := arn.Parse(id.ARN)
	if perr != nil {
		return Identity{}, &CredentialsError{Err: fmt.Errorf("GetCallerIdentity returned an ARN that does not parse (%q): %w", id.ARN, perr)}
	}
	id.Partition = parsed.Partition
	if id.Account == "" {
		id.Account = parsed.AccountID
	}
	return id, nil
}

// SharedHTTPClient is one HTTP client for every account's SDK clients: each
// would otherwise build its own transport, whose idle connections (and their
// buffers and goroutines) outlive the account. Credentials are per request,
// so connections to the same endpoint are shared safely; enough of them stay
// idle for inFlight accounts with several calls each.
func SharedHTTPClient(inFlight int) aws.HTTPClient {
	return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = 8 * inFlight
		t.MaxIdleConnsPerHost = 4 * inFlight
	})
}

// WithCredentials returns a copy of base that signs with temporary
// credentials returned by STS (cached, never refreshed: they expire with
// the session).
func WithCredentials(base aws.Config, c *ststypes.Credentials) aws.Config {
	cfg := base.Copy()
	if c == nil {
		c = &ststypes.Credentials{}
	}
	cfg.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(
		aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)))
	return cfg
}

// AssumeRoleAPI is the STS call that opens a role session in a member.
type AssumeRoleAPI interface {
	AssumeRole(context.Context, *sts.AssumeRoleInput, ...func(*sts.Options)) (*sts.AssumeRoleOutput, error)
}

// Role names a role session to open.
type Role struct {
	ARN         string
	SessionName string
	ExternalID  string // "" when the role needs none
}

// AssumeRole opens a one-hour session in role r and returns a configuration
// acting in it.
func AssumeRole(ctx context.Context, c AssumeRoleAPI, base aws.Config, r Role) (aws.Config, error) {
	in := &sts.AssumeRoleInput{RoleArn: aws.String(r.ARN), RoleSessionName: aws.String(r.SessionName), DurationSeconds: aws.Int32(3600)}
	if r.ExternalID != "" {
		in.ExternalId = aws.String(r.ExternalID)
	}
	out, err := c.AssumeRole(ctx, in)
	if err != nil {
		return aws.Config{}, err
	}
	return WithCredentials(base, out.Credentials), nil
}

// AssumeRootAPI is the STS call that opens a centralized-root-access session.
type AssumeRootAPI interface {
	AssumeRoot(context.Context, *sts.AssumeRootInput, ...func(*sts.Options)) (*sts.AssumeRootOutput, error)
}

// Task policies AssumeRoot accepts (IAM User Guide, "Perform a privileged
// task on an AWS Organizations member account").
const (
	TaskAuditRootCredentials  = "IAMAuditRootUserCredentials"
	TaskDeleteRootCredentials = "IAMDeleteRootUserCredentials"
)

// TaskPolicyARN is the ARN of an AWS-managed root task policy in a partition.
func TaskPolicyARN(partition, task string) string {
	if partition == "" {
		partition = "aws"
	}
	return "arn:" + partition + ":iam::aws:policy/root-task/" + task
}

// MaxRootSession is the longest an AssumeRoot session lives.
const MaxRootSession = 900 * time.Second

// AssumeRoot opens a root session (at most 900 seconds, the API's limit) on
// a member account with the task policy given by its ARN, and returns a
// configuration acting in it. AssumeRoot needs a regional STS endpoint,
// which the SDK uses by default.
func AssumeRoot(ctx context.Context, c AssumeRootAPI, base aws.Config, account, taskPolicyARN string) (aws.Config, error) {
	out, err := c.AssumeRoot(ctx, &sts.AssumeRootInput{
		TargetPrincipal: aws.String(account),
		TaskPolicyArn:   &ststypes.PolicyDescriptorType{Arn: aws.String(taskPolicyARN)},
		DurationSeconds: aws.Int32(900),
	})
	if err != nil {
		return aws.Config{}, err
	}
	return WithCredentials(base, out.Credentials), nil
}
