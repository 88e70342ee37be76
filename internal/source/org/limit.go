package org

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/rootwatch/rootwatch/internal/awsx"
	"github.com/rootwatch/rootwatch/internal/parallel"
)

// throttleWatch tells the scan's bound (a parallel.AIMD) of every
// throttling error the SDK is about to retry.
type throttleWatch struct {
	aws.RetryerV2
	onThrottle func()
}

func (t throttleWatch) IsErrorRetryable(err error) bool {
	if awsx.CodeIs(err, "Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded", "PriorRequestNotComplete") {
		t.onThrottle()
	}
	return t.RetryerV2.IsErrorRetryable(err)
}

// watchThrottling returns cfg whose clients report throttling to onThrottle.
func watchThrottling(cfg aws.Config, onThrottle func()) aws.Config {
	out := cfg.Copy()
	inner := cfg.Retryer
	out.Retryer = func() aws.Retryer {
		var r aws.Retryer = retry.NewStandard()
		if inner != nil {
			r = inner()
		}
		v2, ok := r.(aws.RetryerV2)
		if !ok {
			v2 = retry.NewStandard()
		}
		return throttleWatch{RetryerV2: v2, onThrottle: onThrottle}
	}
	return out
}

// onShared runs fn, a call on the management account's shared quotas (STS
// AssumeRole and AssumeRoot, Organizations), within the AIMD bound; a call
// that goes through grows it. The bound holds those calls, not accounts:
// an account waits seconds on its own credential report, which costs the
// shared quotas nothing, so a lowered bound must not hold it.
func onShared(ctx context.Context, lim *parallel.AIMD, fn func() error) error {
	if !lim.Acquire(ctx) {
		return ctx.Err()
	}
	err := fn()
	lim.Release()
	if err == nil {
		lim.Succeeded()
	}
	return err
}
