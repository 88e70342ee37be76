package awsx

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/rootwatch/rootwatch/internal/evidence"
)

// TestInterruptedIsNeitherDeniedNorFailedAWS: a call stopped by a cancelled
// context (the SDK wraps it in a CanceledError) becomes an error source that
// says "interrupted", never a denial or a bare "context canceled".
func TestInterruptedIsNeitherDeniedNorFailedAWS(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sdkErr := &smithy.OperationError{ServiceID: "Organizations", OperationName: "ListAccounts", Err: &smithy.CanceledError{Err: ctx.Err()}}
	if !IsInterrupted(sdkErr) || IsDenied(sdkErr) {
		t.Fatalf("interrupted %v, denied %v", IsInterrupted(sdkErr), IsDenied(sdkErr))
	}
	st := Failed("ListAccounts", sdkErr)
	if st.State != evidence.StateError || st.Detail != "ListAccounts: interrupted before AWS answered" {
		t.Errorf("Failed = %+v", st)
	}
	err := Interrupted("ListAccounts as arn:aws:iam::123456789012:user/a", sdkErr)
	if err == nil || !errors.Is(err, context.Canceled) || err.Error() != "interrupted during ListAccounts as arn:aws:iam::123456789012:user/a" {
		t.Errorf("Interrupted = %v", err)
	}
	for _, other := range []error{&smithy.GenericAPIError{Code: "AccessDenied"}, context.DeadlineExceeded, fmt.Errorf("x: %w", errors.New("y"))} {
		if Interrupted("op", other) != nil || strings.Contains(Describe("op", other), "interrupted") {
			t.Errorf("%v taken for an interruption", other)
		}
	}
}

// TestWhoAmIInterruptedIsNotACredentialsError: Ctrl-C during the first
// call must not send the user to check their credentials.
func TestWhoAmIInterruptedIsNotACredentialsError(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := WhoAmI(ctx, cancelledSTS{})
	var ce *CredentialsError
	if errors.As(err, &ce) || !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "interrupted during GetCallerIdentity") {
		t.Errorf("WhoAmI = %T %v", err, err)
	}
}

type cancelledSTS struct{}

func (cancelledSTS) GetCallerIdentity(ctx context.Context, _ *sts.GetCallerIdentityInput, _ ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	return nil, &smithy.OperationError{ServiceID: "STS", OperationName: "GetCallerIdentity", Err: &smithy.CanceledError{Err: ctx.Err()}}
}
