// Package demo builds rootwatch's embedded demo: three realistic accounts
// whose evidence is dated relative to the as-of time, so that `scan --demo`
// shows the same verdicts whenever it runs, with at least one finding of
// every status.
package demo

import (
	"fmt"
	"strings"
	"time"

	"github.com/rootwatch/rootwatch/internal/credreport"
	"github.com/rootwatch/rootwatch/internal/evidence"
)

// Account IDs of the demo organization.
const (
	ManagementAccount = "111111111111" // payments-prod, the management account
	MemberAccount     = "222222222222" // sandbox, created by Organizations
	StandaloneAccount = "333333333333" // legacy-analytics, outside the organization
	OrganizationID    = "o-demo1234ab"
)

const header22 = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"

const header16 = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_2_active,access_key_2_last_rotated,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"

// Config is the demo's configuration file: one accepted finding.
func Config(asOf time.Time) []byte {
	return []byte(fmt.Sprintf(`# rootwatch demo configuration
suppressions:
  - rule: iam-root-access-key-active
    account: "%s"
    reason: "break-glass key for the legacy billing export; removal tracked in SEC-142"
    expires: %s
`, ManagementAccount, asOf.Add(45*24*time.Hour).UTC().Format("2006-01-02")))
}

// ReportCSVs returns the demo credential reports by account, dated relative to asOf.
func ReportCSVs(asOf time.Time) map[string]string {
	at := func(d time.Duration) string { return asOf.Add(-d).UTC().Format("2006-01-02T15:04:05+00:00") }
	day := 24 * time.Hour
	return map[string]string{
		// Management account: root signed in 3 days ago, a virtual MFA, an
		// active root access key last used 41 days ago (accepted, suppressed).
		ManagementAccount: strings.Join([]string{header22,
			fmt.Sprintf("<root_account>,arn:aws:iam::%s:root,%s,not_supported,%s,not_supported,not_supported,true,true,%s,%s,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
				ManagementAccount, at(2400*day), at(77*time.Hour), at(900*day), at(41*day)),
			fmt.Sprintf("alice,arn:aws:iam::%s:user/alice,%s,true,%s,%s,N/A,true,true,%s,%s,eu-west-1,ec2,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
				ManagementAccount, at(800*day), at(2*day), at(60*day), at(30*day), at(1*day)),
		}, "\n") + "\n",
		// Member account created by Organizations: no root password, no MFA.
		MemberAccount: strings.Join([]string{header22,
			fmt.Sprintf("<root_account>,arn:aws:iam::%s:root,%s,false,N/A,not_supported,not_supported,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
				MemberAccount, at(400*day)),
		}, "\n") + "\n",
		// Standalone legacy account: an old 16-column report, hardware MFA,
		// an inactive root key whose last use this report cannot show.
		StandaloneAccount: strings.Join([]string{header16,
			fmt.Sprintf("<root_account>,arn:aws:iam::%s:root,%s,not_supported,no_information,not_supported,not_supported,true,false,%s,false,N/A,false,N/A,false,N/A",
				StandaloneAccount, at(3000*day), at(1500*day)),
		}, "\n") + "\n",
	}
}

// Accounts returns the demo evidence as of asOf.
func Accounts(asOf time.Time) ([]*evidence.Account, error) {
	csvs := ReportCSVs(asOf)
	collected := asOf.Add(-2 * time.Minute)
	generated := asOf.Add(-37 * time.Minute)
	ok := evidence.SourceStatus{State: evidence.StateOK, CollectedAt: collected}

	var out []*evidence.Account
	for _, id := range []string{ManagementAccount, MemberAccount, StandaloneAccount} {
		rep, err := credreport.Parse([]byte(csvs[id]), "demo:"+id+"/credential-report.csv", generated)
		if err != nil {
			return nil, fmt.Errorf("demo account %s: %w", id, err)
		}
		a := &evidence.Account{ID: id, Partition: "aws", CollectedAt: collected, CredentialReport: rep}
		a.SetSource(evidence.SourceCredentialReport, ok)
		a.SetSource(evidence.SourceAccountSummary, ok)
		a.SetSource(evidence.SourceVirtualMFA, ok)
		a.SetSource(evidence.SourceOrganization, ok)
		out = append(out, a)
	}
	mgmt, member, standalone := out[0], out[1], out[2]

	mgmt.AccountSummary = map[string]int{evidence.SummaryMFAEnabled: 1, evidence.SummaryAccessKeysPresent: 1, evidence.SummarySigningCertsPresent: 0}
	mgmt.VirtualMFADevices = []evidence.VirtualMFADevice{
		{SerialNumber: "arn:aws:iam::" + ManagementAccount + ":mfa/ops-phone", UserARN: "arn:aws:iam::" + ManagementAccount + ":root", EnableDate: asOf.Add(-700 * 24 * time.Hour)},
		{SerialNumber: "arn:aws:iam::" + ManagementAccount + ":mfa/alice", UserARN: "arn:aws:iam::" + ManagementAccount + ":user/alice", EnableDate: asOf.Add(-300 * 24 * time.Hour)},
	}
	mgmt.Organization = &evidence.Organization{Role: evidence.OrgRoleManagement, ID: OrganizationID, ManagementAccountID: ManagementAccount}

	member.AccountSummary = map[string]int{evidence.SummaryMFAEnabled: 0, evidence.SummaryAccessKeysPresent: 0, evidence.SummarySigningCertsPresent: 0}
	member.VirtualMFADevices = []evidence.VirtualMFADevice{}
	member.Organization = &evidence.Organization{Role: evidence.OrgRoleMember, ID: OrganizationID, ManagementAccountID: ManagementAccount}

	standalone.AccountSummary = map[string]int{evidence.SummaryMFAEnabled: 1, evidence.SummaryAccessKeysPresent: 1, evidence.SummarySigningCertsPresent: 0}
	standalone.SetSource(evidence.SourceVirtualMFA, evidence.SourceStatus{State: evidence.StateError, CollectedAt: collected,
		Detail: "ListVirtualMFADevices: ServiceFailure (HTTP 500) after 3 attempts"})
	standalone.Organization = &evidence.Organization{Role: evidence.OrgRoleStandalone}
	return out, nil
}
