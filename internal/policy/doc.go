// Package policy is the IAM policy language: it reads policy documents
// into a model and prints them back, and does nothing else. It does no I/O
// and imports no AWS SDK: rules judge policies that collection has already
// fetched. Deciding requests against policies is internal/policy/eval;
// what the Deny statements of SCPs cover is internal/policy/analysis.
//
// What it models:
//   - the policy language: Version, Id, Statement (object or list), Sid,
//     Effect, Action/NotAction, Resource/NotResource, Principal/NotPrincipal,
//     Condition, every element a string or a list; Parse refuses what IAM
//     refuses (bad JSON, duplicate keys, unknown elements, an Effect other
//     than "Allow"/"Deny", a wildcard in an action's service prefix, a
//     resource that is neither "*" nor an ARN, an unknown condition
//     operator), naming the statement and the field;
//   - the condition operators' grammar (ParseOperator):
//     [ForAllValues:|ForAnyValue:]Base[IfExists], each base operator's
//     family and comparison;
//   - printing (MarshalJSON, Statement.JSON, Condition.String) as evidence:
//     each element written as it was, so that Parse reads it back equal.
package policy
