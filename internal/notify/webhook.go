package notify

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/finding"
)

// Webhook: one JSON POST per message to any HTTP endpoint (webhook=URL),
// signed when --notify-secret is set.

// SignatureHeader carries the HMAC-SHA256 of a webhook body, hex, as
// "sha256=…", when a secret is set.
const SignatureHeader = "X-Rootwatch-Signature"

// WebhookSchema is the version of the webhook body of a run.
const WebhookSchema = "1"

// AlertSchema is the version of the webhook body of an alert.
const AlertSchema = "1"

func webhookChannel() channel {
	return channel{kind: "webhook", syntax: "URL", check: httpsHost,
		notifier: func(t Target, _ Options) Notifier { return webhookNotifier{t.address, t.key} }}
}

type webhookNotifier struct {
	url string
	key []byte
}

func (w webhookNotifier) Notify(ctx context.Context, c Content) (bool, error) {
	body, err := webhookPayload(c)
	if err != nil {
		return false, err
	}
	var header http.Header
	if len(w.key) > 0 {
		mac := hmac.New(sha256.New, w.key)
		mac.Write(body)
		header = http.Header{http.CanonicalHeaderKey(SignatureHeader): {"sha256=" + hex.EncodeToString(mac.Sum(nil))}}
	}
	_, retry, err := post(ctx, w.url, body, header)
	return retry, err
}

func webhookPayload(c Content) ([]byte, error) {
	switch c := c.(type) {
	case Message:
		return webhookMessage(c)
	case Alert:
		return webhookAlert(c)
	}
	return nil, cannotSend("webhook", c)
}

// webhookMessage is the run, its diff, the items told and their findings.
func webhookMessage(m Message) ([]byte, error) {
	type runInfo struct {
		RunID         int64           `json:"run_id,omitempty"`
		PreviousRunID int64           `json:"previous_run_id,omitempty"`
		AsOf          string          `json:"as_of"`
		GeneratedAt   string          `json:"generated_at"`
		Accounts      int             `json:"accounts"`
		Summary       finding.Summary `json:"summary"`
	}
	ri := runInfo{AsOf: m.Run.AsOf.Format("2006-01-02T15:04:05Z07:00"), GeneratedAt: m.Run.GeneratedAt.Format("2006-01-02T15:04:05Z07:00"),
		Accounts: len(m.Run.Accounts), Summary: m.Run.Summary}
	changes := []finding.Change{}
	if h := m.Run.History; h != nil {
		ri.RunID, ri.PreviousRunID, changes = h.RunID, h.PreviousRunID, h.Changes
	}
	notified := map[string]bool{}
	for _, c := range m.Items {
		notified[c.Fingerprint] = true
	}
	findings := []finding.Finding{}
	for _, f := range m.Run.Findings {
		if notified[f.Fingerprint] {
			findings = append(findings, f)
		}
	}
	return json.Marshal(map[string]any{
		"schema_version": WebhookSchema, "tool": m.Run.Tool, "notify_on": m.When, "headline": m.Headline(),
		"run": ri, "diff": changes, "items": m.Items, "findings": findings,
	})
}

// webhookAlert is the alert's events with its rule and guidance.
func webhookAlert(a Alert) ([]byte, error) {
	return json.Marshal(struct {
		Schema  string           `json:"schema_version"`
		Kind    string           `json:"kind"`
		Title   string           `json:"title"`
		RuleID  string           `json:"rule_id,omitempty"`
		Summary string           `json:"summary,omitempty"`
		Action  string           `json:"suggested_action,omitempty"`
		Account string           `json:"account_name,omitempty"`
		Events  []evidence.Event `json:"events"`
	}{AlertSchema, cmp.Or(a.Kind, "root_activity"), a.Headline(), a.RuleID, a.Summary, a.Action, a.AccountName, a.Events})
}
