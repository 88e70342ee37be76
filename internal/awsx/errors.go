package awsx

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/rootwatch/rootwatch/internal/evidence"
)

// APICode returns the error code of an AWS API error, or "".
func APICode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// Message is an AWS API error as its code and message ("ThrottlingException:
// Rate exceeded"), or err's text when it is not one.
func Message(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}

// CodeIs matches an error code with or without the "Exception" suffix: IAM's
// organization errors are documented bare but matched suffixed by the SDK.
func CodeIs(err error, names ...string) bool {
	bare := func(s string) string { return strings.TrimSuffix(strings.ToLower(s), "exception") }
	code := bare(APICode(err))
	if code == "" {
		return false
	}
	for _, n := range names {
		if code == bare(n) {
			return true
		}
	}
	return false
}

var deniedCodes = []string{"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess", "AuthorizationError", "NotAuthorized"}

// IsDenied reports whether err means the caller lacks permission.
func IsDenied(err error) bool {
	if CodeIs(err, deniedCodes...) {
		return true
	}
	var re *smithyhttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == 403 && APICode(err) == ""
}

// IsInterrupted reports whether err comes from a cancelled context: the
// user pressed Ctrl-C or the process was told to stop. That is neither a
// denial nor a failure of AWS, and is never reported as one.
func IsInterrupted(err error) bool { return errors.Is(err, context.Canceled) }

// InterruptedError is an operation stopped by a cancelled context. It
// wraps the context's error, so errors.Is(err, context.Canceled) holds and
// main exits with the code of an interrupted run.
type InterruptedError struct {
	Op  string // what was under way, e.g. "ListAccounts as arn:…"
	Err error
}

func (e *InterruptedError) Error() string { return "interrupted during " + e.Op }

func (e *InterruptedError) Unwrap() error { return e.Err }

// Interrupted returns err as an InterruptedError when it comes from a
// cancelled context, and nil otherwise, for callers whose own error would
// otherwise blame permissions or credentials.
func Interrupted(op string, err error) error {
	if !IsInterrupted(err) {
		return nil
	}
	return &InterruptedError{Op: op, Err: err}
}

// Describe renders an API error for a source detail or a reason: operation,
// code, HTTP status and message. AWS error messages carry no secrets. A
// call stopped by a cancelled context says "interrupted".
func Describe(op string, err error) string {
	if IsInterrupted(err) {
		return op + ": interrupted before AWS answered"
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		s := fmt.Sprintf("%s: %s", op, ae.ErrorCode())
		var re *smithyhttp.ResponseError
		if errors.As(err, &re) {
			s += fmt.Sprintf(" (HTTP %d)", re.HTTPStatusCode())
		}
		if m := ae.ErrorMessage(); m != "" {
			s += ": " + m
		}
		return s
	}
	return fmt.Sprintf("%s: %v", op, err)
}

// Failed turns an error into the status of a source: denied or error (an
// interrupted call is an error that says so, never a denial).
func Failed(op string, err error) evidence.SourceStatus {
	state := evidence.StateError
	if IsDenied(err) {
		state = evidence.StateDenied
	}
	return evidence.SourceStatus{State: state, Detail: Describe(op, err)}
}
