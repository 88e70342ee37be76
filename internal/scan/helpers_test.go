package scan

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rootwatch/rootwatch/internal/awsfake"
	"github.com/rootwatch/rootwatch/internal/awsx"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/testutil"
)

// repoPath is a path in the repository.
func repoPath(parts ...string) string {
	return filepath.Join(append([]string{testutil.RepoRoot()}, parts...)...)
}

// fixture is a credential report of testdata/credential-reports.
func fixture(name string) string { return repoPath("testdata", "credential-reports", name) }

// world is a fake AWS world of testdata/worlds.
func world(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(repoPath("testdata", "worlds", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const liveAccount = "210987654321"

// liveWorld is testdata/worlds/live.yaml with the account's credential
// report and faults replaced.
func liveWorld(t *testing.T, report, faults string) string {
	return strings.NewReplacer("report: {existing: 1h}", "report: "+report, "faults: []", "faults: "+faults).Replace(world(t, "live.yaml"))
}

// fakeAWS serves w on the fake AWS, on the tests' clock, for the test's
// duration, and loads a configuration with key for it.
func fakeAWS(t *testing.T, w, key string) awsx.Loader {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	_, url, err := awsfake.Serve(ctx, []byte(w), t.Name(), awsfake.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	return func(context.Context, string, string) (aws.Config, error) { return awsfake.ClientConfig(url, key), nil }
}

// fakeLive is Options for a live scan of the fake's live account as of the
// tests' clock.
func fakeLive(t *testing.T, w string) Options {
	return Options{AWS: fakeAWS(t, w, "AKIALIVE000000000001"), Now: clock, Version: "test"}
}

// run runs the pipeline and fails the test when it returns an error.
func run(t *testing.T, o Options) *finding.Run {
	t.Helper()
	r, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// runJSON is the run as its JSON, the contract every writer starts from.
func runJSON(t *testing.T, r *finding.Run) string {
	t.Helper()
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
