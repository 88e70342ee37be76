// Package rules is the catalog: one file per rule, its knowledge-base page
// beside it (embedded), and table-driven tests. Rules are pure functions of
// an account's evidence, their settings and the as-of time; they never do I/O.
package rules

import (
	"fmt"
	"math"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

// Input is everything a rule may look at.
type Input struct {
	Account  *evidence.Account
	AsOf     time.Time
	Settings Settings
	// Peer returns another account of the same run by ID, or nil: an
	// organization trail's alarms live in the management account.
	Peer func(id string) *evidence.Account
}

// peer is Input.Peer, safe when none was given.
func (in Input) peer(id string) *evidence.Account {
	if in.Peer == nil {
		return nil
	}
	return in.Peer(id)
}

// Result is one verdict of a rule. Resource and Region default to the root
// user's ARN and "global".
type Result struct {
	Status   finding.Status
	Message  string
	Evidence map[string]any
	Resource string
	Region   string
}

// Rule is the definition of a check.
type Rule struct {
	ID       string
	Title    string
	Severity finding.Severity
	Category string
	// Sources names the evidence sources the rule reads, for documentation
	// and for the least-privilege notes of each page.
	Sources []string
	// Params are the rule's tunables with their defaults; a config file
	// that sets anything else for the rule is refused.
	Params []Param
	Eval   func(Input) []Result
	// Alerts, on a rule about root events, says whether a real-time alert
	// on an event (rootwatch watch) is this rule's, for its guidance. The
	// rules' sets are disjoint: an event is at most one rule's.
	Alerts func(evidence.Event) bool
}

// Catalog returns every rule, in a fixed order. It builds a new slice on each
// call: there is no global registry to mutate.
func Catalog() []Rule {
	return []Rule{
		activePassword(),
		accessKeyActive(),
		accessKeyUsed(),
		noMFA(),
		noHardwareMFA(),
		signingCertActive(),
		consoleLogin(),
		loginWithoutMFA(),
		failedLogins(),
		apiActivity(),
		recoveryActivity(),
		orgRootAccessNotCentralized(),
		orgRootSessionHolders(),
		orgRootActionsNotDenied(),
		orgRootEmailOutsideDomains(),
		rootCredentialsPresent(),
		rootUsageNoAlarm(),
		rootActivityUnalerted(),
	}
}

// ByID finds a rule of the catalog.
func ByID(id string) (Rule, bool) {
	for _, r := range Catalog() {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}

func one(r Result) []Result { return []Result{r} }

// Days converts a duration to days rounded to one decimal, as findings show it.
func Days(d time.Duration) float64 {
	return math.Round(d.Hours()/24*10) / 10
}

// humanWindow prints a window for a sentence: "15 days", "36 hours".
func humanWindow(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return fmt.Sprintf("1 %s", unit)
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case d%(24*time.Hour) == 0:
		return plural(int64(d/(24*time.Hour)), "day")
	case d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour")
	case d%time.Minute == 0:
		return plural(int64(d/time.Minute), "minute")
	}
	return d.String()
}

func fmtTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// sourceProblem turns a source that is not ok into the matching verdict:
// error when collection failed, unknown when it was denied or never made.
func sourceProblem(a *evidence.Account, name, needFor string) *Result {
	st := a.Source(name)
	if st.State == evidence.StateOK {
		return nil
	}
	status := finding.StatusUnknown
	if st.State == evidence.StateError {
		status = finding.StatusError
	}
	detail := st.Detail
	if detail == "" {
		detail = string(st.State)
	}
	return &Result{
		Status:   status,
		Message:  fmt.Sprintf("Cannot judge %s: the %s source is %s (%s).", needFor, name, st.State, detail),
		Evidence: map[string]any{"source": name, "source_state": string(st.State), "source_detail": detail},
	}
}
