package query

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ctapi "github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/rootwatch/rootwatch/internal/awsfake"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/source/cloudtrail"
	"github.com/rootwatch/rootwatch/internal/testutil"
)

// TestLakeSelectsTakeover: the Lake statement asks for every step of a
// takeover, the primary e-mail changes of the management account's
// principals included (they are not root's, so the root predicate leaves
// them out); the fake's Lake answers what the statement asks for.
func TestLakeSelectsTakeover(t *testing.T) {
	// testdata/takeover/takeover-chain.records.json: the steps of a root
	// takeover; each is to be selected and judged as the file judges it.
	fixture, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "testdata", "takeover", "takeover-chain.records.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Records []json.RawMessage }
	if err := json.Unmarshal(fixture, &doc); err != nil {
		t.Fatal(err)
	}
	want, st := cloudtrail.Decode(bytes.NewReader(fixture), "file")
	if st.Error != "" || len(want) != 12 {
		t.Fatalf("the fixture holds %d root events (stats %+v), want the takeover's 12", len(want), st)
	}
	var trail strings.Builder
	for _, r := range doc.Records {
		var probe struct{ EventTime string }
		json.Unmarshal(r, &probe)
		q, _ := json.Marshal(string(r))
		fmt.Fprintf(&trail, "      - {time: %q, raw: %s}\n", probe.EventTime, q)
	}
	world := "accounts:\n  - id: \"111111111111\"\n    access_keys: [AKIALAKE000000000001]\n    lake: {}\n    trail:\n" + trail.String()
	_, base, err := awsfake.Serve(t.Context(), []byte(world), t.Name(), awsfake.Options{Now: func() time.Time { return time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	c := ctapi.NewFromConfig(awsfake.ClientConfig(base, "AKIALAKE000000000001"))
	for _, accounts := range [][]string{nil, {"222222222222"}} {
		evs, st := Lake(t.Context(), c, LakeQuery{Store: LakeStore{ID: "fake-eds-111111111111"},
			Window: Window{Since: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Accounts: accounts}})
		if st.Error != "" {
			t.Fatalf("%v: %s", accounts, st.Error)
		}
		got := map[string]evidence.Event{}
		for _, e := range evs {
			got[e.EventID] = e
		}
		for _, w := range want {
			e, ok := got[w.EventID]
			if !ok {
				t.Errorf("accounts %v: record %s (%s) not selected", accounts, w.EventID, w.Category)
				continue
			}
			if e.Category != w.Category || e.Target != w.Target || e.TaskPolicy != w.TaskPolicy {
				t.Errorf("accounts %v: record %s: %+v, want %+v", accounts, w.EventID, e, w)
			}
		}
	}
}

// stubLake runs one query that never finishes.
type stubLake struct {
	cancelErr error
	cancelled string
}

func (s *stubLake) StartQuery(context.Context, *ctapi.StartQueryInput, ...func(*ctapi.Options)) (*ctapi.StartQueryOutput, error) {
	return &ctapi.StartQueryOutput{QueryId: aws.String("q-1")}, nil
}

func (s *stubLake) GetQueryResults(context.Context, *ctapi.GetQueryResultsInput, ...func(*ctapi.Options)) (*ctapi.GetQueryResultsOutput, error) {
	return &ctapi.GetQueryResultsOutput{QueryStatus: cttypes.QueryStatusRunning}, nil
}

func (s *stubLake) CancelQuery(_ context.Context, in *ctapi.CancelQueryInput, _ ...func(*ctapi.Options)) (*ctapi.CancelQueryOutput, error) {
	s.cancelled = aws.ToString(in.QueryId)
	return &ctapi.CancelQueryOutput{}, s.cancelErr
}

// TestLakeCancelsAQueryLeftRunning: a Lake query interrupted while it runs
// is cancelled, and the source's error says why it was left and whether
// cancelling it worked, as Athena's does (stopLeftRunning).
func TestLakeCancelsAQueryLeftRunning(t *testing.T) {
	for _, tc := range []struct {
		cancelErr error
		want      string
	}{
		{nil, "cloudtrail lake query q-1 was interrupted; it was cancelled"},
		{errors.New("denied"), "cloudtrail lake query q-1 was interrupted; cancelling it failed too: denied"},
	} {
		c := &stubLake{cancelErr: tc.cancelErr}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, st := Lake(ctx, c, LakeQuery{Store: LakeStore{ID: "eds"}, Window: Window{Since: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)}})
		if st.Error != tc.want || c.cancelled != "q-1" {
			t.Errorf("error %q (cancelled %q), want %q", st.Error, c.cancelled, tc.want)
		}
	}
}

// TestStopLeftRunning: why a query was left (its timeout, an interruption,
// a status call that failed) and what stopping it did, in the engine's
// words.
func TestStopLeftRunning(t *testing.T) {
	ok := func(context.Context) error { return nil }
	for _, tc := range []struct {
		cause error
		stop  func(context.Context) error
		want  string
	}{
		{context.DeadlineExceeded, ok, "athena query q did not finish within 1m0s (--query-timeout); it was stopped"},
		{context.Canceled, ok, "athena query q was interrupted; it was stopped"},
		{errors.New("throttled"), func(context.Context) error { return errors.New("gone") }, "athena query q could not be followed: throttled; stopping it failed too: gone"},
	} {
		if err := stopLeftRunning("athena query q", "stopping", "stopped", time.Minute, tc.cause, tc.stop); err == nil || err.Error() != tc.want {
			t.Errorf("%v: %v, want %q", tc.cause, err, tc.want)
		}
	}
}
