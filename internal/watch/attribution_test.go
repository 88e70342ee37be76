package watch

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/rootwatch/rootwatch/internal/evidence"
)

// TestWatchAlertsTheRootsAccount: a root call by account A's root on a
// resource of account B (logged in B's trail, delivered on B's bus) is
// alerted as A's root activity, with B kept as the recipient.
func TestWatchAlertsTheRootsAccount(t *testing.T) {
	const actor, owner = "777788889999", "444455556666"
	var env map[string]any
	if err := json.Unmarshal([]byte(eventOf(t, "root-api-call-with-keys.json", "cross-1", "")), &env); err != nil {
		t.Fatal(err)
	}
	env["account"] = owner
	d := env["detail"].(map[string]any)
	d["recipientAccountId"] = owner
	ui := d["userIdentity"].(map[string]any)
	ui["accountId"], ui["arn"], ui["principalId"] = actor, "arn:aws:iam::"+actor+":root", actor
	body, _ := json.Marshal(env)

	e := setup(t, &hook{})
	e.send(t, string(body))
	var out bytes.Buffer
	o := e.options(&out)
	o.AccountNames = map[string]string{actor: "actor-prod", owner: "owner-data"}
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	e.hook.mu.Lock()
	defer e.hook.mu.Unlock()
	if len(e.hook.bodies) != 1 {
		t.Fatalf("%d alerts, want 1", len(e.hook.bodies))
	}
	var a struct {
		Title   string           `json:"title"`
		Account string           `json:"account_name"`
		Events  []evidence.Event `json:"events"`
	}
	if err := json.Unmarshal(e.hook.bodies[0], &a); err != nil {
		t.Fatal(err)
	}
	if len(a.Events) != 1 || a.Events[0].AccountID != actor || a.Events[0].Recipient != owner {
		t.Fatalf("alert events %+v", a.Events)
	}
	if a.Account != "actor-prod" || !strings.Contains(a.Title, actor) || strings.Contains(a.Title, owner) {
		t.Errorf("alert %q (account %q) does not name the root's account %s", a.Title, a.Account, actor)
	}
}
