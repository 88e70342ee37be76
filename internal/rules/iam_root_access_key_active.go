package rules

import (
	"fmt"
	"strings"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

func accessKeyActive() Rule {
	return Rule{
		ID:       "iam-root-access-key-active",
		Title:    "Root user has an active access key",
		Severity: finding.SeverityCritical,
		Category: "identity",
		Sources:  []string{evidence.SourceCredentialReport, evidence.SourceAccountSummary},
		Eval: func(in Input) []Result {
			return evalActiveCredential(in, credentialKind{
				noun: "access key", summaryKey: evidence.SummaryAccessKeysPresent,
				audited: func(rc *evidence.RootCredentials) []evidence.RootCredential { return rc.AccessKeys },
				active:  func(r *evidence.Row, i int) evidence.BoolValue { return r.AccessKeys[i].Active },
				col:     func(n int) string { return evidence.KeyCol(n, "active") },
				rotCol:  func(n int) string { return evidence.KeyCol(n, "last_rotated") },
				rot:     func(r *evidence.Row, i int) evidence.TimeValue { return r.AccessKeys[i].LastRotated },
			})
		},
	}
}

// credentialKind describes the two-slot credentials (access keys, signing
// certificates) so that both rules share one judgement.
type credentialKind struct {
	noun       string
	audited    func(*evidence.RootCredentials) []evidence.RootCredential
	summaryKey string
	active     func(*evidence.Row, int) evidence.BoolValue
	col        func(n int) string
	rotCol     func(n int) string
	rot        func(*evidence.Row, int) evidence.TimeValue
}

// evalActiveCredential fails on any active slot in the report. It passes on
// a fresh report that shows both slots inactive, or on a live account summary
// that shows no credential of this kind at all; otherwise it is unknown.
func evalActiveCredential(in Input, k credentialKind) []Result {
	need := "whether the root user has an active " + k.noun
	if rc := auditedRoot(in.Account); rc != nil {
		// Read live in an AssumeRoot audit session: authoritative.
		ev := rootCredsEvidence(rc)
		var active []string
		for _, c := range k.audited(rc) {
			if strings.EqualFold(c.Status, "Active") {
				active = append(active, fmt.Sprintf("%s %s (created %s)", k.noun, c.ID, fmtTime(c.Created)))
			}
		}
		if len(active) > 0 {
			return one(Result{Status: finding.StatusFail, Evidence: ev, Message: fmt.Sprintf("The root user has an active %s: %s (AssumeRoot audit).", k.noun, strings.Join(active, "; "))})
		}
		return one(Result{Status: finding.StatusPass, Evidence: ev, Message: fmt.Sprintf("The root user has no active %s (AssumeRoot audit).", k.noun)})
	}
	present, havePresent := summaryValue(in.Account, k.summaryKey)
	row, stop := rootRow(in, need)

	if row == nil {
		// An active credential in any root row fails, as it does
		// in a usable row, whatever the summary says.
		if r := anyRootRow(in, func(row *evidence.Row, ev map[string]any) string {
			var active []string
			for i := 0; i < 2; i++ {
				if v := k.active(row, i); v.Kind == evidence.KindBool && v.Value {
					ev[k.col(i+1)] = v.Raw
					active = append(active, fmt.Sprintf("%s %d (last rotated %s)", k.noun, i+1, k.rot(row, i).Raw))
				}
			}
			if len(active) == 0 {
				return ""
			}
			return fmt.Sprintf("The root user has an active %s: %s", k.noun, strings.Join(active, "; "))
		}); r != nil {
			return one(*r)
		}
		if havePresent && present == 0 {
			return one(Result{Status: finding.StatusPass,
				Message:  fmt.Sprintf("The account summary shows no root %s (%s = 0).", k.noun, k.summaryKey),
				Evidence: map[string]any{"source": evidence.SourceAccountSummary, k.summaryKey: present, "credential_report": stop.Message}})
		}
		return one(*stop)
	}

	ev := reportEvidence(in, row)
	if havePresent {
		ev[k.summaryKey] = present
	}
	var active, problems []string
	for i := 0; i < 2; i++ {
		v := k.active(row, i)
		ev[k.col(i+1)] = v.Raw
		if rv := k.rot(row, i); rv.Kind != evidence.KindMissing {
			ev[k.rotCol(i+1)] = rv.Raw
		}
		if p := boolProblem(v, k.col(i+1)); p != "" {
			problems = append(problems, p)
			continue
		}
		if v.Value {
			active = append(active, fmt.Sprintf("%s %d (last rotated %s)", k.noun, i+1, k.rot(row, i).Raw))
		}
	}
	switch {
	case len(active) > 0:
		return one(Result{Status: finding.StatusFail, Evidence: ev,
			Message: fmt.Sprintf("The root user has an active %s: %s.", k.noun, strings.Join(active, "; "))})
	case havePresent && present == 0:
		return one(Result{Status: finding.StatusPass, Evidence: ev,
			Message: fmt.Sprintf("The root user has no %s (account summary %s = 0).", k.noun, k.summaryKey)})
	case len(problems) > 0:
		return one(Result{Status: finding.StatusUnknown, Evidence: ev,
			Message: fmt.Sprintf("Cannot judge %s: %s (line %d).", need, strings.Join(problems, "; "), row.Line)})
	}
	if stale := staleReport(in); stale != "" {
		return one(Result{Status: finding.StatusUnknown, Evidence: ev,
			Message: fmt.Sprintf("The report shows no active root %s, but %s.", k.noun, stale)})
	}
	return one(Result{Status: finding.StatusPass, Evidence: ev,
		Message: fmt.Sprintf("The root user has no active %s.", k.noun) + reportTimeNote(in)})
}
