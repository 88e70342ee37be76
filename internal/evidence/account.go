// Package evidence is the snapshot of what was collected about an account:
// the credential report, account summary, MFA devices, organization facts, and
// the state of each source. Collectors fill it; rules only read it.
package evidence

import (
	"maps"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// Source names.
const (
	SourceCredentialReport = "credential_report"
	SourceAccountSummary   = "account_summary"
	SourceVirtualMFA       = "virtual_mfa_devices"
	SourceOrganization     = "organization"
	SourceCloudTrail       = "cloudtrail"
	SourceRootCredentials  = "root_credentials"
	SourceRootEmail        = "root_email"
)

// SourceState is the outcome of collecting one source.
type SourceState string

const (
	StateOK      SourceState = "ok"
	StateMissing SourceState = "missing" // not collected, or not available in this mode
	StateDenied  SourceState = "denied"  // the caller lacks permission
	StateError   SourceState = "error"   // collection failed
	// StatePartial is a source that was read, but not all of it: its data
	// is positive evidence (what it shows happened) but cannot show that
	// nothing else did. Only CloudTrail sets it.
	StatePartial SourceState = "partial"
)

// SourceStatus records how one source of an account was collected.
type SourceStatus struct {
	State       SourceState `json:"state"`
	Detail      string      `json:"detail"`
	CollectedAt time.Time   `json:"collected_at"`
}

// Summary-map keys that concern the root user (IAM GetAccountSummary).
const (
	SummaryMFAEnabled          = "AccountMFAEnabled"
	SummaryAccessKeysPresent   = "AccountAccessKeysPresent"
	SummarySigningCertsPresent = "AccountSigningCertificatesPresent"
	SummaryPasswordPresent     = "AccountPasswordPresent"
)

// VirtualMFADevice is one entry of ListVirtualMFADevices.
type VirtualMFADevice struct {
	SerialNumber string    `json:"serial_number"`
	UserARN      string    `json:"user_arn,omitempty"`
	EnableDate   time.Time `json:"enable_date,omitempty"`
}

// Organization roles of an account.
const (
	OrgRoleManagement = "management" // management account or delegated administrator
	OrgRoleMember     = "member"
	OrgRoleStandalone = "standalone" // not in an organization
)

// Organization is what is known of the account's AWS Organization.
type Organization struct {
	Role                string `json:"role"`
	ID                  string `json:"id"`
	ManagementAccountID string `json:"management_account_id"`
	// EnabledFeatures is nil when unknown (a member account cannot read
	// them), empty when none are enabled: saved as null or a list.
	EnabledFeatures []string `json:"enabled_features"`
	// FeaturesUnknown says why EnabledFeatures is nil when the reason is
	// not only that a member cannot read them (e.g. the management
	// account's ListOrganizationsFeatures failed in an organization scan).
	FeaturesUnknown string `json:"features_unknown,omitempty"`
	// IAMDelegatedAdmins is ListDelegatedAdministrators for
	// iam.amazonaws.com, read once by an organization scan and given to
	// every account; nil in a single-account scan, where a member's
	// refused ListOrganizationsFeatures already says it is not one.
	IAMDelegatedAdmins *DelegatedAdministrators `json:"iam_delegated_administrators,omitempty"`
}

// FeaturesKnown reports whether the organization's features were read.
func (o *Organization) FeaturesKnown() bool { return o.EnabledFeatures != nil }

// Org feature names (IAM ListOrganizationsFeatures).
const (
	FeatureRootCredentialsManagement = "RootCredentialsManagement"
	FeatureRootSessions              = "RootSessions"
)

// HasFeature reports whether the organization enabled feature f.
func (o *Organization) HasFeature(f string) bool {
	return slices.Contains(o.EnabledFeatures, f)
}

// Account is the evidence collected for one AWS account. Its JSON form is
// the account entry of an evidence bundle (internal/evidence/bundle).
type Account struct {
	ID          string                  `json:"account_id"`
	Partition   string                  `json:"partition"`
	Name        string                  `json:"name,omitempty"`
	CollectedAt time.Time               `json:"collected_at"`
	Sources     map[string]SourceStatus `json:"sources"`
	// Error is set when the account could not be assessed at all (role not
	// assumable, timeout); Skipped when it was deliberately not assessed.
	// Both say why, so that no account leaves the output silently.
	Error   string `json:"error,omitempty"`
	Skipped string `json:"skipped,omitempty"`
	// Tags are the account's tags in Organizations, when read (for
	// routing notifications); TagsError says why they could not be.
	Tags      map[string]string `json:"tags,omitempty"`
	TagsError string            `json:"tags_error,omitempty"`

	// CredentialReport is saved as the bytes AWS sent; a reader parses it
	// again (the bundle does).
	CredentialReport *CredentialReport `json:"credential_report,omitempty"`
	// Nil and empty differ (not read, or read and empty), so these keep
	// null and [] apart: no omitempty.
	AccountSummary    map[string]int     `json:"account_summary"`
	VirtualMFADevices []VirtualMFADevice `json:"virtual_mfa_devices"`
	Organization      *Organization      `json:"organization"`
	CloudTrail        *CloudTrail        `json:"cloudtrail,omitempty"`
	RootCredentials   *RootCredentials   `json:"root_credentials,omitempty"`
	// RootEmail is the root user's e-mail address as an organization scan
	// read it (ListAccounts), kept only as its domain and a masked local
	// part: the rules need nothing more, and the address is a way to
	// recover the root password.
	RootEmail *RootEmail `json:"root_email,omitempty"`
	// Monitoring is what would alert on root activity (trails, metric
	// filters, alarms, topics, EventBridge rules, GuardDuty).
	Monitoring *Monitoring `json:"monitoring,omitempty"`
	// IAMAuthorization is the account's IAM principals and policies, read
	// in the management account and the IAM delegated administrator;
	// PolicySimulations the simulator's answers for sts:AssumeRoot there.
	IAMAuthorization  *IAMAuthorization  `json:"iam_authorization,omitempty"`
	PolicySimulations *PolicySimulations `json:"policy_simulations,omitempty"`
	// SCPs are the service control policies on the account's path, read by
	// an organization scan.
	SCPs *SCPs `json:"scps,omitempty"`
}

// RootCredentials is what an AssumeRoot session with the
// IAMAuditRootUserCredentials task policy reads of a member's root user.
type RootCredentials struct {
	Password        bool             `json:"password"`
	PasswordCreated time.Time        `json:"password_created"`
	AccessKeys      []RootCredential `json:"access_keys"`
	MFADevices      []RootCredential `json:"mfa_devices"`
	Certificates    []RootCredential `json:"certificates"`
}

// RootCredential is one access key, MFA device or signing certificate.
type RootCredential struct {
	ID      string    `json:"id"`
	Status  string    `json:"status"` // Active or Inactive; empty for MFA devices
	Created time.Time `json:"created"`
	// Kind is an MFA device's kind (MFAKindOf its serial number); empty
	// for keys and certificates.
	Kind string `json:"kind,omitempty"`
}

// MFAKind is an MFA device's kind, always told from its serial number
// (Kind records it for readers of the bundle; one written before kinds
// were recorded has none).
func (c RootCredential) MFAKind() string { return MFAKindOf(c.ID) }

// Held lists the member root user's credentials, one phrase each, as both
// iam-root-credentials-present and remediate plan count them: the password
// and every access key and signing certificate, active or not (an inactive
// key can be made active again by whoever signs in). MFA devices are not
// credentials: a device alone lets no one sign in (there is no password to
// pair it with, and centralized root access stops members from recovering
// one), so it is reported beside this list, never in it.
func (r *RootCredentials) Held() []string {
	var out []string
	if r.Password {
		s := "a password"
		if !r.PasswordCreated.IsZero() {
			s += " (created " + r.PasswordCreated.UTC().Format(time.RFC3339) + ")"
		}
		out = append(out, s)
	}
	for _, k := range r.AccessKeys {
		out = append(out, "access key "+k.ID+" ("+k.Status+")")
	}
	for _, c := range r.Certificates {
		out = append(out, "signing certificate "+c.ID+" ("+c.Status+")")
	}
	return out
}

// Any reports whether the root user holds any credential (Held).
func (r *RootCredentials) Any() bool { return len(r.Held()) > 0 }

// MFADeviceCount says how many MFA devices remain, as "1 MFA device" or
// "2 MFA devices".
func (r *RootCredentials) MFADeviceCount() string {
	if len(r.MFADevices) == 1 {
		return "1 MFA device"
	}
	return strconv.Itoa(len(r.MFADevices)) + " MFA devices"
}

// CloudTrail is the root activity read for an account.
type CloudTrail struct {
	// Events are this account's root events, newest first.
	Events []Event `json:"events"`
	// From and To bound the period the evidence is known to cover; both are
	// zero when it is not known (log files given by the user).
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Problems lists sources that could not be fully read; a rule may not
	// pass while any remain, since the missing part could hold root activity.
	Problems []string `json:"problems"`
	// Description says where the events came from, for findings.
	Description string `json:"description"`
	// AccountEvents counts every event (root or not) read for this account.
	// With no known coverage, zero means the evidence says nothing about it.
	AccountEvents int `json:"account_events"`
	// Queries are the Athena or CloudTrail Lake queries the events came
	// from (ID, statement, bytes scanned).
	Queries []QueryInfo `json:"queries,omitempty"`
}

// Source returns the status of a source; a source never attempted is missing.
func (a *Account) Source(name string) SourceStatus {
	if s, ok := a.Sources[name]; ok {
		return s
	}
	return SourceStatus{State: StateMissing, Detail: "not collected"}
}

// SetSource records the outcome of collecting a source.
func (a *Account) SetSource(name string, st SourceStatus) {
	if a.Sources == nil {
		a.Sources = map[string]SourceStatus{}
	}
	a.Sources[name] = st
}

// SourceNames lists the recorded sources in sorted order.
func (a *Account) SourceNames() []string {
	return slices.Sorted(maps.Keys(a.Sources))
}

// RootARN is the ARN of the account's root user.
func (a *Account) RootARN() string {
	p := a.Partition
	if p == "" {
		p = "aws"
	}
	return "arn:" + p + ":iam::" + a.ID + ":root"
}

var accountIDRE = regexp.MustCompile(`^\d{12}$`)

// ValidAccountID reports whether s is a 12-digit AWS account ID.
func ValidAccountID(s string) bool { return accountIDRE.MatchString(s) }

// Count writes n with its noun, plural when n is not 1: "1 row", "3 rows".
func Count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// Bytes writes a byte count as people read it: 512 B, 1.5 GiB.
func Bytes(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(1024), 0
	for m := n / 1024; m >= 1024; m /= 1024 {
		div *= 1024
		exp++
	}
	return strconv.FormatFloat(float64(n)/float64(div), 'f', 1, 64) + " " + string("KMGTPE"[exp]) + "iB"
}
