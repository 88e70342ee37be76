// Package awsfake is rootwatch's own fake AWS: an HTTP server that speaks
// the real wire protocols (AWS Query XML for IAM and STS, JSON 1.1 for
// Organizations) so that the real aws-sdk-go-v2 clients, and the AWS CLI,
// talk to it. It serves what moto lacks or cannot control: a realistic root
// row, report generation timing, organization features, per-operation
// faults and latency. Its world is loaded from YAML (or JSON).
package awsfake

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// World is everything the fake knows.
type World struct {
	Accounts []*Account `yaml:"accounts"`
	// OrgErrorStyle chooses how IAM organization errors are spelled on the
	// wire: "sdk" (Exception-suffixed, what aws-sdk-go-v2 matches) or
	// "documented" (the API reference's codes). Default "sdk".
	OrgErrorStyle string `yaml:"org_error_style"`
	// Latency delays every call (e.g. "100ms"), to model a distant endpoint.
	Latency string `yaml:"latency"`
	// ListAccountsPageSize caps ListAccounts pages (default 20, AWS's maximum);
	// ListAccountsEmptyFirst serves an empty first page with a NextToken, as
	// Organizations occasionally does.
	ListAccountsPageSize   int  `yaml:"list_accounts_page_size"`
	ListAccountsEmptyFirst bool `yaml:"list_accounts_empty_first"`
	// Organizations describe the structure (root, OUs, SCPs) of the
	// organizations the accounts are in (scp.go).
	Organizations []OrgSpec `yaml:"organizations"`
}

// Account is one AWS account of the world.
type Account struct {
	ID        string `yaml:"id"`
	Partition string `yaml:"partition"`
	// AccessKeys are the access key IDs whose requests land in this account.
	AccessKeys []string `yaml:"access_keys"`
	// CallerARN is what GetCallerIdentity returns (default a user "scanner").
	CallerARN string `yaml:"caller_arn"`
	Name      string `yaml:"name"`
	// State is the Organizations account state (default ACTIVE).
	State string `yaml:"state"`
	// Email is the root user's e-mail address: ListAccounts Email, and
	// DescribeOrganization MasterAccountEmail for the management account
	// (default aws+ID@example.com; "none" leaves it out).
	Email string `yaml:"email"`
	// Roles can be assumed from the management account (default:
	// OrganizationAccountAccessRole).
	Roles []string `yaml:"roles"`

	Root  Principal   `yaml:"root"`
	Users []Principal `yaml:"users"`

	Report       ReportSpec    `yaml:"report"`
	Organization *Organization `yaml:"organization"`
	Faults       []Fault       `yaml:"faults"`
	// Tags are the account's tags in Organizations (ListTagsForResource).
	Tags map[string]string `yaml:"tags"`

	// Monitoring is what would alert on root activity (trails, filters,
	// alarms, topics, EventBridge rules, GuardDuty); nil: none of it, in
	// the default regions.
	Monitoring *MonitoringSpec `yaml:"monitoring"`
	// Queues are the account's SQS queues (for rootwatch watch).
	Queues []QueueSpec `yaml:"queues"`

	// Trail is the account's CloudTrail history, served by LookupEvents.
	Trail  []TrailEvent `yaml:"trail"`
	Lookup LookupSpec   `yaml:"lookup"`
	// Lake is a CloudTrail Lake event data store holding Trail.
	Lake *LakeSpec `yaml:"lake"`
	// SecurityHub is the account's Security Hub (securityhub.go); nil:
	// enabled in every region.
	SecurityHub *SecurityHubSpec `yaml:"securityhub"`
	// IAM is the account's IAM users, groups, roles and policies
	// (GetAccountAuthorizationDetails, SimulatePrincipalPolicy; iamauth.go).
	IAM *IAMSpec `yaml:"iam"`
}

// TrailEvent is one CloudTrail record of the world. Omitted fields take
// the values of a root console sign-in.
type TrailEvent struct {
	Time      string `yaml:"time"` // RFC 3339, relative (-2d), or raw:TEXT
	Name      string `yaml:"name"`
	Source    string `yaml:"source"`
	Identity  string `yaml:"identity"` // Root (default), IAMUser, AssumedRole (user is then ROLE/SESSION)
	User      string `yaml:"user"`
	Result    string `yaml:"result"` // Success or Failure, for sign-in events
	MFA       string `yaml:"mfa"`    // MFAUsed as written (Yes, No, YES); empty omits it
	IP        string `yaml:"ip"`
	UserAgent string `yaml:"user_agent"`
	Region    string `yaml:"region"`
	InvokedBy string `yaml:"invoked_by"`
	EventType string `yaml:"event_type"`
	// Actor is the account whose root made a Root event (default: this
	// account): another account's root acting on a resource of this one,
	// logged in this account's trail with recipientAccountId this account.
	Actor string `yaml:"actor"`
	// SharedEventID is the sharedEventID CloudTrail gives the copies of
	// one cross-account call (one in each account's trail).
	SharedEventID string `yaml:"shared_event_id"`
	// Raw is served verbatim as CloudTrailEvent (to test malformed strings).
	Raw string `yaml:"raw"`
	// AccessKey is userIdentity.accessKeyId (an AssumeRoot session's
	// ASIA… key, for the member's side of a session).
	AccessKey string `yaml:"access_key"`
	// Request and Response are requestParameters and responseElements
	// (a sign-in's responseElements are its result), e.g. an AssumeRoot
	// call's targetPrincipal, taskPolicyArn and credentials.
	Request  map[string]any `yaml:"request"`
	Response map[string]any `yaml:"response"`
}

// LookupSpec controls LookupEvents.
type LookupSpec struct {
	// MaxPerSecond throttles calls per account (ThrottlingException); 0 is
	// AWS's 2, -1 disables the throttle.
	MaxPerSecond int `yaml:"max_per_second"`
	// PageSize caps results per page below MaxResults (default 50).
	PageSize int `yaml:"page_size"`
}

// Principal is the root user or an IAM user, as the credential report shows it.
// Time fields take RFC 3339, a time relative to the fake's clock ("-3d",
// "-36h"), or a special value (N/A, no_information, not_supported).
type Principal struct {
	Name             string `yaml:"name"`
	Created          string `yaml:"created"`
	PasswordEnabled  string `yaml:"password_enabled"`
	PasswordLastUsed string `yaml:"password_last_used"`
	MFA              string `yaml:"mfa"` // none, virtual, hardware
	MFASerial        string `yaml:"mfa_serial"`
	// MFADevices are the principal's devices, each of its kind (instead
	// of mfa): a root user with a virtual device beside a FIDO key.
	MFADevices []MFADeviceSpec `yaml:"mfa_devices"`
	// NoPassword says the principal has no password (GetLoginProfile answers
	// NoSuchEntity); by default root has one unless password_enabled is
	// false or password_last_used is N/A.
	NoPassword bool `yaml:"no_password"`
	// PasswordCreated is when the password was created (GetLoginProfile's
	// CreateDate; default the principal's creation).
	PasswordCreated string     `yaml:"password_created"`
	AccessKeys      []KeySpec  `yaml:"access_keys"`
	Certs           []CertSpec `yaml:"certs"`
}

// KeySpec is an access key of a principal.
type KeySpec struct {
	Active      bool   `yaml:"active"`
	LastRotated string `yaml:"last_rotated"`
	LastUsed    string `yaml:"last_used"`
	Service     string `yaml:"service"`
	Region      string `yaml:"region"`
	// Deleted is set by DeleteAccessKey; the slot keeps its place, so
	// other keys keep their ids.
	Deleted bool `yaml:"-"`
}

// CertSpec is a signing certificate of a principal.
type CertSpec struct {
	Active      bool   `yaml:"active"`
	LastRotated string `yaml:"last_rotated"`
	Deleted     bool   `yaml:"-"` // set by DeleteSigningCertificate
}

// ReportSpec controls the account's credential report.
type ReportSpec struct {
	// Existing is the age of a report already generated ("37m"), or "" for none.
	Existing string `yaml:"existing"`
	// Expired makes GetCredentialReport answer ReportExpired until a new one is generated.
	Expired bool `yaml:"expired"`
	// Delay is how long generating a report takes on the fake's clock
	// ("3s"), as in IAM, however often it is polled; "never" never finishes.
	// Empty: the server's Options.ReportDelay.
	Delay string `yaml:"delay"`
	// Columns is 22 (default) or 16 (the older report without last-used columns).
	Columns int `yaml:"columns"`
}

// Organization is the account's place in AWS Organizations.
type Organization struct {
	ID                string `yaml:"id"`
	ManagementAccount string `yaml:"management_account"`
	// TrustedIAM says trusted access for IAM is on from the start (it is,
	// implicitly, when Features are given).
	TrustedIAM bool     `yaml:"trusted_iam"`
	Features   []string `yaml:"features"` // on the management account
	// DelegatedAdmins maps a service principal (iam.amazonaws.com) to its
	// delegated administrator accounts, on the management account.
	DelegatedAdmins map[string][]string `yaml:"delegated_admins"`
}

// Fault makes an operation misbehave for this account.
type Fault struct {
	Op      string  `yaml:"op"`      // operation name, e.g. ListVirtualMFADevices; "*" for all
	Code    string  `yaml:"code"`    // error code on the wire
	Status  int     `yaml:"status"`  // HTTP status (default 400)
	Message string  `yaml:"message"` // error message
	Times   int     `yaml:"times"`   // fail only the first N calls (0: every call)
	Rate    float64 `yaml:"rate"`    // fail this fraction of calls (0: every call)
	Latency string  `yaml:"latency"` // delay before answering
	Hang    bool    `yaml:"hang"`    // never answer (until the client gives up)
	Region  string  `yaml:"region"`  // only in this region ("": every region)
}

var relTime = regexp.MustCompile(`^-(\d+)(d|h|m|s)$`)

// resolveTime turns a world time into the credential-report text.
func resolveTime(s string, now time.Time) (string, error) {
	switch s {
	case "", "N/A":
		return "N/A", nil
	case "no_information", "not_supported":
		return s, nil
	}
	if m := relTime.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		unit := map[string]time.Duration{"d": 24 * time.Hour, "h": time.Hour, "m": time.Minute, "s": time.Second}[m[2]]
		return now.Add(-time.Duration(n) * unit).UTC().Format("2006-01-02T15:04:05+00:00"), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC().Format("2006-01-02T15:04:05+00:00"), nil
	}
	// Anything else is passed through verbatim so that tests can serve
	// malformed cells exactly as written.
	if strings.HasPrefix(s, "raw:") {
		return strings.TrimPrefix(s, "raw:"), nil
	}
	return "", fmt.Errorf("time %q: want RFC 3339, -Nd/-Nh/-Nm/-Ns, N/A, no_information, not_supported or raw:TEXT", s)
}

func parseDur(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if m := regexp.MustCompile(`^(\d+)d$`).FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// parseDelay reads a report delay: a duration ("3s", "2m", "1d") or
// "never"; "" is unset.
func parseDelay(s string) (d time.Duration, never bool, err error) {
	if s == "never" {
		return 0, true, nil
	}
	if d, err = parseDur(s); err == nil && d < 0 {
		err = fmt.Errorf("%q is negative (use never for a report that is never ready)", s)
	}
	return d, false, err
}

// LoadWorld reads a world file.
func LoadWorld(path string) (*World, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read world: %w", err)
	}
	return ParseWorld(data, path)
}

// ParseWorld decodes a world strictly and checks it.
func ParseWorld(data []byte, name string) (*World, error) {
	var w World
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("world %s: %w", name, err)
	}
	return &w, w.Validate()
}

// Validate checks a world for mistakes a test author would want to hear about.
func (w *World) Validate() error {
	ids := map[string]bool{}
	keys := map[string]string{}
	for i, a := range w.Accounts {
		if !regexp.MustCompile(`^\d{12}$`).MatchString(a.ID) {
			return fmt.Errorf("accounts[%d]: id %q is not 12 digits", i, a.ID)
		}
		if ids[a.ID] {
			return fmt.Errorf("accounts[%d]: account %s appears twice", i, a.ID)
		}
		ids[a.ID] = true
		for _, k := range a.AccessKeys {
			if other, dup := keys[k]; dup {
				return fmt.Errorf("account %s: access key %s already belongs to %s", a.ID, k, other)
			}
			keys[k] = a.ID
		}
		for _, p := range append([]Principal{a.Root}, a.Users...) {
			for _, t := range []string{p.Created, p.PasswordLastUsed, p.PasswordCreated} {
				if _, err := resolveTime(t, time.Now()); err != nil {
					return fmt.Errorf("account %s principal %q: %w", a.ID, p.Name, err)
				}
			}
			if err := validMFA(p); err != nil {
				return fmt.Errorf("account %s principal %q: %w", a.ID, p.Name, err)
			}
		}
		if _, err := parseDur(a.Report.Existing); err != nil {
			return fmt.Errorf("account %s: report.existing: %w", a.ID, err)
		}
		if _, _, err := parseDelay(a.Report.Delay); err != nil {
			return fmt.Errorf("account %s: report.delay: %w", a.ID, err)
		}
		if c := a.Report.Columns; c != 0 && c != 16 && c != 22 {
			return fmt.Errorf("account %s: report.columns %d (want 16 or 22)", a.ID, c)
		}
		if err := a.Monitoring.validate(); err != nil {
			return fmt.Errorf("account %s: %w", a.ID, err)
		}
		if err := a.IAM.validate(a); err != nil {
			return fmt.Errorf("account %s: %w", a.ID, err)
		}
		for _, f := range a.Faults {
			if f.Op == "" || (f.Code == "" && !f.Hang && f.Latency == "") {
				return fmt.Errorf("account %s: a fault needs an op and a code, latency or hang", a.ID)
			}
			if _, err := parseDur(f.Latency); err != nil {
				return fmt.Errorf("account %s: fault %s latency: %w", a.ID, f.Op, err)
			}
		}
	}
	if _, err := parseDur(w.Latency); err != nil {
		return fmt.Errorf("latency: %w", err)
	}
	switch w.OrgErrorStyle {
	case "", "sdk", "documented":
	default:
		return fmt.Errorf("org_error_style %q (want sdk or documented)", w.OrgErrorStyle)
	}
	_, err := buildTrees(w)
	return err
}
