package live

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/rootwatch/rootwatch/internal/evidence"
)

// AuditTaskPolicy is the task policy rootwatch asks AssumeRoot for: it
// allows reading a member root user's credentials and nothing else.
const AuditTaskPolicy = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"

// AssumeRootAPI is the STS call that opens a centralized-root-access session.
type AssumeRootAPI interface {
	AssumeRoot(context.Context, *sts.AssumeRootInput, ...func(*sts.Options)) (*sts.AssumeRootOutput, error)
}

// RootCredentialsAPI lists the IAM calls an audit root session may make.
type RootCredentialsAPI interface {
	GetLoginProfile(context.Context, *iam.GetLoginProfileInput, ...func(*iam.Options)) (*iam.GetLoginProfileOutput, error)
	ListAccessKeys(context.Context, *iam.ListAccessKeysInput, ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)
	ListMFADevices(context.Context, *iam.ListMFADevicesInput, ...func(*iam.Options)) (*iam.ListMFADevicesOutput, error)
	ListSigningCertificates(context.Context, *iam.ListSigningCertificatesInput, ...func(*iam.Options)) (*iam.ListSigningCertificatesOutput, error)
}

// OpenRootAudit asks for an AssumeRoot session on a member account with the
// audit task policy and returns an IAM client acting in it. AssumeRoot needs
// a regional STS endpoint, which the SDK uses by default.
func OpenRootAudit(ctx context.Context, c AssumeRootAPI, base aws.Config, account string) (RootCredentialsAPI, error) {
	out, err := c.AssumeRoot(ctx, &sts.AssumeRootInput{
		TargetPrincipal: aws.String(account),
		TaskPolicyArn:   &ststypes.PolicyDescriptorType{Arn: aws.String(AuditTaskPolicy)},
		DurationSeconds: aws.Int32(900),
	})
	if err != nil {
		return nil, err
	}
	cr := out.Credentials
	cfg := base.Copy()
	cfg.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(
		aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), aws.ToString(cr.SessionToken)))
	return iam.NewFromConfig(cfg), nil
}

// RootCredentials reads a root user's credentials one by one, as the audit
// task policy allows (it denies the credential report). GetLoginProfile's
// NoSuchEntity means there is no password.
func RootCredentials(ctx context.Context, c RootCredentialsAPI) (*evidence.RootCredentials, evidence.SourceStatus) {
	rc := &evidence.RootCredentials{}
	lp, err := c.GetLoginProfile(ctx, &iam.GetLoginProfileInput{})
	switch {
	case err == nil:
		rc.Password = true
		if lp.LoginProfile != nil {
			rc.PasswordCreated = aws.ToTime(lp.LoginProfile.CreateDate)
		}
	case codeIs(err, "NoSuchEntity"):
		rc.Password = false
	default:
		return nil, failed("GetLoginProfile", err)
	}
	keys, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
	if err != nil {
		return nil, failed("ListAccessKeys", err)
	}
	for _, k := range keys.AccessKeyMetadata {
		rc.AccessKeys = append(rc.AccessKeys, evidence.RootCredential{ID: aws.ToString(k.AccessKeyId), Status: string(k.Status), Created: aws.ToTime(k.CreateDate)})
	}
	mfa, err := c.ListMFADevices(ctx, &iam.ListMFADevicesInput{})
	if err != nil {
		return nil, failed("ListMFADevices", err)
	}
	for _, d := range mfa.MFADevices {
		rc.MFADevices = append(rc.MFADevices, evidence.RootCredential{ID: aws.ToString(d.SerialNumber), Created: aws.ToTime(d.EnableDate)})
	}
	certs, err := c.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{})
	if err != nil {
		return nil, failed("ListSigningCertificates", err)
	}
	for _, ct := range certs.Certificates {
		rc.Certificates = append(rc.Certificates, evidence.RootCredential{ID: aws.ToString(ct.CertificateId), Status: string(ct.Status), Created: aws.ToTime(ct.UploadDate)})
	}
	return rc, evidence.SourceStatus{State: evidence.StateOK, Detail: fmt.Sprintf(
		"AssumeRoot %s: password %v, %d access keys, %d MFA devices, %d signing certificates",
		"IAMAuditRootUserCredentials", rc.Password, len(rc.AccessKeys), len(rc.MFADevices), len(rc.Certificates))}
}
