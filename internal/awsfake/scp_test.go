package awsfake

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestOrgTreeValidation(t *testing.T) {
	const accounts = `accounts:
  - {id: "111111111111", organization: {id: o-tree000001, management_account: "111111111111"}}
  - {id: "222222222222", organization: {id: o-tree000001, management_account: "111111111111"}}
`
	org := func(body string) string { return accounts + "organizations:\n  - id: o-tree000001\n" + body }
	var deep strings.Builder
	parent := ""
	for i := range 6 {
		fmt.Fprintf(&deep, "      - {id: ou-tree-0000000%d, parent: %q}\n", i, parent)
		parent = fmt.Sprintf("ou-tree-0000000%d", i)
	}
	bad := map[string]string{
		org("    scp_status: ON\n"):                                              `scp_status "ON"`,
		org("    root_id: root\n"):                                               `root_id "root"`,
		org("    ous: [{id: ou-1}]\n"):                                           `OU id "ou-1"`,
		org("    ous: [{id: ou-tree-aaaaaaaa}, {id: ou-tree-aaaaaaaa}]\n"):       "appears twice",
		org("    ous: [{id: ou-tree-aaaaaaaa, parent: ou-tree-bbbbbbbb}]\n"):     "neither the root nor an OU",
		org("    ous: [{id: ou-tree-aaaaaaaa, accounts: [\"333333333333\"]}]\n"): "not an account of the organization",
		org("    ous: [{id: ou-tree-aaaaaaaa, accounts: [\"222222222222\"]}, {id: ou-tree-bbbbbbbb, accounts: [\"222222222222\"]}]\n"): "is in OU ou-tree-aaaaaaaa and in OU ou-tree-bbbbbbbb",
		org("    ous: [{id: ou-tree-aaaaaaaa, parent: ou-tree-bbbbbbbb}, {id: ou-tree-bbbbbbbb, parent: ou-tree-aaaaaaaa}]\n"):         "parents loop",
		org("    ous:\n" + deep.String()):                                      "more than five OUs deep",
		org("    root_scps: [p-missing0001]\n"):                                "policy p-missing0001 is not among the policies",
		org("    policies: [{id: p-1}]\n"):                                     `policy id "p-1"`,
		org("    policies: [{id: p-twice0001}, {id: p-twice0001}]\n"):          "policy p-twice0001 appears twice",
		org("    account_scps: {\"333333333333\": [p-FullAWSAccess]}\n"):       "account_scps: 333333333333",
		accounts + "organizations: [{id: o-other00001}]\n":                     "o-other00001 has no account",
		accounts + "organizations: [{id: o-tree000001}, {id: o-tree000001}]\n": "appears twice",
	}
	for in, want := range bad {
		if _, err := ParseWorld([]byte(in), "w.yaml"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", in, err, want)
		}
	}
	w, err := ParseWorld([]byte(accounts), "w.yaml")
	if err != nil {
		t.Fatal(err)
	}
	trees, err := buildTrees(w)
	if err != nil {
		t.Fatal(err)
	}
	// An organization the world does not describe: SCPs on, FullAWSAccess everywhere.
	tr := trees["o-tree000001"]
	if tr.spec.RootID != "r-0001" || tr.spec.SCPStatus != "ENABLED" || tr.parent["222222222222"] != "r-0001" ||
		!slices.Equal(tr.attached["r-0001"], []string{FullAWSAccessID}) || !slices.Equal(tr.attached["222222222222"], []string{FullAWSAccessID}) {
		t.Errorf("default tree: %+v", tr)
	}
}

// TestGeneratedOrganization: a generated organization's tree is at least
// three OUs deep, holds at most 30 distinct SCPs, gives every root, OU and
// account FullAWSAccess, places members everywhere, and with SCPFaults
// denies the two reads it says.
func TestGeneratedOrganization(t *testing.T) {
	w, _ := GenerateWorld(GenOptions{Accounts: 200, Seed: 3})
	if err := w.Validate(); err != nil {
		t.Fatal(err)
	}
	trees, _ := buildTrees(w)
	tr := trees[GenOrganizationID]
	deepest := 0
	for _, ou := range tr.spec.OUs {
		d := 0
		for n := ou.ID; n != GenRootID; n = tr.parent[n] {
			d++
		}
		deepest = max(deepest, d)
	}
	if deepest < 3 {
		t.Errorf("deepest OU is %d levels down", deepest)
	}
	used := map[string]bool{}
	for target, ids := range tr.attached {
		if !slices.Contains(ids, FullAWSAccessID) {
			t.Errorf("%s has no FullAWSAccess: %v", target, ids)
		}
		for _, id := range ids {
			used[id] = true
		}
	}
	if len(used) > 30 || len(used) != len(tr.policies) {
		t.Errorf("%d distinct SCPs attached of %d", len(used), len(tr.policies))
	}
	for _, ou := range tr.spec.OUs {
		if len(ou.Accounts) == 0 && slices.ContainsFunc(GenPlacements, func(p struct{ Parent, Verdict string }) bool { return p.Parent == ou.ID }) {
			t.Errorf("OU %s (%s) holds no account", ou.ID, ou.Name)
		}
		if ou.ListDenied {
			t.Errorf("OU %s denied without SCPFaults", ou.ID)
		}
	}
	exempt := 0
	for i := 1; i < len(w.Accounts); i++ {
		if GenPlacements[(i-1)%len(GenPlacements)].Parent == "ou-gen0-00000006" && GenExpectedSCPVerdict(w, i) == "fail" {
			exempt++
		}
	}
	if exempt != 2 {
		t.Errorf("%d members exempted by the exemption list, want 2", exempt)
	}

	w, _ = GenerateWorld(GenOptions{Accounts: 20, Seed: 3, SCPFaults: true})
	trees, _ = buildTrees(w)
	tr = trees[GenOrganizationID]
	if !tr.policies["p-gen0rootmfa"].DescribeDenied || !tr.denied["ou-gen0-00000016"] {
		t.Error("SCPFaults did not deny DescribePolicy of p-gen0rootmfa and ListPoliciesForTarget of Team-B")
	}
}
