// Package analysis answers, for rules, what the Deny statements of the
// SCPs in force for an account cover of "every action on every resource"
// for a class of requests: the root user's (RootScenario), with the keys
// it leaves open. StatementCoverage and DenyCoverages judge each Deny on
// its own and say what it leaves open (Gaps); DenyUnion decides whether
// partial Denies together leave nothing. It evaluates conditions with
// internal/policy/eval and does no I/O.
package analysis
