package live

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/rootwatch/rootwatch/internal/evidence"
)

type authPages struct {
	pages []*iam.GetAccountAuthorizationDetailsOutput
	calls int
}

func (p *authPages) GetAccountAuthorizationDetails(context.Context, *iam.GetAccountAuthorizationDetailsInput, ...func(*iam.Options)) (*iam.GetAccountAuthorizationDetailsOutput, error) {
	p.calls++
	return p.pages[p.calls-1], nil
}

func (p *authPages) SimulatePrincipalPolicy(context.Context, *iam.SimulatePrincipalPolicyInput, ...func(*iam.Options)) (*iam.SimulatePrincipalPolicyOutput, error) {
	return nil, errors.New("not used")
}

// TestIAMAuthorizationDocuments: documents come URL-encoded (RFC 3986: a
// "+" is a plus sign) or, from some emulators, as JSON; both are kept as
// their JSON text. A repeated Marker is an error, not a silent stop.
func TestIAMAuthorizationDocuments(t *testing.T) {
	encoded := "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%7B%22Sid%22%3A%22a+b%20c%22%2C%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22*%22%2C%22Resource%22%3A%22*%22%7D%7D"
	plain := `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}`
	p := &authPages{pages: []*iam.GetAccountAuthorizationDetailsOutput{
		{UserDetailList: []iamtypes.UserDetail{{UserName: aws.String("u"), Arn: aws.String("arn:aws:iam::111111111111:user/u"),
			UserPolicyList: []iamtypes.PolicyDetail{{PolicyName: aws.String("enc"), PolicyDocument: aws.String(encoded)}, {PolicyName: aws.String("plain"), PolicyDocument: aws.String(plain)}}}},
			IsTruncated: true, Marker: aws.String("m1")},
		{RoleDetailList: []iamtypes.RoleDetail{{RoleName: aws.String("r"), Arn: aws.String("arn:aws:iam::111111111111:role/r"), AssumeRolePolicyDocument: aws.String(encoded),
			AttachedManagedPolicies: []iamtypes.AttachedPolicy{{PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}}}},
			Policies: []iamtypes.ManagedPolicyDetail{
				{Arn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess"), DefaultVersionId: aws.String("v2"), PolicyVersionList: []iamtypes.PolicyVersion{
					{VersionId: aws.String("v1"), Document: aws.String(plain)}, {VersionId: aws.String("v2"), IsDefaultVersion: true, Document: aws.String(encoded)}}},
				{Arn: aws.String("arn:aws:iam::111111111111:policy/Unused"), DefaultVersionId: aws.String("v1"), PolicyVersionList: []iamtypes.PolicyVersion{{VersionId: aws.String("v1"), IsDefaultVersion: true, Document: aws.String(plain)}}},
			}},
	}}
	auth, st := IAMAuthorization(context.Background(), p, RootSessionScope{Authority: evidence.AuthorityManagement, ManagementAccountID: "111111111111"})
	if st.State != evidence.StateOK || auth.Pages != 2 {
		t.Fatalf("%+v %+v", st, auth)
	}
	want := `{"Version":"2012-10-17","Statement":{"Sid":"a+b c","Effect":"Allow","Action":"*","Resource":"*"}}`
	if got := auth.Users[0].Inline[0].Document; got != want {
		t.Errorf("encoded: %s", got)
	}
	if got := auth.Users[0].Inline[1].Document; got != plain {
		t.Errorf("plain: %s", got)
	}
	if auth.Roles[0].Trust != want {
		t.Errorf("trust: %s", auth.Roles[0].Trust)
	}
	if len(auth.Policies) != 1 || auth.Policies[0].Version != "v2" || auth.Policies[0].Document != want {
		t.Errorf("only the policies in use, at their default version: %+v", auth.Policies)
	}
	if !strings.Contains(st.Detail, "1 managed policy in use, in 2 pages") {
		t.Errorf("detail %q", st.Detail)
	}

	loop := &authPages{pages: []*iam.GetAccountAuthorizationDetailsOutput{{IsTruncated: true, Marker: aws.String("x")}, {IsTruncated: true, Marker: aws.String("x")}}}
	if _, st := IAMAuthorization(context.Background(), loop, RootSessionScope{}); st.State != evidence.StateError || !strings.Contains(st.Detail, "same Marker twice") {
		t.Errorf("repeated marker: %+v", st)
	}
}
