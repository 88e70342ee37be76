package awsx

import (
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

// Describe renders an API error for a source detail or a reason: operation,
// code, HTTP status and message. AWS error messages carry no secrets.
func Describe(op string, err error) string {
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

// Failed turns an error into the status of a source: denied or error.
func Failed(op string, err error) evidence.SourceStatus {
	state := evidence.StateError
	if IsDenied(err) {
		state = evidence.StateDenied
	}
	return evidence.SourceStatus{State: state, Detail: Describe(op, err)}
}
