package policy

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/rootwatch/rootwatch/internal/testutil"
)

// TestNoIODependencies: the package and its sub-packages (eval, analysis)
// are pure. They import no AWS SDK, no third-party module and no network or
// process package, so that rules can judge policies without collection
// coming along.
func TestNoIODependencies(t *testing.T) {
	out, err := exec.Command(testutil.RequireTool(t, "go"), "list", "-deps", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	forbidden := []string{"net/http", "net", "os/exec", "crypto/tls"}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "github.com/rootwatch/rootwatch/internal/policy" || strings.HasPrefix(dep, "github.com/rootwatch/rootwatch/internal/policy/") {
			continue
		}
		if first, _, _ := strings.Cut(dep, "/"); strings.Contains(first, ".") {
			t.Errorf("imports %s: only the standard library is allowed", dep)
		}
		for _, f := range forbidden {
			if dep == f {
				t.Errorf("imports %s", dep)
			}
		}
	}
}
