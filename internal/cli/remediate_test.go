package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rootwatch/rootwatch/internal/awsfake"
	"github.com/rootwatch/rootwatch/internal/evidence"
)

// TestRemediatePlanApply plans and applies on a generated organization,
// with the refusals around it.
func TestRemediatePlanApply(t *testing.T) {
	w, _ := awsfake.GenerateWorld(awsfake.GenOptions{Accounts: 8, Seed: 5, Features: []string{evidence.FeatureRootCredentialsManagement}})
	for _, a := range w.Accounts[1:] {
		a.Report = awsfake.ReportSpec{Existing: "1h"}
		a.Root.PasswordEnabled, a.Root.PasswordLastUsed, a.Root.NoPassword = "", "-20d", false // every member root has a password
	}
	srv, err := awsfake.New(w, awsfake.Options{Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url, err := srv.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	run := func(stdin string, tty bool, args ...string) result {
		var out, errb bytes.Buffer
		app := &App{Stdin: strings.NewReader(stdin), StdinIsTerminal: func() bool { return tty }, Stdout: &out, Stderr: &errb,
			Getenv: func(string) string { return "" }, Now: time.Now, Version: "test", IsTerminal: func(io.Writer) bool { return false },
			AWSConfig: func(context.Context, string, string) (aws.Config, error) {
				return awsfake.ClientConfig(url, awsfake.GenManagementKey), nil
			}}
		err := Execute(ctx, app, args)
		return result{out.String(), errb.String(), ExitCode(err), err}
	}
	dir := t.TempDir()
	planPath := filepath.Join(dir, "plan.json")
	r := run("", false, "remediate", "plan", "--org", "-o", planPath)
	if r.code != ExitOK || !strings.Contains(r.stdout, "7 planned, 0 with nothing to do, 0 blocked.") {
		t.Fatalf("plan: exit %d (%v)\n%s%s", r.code, r.err, r.stdout, r.stderr)
	}
	if st, err := os.Stat(planPath); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("plan file: %v %v", st, err)
	}
	if r := run("", false, "remediate", "apply", planPath); r.code != ExitUsage || !strings.Contains(r.err.Error(), "not a terminal") {
		t.Errorf("no terminal, no --yes: exit %d (%v)", r.code, r.err)
	}
	if r := run("3\n", true, "remediate", "apply", planPath); r.code != ExitUsage || !strings.Contains(r.err.Error(), "not confirmed") {
		t.Errorf("the wrong number typed: exit %d (%v)", r.code, r.err)
	}
	data, _ := os.ReadFile(planPath)
	edited := filepath.Join(dir, "edited.json")
	os.WriteFile(edited, bytes.Replace(data, []byte(`"DeleteLoginProfile"`), []byte(`"DeleteAccessKey"`), 1), 0o600)
	if r := run("", false, "remediate", "apply", edited, "--yes"); r.code != ExitUsage || !strings.Contains(r.err.Error(), "digest does not match") {
		t.Errorf("an edited plan: exit %d (%v)", r.code, r.err)
	}
	logPath := filepath.Join(dir, "log.jsonl")
	summary := filepath.Join(dir, "change.md")
	r = run("", false, "remediate", "apply", planPath, "--yes", "--log", logPath, "--summary", summary)
	if r.code != ExitOK || strings.Count(r.stdout, " done: ") != 7 {
		t.Fatalf("apply: exit %d (%v)\n%s%s", r.code, r.err, r.stdout, r.stderr)
	}
	if strings.Count(r.stdout, "  pass: The member root user has no password, access keys or signing certificates") != 7 {
		t.Errorf("the re-scan does not show iam-root-credentials-present passing in the 7 members:\n%s", r.stdout)
	}
	var plan struct{ Accounts []struct{ Actions []any } }
	json.Unmarshal(data, &plan)
	actions := 0
	for _, a := range plan.Accounts {
		actions += len(a.Actions)
	}
	log, _ := os.ReadFile(logPath)
	if strings.Count(string(log), "\n") != actions || strings.Contains(string(log), "SecretAccessKey") || strings.Contains(string(log), "SessionToken") {
		t.Errorf("%d log lines for %d actions:\n%s", strings.Count(string(log), "\n"), actions, log)
	}
	if md, _ := os.ReadFile(summary); strings.Count(string(md), "| done |") != 7 || !strings.Contains(string(md), "# Root credential removal in o-gen0000001") {
		t.Errorf("summary:\n%s", md)
	}
	for _, op := range []string{"DeleteLoginProfile", "DeleteAccessKey", "DeleteSigningCertificate", "DeactivateMFADevice"} {
		if n := srv.Calls(awsfake.GenManagementAccount, op); n != 0 {
			t.Errorf("the management account got %d %s calls", n, op)
		}
	}
}
