package awsfake

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Security Hub (CSPM) as a finding provider sees it, REST-JSON:
// BatchImportFindings (POST /findings/import) and GetFindings (POST
// /findings). It keeps what the service documents for imports
// (docs.aws.amazon.com/securityhub/latest/userguide/finding-update-batchimportfindings.html):
//   - a finding is created, or updated when its Id (within its product) is
//     known; an update whose UpdatedAt is not after the stored one is
//     ignored;
//   - an update cannot change Note, UserDefinedFields, VerificationState or
//     Workflow: those belong to the customer (BatchUpdateFindings);
//   - the workflow status goes back from NOTIFIED or RESOLVED to NEW when
//     RecordState goes from ARCHIVED to ACTIVE or Compliance.Status from
//     PASSED to FAILED, WARNING or NOT_AVAILABLE;
//   - at most 100 findings a call; each finding's AwsAccountId must be the
//     caller's, and its ProductArn the caller's default product in the
//     region, or the whole call is AccessDeniedException (as AWS answers);
//   - an invalid finding (a required field missing, a value outside its
//     enumeration, a title or description too long, over 240 KB) is
//     refused in FailedFindings with InvalidInput; with Security Hub
//     disabled (world: securityhub: {disabled: true}) every finding is
//     refused with InvalidAccess.

// SecurityHubSpec is an account's Security Hub; nil: enabled everywhere.
type SecurityHubSpec struct {
	Disabled bool `yaml:"disabled"`
}

// shFinding is a stored finding: its ASFF document as the service keeps it.
type shFinding struct {
	doc     map[string]any
	updated time.Time
}

// shState holds the findings by account and region, then product and id.
type shState map[string]map[string]*shFinding

func shKey(account, region string) string { return account + "/" + region }

// SecurityHubFindings returns the findings stored for an account in a
// region, as GetFindings would (for tests that read the fake directly).
func (s *Server) SecurityHubFindings(account, region string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, f := range s.sortedFindings(shKey(account, region)) {
		out = append(out, f.doc)
	}
	return out
}

func (s *Server) serveSecurityHub(w http.ResponseWriter, req request) {
	switch req.op {
	case "BatchImportFindings":
		s.batchImportFindings(w, req)
	case "GetFindings":
		s.getFindings(w, req)
	default:
		s.writeRESTError(w, http.StatusNotFound, "UnknownOperationException", req.op)
	}
}

const (
	shMaxBatch       = 100
	shMaxFindingSize = 240 << 10
)

func (s *Server) batchImportFindings(w http.ResponseWriter, req request) {
	var in struct {
		Findings []json.RawMessage `json:"Findings"`
	}
	if err := json.Unmarshal(req.body, &in); err != nil || in.Findings == nil {
		s.writeRESTError(w, http.StatusBadRequest, "InvalidInputException", "Findings is required and must be a list")
		return
	}
	if len(in.Findings) > shMaxBatch {
		s.writeRESTError(w, http.StatusBadRequest, "InvalidInputException", fmt.Sprintf("Findings holds %d findings; at most %d are accepted per call", len(in.Findings), shMaxBatch))
		return
	}
	a := req.acct.spec
	product := fmt.Sprintf("arn:%s:securityhub:%s:%s:product/%s/default", partition(a), req.region, a.ID, a.ID)
	docs := make([]map[string]any, len(in.Findings))
	for i, raw := range in.Findings {
		if err := json.Unmarshal(raw, &docs[i]); err != nil || docs[i] == nil {
			s.writeRESTError(w, http.StatusBadRequest, "InvalidInputException", fmt.Sprintf("Findings[%d] is not an object", i))
			return
		}
		// Another account's finding, or another product: the whole call is
		// refused, as AWS refuses it.
		if acct, _ := docs[i]["AwsAccountId"].(string); acct != "" && acct != a.ID {
			s.writeRESTError(w, http.StatusForbidden, "AccessDeniedException", fmt.Sprintf("User: %s is not authorized to perform: securityhub:BatchImportFindings on resource: %s", callerARN(req), product))
			return
		}
		if p, _ := docs[i]["ProductArn"].(string); p != "" && p != product {
			s.writeRESTError(w, http.StatusForbidden, "AccessDeniedException", fmt.Sprintf("User: %s is not authorized to perform: securityhub:BatchImportFindings on resource: %s", callerARN(req), p))
			return
		}
	}
	type failure struct{ Id, ErrorCode, ErrorMessage string }
	failed := []failure{}
	ok := 0
	now := s.now().UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.securityHub == nil {
		s.securityHub = shState{}
	}
	key := shKey(a.ID, req.region)
	store := s.securityHub[key]
	if store == nil {
		store = map[string]*shFinding{}
		s.securityHub[key] = store
	}
	for i, doc := range docs {
		id, _ := doc["Id"].(string)
		if a.SecurityHub != nil && a.SecurityHub.Disabled {
			failed = append(failed, failure{id, "InvalidAccess", fmt.Sprintf("Account %s is not subscribed to AWS Security Hub in %s", a.ID, req.region)})
			continue
		}
		updated, problem := validASFF(doc, len(in.Findings[i]))
		if problem != "" {
			failed = append(failed, failure{id, "InvalidInput", "Finding does not adhere to Amazon Finding Format. " + problem})
			continue
		}
		ok++
		k := doc["ProductArn"].(string) + "\x00" + id
		old := store[k]
		if old != nil && !updated.After(old.updated) {
			continue // not newer than what is stored: ignored
		}
		doc["ProcessedAt"] = now.Format("2006-01-02T15:04:05.000Z")
		doc["Region"] = req.region
		if _, set := doc["RecordState"]; !set {
			doc["RecordState"] = "ACTIVE"
		}
		if old == nil {
			if _, set := doc["Workflow"]; !set {
				doc["Workflow"] = map[string]any{"Status": "NEW"}
			}
		} else {
			for _, field := range []string{"Note", "UserDefinedFields", "VerificationState", "Workflow"} {
				if v, had := old.doc[field]; had {
					doc[field] = v
				} else {
					delete(doc, field)
				}
			}
			if reopened(old.doc, doc) {
				if st := workflowStatus(doc); st == "NOTIFIED" || st == "RESOLVED" {
					doc["Workflow"] = map[string]any{"Status": "NEW"}
				}
			}
		}
		store[k] = &shFinding{doc: doc, updated: updated}
	}
	s.writeRESTJSON(w, map[string]any{"SuccessCount": ok, "FailedCount": len(failed), "FailedFindings": failed})
}

func workflowStatus(doc map[string]any) string {
	w, _ := doc["Workflow"].(map[string]any)
	st, _ := w["Status"].(string)
	return st
}

func complianceStatus(doc map[string]any) string {
	c, _ := doc["Compliance"].(map[string]any)
	st, _ := c["Status"].(string)
	return st
}

// reopened: the update brings an archived finding back, or a passed one
// to a state that needs looking at again.
func reopened(old, doc map[string]any) bool {
	if old["RecordState"] == "ARCHIVED" && doc["RecordState"] == "ACTIVE" {
		return true
	}
	now := complianceStatus(doc)
	return complianceStatus(old) == "PASSED" && (now == "FAILED" || now == "WARNING" || now == "NOT_AVAILABLE")
}

// validASFF checks a finding against the ASFF requirements the fake
// enforces; it returns its UpdatedAt, or why it is not valid.
func validASFF(doc map[string]any, size int) (time.Time, string) {
	if size > shMaxFindingSize {
		return time.Time{}, fmt.Sprintf("The finding is %d bytes, over the limit of 240 KB.", size)
	}
	for _, f := range []string{"SchemaVersion", "Id", "ProductArn", "GeneratorId", "AwsAccountId", "CreatedAt", "UpdatedAt", "Title", "Description"} {
		if v, _ := doc[f].(string); strings.TrimSpace(v) == "" {
			return time.Time{}, "data should have required property '" + f + "'"
		}
	}
	if len(doc["Title"].(string)) > 256 || len(doc["Description"].(string)) > 1024 {
		return time.Time{}, "Title is limited to 256 characters and Description to 1024."
	}
	types, _ := doc["Types"].([]any)
	if fp, _ := doc["FindingProviderFields"].(map[string]any); len(types) == 0 && fp["Types"] == nil {
		return time.Time{}, "data should have required property 'Types'"
	}
	sev, _ := doc["Severity"].(map[string]any)
	if sev["Label"] == nil && sev["Normalized"] == nil {
		return time.Time{}, "data.Severity should have required property 'Label'"
	}
	res, _ := doc["Resources"].([]any)
	if len(res) == 0 || len(res) > 32 {
		return time.Time{}, "data.Resources should have between 1 and 32 items"
	}
	for _, r := range res {
		m, _ := r.(map[string]any)
		if t, _ := m["Type"].(string); t == "" {
			return time.Time{}, "data.Resources should have required property 'Type'"
		}
		if id, _ := m["Id"].(string); id == "" {
			return time.Time{}, "data.Resources should have required property 'Id'"
		}
	}
	for field, allowed := range map[string][]string{
		"RecordState": {"ACTIVE", "ARCHIVED"},
		"Compliance":  {"PASSED", "WARNING", "FAILED", "NOT_AVAILABLE"},
		"Workflow":    {"NEW", "NOTIFIED", "RESOLVED", "SUPPRESSED"},
	} {
		v, set := doc[field]
		if !set {
			continue
		}
		if m, isObj := v.(map[string]any); isObj {
			v = m["Status"]
		}
		if s, _ := v.(string); !slices.Contains(allowed, s) {
			return time.Time{}, fmt.Sprintf("%s should be one of %s", field, strings.Join(allowed, ", "))
		}
	}
	var times [2]time.Time
	for i, f := range []string{"CreatedAt", "UpdatedAt"} {
		t, err := time.Parse(time.RFC3339Nano, doc[f].(string))
		if err != nil {
			return time.Time{}, fmt.Sprintf("%s %q is not an ISO 8601 time", f, doc[f])
		}
		times[i] = t
	}
	return times[1], ""
}

// shFilterFields are the GetFindings filters the fake answers (string
// filters, EQUALS or NOT_EQUALS); any other filter is refused rather than
// ignored, so that a test cannot pass on a filter the fake did not apply.
var shFilterFields = map[string]func(map[string]any) string{
	"Id":               func(d map[string]any) string { s, _ := d["Id"].(string); return s },
	"ProductArn":       func(d map[string]any) string { s, _ := d["ProductArn"].(string); return s },
	"AwsAccountId":     func(d map[string]any) string { s, _ := d["AwsAccountId"].(string); return s },
	"GeneratorId":      func(d map[string]any) string { s, _ := d["GeneratorId"].(string); return s },
	"RecordState":      func(d map[string]any) string { s, _ := d["RecordState"].(string); return s },
	"ComplianceStatus": complianceStatus,
	"WorkflowStatus":   workflowStatus,
}

func (s *Server) getFindings(w http.ResponseWriter, req request) {
	var in struct {
		Filters map[string][]struct {
			Value      string `json:"Value"`
			Comparison string `json:"Comparison"`
		} `json:"Filters"`
		MaxResults int    `json:"MaxResults"`
		NextToken  string `json:"NextToken"`
	}
	if len(req.body) > 0 {
		if err := json.Unmarshal(req.body, &in); err != nil {
			s.writeRESTError(w, http.StatusBadRequest, "InvalidInputException", "the request body is not valid JSON")
			return
		}
	}
	for name, conds := range in.Filters {
		if shFilterFields[name] == nil {
			s.writeRESTError(w, http.StatusBadRequest, "InvalidInputException", "the fake does not answer the filter "+name)
			return
		}
		for _, c := range conds {
			if c.Comparison != "EQUALS" && c.Comparison != "NOT_EQUALS" {
				s.writeRESTError(w, http.StatusBadRequest, "InvalidInputException", fmt.Sprintf("the fake answers %s with EQUALS or NOT_EQUALS, not %q", name, c.Comparison))
				return
			}
		}
	}
	size := in.MaxResults
	if size <= 0 || size > 100 {
		size = 100
	}
	s.mu.Lock()
	var docs []map[string]any
	for _, f := range s.sortedFindings(shKey(req.acct.spec.ID, req.region)) {
		if matchesFilters(f.doc, in.Filters) {
			docs = append(docs, f.doc)
		}
	}
	items, next, err := page(docs, in.NextToken, size)
	out := map[string]any{"Findings": orEmpty(items)}
	if next != "" {
		out["NextToken"] = next
	}
	// Encoded under the lock: the answer is one moment's.
	b, merr := json.Marshal(out)
	s.mu.Unlock()
	switch {
	case err != nil:
		s.writeRESTError(w, http.StatusBadRequest, "InvalidInputException", err.Error())
	case merr != nil:
		s.writeRESTError(w, http.StatusInternalServerError, "InternalException", merr.Error())
	default:
		s.writeRESTJSON(w, json.RawMessage(b))
	}
}

// matchesFilters: every filter field matches; within a field, one EQUALS
// value matches and no NOT_EQUALS value does.
func matchesFilters(doc map[string]any, filters map[string][]struct {
	Value      string `json:"Value"`
	Comparison string `json:"Comparison"`
}) bool {
	for name, conds := range filters {
		v := shFilterFields[name](doc)
		equals, anyEquals := false, false
		for _, c := range conds {
			switch c.Comparison {
			case "EQUALS":
				anyEquals = true
				equals = equals || v == c.Value
			case "NOT_EQUALS":
				if v == c.Value {
					return false
				}
			}
		}
		if anyEquals && !equals {
			return false
		}
	}
	return true
}

// sortedFindings lists a store newest update first, then by id (s.mu held).
func (s *Server) sortedFindings(key string) []*shFinding {
	var out []*shFinding
	for _, f := range s.securityHub[key] {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b *shFinding) int {
		return cmp.Or(b.updated.Compare(a.updated), cmp.Compare(a.doc["Id"].(string), b.doc["Id"].(string)))
	})
	return out
}
