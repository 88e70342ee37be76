package live

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/rootwatch/rootwatch/internal/awsx"
	"github.com/rootwatch/rootwatch/internal/evidence"
)

// RootCredentialsAPI lists the IAM calls an audit root session may make.
type RootCredentialsAPI interface {
	GetLoginProfile(context.Context, *iam.GetLoginProfileInput, ...func(*iam.Options)) (*iam.GetLoginProfileOutput, error)
	ListAccessKeys(context.Context, *iam.ListAccessKeysInput, ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)
	ListMFADevices(context.Context, *iam.ListMFADevicesInput, ...func(*iam.Options)) (*iam.ListMFADevicesOutput, error)
	ListSigningCertificates(context.Context, *iam.ListSigningCertificatesInput, ...func(*iam.Options)) (*iam.ListSigningCertificatesOutput, error)
}

// OpenRootAudit opens an AssumeRoot session on a member account with the
// IAMAuditRootUserCredentials task policy of the caller's partition and
// returns an IAM client acting in it.
func OpenRootAudit(ctx context.Context, c awsx.AssumeRootAPI, base aws.Config, partition, account string) (RootCredentialsAPI, error) {
	cfg, err := awsx.AssumeRoot(ctx, c, base, account, awsx.TaskPolicyARN(partition, awsx.TaskAuditRootCredentials))
	if err != nil {
		return nil, err
	}
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
	case awsx.CodeIs(err, "NoSuchEntity"):
		rc.Password = false
	default:
		return nil, awsx.Failed("GetLoginProfile", err)
	}
	keys, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
	if err != nil {
		return nil, awsx.Failed("ListAccessKeys", err)
	}
	for _, k := range keys.AccessKeyMetadata {
		rc.AccessKeys = append(rc.AccessKeys, evidence.RootCredential{ID: aws.ToString(k.AccessKeyId), Status: string(k.Status), Created: aws.ToTime(k.CreateDate)})
	}
	mfa, err := c.ListMFADevices(ctx, &iam.ListMFADevicesInput{})
	if err != nil {
		return nil, awsx.Failed("ListMFADevices", err)
	}
	for _, d := range mfa.MFADevices {
		serial := aws.ToString(d.SerialNumber)
		rc.MFADevices = append(rc.MFADevices, evidence.RootCredential{ID: serial, Created: aws.ToTime(d.EnableDate), Kind: evidence.MFAKindOf(serial)})
	}
	certs, err := c.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{})
	if err != nil {
		return nil, awsx.Failed("ListSigningCertificates", err)
	}
	for _, ct := range certs.Certificates {
		rc.Certificates = append(rc.Certificates, evidence.RootCredential{ID: aws.ToString(ct.CertificateId), Status: string(ct.Status), Created: aws.ToTime(ct.UploadDate)})
	}
	return rc, evidence.SourceStatus{State: evidence.StateOK, Detail: fmt.Sprintf(
		"AssumeRoot %s: password %v, %s, %s, %s",
		awsx.TaskAuditRootCredentials, rc.Password, evidence.Count(len(rc.AccessKeys), "access key"), evidence.Count(len(rc.MFADevices), "MFA device"), evidence.Count(len(rc.Certificates), "signing certificate"))}
}
