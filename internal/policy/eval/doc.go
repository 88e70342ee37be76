// Package eval decides requests against IAM policies (parsed by
// internal/policy) the way the IAM User Guide's "Policy evaluation logic"
// describes for one account. It does no I/O and imports no AWS SDK.
//
// What it models:
//   - matching: actions case-insensitively with * and ?; resources with *
//     and ? within colon-separated segments (a * ending a segment may run
//     past colons); policy variables ${key}, ${key, 'default'}, ${*}, ${?},
//     ${$} in Resource and in String, ARN and Bool condition values, in
//     2012-10-17 policies only;
//   - every condition operator (String*, Numeric*, Date*, Bool, BinaryEquals,
//     IpAddress/NotIpAddress, Arn*, Null), IfExists, ForAllValues and
//     ForAnyValue, condition keys case-insensitive, over typed and
//     multivalued context values (condition.go says how a missing key, a
//     multivalued key and a variable without a value decide);
//   - the decision: an applicable Deny anywhere wins; identity policies must
//     allow; a permissions boundary, if any, must allow; SCPs must allow at
//     every level of the account's path (Evaluate), with the statements
//     that decided;
//   - scenarios (Scenario) that leave some context keys open and give
//     three-valued answers (Truth, Conditional), and the decision for each
//     of a set of values of one key (EvaluateValues: the sts:TaskPolicyArn
//     of sts:AssumeRoot).
//
// Compile (or Parse) prepares a policy once for every request: its
// patterns and the condition values that hold no policy variable.
//
// What it does not model:
//   - resource-based policies and RCPs in the decision: EvaluateResourcePolicy
//     finds the statements of a resource policy that apply to a caller, and
//     how they combine with the caller's own policies is the caller's;
//   - cross-account requests, session policies, VPC endpoint policies,
//     service-specific rules (KMS key policies, S3 ACLs and Block Public
//     Access), service-linked roles' exemption from SCPs, and the
//     management account's exemption (callers pass no SCPs for it);
//   - which context keys a service sets for an action: the caller supplies
//     the context, complete (NewContext) or partial (Scenario);
//   - the root user's own unlimited permissions: pass AllowAll as its
//     identity policy.
//
// DIFFERENCES.md lists where it knowingly disagrees with
// @cloud-copilot/iam-simulate, the independent implementation it is tested
// against, with the AWS documentation that decides each case.
package eval
