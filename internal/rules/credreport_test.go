package rules

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

// rows builds a report from root rows (each a set of overrides of a clean
// root row), generated an hour before asOf.
func rows(over ...map[string]string) func(*testing.T) *evidence.Account {
	return func(t *testing.T) *evidence.Account {
		lines := []string{header}
		for _, o := range over {
			lines = append(lines, rootRowCSV(o))
		}
		return account(t, strings.Join(lines, "\n")+"\n", asOf.Add(-day/24))
	}
}

// The bad states a root row can show, one per rule that reads the row.
var badStates = map[string]map[string]string{
	"iam-root-active-password":     {"password_last_used": ago(2 * day)},
	"iam-root-access-key-used":     {"access_key_2_active": "true", "access_key_2_last_rotated": ago(300 * day), "access_key_2_last_used_date": ago(day)},
	"iam-root-access-key-active":   {"access_key_1_active": "true", "access_key_1_last_rotated": ago(300 * day)},
	"iam-root-signing-cert-active": {"cert_2_active": "true", "cert_2_last_rotated": ago(300 * day)},
	"iam-root-no-mfa":              {"mfa_active": "false"},
	"iam-root-no-hardware-mfa":     {"mfa_active": "false"},
}

// differ makes a root row disagree with a clean one in a cell no rule
// reads, so that the report has two root rows that disagree.
var differ = map[string]string{"user_creation_time": "2018-05-05T00:00:00+00:00"}

func merged(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range []map[string]string{a, b} {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// TestPositiveEvidenceInAnyRootRow: for every rule that reads the root
// row, a bad state in either of two root rows that disagree fails, as it
// does in a single root row; two root rows that disagree with nothing bad
// in either are unknown (a pass needs one consistent root row); a
// malformed row, or one whose name and ARN disagree, is not trusted even
// for a failure.
func TestPositiveEvidenceInAnyRootRow(t *testing.T) {
	byID := map[string]Rule{}
	for _, r := range Catalog() {
		byID[r.ID] = r
	}
	var readers []string
	for _, r := range Catalog() {
		if slices.Contains(r.Sources, evidence.SourceCredentialReport) {
			readers = append(readers, r.ID)
		}
	}
	for _, id := range readers {
		bad, ok := badStates[id]
		if !ok {
			t.Errorf("%s reads the credential report but has no bad state in this test", id)
			continue
		}
		r := byID[id]
		eval := func(a *evidence.Account) Result { return r.Eval(Input{Account: a, AsOf: asOf, Settings: defaults})[0] }
		t.Run(id, func(t *testing.T) {
			if got := eval(rows(bad)(t)); got.Status != finding.StatusFail {
				t.Fatalf("a single root row with %v: %s (%s), want fail", bad, got.Status, got.Message)
			}
			for name, a := range map[string]*evidence.Account{
				"bad row second": rows(differ, bad)(t),
				"bad row first":  rows(bad, differ)(t),
				// The first problem Root() meets is the odd row; the root
				// row after it is still root's.
				"bad root row after a root name on a user ARN": rows(map[string]string{"arn": "arn:aws:iam::123456789012:user/x"}, bad)(t),
			} {
				got := eval(a)
				if got.Status != finding.StatusFail {
					t.Errorf("%s: %s (%s), want fail", name, got.Status, got.Message)
					continue
				}
				for _, want := range []string{"no single consistent root row", "a pass would need one consistent root row"} {
					if !strings.Contains(got.Message, want) {
						t.Errorf("%s: message %q lacks %q", name, got.Message, want)
					}
				}
				if got.Evidence["root_row_problem"] == nil {
					t.Errorf("%s: evidence lacks root_row_problem: %v", name, got.Evidence)
				}
			}
			if got := eval(rows(nil, differ)(t)); got.Status != finding.StatusUnknown || !strings.Contains(got.Message, "root rows that disagree") {
				t.Errorf("two clean root rows that disagree: %s (%s), want unknown", got.Status, got.Message)
			}
			// A row whose name and ARN disagree is not root's for certain:
			// its bad state is not taken as root's, and nothing passes.
			for name, odd := range map[string]map[string]string{
				"root name on a user ARN": {"arn": "arn:aws:iam::123456789012:user/x"},
				"root ARN on a user name": {"user": "mallory"},
			} {
				if got := eval(rows(merged(bad, odd))(t)); got.Status != finding.StatusUnknown || !strings.Contains(got.Message, "cannot trust it") {
					t.Errorf("%s with a bad state: %s (%s), want unknown", name, got.Status, got.Message)
				}
			}
			// A malformed row (a missing cell shifts the others) is not
			// trusted: the clean row cannot pass alone either.
			malformed := strings.TrimSuffix(rootRowCSV(bad), ",N/A")
			a := account(t, header+"\n"+rootRowCSV(nil)+"\n"+malformed+"\n", asOf.Add(-day/24))
			if got := eval(a); got.Status == finding.StatusPass {
				t.Errorf("a clean root row beside a malformed one passed: %s", got.Message)
			}
		})
	}
}

// TestAnyRootRowNamesTheRow: the failure says which line showed it, and
// carries that line's cells.
func TestAnyRootRowNamesTheRow(t *testing.T) {
	a := rows(differ, badStates["iam-root-active-password"])(t)
	got := activePassword().Eval(Input{Account: a, AsOf: asOf, Settings: defaults})[0]
	want := fmt.Sprintf("The root user's password was last used %s, 2.0 days ago (window 15 days) (credential report line 3; the report has no single consistent root row (the credential report has root rows that disagree (lines 2 and 3))",
		fmtTime(asOf.Add(-2*day)))
	if got.Status != finding.StatusFail || !strings.HasPrefix(got.Message, want) {
		t.Errorf("%s: %q\nwant prefix %q", got.Status, got.Message, want)
	}
	if got.Evidence["report_line"] != 3 || got.Evidence["password_last_used"] != ago(2*day) {
		t.Errorf("evidence: %v", got.Evidence)
	}
	m := noMFA().Eval(Input{Account: rows(nil, merged(differ, badStates["iam-root-no-mfa"]))(t), AsOf: asOf, Settings: defaults})[0]
	if m.Status != finding.StatusFail || !strings.HasPrefix(m.Message, "The root user has no MFA device (credential report mfa_active = false, credential report line 3;") {
		t.Errorf("no-mfa: %s %q", m.Status, m.Message)
	}
}
