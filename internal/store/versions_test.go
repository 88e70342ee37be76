package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/report"
)

// orgRun is an organization judged as of asOf, with what a real scan's
// findings hold: times that stay (a password last used, an MFA device
// created), times that follow the as-of time (CloudTrail's window), a
// credential report generated during the scan, ages in days in numbers
// and in messages, first_seen and change marks. changed(i) gives account
// i's root user a password used an hour before the as-of time.
func orgRun(n int, asOf time.Time, changed func(int) bool) *finding.Run {
	fixed := time.Date(2026, 2, 10, 7, 30, 0, 0, time.UTC)
	from, to := asOf.Add(-15*24*time.Hour).Format(time.RFC3339), asOf.Format(time.RFC3339)
	window := "LookupEvents us-east-1, Username=root, " + from + " to " + to
	run := &finding.Run{SchemaVersion: "1", Tool: finding.Tool{Name: "rootwatch", Version: "test"}, GeneratedAt: asOf.Add(3 * time.Minute), AsOf: asOf,
		Settings: map[string]string{"window": "15d", "max_report_age": "4h"}, DisabledRules: []finding.DisabledRule{{RuleID: "iam-root-no-hardware-mfa", Title: "Root user has no hardware MFA", Severity: finding.SeverityHigh}},
		History: &finding.History{Scope: "org", Changes: []finding.Change{}}}
	firstSeen := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	for i := range n {
		acct := fmt.Sprintf("1%011d", i)
		report := asOf.Add(time.Duration(7*i%97) * time.Second).Format(time.RFC3339)
		run.Accounts = append(run.Accounts, finding.Account{AccountID: acct, Partition: "aws", Status: finding.AccountAssessed, Sources: []finding.Source{
			{Name: "cloudtrail", State: "ok", Detail: window + ": 0 root events"},
			{Name: "credential_report", State: "ok", Detail: fmt.Sprintf("generated a new report (%d polls); 1 row", 1+(i+asOf.Day())%3), GeneratedTime: report},
		}})
		res := "arn:aws:iam::" + acct + ":root"
		reportEv := func(ev map[string]any) map[string]any {
			ev["report_generated_time"], ev["report_age_days"], ev["report_line"], ev["source"], ev["window"] = report, 0, 2, "credential_report", "15d"
			return ev
		}
		add := func(rule string, st finding.Status, msg string, ev map[string]any) {
			seen := firstSeen
			run.Findings = append(run.Findings, finding.Finding{RuleID: rule, Title: "the title of " + rule, Status: st, Severity: finding.SeverityCritical,
				AccountID: acct, Region: "global", Resource: res, Message: msg, Evidence: ev, Fingerprint: finding.Fingerprint(rule, acct, res),
				FirstSeen: &seen, Change: finding.ChangeUnchanged})
		}
		if used := i%10 == 3; used || changed(i) {
			last := fixed
			if !used {
				last = asOf.Add(-time.Hour)
			}
			age := float64(int(asOf.Sub(last).Hours()/24*10+0.5)) / 10
			add("iam-root-active-password", finding.StatusFail, fmt.Sprintf("The root user's password was last used %s, %.1f days ago (window 15 days).", last.Format(time.RFC3339), age),
				reportEv(map[string]any{"age_days": age, "password_last_used": last.Format("2006-01-02T15:04:05+00:00"), "password_enabled": "true"}))
		} else {
			add("iam-root-active-password", finding.StatusPass, "The root user has no password (password_last_used is N/A).",
				reportEv(map[string]any{"password_last_used": "N/A", "password_enabled": "false", "cloudtrail_signins": []any{}}))
		}
		add("iam-root-access-key-used", finding.StatusPass, "No root access key was used within the window of 15 days (access key 1: none; access key 2: none).",
			reportEv(map[string]any{"access_key_1_active": "false", "access_key_1_last_used_date": "N/A"}))
		add("iam-root-login-without-mfa", finding.StatusPass, "CloudTrail shows no successful root console sign-ins without MFA within the window of 15 days ("+window+").",
			map[string]any{"cloudtrail": window, "coverage_from": from, "coverage_to": to, "events": []any{}, "matching_events": 0, "source": "cloudtrail", "window": "15d"})
		add("iam-root-no-mfa", finding.StatusPass, "The root user has MFA.",
			map[string]any{"mfa_devices": []any{map[string]any{"created": fixed.AddDate(0, -i%11, 0).Format(time.RFC3339), "id": "GAHT" + acct}}, "source": "root_credentials"})
	}
	run.Summary = finding.Summarize(run.Findings)
	return run
}

// reads checks that a stored run exports as the scan wrote it (its JSON
// writer, with the run's id in its history) and loads as that JSON reads.
func reads(t *testing.T, s Store, id int64, run *finding.Run) {
	t.Helper()
	ctx := context.Background()
	cp := *run
	if run.History != nil {
		h := *run.History
		h.RunID = id
		cp.History = &h
	}
	var want, got bytes.Buffer
	if err := (report.JSON{}).Write(&want, &cp); err != nil {
		t.Fatal(err)
	}
	if err := s.Export(ctx, id, &got); err != nil {
		t.Fatalf("export run %d: %v", id, err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("run %d does not export as the scan wrote it:\n%s", id, firstDiff(got.Bytes(), want.Bytes()))
	}
	var decoded finding.Run
	if err := json.Unmarshal(want.Bytes(), &decoded); err != nil {
		t.Fatal(err)
	}
	loaded, _, err := s.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*loaded, decoded) {
		t.Errorf("run %d loads as %+v, its JSON reads as %+v", id, loaded, decoded)
	}
}

func firstDiff(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	clip := func(b []byte) string { return string(b[max(0, i-80):min(len(b), i+80)]) }
	return fmt.Sprintf("at byte %d:\n got: …%s…\nwant: …%s…", i, clip(got), clip(want))
}

func count(t *testing.T, s Store, table string) int {
	t.Helper()
	var n int
	if err := s.(*sqlStore).db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// oddEvidence has its fields in an order encoding/json keeps and a map
// does not: a run that went through a map would not read back as written.
type oddEvidence struct {
	Zeta  string    `json:"zeta"`
	Alpha float64   `json:"alpha"`
	When  time.Time `json:"when"`
}

// oddRun holds what a JSON round trip through Go values would not give
// back byte for byte, and a layout no scan writes: findings out of their
// accounts' order, a finding of an account the run does not list, an
// account listed twice, no disabled rules (null).
func oddRun(asOf time.Time) *finding.Run {
	run := orgRun(3, asOf, func(int) bool { return false })
	run.DisabledRules = nil
	run.Accounts = append(run.Accounts, run.Accounts[1])
	f := &run.Findings[0]
	f.Message = "hostile \u202e text <b>&amp;</b> \x1b[31m and \xff\xfe bytes, 1e21, 3.20 days, v1.2.3, 10.0.0.1, -4"
	f.Evidence["odd"] = oddEvidence{Zeta: "z", Alpha: 1.5, When: asOf.Add(-90 * time.Minute)}
	f.Evidence["numbers"] = []any{1e21, -3.5, 0.1, 12345678901234567890.0, json.Number("1.000")}
	f.Evidence["2026-01-01T00:00:00Z"] = "a key that looks like a time"
	f.Evidence["nested"] = map[string]any{"deeper": []any{map[string]any{"when": asOf.Format(time.RFC3339Nano), "n": 7}}}
	stray := run.Findings[1]
	stray.AccountID, stray.Fingerprint = "999999999999", finding.Fingerprint(stray.RuleID, "999999999999", stray.Resource)
	run.Findings = append(run.Findings, stray)
	run.Findings[0], run.Findings[5] = run.Findings[5], run.Findings[0]
	run.Summary = finding.Summarize(run.Findings)
	return run
}

// versionSuite is the behaviour of the versioned layout every Store must
// have.
func versionSuite(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	t.Run("a stored run exports byte for byte as the scan wrote it", func(t *testing.T) {
		s := open(t)
		empty := orgRun(0, t0, func(int) bool { return false })
		empty.Findings, empty.History = nil, nil
		for name, run := range map[string]*finding.Run{
			"organization": orgRun(20, t0, func(i int) bool { return i == 4 }),
			"odd":          oddRun(t0.Add(time.Hour)),
			"no findings":  empty,
			"no history":   makeRun(2, t0.Add(2*time.Hour), allPass),
		} {
			info, err := s.Save(ctx, run, "s-"+name)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			reads(t, s, info.ID, run)
		}
		var buf bytes.Buffer
		if err := s.Export(ctx, 9999, &buf); err == nil || !strings.Contains(err.Error(), ErrNotFound.Error()) || buf.Len() != 0 {
			t.Errorf("export of a missing run: %v, wrote %d bytes", err, buf.Len())
		}
	})
	t.Run("a run read in parts: what the reader has is not read again", func(t *testing.T) {
		s := open(t)
		none := func(int) bool { return false }
		// More accounts than one batch of parts.
		n := partBatch + 20
		if _, err := s.Save(ctx, orgRun(n, t0, none), "org"); err != nil {
			t.Fatal(err)
		}
		day2 := orgRun(n, t0.Add(24*time.Hour+17*time.Second), func(i int) bool { return i == 4 || i == partBatch+3 })
		info, err := s.Save(ctx, day2, "org")
		if err != nil {
			t.Fatal(err)
		}
		pr, ok := s.(PartReader)
		if !ok {
			t.Fatal("the store does not read runs in parts")
		}
		loaded, _, err := s.Load(ctx, info.ID)
		if err != nil {
			t.Fatal(err)
		}
		// Read with nothing known: every part's text, as the run holds it.
		var accounts []finding.Account
		findings := map[string][]finding.Finding{}
		keys := map[int64]bool{}
		_, frame, err := pr.ReadParts(ctx, info.ID, func(Part) Need { return NeedText }, func(p Part) error {
			if p.JSON == nil {
				t.Errorf("%s: a part without its text", p.Account)
			}
			if p.Key != 0 {
				keys[p.Key] = true
			}
			if !p.Finding {
				var a finding.Account
				err := json.Unmarshal(p.JSON, &a)
				accounts = append(accounts, a)
				return err
			}
			var f finding.Finding
			err := json.Unmarshal(p.JSON, &f)
			findings[p.Account] = append(findings[p.Account], f)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(frame, []byte(`"disabled_rules":[{"rule_id":"iam-root-no-hardware-mfa"`)) {
			t.Errorf("frame: %s", frame)
		}
		if !reflect.DeepEqual(accounts, loaded.Accounts) {
			t.Errorf("accounts read in parts differ from Load's")
		}
		for _, a := range loaded.Accounts {
			var whole, parts []finding.Finding
			for _, f := range loaded.Findings {
				if f.AccountID == a.AccountID {
					whole = append(whole, f)
					f.Change = "" // parts come without the change mark
					parts = append(parts, f)
				}
			}
			if !reflect.DeepEqual(findings[a.AccountID], parts) {
				t.Errorf("%s: findings read in parts differ from Load's", a.AccountID)
			}
			got, err := pr.AccountFindings(ctx, info.ID, a.AccountID)
			if err != nil || !reflect.DeepEqual(got, whole) {
				t.Errorf("%s: AccountFindings differ from Load's (%v)", a.AccountID, err)
			}
		}
		// The times moved a day: the parts that moved have no key, and
		// only they come with their text when the rest is known.
		if len(keys) == 0 {
			t.Fatal("no part of the second day is its version as written")
		}
		texts := 0
		need := func(p Part) Need {
			if keys[p.Key] {
				return NeedNothing
			}
			return NeedText
		}
		if _, _, err := pr.ReadParts(ctx, info.ID, need, func(p Part) error {
			if (p.JSON == nil) != (p.Key != 0) || p.Version == 0 {
				t.Errorf("%s: key %d (version %d) with %d bytes", p.Account, p.Key, p.Version, len(p.JSON))
			}
			if p.JSON != nil {
				texts++
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if texts == 0 {
			t.Error("every part of a run whose times moved has a key")
		}
		if fs, err := pr.AccountFindings(ctx, info.ID, "999999999999"); err != nil || len(fs) != 0 {
			t.Errorf("an account the run does not hold: %v, %v", fs, err)
		}
		if _, _, err := pr.ReadParts(ctx, 9999, func(Part) Need { return NeedText }, func(Part) error { return nil }); !errors.Is(err, ErrNotFound) {
			t.Errorf("a run not stored: %v", err)
		}
	})
	t.Run("an unchanged organization the next day adds no version", func(t *testing.T) {
		s := open(t)
		none := func(int) bool { return false }
		day1 := orgRun(40, t0, none)
		// A baseline: no change marks; the next run marks each unchanged.
		day1.History.Baseline = true
		for i := range day1.Findings {
			day1.Findings[i].Change = ""
		}
		a, err := s.Save(ctx, day1, "org")
		if err != nil {
			t.Fatal(err)
		}
		versions, accounts := count(t, s, "finding_versions"), count(t, s, "account_versions")
		if versions != len(day1.Findings) || accounts != 40 {
			t.Fatalf("the first run stored %d finding versions and %d account versions, want %d and 40", versions, accounts, len(day1.Findings))
		}
		// A day later (and 17 s): every window, report time, age and
		// poll count moved; nothing was judged differently.
		day2 := orgRun(40, t0.Add(24*time.Hour+17*time.Second), none)
		b, err := s.Save(ctx, day2, "org")
		if err != nil {
			t.Fatal(err)
		}
		if n, m := count(t, s, "finding_versions"), count(t, s, "account_versions"); n != versions || m != accounts {
			t.Errorf("the unchanged run added %d finding versions and %d account versions", n-versions, m-accounts)
		}
		var refs int
		if err := s.(*sqlStore).db.QueryRow(s.(*sqlStore).q(`SELECT sum(length(refs)) FROM run_accounts WHERE run_id = ?`), b.ID).Scan(&refs); err != nil {
			t.Fatal(err)
		}
		if per := refs / 40; per > 64 {
			t.Errorf("the unchanged run's references take %d bytes per account, want at most 64", per)
		}
		// Two accounts change a verdict: their two findings are new
		// versions, nothing else.
		day3 := orgRun(40, t0.Add(48*time.Hour+5*time.Second), func(i int) bool { return i == 5 || i == 6 })
		c, err := s.Save(ctx, day3, "org")
		if err != nil {
			t.Fatal(err)
		}
		if n := count(t, s, "finding_versions"); n != versions+2 {
			t.Errorf("two changed findings added %d versions", n-versions)
		}
		// A run's failing accounts are counted in SQL (the accounts 3,
		// 13, 23 and 33 fail, and now 5 and 6).
		var failing int
		if err := s.(*sqlStore).db.QueryRow(s.(*sqlStore).q(`SELECT count(*) FROM run_accounts WHERE run_id = ? AND failing > 0`), c.ID).Scan(&failing); err != nil || failing != 6 {
			t.Errorf("%d failing accounts (%v), want 6", failing, err)
		}
		for _, r := range []struct {
			id  int64
			run *finding.Run
		}{{a.ID, day1}, {b.ID, day2}, {c.ID, day3}} {
			reads(t, s, r.id, r.run)
		}
		hist, err := s.History(ctx, "100000000005", "iam-root-active-password")
		if err != nil || len(hist) != 3 || hist[0].Status != finding.StatusPass || hist[2].Status != finding.StatusFail ||
			!strings.Contains(hist[2].Message, t0.Add(47*time.Hour+5*time.Second).Format(time.RFC3339)+", 0.0 days ago") {
			t.Errorf("history: %+v %v", hist, err)
		}
	})
	t.Run("prune keeps the versions a kept run holds", func(t *testing.T) {
		s := open(t)
		none := func(int) bool { return false }
		day1 := orgRun(10, t0, none)
		a, err := s.Save(ctx, day1, "org")
		if err != nil {
			t.Fatal(err)
		}
		day2 := orgRun(10, t0.Add(24*time.Hour), func(i int) bool { return i == 4 })
		b, err := s.Save(ctx, day2, "org")
		if err != nil {
			t.Fatal(err)
		}
		// The newest run of account 4 holds one rule of it: its other
		// findings are held by day 2 only, an older row.
		day3 := orgRun(10, t0.Add(48*time.Hour), none)
		day3.Accounts, day3.Findings = day3.Accounts[4:5], day3.Findings[17:18]
		day3.Summary = finding.Summarize(day3.Findings)
		c, err := s.Save(ctx, day3, "account 4, one rule")
		if err != nil {
			t.Fatal(err)
		}
		before := count(t, s, "finding_versions")
		n, err := s.Prune(ctx, t0.Add(time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("prune: %d %v", n, err)
		}
		// Only day 1's version of account 4's password finding was held
		// by no kept run.
		if got := count(t, s, "finding_versions"); got != before-1 {
			t.Errorf("prune deleted %d finding versions, want 1", before-got)
		}
		if _, _, err := s.Load(ctx, a.ID); err == nil {
			t.Error("the pruned run still loads")
		}
		reads(t, s, b.ID, day2)
		reads(t, s, c.ID, day3)
		if n, err := s.Prune(ctx, t0.Add(72*time.Hour)); err != nil || n != 2 {
			t.Fatalf("prune of every run: %d %v", n, err)
		}
		if v, a := count(t, s, "finding_versions"), count(t, s, "account_versions"); v != 0 || a != 0 {
			t.Errorf("%d finding versions and %d account versions outlive every run", v, a)
		}
	})
}
