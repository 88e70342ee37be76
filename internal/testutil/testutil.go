// Package testutil starts the real third-party parts tests run against
// (moto_server, the AWS CLI, the rootwatch binary) on loopback. It is
// imported by tests only.
package testutil

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// RequireTool finds a program a test drives. Locally a missing one skips
// with a message; in CI (CI set) it fails, so a machine without it cannot
// pass silently.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI but not installed (see .ci/run)", name)
		}
		t.Skipf("%s not installed; skipping (CI installs it)", name)
	}
	return path
}

// ValidateSARIF runs Microsoft's SARIF Multitool (where .ci/run installs
// it, or on PATH: RequireTool) as `sarif-multitool validate`, which checks
// the file against the SARIF 2.1.0 JSON schema and Microsoft's validation
// rules, and fails the test for each error it reports.
func ValidateSARIF(t testing.TB, path string) {
	t.Helper()
	tool := filepath.Join(RepoRoot(), ".ci", "tools", "node_modules", ".bin", "sarif-multitool")
	if _, err := os.Stat(tool); err != nil {
		tool = RequireTool(t, "sarif-multitool")
	}
	out := filepath.Join(t.TempDir(), filepath.Base(path)+".validation.sarif")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if b, err := exec.CommandContext(ctx, tool, "validate", path, "-o", out, "--level", "Error", "Warning", "Note").CombinedOutput(); err != nil {
		t.Fatalf("sarif-multitool validate %s: %v\n%s", path, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID  string         `json:"ruleId"`
				Level   string         `json:"level"`
				Message map[string]any `json:"message"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b, &log); err != nil || len(log.Runs) == 0 {
		t.Fatalf("sarif-multitool's log %s: %v", out, err)
	}
	for _, res := range log.Runs[0].Results {
		if res.Level == "error" {
			t.Errorf("%s: %s %v", filepath.Base(path), res.RuleID, res.Message)
		}
	}
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// StartMoto runs moto_server on a free loopback port for the test's
// lifetime and returns its URL.
func StartMoto(t testing.TB) string {
	t.Helper()
	bin := RequireTool(t, "moto_server")
	for attempt := 0; attempt < 3; attempt++ {
		port := FreePort(t)
		cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		logf, _ := os.Create(filepath.Join(t.TempDir(), "moto.log"))
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatalf("start moto_server: %v", err)
		}
		t.Cleanup(func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			_ = cmd.Wait()
			logf.Close()
		})
		url := fmt.Sprintf("http://127.0.0.1:%d", port)
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			resp, err := http.Get(url + "/moto-api/")
			if err == nil {
				resp.Body.Close()
				return url
			}
			if cmd.ProcessState != nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	t.Fatalf("moto_server did not start on loopback")
	return ""
}

// RepoRoot returns the repository root, from this file's location.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// BuildRootwatch compiles cmd/rootwatch into a temporary directory.
func BuildRootwatch(t testing.TB) string {
	t.Helper()
	goBin := RequireTool(t, "go")
	out := filepath.Join(t.TempDir(), "rootwatch")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, "./cmd/rootwatch")
	cmd.Dir = RepoRoot()
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

// RunAgainst runs a built binary with the default AWS credential chain
// pointed at endpoint (AWS_ENDPOINT_URL) and static test credentials, and
// returns its stdout, stderr and exit code.
func RunAgainst(t testing.TB, ctx context.Context, bin, endpoint string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = CleanAWSEnv(t.TempDir(), "AWS_ENDPOINT_URL="+endpoint, "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_REGION=us-east-1")
	return Run(t, cmd)
}

// Run runs cmd and returns its stdout, stderr and exit code; a command that
// cannot be started at all fails the test.
func Run(t testing.TB, cmd *exec.Cmd) (string, string, int) {
	t.Helper()
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s: %v", cmd.Path, err)
	}
	return out.String(), errb.String(), code
}

// CleanAWSEnv returns an environment with no AWS settings of the user's: a
// temporary HOME, no config files, no instance metadata.
func CleanAWSEnv(home string, extra ...string) []string {
	return append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home,
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=",
	}, extra...)
}
