package awsfake

import (
	"fmt"
	"math/rand"
)

// GenOptions shape a generated organization.
type GenOptions struct {
	Accounts int    // including the management account
	Seed     int64  // the same seed gives the same world
	Latency  string // on every call, e.g. "100ms"
	// Features enabled on the organization (e.g. RootCredentialsManagement).
	Features []string
	// Fractions of member accounts whose role cannot be assumed, that throttle
	// in bursts, and whose calls hang.
	DenyRate, ThrottleRate, HangRate float64
	// Clean makes every root user what a well-run organization has: no
	// password, hardware MFA, no keys, no root activity; and an
	// organization trail whose CIS alarm reaches a subscriber.
	Clean bool
	// SCPFaults denies DescribePolicy of one SCP and ListPoliciesForTarget
	// of one OU (gen_org.go).
	SCPFaults bool
}

// ManagementAccount and ManagementKey of a generated organization.
const (
	GenManagementAccount = "100000000000"
	GenManagementKey     = "AKIAGENMANAGEMENT000"
	GenOrganizationID    = "o-gen0000001"
)

// GenerateWorld builds an organization of o.Accounts accounts with varied
// root-user states, reproducible from o.Seed. No account has a credential
// report yet: each generates one, taking the server's Options.ReportDelay.
// It returns the world and, per account, the fault it was given ("deny",
// "throttle", "hang" or "").
func GenerateWorld(o GenOptions) (*World, map[string]string) {
	r := rand.New(rand.NewSource(o.Seed))
	w := &World{Latency: o.Latency, ListAccountsPageSize: 20}
	faults := map[string]string{}
	for i := 0; i < o.Accounts; i++ {
		id := fmt.Sprintf("1%011d", i)
		a := &Account{ID: id, Name: fmt.Sprintf("account-%04d", i),
			Organization: &Organization{ID: GenOrganizationID, ManagementAccount: GenManagementAccount}}
		if i == 0 && o.Clean {
			// One organization trail with the CIS alarm chain covers every member.
			a.Monitoring = &MonitoringSpec{
				Trails:  []TrailSpec{{Name: "organization-trail", Organization: true, LogGroup: "organization-trail-logs"}},
				Filters: []FilterSpec{{LogGroup: "organization-trail-logs", Name: "root-usage", Pattern: cisPattern, Metric: "RootAccountUsageCount", Namespace: "CISBenchmark"}},
				Alarms:  []AlarmSpec{{Name: "root-usage", Metric: "RootAccountUsageCount", Namespace: "CISBenchmark", Topic: "security-alerts"}},
				Topics:  []TopicSpec{{Name: "security-alerts", Confirmed: 1}},
			}
		}
		if i == 0 {
			a.AccessKeys = []string{GenManagementKey}
			a.Organization.Features = append([]string{}, o.Features...)
			a.CallerARN = "arn:aws:iam::" + id + ":user/rootwatch-scanner"
			addRootSessionPrincipals(a, o.Clean)
		}
		root := Principal{Created: fmt.Sprintf("-%dd", 200+r.Intn(2000))}
		switch n := r.Intn(10); {
		case n < 1:
			root.PasswordLastUsed = fmt.Sprintf("-%dh", 1+r.Intn(300)) // used within the window
		case n < 5:
			root.PasswordLastUsed = "no_information"
		default: // created by Organizations: no password
			root.PasswordEnabled, root.PasswordLastUsed, root.NoPassword = "false", "N/A", true
		}
		root.MFA = []string{"none", "virtual", "hardware"}[r.Intn(3)]
		if r.Intn(20) == 0 {
			root.AccessKeys = []KeySpec{{Active: r.Intn(2) == 0, LastRotated: "-400d", LastUsed: fmt.Sprintf("-%dd", 1+r.Intn(60)), Service: "s3", Region: "us-east-1"}}
		}
		if o.Clean {
			root = Principal{Created: root.Created, PasswordEnabled: "false", PasswordLastUsed: "N/A", NoPassword: true, MFA: "hardware"}
		}
		a.Root = root
		if r.Intn(10) == 0 && !o.Clean {
			a.Trail = []TrailEvent{{Time: fmt.Sprintf("-%dh", 1+r.Intn(200)), MFA: []string{"Yes", "No"}[r.Intn(2)]}}
		}
		if i > 0 {
			switch x := r.Float64(); {
			case x < o.DenyRate:
				a.Faults = []Fault{{Op: "AssumeRole", Code: "AccessDenied", Status: 403,
					Message: "User: arn:aws:iam::" + GenManagementAccount + ":user/rootwatch-scanner is not authorized to perform: sts:AssumeRole"}}
				faults[id] = "deny"
			case x < o.DenyRate+o.ThrottleRate:
				a.Faults = []Fault{{Op: "*", Code: "Throttling", Status: 400, Message: "Rate exceeded", Rate: 0.3}}
				faults[id] = "throttle"
			case x < o.DenyRate+o.ThrottleRate+o.HangRate:
				a.Faults = []Fault{{Op: "GetAccountSummary", Hang: true}}
				faults[id] = "hang"
			}
		}
		w.Accounts = append(w.Accounts, a)
	}
	genOrganization(w, o)
	return w, faults
}
