package deploy

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/pattern/eventpattern"
	"github.com/rootwatch/rootwatch/internal/rules"
	"github.com/rootwatch/rootwatch/internal/testutil"
)

// TestTemplatesPassCfnLint validates both templates, JSON and YAML, with
// cfn-lint (AWS's CloudFormation linter).
func TestTemplatesPassCfnLint(t *testing.T) {
	bin := testutil.RequireTool(t, "cfn-lint")
	dir := t.TempDir()
	var files []string
	for _, part := range []string{Receiver, Member} {
		tpl, err := Template(part)
		if err != nil {
			t.Fatal(err)
		}
		for _, format := range []string{"json", "yaml"} {
			b, err := Render(tpl, format)
			if err != nil {
				t.Fatal(err)
			}
			f := filepath.Join(dir, part+"."+format)
			if err := os.WriteFile(f, b, 0o600); err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, append([]string{"--format", "parseable"}, files...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("cfn-lint: %v\n%s", err, out)
	}
}

func TestPatternConstantMatchesTemplates(t *testing.T) {
	var want, got any
	json.Unmarshal([]byte(RootPattern), &want)
	b, _ := json.Marshal(pattern())
	json.Unmarshal(b, &got)
	if string(mustJSON(want)) != string(mustJSON(got)) {
		t.Errorf("template pattern %s, constant %s", mustJSON(got), mustJSON(want))
	}
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

// TestMemberTemplatePassesTheUnalertedRule: the member rule, deployed in
// every region, is what account-root-activity-unalerted asks for, judged
// by rootwatch's own event-pattern evaluator.
func TestMemberTemplatePassesTheUnalertedRule(t *testing.T) {
	res := MemberTemplate()["Resources"].(m)["RootActivityRule"].(m)["Properties"].(m)
	pat, _ := json.Marshal(res["EventPattern"])
	regions := []string{"ap-southeast-2", "eu-west-1", "us-east-1", "us-west-2"}
	mon := &evidence.Monitoring{Regions: regions, Scanned: regions, Trails: []evidence.Trail{}}
	for _, r := range regions {
		mon.EventBuses = append(mon.EventBuses, evidence.EventBus{Region: r, Rules: []evidence.EventRule{{
			Name: "rootwatch-member", State: res["State"].(string), Pattern: string(pat), Targets: []string{"arn:aws:events:us-east-1:111122223333:event-bus/rootwatch-root-activity"}}}})
	}
	a := &evidence.Account{ID: "222233334444", Partition: "aws", Monitoring: mon}
	for _, s := range evidence.MonitoringSources() {
		a.SetSource(s, evidence.SourceStatus{State: evidence.StateOK})
	}
	rule, ok := rules.ByID("account-root-activity-unalerted")
	if !ok {
		t.Fatal("no rule account-root-activity-unalerted")
	}
	out := rule.Eval(rules.Input{Account: a, AsOf: time.Now()})
	if len(out) != 1 || out[0].Status != finding.StatusPass {
		t.Fatalf("the member template does not pass: %+v", out)
	}
	if _, noted := out[0].Evidence["read_only_note"]; noted {
		t.Errorf("the member rule misses read-only calls: %v", out[0].Evidence)
	}
	// And the same rule in state ENABLED would be noted.
	for i := range mon.EventBuses {
		mon.EventBuses[i].Rules[0].State = evidence.RuleEnabled
	}
	if out := rule.Eval(rules.Input{Account: a, AsOf: time.Now()}); out[0].Evidence["read_only_note"] == nil {
		t.Errorf("state ENABLED not noted: %v", out[0].Evidence)
	}
}

func TestRenderRefusesUnknownFormat(t *testing.T) {
	if _, err := Render(MemberTemplate(), "xml"); err == nil {
		t.Error("xml accepted")
	}
	if _, err := Template("central"); err == nil {
		t.Error("unknown part accepted")
	}
}

// TestPatternCatchesTakeoverSteps: the pattern forwards the calls the
// watch alerts on as steps of a root takeover though no root made them
// (the management account's AssumeRoot and primary e-mail changes), and
// still no other principal's calls.
func TestPatternCatchesTakeoverSteps(t *testing.T) {
	p, err := eventpattern.Parse(RootPattern)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "testdata", "takeover", "takeover-chain.records.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Records []map[string]any }
	json.Unmarshal(b, &doc)
	for _, r := range doc.Records {
		kind := "AWS API Call via CloudTrail"
		if r["eventType"] == "AwsConsoleSignIn" {
			kind = "AWS Console Sign In via CloudTrail"
		}
		env, _ := json.Marshal(map[string]any{"detail-type": kind, "source": "aws.x", "detail": r})
		got, err := p.Match(env)
		ui := r["userIdentity"].(map[string]any)
		want := ui["type"] == "Root" || r["eventName"] == "AssumeRoot" || strings.HasSuffix(r["eventName"].(string), "PrimaryEmailUpdate")
		if err != nil || got != want {
			t.Errorf("%s %s by %s: matched %v (%v), want %v", r["eventSource"], r["eventName"], ui["type"], got, err, want)
		}
	}
}
