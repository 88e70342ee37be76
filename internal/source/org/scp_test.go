package org

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"

	"github.com/rootwatch/rootwatch/internal/awsfake"
	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/rules"
	"github.com/rootwatch/rootwatch/internal/source/live"
)

// scanGenerated scans a generated organization on the fake and returns the
// accounts, the world and the fake (for its call counts).
func scanGenerated(t *testing.T, o awsfake.GenOptions, concurrency int) ([]*evidence.Account, *awsfake.World, *awsfake.Server) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, _ := awsfake.GenerateWorld(o)
	fake, err := awsfake.New(w, awsfake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	url, err := fake.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accounts, err := Scan(ctx, awsfake.ClientConfig(url, awsfake.GenManagementKey), Options{Concurrency: concurrency, Collect: live.Options{PollInterval: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if len(accounts) != o.Accounts {
		t.Fatalf("%d accounts, want %d", len(accounts), o.Accounts)
	}
	return accounts, w, fake
}

func scpVerdict(t *testing.T, a *evidence.Account) rules.Result {
	t.Helper()
	r, ok := rules.ByID("org-root-actions-not-denied")
	if !ok {
		t.Fatal("org-root-actions-not-denied is not in the catalog")
	}
	return r.Eval(rules.Input{Account: a})[0]
}

// TestSCPsReadOncePerScan scans a generated organization whose members sit
// in every place of its three-level OU tree, all of them at once: each
// member gets the verdict its place calls for, and each target and each
// policy is read once for the whole scan, not once per account.
func TestSCPsReadOncePerScan(t *testing.T) {
	const n = 60
	accounts, w, fake := scanGenerated(t, awsfake.GenOptions{Accounts: n, Seed: 1}, n)
	verdicts := map[finding.Status]int{}
	for i, a := range accounts {
		if st := a.Source(evidence.SourceSCPs); st.State != evidence.StateOK {
			t.Fatalf("%s: SCP source %s: %s", a.ID, st.State, st.Detail)
		}
		res := scpVerdict(t, a)
		verdicts[res.Status]++
		if i == 0 {
			if a.ID != awsfake.GenManagementAccount || !a.SCPs.ManagementAccount || res.Status != finding.StatusNotApplicable {
				t.Errorf("management account %s: %+v %s", a.ID, a.SCPs, res.Status)
			}
			continue
		}
		if want := awsfake.GenExpectedSCPVerdict(w, i); string(res.Status) != want {
			t.Errorf("%s (placed in %q): %s, want %s: %s", a.ID, awsfake.GenPlacements[(i-1)%len(awsfake.GenPlacements)].Parent, res.Status, want, res.Message)
		}
	}
	if verdicts[finding.StatusPass] == 0 || verdicts[finding.StatusFail] == 0 {
		t.Errorf("verdicts %v: the generated organization should hold both", verdicts)
	}
	// 16 OUs, one root, 59 members; 13 distinct SCPs.
	mgmt := awsfake.GenManagementAccount
	for op, want := range map[string]int{"ListRoots": 1, "ListParents": (n - 1) + 16, "ListPoliciesForTarget": (n - 1) + 16 + 1, "DescribePolicy": 13, "DescribeOrganizationalUnit": 16} {
		if got := fake.Calls(mgmt, op); got != want {
			t.Errorf("%s called %d times, want %d", op, got, want)
		}
	}
	// The path of a member three OUs deep, root first.
	var deep *evidence.Account
	for i, a := range accounts {
		if i > 0 && awsfake.GenPlacements[(i-1)%len(awsfake.GenPlacements)].Parent == "ou-gen0-00000010" {
			deep = a
			break
		}
	}
	var ids []string
	for _, p := range deep.SCPs.Path {
		ids = append(ids, p.ID+":"+p.Type)
	}
	if got := strings.Join(ids, " "); got != "r-gen0:ROOT ou-gen0-00000003:ORGANIZATIONAL_UNIT ou-gen0-00000008:ORGANIZATIONAL_UNIT ou-gen0-00000010:ORGANIZATIONAL_UNIT "+deep.ID+":ACCOUNT" {
		t.Errorf("path of %s: %s", deep.ID, got)
	}
	if got := deep.SCPs.OUPath; got != "Root/Workloads/Prod/Prod-EU" {
		t.Errorf("OU path of %s: %q", deep.ID, got)
	}
	if p := deep.SCPs.Path[3].Policies; len(p) != 2 || p[1].ID != "p-gen0ctroot" || !strings.Contains(p[1].Content, "GRRESTRICTROOTUSER") || p[0].ID != "p-FullAWSAccess" || !p[0].AWSManaged {
		t.Errorf("Prod-EU policies: %+v", p)
	}
}

// TestSCPFaultsMakeUnknown: with DescribePolicy of one SCP and
// ListPoliciesForTarget of one OU refused, the accounts below them are
// unknown with the refused call named, and every other account is judged.
func TestSCPFaultsMakeUnknown(t *testing.T) {
	const n = 25
	accounts, w, _ := scanGenerated(t, awsfake.GenOptions{Accounts: n, Seed: 1, SCPFaults: true}, 8)
	for i, a := range accounts[1:] {
		i++
		res := scpVerdict(t, a)
		switch place := awsfake.GenPlacements[(i-1)%len(awsfake.GenPlacements)].Parent; place {
		case "ou-gen0-00000015", "ou-gen0-00000016": // Team-A, Team-B, below Teams' unreadable SCP
			st := a.Source(evidence.SourceSCPs)
			if st.State != evidence.StateDenied || res.Status != finding.StatusUnknown || !strings.Contains(res.Message, "DescribePolicy p-gen0rootmfa: AccessDeniedException") {
				t.Errorf("%s in %s: source %s %s, verdict %s: %s", a.ID, place, st.State, st.Detail, res.Status, res.Message)
			}
			if place == "ou-gen0-00000016" && !strings.Contains(res.Message, "ListPoliciesForTarget ou-gen0-00000016: AccessDeniedException") {
				t.Errorf("%s: %s", a.ID, res.Message)
			}
		default:
			if want := awsfake.GenExpectedSCPVerdict(w, i); string(res.Status) != want {
				t.Errorf("%s in %q: %s, want %s: %s", a.ID, place, res.Status, want, res.Message)
			}
		}
	}
}

// TestSCPReaderStates reads hand-made organizations: SCPs disabled or
// pending, one-item pages, a refused ListRoots or ListParents.
func TestSCPReaderStates(t *testing.T) {
	world := func(extra string) string {
		return `
accounts:
  - id: "810000000000"
    access_keys: [AKIASCPSTATE00000001]
    organization: {id: o-scpstate0001, management_account: "810000000000"}
` + extra + `
  - id: "810000000001"
    organization: {id: o-scpstate0001, management_account: "810000000000"}
organizations:
  - id: o-scpstate0001
    page_size: 1
    ous:
      - {id: ou-stat-aaaaaaaa, name: A}
      - {id: ou-stat-bbbbbbbb, name: B, parent: ou-stat-aaaaaaaa, scps: [p-FullAWSAccess, p-guard000001], accounts: ["810000000001"]}
    policies:
      - {id: p-guard000001, name: Guard, content: '{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:*:iam::*:root"}}}}'}
`
	}
	read := func(t *testing.T, yaml string) (*evidence.SCPs, evidence.SourceStatus, *awsfake.Server) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		fake, url, err := awsfake.Serve(ctx, []byte(yaml), "states", awsfake.Options{})
		if err != nil {
			t.Fatal(err)
		}
		r := NewSCPReader(ctx, organizations.NewFromConfig(awsfake.ClientConfig(url, "AKIASCPSTATE00000001")), "o-scpstate0001", "810000000000")
		s, st := r.Account(ctx, "810000000001")
		return s, st, fake
	}
	t.Run("paged", func(t *testing.T) {
		s, st, fake := read(t, world(""))
		if st.State != evidence.StateOK || st.Detail != "5 SCPs attached along r-0001 → ou-stat-aaaaaaaa → ou-stat-bbbbbbbb → 810000000001" {
			t.Errorf("source %+v", st)
		}
		if len(s.Path) != 4 || len(s.Path[0].Policies) != 1 || len(s.Path[2].Policies) != 2 || s.Path[3].Type != evidence.TargetAccount {
			t.Errorf("path %+v", s.Path)
		}
		if got := fake.Calls("810000000000", "DescribePolicy"); got != 2 {
			t.Errorf("DescribePolicy called %d times for two distinct policies", got)
		}
	})
	for _, status := range []string{"DISABLED", "PENDING_ENABLE", "PENDING_DISABLE"} {
		t.Run(status, func(t *testing.T) {
			s, st, fake := read(t, strings.Replace(world(""), "page_size: 1", "page_size: 1\n    scp_status: "+status, 1))
			want := status
			if status == "DISABLED" {
				want = ""
			}
			if st.State != evidence.StateOK || s.PolicyTypeStatus != want || s.Path != nil || fake.Calls("810000000000", "ListParents") != 0 {
				t.Errorf("source %+v, SCPs %+v", st, s)
			}
			a := &evidence.Account{ID: "810000000001", SCPs: s}
			a.SetSource(evidence.SourceSCPs, st)
			if res := scpVerdict(t, a); res.Status != finding.StatusFail {
				t.Errorf("verdict %s: %s", res.Status, res.Message)
			}
		})
	}
	for _, op := range []string{"ListRoots", "ListParents", "ListPoliciesForTarget", "DescribePolicy"} {
		t.Run(op+" refused", func(t *testing.T) {
			s, st, _ := read(t, world(`    faults: [{op: `+op+`, code: AccessDeniedException, message: "You don't have permissions to access this resource."}]`))
			if st.State != evidence.StateDenied || !strings.HasPrefix(st.Detail, op) || len(s.Problems) == 0 {
				t.Errorf("source %+v problems %q", st, s.Problems)
			}
			a := &evidence.Account{ID: "810000000001", SCPs: s}
			a.SetSource(evidence.SourceSCPs, st)
			if res := scpVerdict(t, a); res.Status != finding.StatusUnknown || !strings.Contains(res.Message, op) {
				t.Errorf("verdict %s: %s", res.Status, res.Message)
			}
		})
	}
	t.Run("OU names", func(t *testing.T) {
		s, _, fake := read(t, world(""))
		if s.OUPath != "Root/A/B" || s.Path[1].Name != "A" || s.Path[1].NameError != "" {
			t.Errorf("OU path %q, path %+v", s.OUPath, s.Path)
		}
		if got := fake.Calls("810000000000", "DescribeOrganizationalUnit"); got != 2 {
			t.Errorf("DescribeOrganizationalUnit called %d times for two OUs", got)
		}
	})
	// A name that cannot be read fails nothing: the ID stands in for it.
	t.Run("DescribeOrganizationalUnit refused", func(t *testing.T) {
		s, st, _ := read(t, world(`    faults: [{op: DescribeOrganizationalUnit, code: AccessDeniedException, message: "You don't have permissions to access this resource."}]`))
		if st.State != evidence.StateOK || len(s.Problems) != 0 || s.OUPath != "Root/ou-stat-aaaaaaaa/ou-stat-bbbbbbbb" ||
			!strings.Contains(s.Path[2].NameError, "DescribeOrganizationalUnit ou-stat-bbbbbbbb: AccessDeniedException") {
			t.Errorf("source %+v, OU path %q, path %+v", st, s.OUPath, s.Path)
		}
		a := &evidence.Account{ID: "810000000001", SCPs: s}
		a.SetSource(evidence.SourceSCPs, st)
		if res := scpVerdict(t, a); res.Status != finding.StatusPass {
			t.Errorf("verdict %s: %s", res.Status, res.Message)
		}
	})
	t.Run("ListParents refused: no OU path", func(t *testing.T) {
		s, _, _ := read(t, world(`    faults: [{op: ListParents, code: AccessDeniedException}]`))
		if s.OUPath != "" {
			t.Errorf("OU path %q from a path not walked", s.OUPath)
		}
	})
	t.Run("service failure", func(t *testing.T) {
		_, st, _ := read(t, world(`    faults: [{op: ListParents, code: ServiceException, status: 500}]`))
		if st.State != evidence.StateError || !strings.Contains(st.Detail, "ListParents 810000000001: ServiceException") {
			t.Errorf("source %+v", st)
		}
	})
	t.Run("management account", func(t *testing.T) {
		ctx := context.Background()
		s, st := NewSCPReader(ctx, nil, "o-scpstate0001", "810000000000").Account(ctx, "810000000000")
		if !s.ManagementAccount || st.State != evidence.StateOK {
			t.Errorf("%+v %+v", s, st)
		}
	})
}

// blockingSCPs answers ListRoots when released, counting calls.
type blockingSCPs struct {
	SCPAPI
	started, release chan struct{}
	calls            atomic.Int32
}

func (b *blockingSCPs) ListRoots(ctx context.Context, _ *organizations.ListRootsInput, _ ...func(*organizations.Options)) (*organizations.ListRootsOutput, error) {
	if b.calls.Add(1) == 1 {
		close(b.started)
	}
	<-b.release
	return &organizations.ListRootsOutput{}, nil
}

// TestMemoSharesOneRead: callers asking at once share one read; a caller
// whose context ends stops waiting, and the read goes on for the others.
func TestMemoSharesOneRead(t *testing.T) {
	b := &blockingSCPs{started: make(chan struct{}), release: make(chan struct{})}
	r := NewSCPReader(context.Background(), b, "o-1", "111111111111")
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { _, errs[i] = r.roots.get(context.Background(), struct{}{}, r.listRoots) })
	}
	<-b.started
	gone, leave := context.WithCancel(context.Background())
	left := make(chan error)
	go func() {
		_, err := r.roots.get(gone, struct{}{}, r.listRoots)
		left <- err
	}()
	leave()
	// The caller that left returns while the read is still blocked.
	if err := <-left; !errors.Is(err, context.Canceled) {
		t.Errorf("the caller that left got %v", err)
	}
	close(b.release)
	wg.Wait()
	for _, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "ListRoots returned 0 roots") {
			t.Errorf("a waiting caller got %v, want the read's own answer", err)
		}
	}
	if n := b.calls.Load(); n != 1 {
		t.Errorf("ListRoots called %d times", n)
	}
}

func TestEachPageRefusesARepeatedToken(t *testing.T) {
	tokens := []string{"a", "b", "a"}
	i := 0
	err := eachPage(func(*string) (*string, error) {
		t := tokens[i]
		i++
		return aws.String(t), nil
	})
	if err == nil || !strings.Contains(err.Error(), `"a"`) {
		t.Errorf("err = %v", err)
	}
}
