package cli

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rootwatch/rootwatch/internal/awsfake"
	"github.com/rootwatch/rootwatch/internal/awsx"
)

// runWith runs the CLI in-process with the given AWS configuration loader.
func runWith(t *testing.T, loader awsx.Loader, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	app := &App{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, Now: func() time.Time { return testNow },
		Version: "test", IsTerminal: func(io.Writer) bool { return false }, AWSConfig: loader}
	err := Execute(context.Background(), app, args)
	return result{out.String(), errb.String(), ExitCode(err), err}
}

// runLive runs the CLI in-process with its AWS configuration pointed at a
// fake AWS serving world.
func runLive(t *testing.T, world string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, url, err := awsfake.Serve(ctx, []byte(world), t.Name(), awsfake.Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	app := &App{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, Now: func() time.Time { return testNow },
		Version: "test", IsTerminal: func(io.Writer) bool { return false },
		AWSConfig: func(context.Context, string, string) (aws.Config, error) {
			return awsfake.ClientConfig(url, "AKIALIVE000000000001"), nil
		}}
	err = Execute(ctx, app, args)
	return result{out.String(), errb.String(), ExitCode(err), err}
}

const liveAccount = "210987654321"

// liveWorld is testdata/worlds/live.yaml with the account's credential
// report and faults replaced.
func liveWorld(report, faults string) string {
	return strings.NewReplacer("report: {existing: 1h}", "report: "+report, "faults: []", "faults: "+faults).Replace(world("live.yaml"))
}

func TestLiveScanNoCredentials(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
		"AWS_CONFIG_FILE": dir + "/config", "AWS_SHARED_CREDENTIALS_FILE": dir + "/credentials",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "",
		"AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
	} {
		t.Setenv(k, v)
	}
	var out, errb bytes.Buffer
	app := DefaultApp("test")
	app.Stdout, app.Stderr = &out, &errb
	err := Execute(context.Background(), app, []string{"scan"})
	if code := ExitCode(err); code != ExitUsage {
		t.Fatalf("exit %d (%v), want 2", code, err)
	}
	msg := Message(err)
	for _, want := range []string{"no usable AWS credentials", "--profile", "AWS_ACCESS_KEY_ID", "scan --demo"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if out.Len() != 0 {
		t.Errorf("findings printed without credentials: %s", out.String())
	}
}

func TestLiveScanInvalidCredentials(t *testing.T) {
	w := `accounts: [{id: "111111111111", access_keys: [AKIAOTHER00000000001]}]`
	r := runLive(t, w, "scan")
	if r.code != ExitUsage || !strings.Contains(Message(r.err), "InvalidClientTokenId") {
		t.Errorf("exit %d: %s", r.code, Message(r.err))
	}
}
