// Package demo holds rootwatch's embedded demo: a four-account organization
// and a standalone account served by the fake AWS, so that `scan --demo`
// runs the live collection path end to end with no credentials, and shows
// at least one finding of every status. Its times are relative to the as-of
// time, so its verdicts never age.
package demo

import (
	_ "embed"
	"fmt"
	"time"
)

// Account IDs of the demo organization.
const (
	ManagementAccount = "111111111111" // payments-prod, the management account
	MemberAccount     = "222222222222" // sandbox, created by Organizations; a NotAction hole in its SCPs
	CoveredAccount    = "444444444444" // payments-api, under the deny-root guardrail
	ExemptedAccount   = "555555555555" // data-lake, exempted from the guardrail
	StandaloneAccount = "333333333333" // legacy-analytics, outside the organization
)

//go:embed world.yaml
var world []byte

// World returns the fake-AWS world of the demo.
func World() []byte { return append([]byte(nil), world...) }

// Credentials maps each demo account to the access key the fake routes to it.
// The secret is a placeholder: the fake does not check signatures.
func Credentials() map[string]string {
	return map[string]string{
		ManagementAccount: "AKIADEMO111111111111",
		MemberAccount:     "AKIADEMO222222222222",
		StandaloneAccount: "AKIADEMO333333333333",
	}
}

// Config is the demo's configuration file: the expected root-session
// holder and one accepted finding.
func Config(asOf time.Time) []byte {
	return []byte(fmt.Sprintf(`# rootwatch demo configuration
rules:
  org-root-session-holders:
    allowed_principals: ["arn:aws:iam::%s:role/BreakGlassRoot*"]
suppressions:
  - rule: iam-root-access-key-active
    account: "%s"
    reason: "break-glass key for the legacy billing export; removal tracked in SEC-142"
    expires: %s
`, ManagementAccount, ManagementAccount, asOf.Add(45*24*time.Hour).UTC().Format("2006-01-02")))
}
