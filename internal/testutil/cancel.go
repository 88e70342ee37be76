package testutil

import (
	"context"
	"net/http"
	"strings"
)

// CancelOn is an HTTP client (aws.HTTPClient) that cancels a context when a
// request for one JSON-protocol operation goes out (its X-Amz-Target ends
// with Target, e.g. ".ListAccounts"), as Ctrl-C at that moment would, and
// then sends the request through Next (http.DefaultClient when nil).
type CancelOn struct {
	Next interface {
		Do(*http.Request) (*http.Response, error)
	}
	Target string
	Cancel context.CancelFunc
}

func (c *CancelOn) Do(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.Header.Get("X-Amz-Target"), c.Target) {
		c.Cancel()
	}
	if c.Next == nil {
		return http.DefaultClient.Do(r)
	}
	return c.Next.Do(r)
}
