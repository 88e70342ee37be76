package bundle

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
)

// A bundle carries counts and summaries derived from its evidence when it
// was collected: in its source details ("3 rows", "12 events for this
// account, 2 of them root's, from … to …", "4 enabled regions"), in
// cloudtrail.account_events and the coverage bounds. A bundle whose events,
// rows or regions were removed while those were left would judge what is
// left as if it were everything (its sign-in rules pass): checkCounts
// refuses it. A detail in a form this version does not write (an older or
// newer rootwatch) is not read; the structural checks apply to every
// bundle.

// countMismatch is a count the bundle states and the count of its content.
type countMismatch struct {
	field string // the content, e.g. cloudtrail.events
	says  string // where the count is stated, e.g. sources.cloudtrail.detail
	noun  string
	said  int
	holds int
}

func (m countMismatch) Error() string {
	return fmt.Sprintf("%s: the counts disagree: %s says %s but %s holds %d (was the bundle edited?)",
		m.field, m.says, evidence.Count(m.said, m.noun), m.field, m.holds)
}

// atoi reads a count a regular expression matched as digits.
func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

var (
	// internal/scan: "read from PATH (3 rows, 22 columns)[; 2 warnings, see stderr]".
	reportFileRE = regexp.MustCompile(`\((\d+) rows?, (\d+) columns?\)(?:; (\d+) warnings?, see stderr)?$`)
	// internal/source/live: "HOW; 3 rows[; 2 warnings]".
	reportLiveRE = regexp.MustCompile(`; (\d+) rows?(?:; (\d+) warnings?)?$`)
	// internal/scan: "DESC: N events for this account, M of them root's[, from T to T][; …]"
	// and "; K sources with problems[ (…)]: …".
	trailFilesRE = regexp.MustCompile(`: (\d+) events? for this account, (\d+) of them root's(?:, from (\S+) to ([^;\s]+))?(?:; |$)`)
	trailProbsRE = regexp.MustCompile(`; (\d+) sources? with problems\b`)
	// internal/source/live: "LookupEvents …: N root events[; problems]".
	trailLookupRE = regexp.MustCompile(`^LookupEvents .*?: (\d+) root events?(; .*)?$`)
	// internal/scan shareCallsAboutRoots: the management account's calls
	// naming this account's root, appended to its detail.
	sharedCallsRE = regexp.MustCompile(`; (\d+) calls? about this root \(AssumeRoot, e-mail changes\) from account \d{12}'s LookupEvents`)
	// internal/source/live: "AssumeRoot …: password true, 1 access key, 0 MFA devices, 0 signing certificates".
	rootCredsRE  = regexp.MustCompile(`: password (true|false), (\d+) access keys?, (\d+) MFA devices?, (\d+) signing certificates?$`)
	virtualMFARE = regexp.MustCompile(`^(\d+) assigned devices? in \d+ pages?$`)
	regionsRE    = regexp.MustCompile(`^(\d+) enabled regions?(?: \(|$)`)
	// internal/source/live partStatus: "N noun[s]" or "K of N noun[s] not read: …".
	partsRE = regexp.MustCompile(`^(?:\d+ of )?(\d+) (region|log group|topic)s?(?: not read: |$)`)
)

// checkCounts refuses an account whose stated counts, coverage or region
// lists disagree with its content. The credential report must already be
// parsed again and event times restored.
func checkCounts(a *evidence.Account) error {
	for _, check := range []func(*evidence.Account) error{reportCounts, rootCredentialCounts, virtualMFACounts, cloudTrailContent, cloudTrailCounts, monitoringCounts} {
		if err := check(a); err != nil {
			return err
		}
	}
	return nil
}

func detail(a *evidence.Account, source string) string { return a.Sources[source].Detail }

func reportCounts(a *evidence.Account) error {
	rep := a.CredentialReport
	if rep == nil {
		return nil
	}
	says := "sources." + evidence.SourceCredentialReport + ".detail"
	d := detail(a, evidence.SourceCredentialReport)
	var rows, cols, warnings string
	if m := reportFileRE.FindStringSubmatch(d); m != nil {
		rows, cols, warnings = m[1], m[2], m[3]
	} else if m := reportLiveRE.FindStringSubmatch(d); m != nil {
		rows, warnings = m[1], m[2]
	} else {
		return nil
	}
	if n := atoi(rows); n != len(rep.Rows) {
		return countMismatch{"credential_report.csv", says, "row", n, len(rep.Rows)}
	}
	if cols != "" && atoi(cols) != len(rep.Columns) {
		return countMismatch{"credential_report.csv", says, "column", atoi(cols), len(rep.Columns)}
	}
	if w, got := atoi(warnings), len(rep.Warnings)+len(rep.Issues); w != got {
		return countMismatch{"credential_report.csv", says, "warning", w, got}
	}
	return nil
}

func rootCredentialCounts(a *evidence.Account) error {
	rc := a.RootCredentials
	m := rootCredsRE.FindStringSubmatch(detail(a, evidence.SourceRootCredentials))
	if rc == nil || m == nil {
		return nil
	}
	says := "sources." + evidence.SourceRootCredentials + ".detail"
	if pw := m[1] == "true"; pw != rc.Password {
		return fmt.Errorf("root_credentials.password: the counts disagree: %s says password %s but root_credentials.password is %v (was the bundle edited?)", says, m[1], rc.Password)
	}
	for _, c := range []struct {
		field, noun string
		said, holds int
	}{
		{"root_credentials.access_keys", "access key", atoi(m[2]), len(rc.AccessKeys)},
		{"root_credentials.mfa_devices", "MFA device", atoi(m[3]), len(rc.MFADevices)},
		{"root_credentials.certificates", "signing certificate", atoi(m[4]), len(rc.Certificates)},
	} {
		if c.said != c.holds {
			return countMismatch{c.field, says, c.noun, c.said, c.holds}
		}
	}
	return nil
}

func virtualMFACounts(a *evidence.Account) error {
	m := virtualMFARE.FindStringSubmatch(detail(a, evidence.SourceVirtualMFA))
	if a.VirtualMFADevices == nil || m == nil {
		return nil
	}
	if n := atoi(m[1]); n != len(a.VirtualMFADevices) {
		return countMismatch{"virtual_mfa_devices", "sources." + evidence.SourceVirtualMFA + ".detail", "assigned device", n, len(a.VirtualMFADevices)}
	}
	return nil
}

// cloudTrailTime is an event time as CloudTrail writes it (UTC, "Z"): the
// readers count only such times in the coverage, to the second.
var cloudTrailTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$`)

// cloudTrailContent checks what any bundle's CloudTrail must satisfy: its
// events are the account's, and a known coverage holds every sign-in of
// the account's root dated as CloudTrail dates it. The coverage is the
// span of the records the account's own trail logged; a root's sign-in is
// logged there, while an API call on another account's resource may have
// been read from that account's trail only, and an unverified record kept
// for every account it may concern, outside this one's span.
func cloudTrailContent(a *evidence.Account) error {
	ct := a.CloudTrail
	if ct == nil {
		return nil
	}
	known := !ct.From.IsZero() && !ct.To.IsZero()
	if known && ct.From.After(ct.To) {
		return fmt.Errorf("cloudtrail.from: the coverage bounds disagree: from %s is after to %s (was the bundle edited?)", ct.From.Format(time.RFC3339), ct.To.Format(time.RFC3339))
	}
	for j, e := range ct.Events {
		// An unverified record (its identity written oddly, or naming two
		// accounts) is kept by every account it may concern; a call that
		// names this account as its target (the management account's
		// AssumeRoot into it, a change of its root e-mail) is kept by it.
		if !e.Unverified && e.AccountID != "" && e.AccountID != a.ID && e.TargetAccount() != a.ID {
			return fmt.Errorf("cloudtrail.events[%d].account_id: event %s is filed under account %s but names account %s (was the bundle edited?)", j, e.EventID, a.ID, e.AccountID)
		}
		ownSignIn := (e.Category == evidence.CategoryConsoleLogin || e.Category == evidence.CategorySignin) && !e.Unverified && (e.AccountID == a.ID || e.AccountID == "")
		if t := e.Time.Truncate(time.Second); known && ownSignIn && e.HasTime() && cloudTrailTime.MatchString(e.EventTime) && (t.Before(ct.From) || t.After(ct.To)) {
			return fmt.Errorf("cloudtrail.events[%d].event_time: the coverage and the events disagree: event %s at %s lies outside cloudtrail.from %s to cloudtrail.to %s (was the bundle edited?)",
				j, e.EventID, e.EventTime, ct.From.Format(time.RFC3339), ct.To.Format(time.RFC3339))
		}
	}
	return nil
}

// cloudTrailCounts checks the counts the cloudtrail source's detail states.
func cloudTrailCounts(a *evidence.Account) error {
	ct := a.CloudTrail
	if ct == nil {
		return nil
	}
	says := "sources." + evidence.SourceCloudTrail + ".detail"
	d := detail(a, evidence.SourceCloudTrail)
	shared := 0
	for _, m := range sharedCallsRE.FindAllStringSubmatch(d, -1) {
		shared += atoi(m[1])
	}
	d = sharedCallsRE.ReplaceAllString(d, "")
	if m := trailLookupRE.FindStringSubmatch(d); m != nil {
		if n := atoi(m[1]) + shared; n != len(ct.Events) {
			return countMismatch{"cloudtrail.events", says, "root event", n, len(ct.Events)}
		}
		if (m[2] != "") != (len(ct.Problems) > 0) {
			return fmt.Errorf("cloudtrail.problems: the counts disagree: %s and cloudtrail.problems (%s) do not name the same problems (was the bundle edited?)", says, evidence.Count(len(ct.Problems), "problem"))
		}
		return nil
	}
	m := trailFilesRE.FindStringSubmatch(d)
	if m == nil {
		return nil
	}
	if n := atoi(m[1]); n != ct.AccountEvents {
		return countMismatch{"cloudtrail.account_events", says, "event", n, ct.AccountEvents}
	}
	if n := atoi(m[2]) + shared; n != len(ct.Events) {
		return countMismatch{"cloudtrail.events", says, "root event", n, len(ct.Events)}
	}
	if from, to := m[3], m[4]; from != "" || !ct.From.IsZero() {
		if !sameSecond(from, ct.From) || !sameSecond(to, ct.To) {
			return fmt.Errorf("cloudtrail.from: the coverage bounds disagree: %s says from %q to %q but cloudtrail.from and cloudtrail.to are %s and %s (was the bundle edited?)",
				says, from, to, ct.From.Format(time.RFC3339), ct.To.Format(time.RFC3339))
		}
	}
	probs := 0
	if p := trailProbsRE.FindStringSubmatch(d); p != nil {
		probs = atoi(p[1])
	}
	if probs != len(ct.Problems) {
		return countMismatch{"cloudtrail.problems", says, "problem source", probs, len(ct.Problems)}
	}
	return nil
}

// sameSecond reports whether an RFC 3339 text (as a detail prints it) is
// t to the second.
func sameSecond(text string, t time.Time) bool {
	at, err := time.Parse(time.RFC3339, text)
	return err == nil && !t.IsZero() && at.Equal(t.Truncate(time.Second))
}

// monitoringCounts checks the monitoring parts against the regions they
// were read in and the counts their sources state: rules that judge every
// enabled region must not judge fewer because some were removed.
func monitoringCounts(a *evidence.Account) error {
	m := a.Monitoring
	if m == nil {
		return nil
	}
	if r := regionsRE.FindStringSubmatch(detail(a, evidence.SourceRegions)); r != nil && m.Regions != nil && atoi(r[1]) != len(m.Regions) {
		return countMismatch{"monitoring.regions", "sources." + evidence.SourceRegions + ".detail", "enabled region", atoi(r[1]), len(m.Regions)}
	}
	if m.Regions != nil {
		for _, r := range slices.Concat(m.Scanned, m.NotScanned) {
			if !slices.Contains(m.Regions, r) {
				return fmt.Errorf("monitoring.scanned_regions: the regions disagree: %s is scanned or left out but not in monitoring.regions (was the bundle edited?)", r)
			}
		}
	}
	// EventBridge and GuardDuty are read in each scanned region, one part per region.
	regionsOf := func(n int, at func(int) string) []string {
		out := make([]string, n)
		for i := range n {
			out[i] = at(i)
		}
		slices.Sort(out)
		return out
	}
	scanned := slices.Sorted(slices.Values(m.Scanned))
	for _, p := range []struct {
		field   string
		regions []string
	}{
		{"monitoring.event_buses", regionsOf(len(m.EventBuses), func(i int) string { return m.EventBuses[i].Region })},
		{"monitoring.guardduty", regionsOf(len(m.GuardDuty), func(i int) string { return m.GuardDuty[i].Region })},
	} {
		if !slices.Equal(p.regions, scanned) {
			return fmt.Errorf("%s: the regions disagree: it holds %s but monitoring.scanned_regions is %s (was the bundle edited?)",
				p.field, strings.Join(p.regions, ", "), strings.Join(scanned, ", "))
		}
	}
	for _, p := range []struct {
		source, field string
		holds         int
	}{
		{evidence.SourceMetricFilters, "monitoring.log_groups", len(m.LogGroups)},
		{evidence.SourceAlarms, "monitoring.alarms", len(m.Alarms)},
		{evidence.SourceSubscriptions, "monitoring.topics", len(m.Topics)},
		{evidence.SourceEventRules, "monitoring.event_buses", len(m.EventBuses)},
		{evidence.SourceGuardDuty, "monitoring.guardduty", len(m.GuardDuty)},
	} {
		if r := partsRE.FindStringSubmatch(detail(a, p.source)); r != nil && atoi(r[1]) != p.holds {
			return countMismatch{p.field, "sources." + p.source + ".detail", r[2], atoi(r[1]), p.holds}
		}
	}
	return nil
}
