package remediate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
)

// testPlan is a small plan made without AWS: one member with a password.
func testPlan() *Plan {
	p := &Plan{SchemaVersion: SchemaVersion, Tool: "rootwatch test", CreatedAt: now, Caller: "arn:aws:iam::100000000001:user/admin", Partition: "aws",
		OrganizationID: "o-abcdefghij", ManagementAccountID: "100000000001", What: AllKinds(), CentralRootAccess: true,
		Accounts: []AccountPlan{{AccountID: "100000000002", Status: StatusPlanned, Credentials: &evidence.RootCredentials{Password: true, PasswordCreated: now.Add(-time.Hour)},
			Actions: []Action{{Call: "DeleteLoginProfile"}}}}}
	p.Digest = p.ComputeDigest()
	return p
}

// TestPlanFileRoundTrip: a saved plan loads as it was made, signed or not;
// the file is the owner's only.
func TestPlanFileRoundTrip(t *testing.T) {
	key := []byte("0123456789abcdef-test-key")
	for name, sign := range map[string]bool{"unsigned": false, "signed": true} {
		p := testPlan()
		var k []byte
		if sign {
			p.Sign(key)
			k = key
		}
		path := filepath.Join(t.TempDir(), "plan.json")
		if err := p.Save(context.Background(), path); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, mode %v", name, err, st.Mode())
		}
		got, err := LoadPlan(path, k)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Digest != p.Digest || got.Signature != p.Signature || !got.CreatedAt.Equal(p.CreatedAt) || got.Accounts[0].Actions[0] != p.Accounts[0].Actions[0] {
			t.Errorf("%s: loaded %+v, saved %+v", name, got, p)
		}
	}
}

// TestLoadPlanRefuses: what the plan file says of itself is checked as it
// is read, and every refusal names the file.
func TestLoadPlanRefuses(t *testing.T) {
	key := []byte("0123456789abcdef-test-key")
	dir := t.TempDir()
	write := func(name string, edit func(p *Plan), raw func(string) string) string {
		p := testPlan()
		if edit != nil {
			edit(p)
		}
		path := filepath.Join(dir, name)
		if err := p.Save(context.Background(), path); err != nil {
			t.Fatal(err)
		}
		if raw != nil {
			data, _ := os.ReadFile(path)
			os.WriteFile(path, []byte(raw(string(data))), 0o600)
		}
		return path
	}
	for name, tc := range map[string]struct {
		path    string
		key     []byte
		want    string
		refused bool
	}{
		"missing":       {filepath.Join(dir, "none.json"), nil, "read plan: open " + filepath.Join(dir, "none.json"), false},
		"not JSON":      {write("csv.json", nil, func(string) string { return "user,arn\n" }), nil, "csv.json: not a rootwatch plan", false},
		"cut short":     {write("cut.json", nil, func(s string) string { return s[:len(s)/2] }), nil, "cut.json: not a rootwatch plan", false},
		"other version": {write("v1.json", nil, func(s string) string { return strings.Replace(s, `"schema_version": "2"`, `"schema_version": "1"`, 1) }), nil, `v1.json: plan refused: schema_version "1"`, true},
		"unknown field": {write("field.json", nil, func(s string) string { return strings.Replace(s, `"tool":`, `"force": true, "tool":`, 1) }), nil, `field.json: not a rootwatch plan: json: unknown field "force"`, false},
		"edited": {write("edited.json", nil, func(s string) string { return strings.Replace(s, "DeleteLoginProfile", "DeleteAccessKey", 1) }), nil,
			"edited.json: plan refused: digest: does not match the plan's content", true},
		"unsigned, a key given": {write("unsigned.json", nil, nil), key, "unsigned.json: plan refused: signature: the plan is not signed", true},
		"another key": {write("other.json", func(p *Plan) { p.Sign([]byte("another-key-0123456789")) }, nil), key,
			"other.json: plan refused: signature: does not match under the --sign-key key", true},
	} {
		_, err := LoadPlan(tc.path, tc.key)
		if err == nil || !strings.HasPrefix(strings.TrimPrefix(err.Error(), dir+string(filepath.Separator)), tc.want) || errors.Is(err, ErrRefused) != tc.refused {
			t.Errorf("%s: %v; want %q (refused %v)", name, err, tc.want, tc.refused)
		}
	}
}
