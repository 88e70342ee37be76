package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// post sends one JSON body, with header added, and reads the answer
// (the first 64 KiB, for channels that look into it): 2xx is delivered,
// 429 and 5xx may pass (after the Retry-After they give), anything else
// is refused for good. The error never holds the URL: net/http's errors
// quote it, and a Slack, Teams or webhook URL is a credential.
func post(ctx context.Context, addr string, body []byte, header http.Header) (answer []byte, retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, addr, bytes.NewReader(body))
	if err != nil {
		return nil, false, errors.New("the target URL cannot be used")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "rootwatch")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // drop "Post <url>:"
		}
		return nil, true, fmt.Errorf("POST failed: %w", err)
	}
	defer resp.Body.Close()
	answer, _ = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode < 300:
		return answer, false, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return answer, true, &retryLater{after: retryAfter(resp.Header.Get("Retry-After")), err: fmt.Errorf("HTTP %d", resp.StatusCode)}
	}
	return answer, false, fmt.Errorf("HTTP %d", resp.StatusCode)
}

// retryAfter reads Retry-After: seconds or an HTTP date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}
