package awsfake

import (
	"strings"
	"testing"
	"time"
)

func TestWorldValidation(t *testing.T) {
	bad := map[string]string{
		`accounts: [{id: "123"}]`:                                                                      "not 12 digits",
		`accounts: [{id: "111111111111"}, {id: "111111111111"}]`:                                       "appears twice",
		`accounts: [{id: "111111111111", access_keys: [K]}, {id: "222222222222", access_keys: [K]}]`:   "already belongs",
		`accounts: [{id: "111111111111", root: {password_last_used: yesterday}}]`:                      "time \"yesterday\"",
		`accounts: [{id: "111111111111", root: {mfa: sms}}]`:                                           `mfa "sms"`,
		`accounts: [{id: "111111111111", report: {columns: 18}}]`:                                      "columns 18",
		`accounts: [{id: "111111111111", faults: [{op: X}]}]`:                                          "a fault needs",
		`org_error_style: loud`:                                                                        "org_error_style",
		`accounts: [{id: "111111111111", colour: red}]`:                                                "field colour not found",
		`accounts: [{id: "111111111111", iam: {users: [{name: ghost}]}}]`:                              "iam user ghost is not under users",
		`accounts: [{id: "111111111111", users: [{name: a}], iam: {users: [{name: a, groups: [g]}]}}]`: "no group g",
		`accounts: [{id: "111111111111", iam: {roles: [{name: r, managed: [ReadOnlyAccess]}]}}]`:       `no managed policy "ReadOnlyAccess"`,
		`accounts: [{id: "111111111111", iam: {roles: [{name: r, inline: {p: "{}"}}]}}]`:               "iam role r inline policy p",
		`accounts: [{id: "111111111111", iam: {simulate: [{principal: r, decision: maybe}]}}]`:         `decision "maybe"`,
	}
	for in, want := range bad {
		if _, err := ParseWorld([]byte(in), "w.yaml"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", in, err, want)
		}
	}
}

func TestResolveTime(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := map[string]string{
		"-3d": "2026-02-26T12:00:00+00:00", "-36h": "2026-02-28T00:00:00+00:00", "-90m": "2026-03-01T10:30:00+00:00",
		"": "N/A", "N/A": "N/A", "no_information": "no_information", "2020-01-02T03:04:05Z": "2020-01-02T03:04:05+00:00",
		"raw:garbage": "garbage",
	}
	for in, want := range cases {
		if got, err := resolveTime(in, now); err != nil || got != want {
			t.Errorf("resolveTime(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestReportSixteenColumns(t *testing.T) {
	a := &Account{ID: "111111111111", Report: ReportSpec{Columns: 16}, Root: Principal{AccessKeys: []KeySpec{{Active: true, LastRotated: "-5d", LastUsed: "-1d"}}}}
	csv, err := buildReport(a, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(csv), "\n")
	if len(strings.Split(lines[0], ",")) != 16 || strings.Contains(lines[0], "last_used_date") || len(strings.Split(lines[1], ",")) != 16 {
		t.Errorf("16-column report:\n%s", csv)
	}
	if strings.HasSuffix(string(csv), "\n") {
		t.Error("AWS reports have no final newline")
	}
}
