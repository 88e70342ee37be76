package eval

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/testutil"
)

// diffCase is one request with its policies, in the form
// testdata/diff/simulate.cjs reads.
type diffCase struct {
	Name string `json:"name"`
	// Source is where the case comes from: the AWS documentation it
	// transcribes (and quotes), or the generator.
	Source    string       `json:"source,omitempty"`
	Identity  []diffPolicy `json:"identity"`
	Boundary  *diffPolicy  `json:"boundary,omitempty"`
	SCPs      []diffTarget `json:"scps"`
	Request   diffRequest  `json:"request"`
	Validated bool         `json:"validated"`
	// Want is the decision the AWS documentation states.
	Want string `json:"want,omitempty"`

	// bare: evaluate the policies without what Parse compiled.
	bare bool
}

type diffPolicy struct {
	Name   string          `json:"name"`
	Policy json.RawMessage `json:"policy"`
}

type diffTarget struct {
	Target   string       `json:"target"`
	Policies []diffPolicy `json:"policies"`
}

type diffRequest struct {
	Principal string         `json:"principal"`
	Action    string         `json:"action"`
	Resource  string         `json:"resource"`
	Context   map[string]any `json:"context"`
}

// knownDifferences are the cases where @cloud-copilot/iam-simulate 0.1.173
// decides otherwise than this package, each for a reason DIFFERENCES.md
// gives with the AWS documentation that decides it, with the simulator's
// decision. A new disagreement fails TestDifferentialIAMSimulate; so does
// one of these going away (the row in DIFFERENCES.md is then stale).
var knownDifferences = map[string]string{
	"diff-var-negated-no-value":          "allow",
	"diff-var-notresource-no-value":      "implicit deny",
	"diff-version-absent-literal":        "allow",
	"diff-date-epoch-policy-iso-request": "implicit deny",
	"diff-foranyvalue-ifexists-missing":  "implicit deny",
	"diff-resource-star-mid-segment":     "allow",
	"diff-notresource-short-arn":         "allow",
	"diff-notipaddress-other-family":     "allow",
	"diff-var-special-star-equals":       "implicit deny",
	"diff-arn-variable-with-colon":       "implicit deny",
}

func loadCases(t *testing.T, path string) []diffCase {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Cases []diffCase }
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return doc.Cases
}

func (c diffCase) named(p diffPolicy) (Named, error) {
	pol, err := Parse(p.Policy)
	if err != nil {
		return Named{}, fmt.Errorf("%s: %w", p.Name, err)
	}
	if c.bare {
		pol = unprepared(pol)
	}
	return Named{Name: p.Name, Policy: pol}, nil
}

// decide evaluates the case with this package.
func (c diffCase) decide() (Result, error) {
	var ps Policies
	for _, p := range c.Identity {
		n, err := c.named(p)
		if err != nil {
			return Result{}, err
		}
		ps.Identity = append(ps.Identity, n)
	}
	if c.Boundary != nil {
		n, err := c.named(*c.Boundary)
		if err != nil {
			return Result{}, err
		}
		ps.Boundary = &n
	}
	for _, tg := range c.SCPs {
		st := SCPTarget{Target: tg.Target}
		for _, p := range tg.Policies {
			n, err := c.named(p)
			if err != nil {
				return Result{}, err
			}
			st.Policies = append(st.Policies, n)
		}
		ps.SCPs = append(ps.SCPs, st)
	}
	values := map[string]Value{}
	for k, v := range c.Request.Context {
		switch v := v.(type) {
		case string:
			values[k] = String(v)
		case []string:
			values[k] = Strings(v...)
		case []any:
			var ss []string
			for _, e := range v {
				s, ok := e.(string)
				if !ok {
					return Result{}, fmt.Errorf("context %s: %v is not a string", k, e)
				}
				ss = append(ss, s)
			}
			values[k] = Strings(ss...)
		default:
			return Result{}, fmt.Errorf("context %s: %v is not a string or a list", k, v)
		}
	}
	req := Request{Action: c.Request.Action, Resource: c.Request.Resource, Context: NewContext(values)}
	return Evaluate(req, ps), nil
}

// TestDocumentedExamples checks every transcribed AWS example against the
// decision its documentation states.
func TestDocumentedExamples(t *testing.T) {
	cases := loadCases(t, filepath.Join("testdata", "diff", "docs.json"))
	if len(cases) < 60 {
		t.Fatalf("only %d documented cases", len(cases))
	}
	for _, c := range cases {
		r, err := c.decide()
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		if r.Decision.String() != c.Want {
			t.Errorf("%s: got %s, the documentation says %s (%s)\n%+v", c.Name, r.Decision, c.Want, c.Source, r)
		}
	}
}

// simulator finds node and the pinned @cloud-copilot/iam-simulate that
// .ci/run installs under .ci/tools; locally a missing one skips the test,
// in CI it fails it.
func simulator(t *testing.T) (node, modules string) {
	t.Helper()
	node = testutil.RequireTool(t, "node")
	modules = filepath.Join(testutil.RepoRoot(), ".ci", "tools", "node_modules")
	if _, err := os.Stat(filepath.Join(modules, "@cloud-copilot", "iam-simulate", "package.json")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("@cloud-copilot/iam-simulate is required in CI but not installed under %s (see .ci/run)", modules)
		}
		t.Skipf("@cloud-copilot/iam-simulate not installed under %s; skipping (CI installs it)", modules)
	}
	return node, modules
}

type simResult struct {
	Name     string   `json:"name"`
	Decision string   `json:"decision"`
	Error    string   `json:"error"`
	Ignored  []string `json:"ignoredContextKeys"`
}

// simulate runs every case through the simulator in one Node process.
func simulate(t *testing.T, cases []diffCase) []simResult {
	t.Helper()
	node, modules := simulator(t)
	in, err := json.Marshal(map[string]any{"cases": cases})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("testdata", "diff", "simulate.cjs"))
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("simulate.cjs: %v\n%s", err, stderr.String())
	}
	var results []simResult
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("simulate.cjs output: %v\n%.500s", err, out)
	}
	if len(results) != len(cases) {
		t.Fatalf("simulate.cjs answered %d of %d cases", len(results), len(cases))
	}
	return results
}

// TestDifferentialIAMSimulate runs the documented examples and generated
// policies and requests through this package and through
// @cloud-copilot/iam-simulate, and requires the same decision from both,
// except for the known differences.
func TestDifferentialIAMSimulate(t *testing.T) {
	cases := loadCases(t, filepath.Join("testdata", "diff", "docs.json"))
	cases = append(cases, generateCases(1000)...)
	results := simulate(t, cases)
	seen := map[string]bool{}
	agree := 0
	for i, c := range cases {
		sim := results[i]
		if sim.Error != "" {
			t.Errorf("%s: the simulator refused the case: %s", c.Name, sim.Error)
			continue
		}
		if len(sim.Ignored) > 0 {
			t.Errorf("%s: the simulator dropped context keys %v the action does not take: the case does not test what it says", c.Name, sim.Ignored)
		}
		r, err := c.decide()
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		ours := r.Decision.String()
		c.bare = true
		if bare, _ := c.decide(); bare.Decision != r.Decision {
			t.Errorf("%s: compiled by Parse %s, compiled on the fly %s", c.Name, r.Decision, bare.Decision)
		}
		if want, known := knownDifferences[c.Name]; known {
			seen[c.Name] = true
			if sim.Decision != want {
				t.Errorf("%s: known difference changed: the simulator now says %s (listed: %s); update DIFFERENCES.md", c.Name, sim.Decision, want)
			}
			continue
		}
		if ours != sim.Decision {
			b, _ := json.MarshalIndent(c, "", " ")
			t.Errorf("%s: this package says %s, iam-simulate says %s\n%s\nours: %+v", c.Name, ours, sim.Decision, b, r)
			continue
		}
		agree++
	}
	for name := range knownDifferences {
		if !seen[name] {
			t.Errorf("known difference %s has no case", name)
		}
	}
	t.Logf("%d cases, %d agree, %d known differences", len(cases), agree, len(seen))
}

// unprepared is a parsed policy without what Compile prepared, as a policy
// built by hand would be.
func unprepared(p *Policy) *Policy { return &Policy{Policy: p.Policy} }
