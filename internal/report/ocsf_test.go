package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/rules"
)

// ocsfClass is the OCSF class definition of testdata/ocsf (see its README).
type ocsfClass struct {
	Version string                    `json:"version"`
	Class   string                    `json:"class"`
	Objects map[string]ocsfObjectDef  `json:"objects"`
	Types   map[string]ocsfScalarType `json:"types"`
}

type ocsfObjectDef struct {
	Caption     string                 `json:"caption"`
	UID         int                    `json:"uid"`
	CategoryUID int                    `json:"category_uid"`
	Attributes  map[string]ocsfAttrDef `json:"attributes"`
	Constraints struct {
		AtLeastOne []string `json:"at_least_one"`
	} `json:"constraints"`
}

type ocsfAttrDef struct {
	Type        string            `json:"type"`
	IsArray     bool              `json:"is_array"`
	Requirement string            `json:"requirement"`
	Sibling     string            `json:"sibling"`
	Profile     string            `json:"profile"`
	Enum        map[string]string `json:"enum"`
}

type ocsfScalarType struct {
	MaxLen int    `json:"max_len"`
	Regex  string `json:"regex"`
}

func loadOCSFClass(t *testing.T) *ocsfClass {
	t.Helper()
	b, err := os.ReadFile("testdata/ocsf/detection_finding-1.3.0.json")
	if err != nil {
		t.Fatal(err)
	}
	var c ocsfClass
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("class definition: %v", err)
	}
	return &c
}

// ocsfReport is what validating one record found: errors break the class
// definition; missing lists recommended attributes left out, by path.
type ocsfReport struct {
	errors, missing []string
}

// validate checks one record (decoded with UseNumber) against the class:
// the class and type ids, every required attribute, no attribute the class
// does not define, each value's type, enums and their sibling captions,
// profiles declared in metadata.profiles, and at_least_one constraints.
func (c *ocsfClass) validate(rec map[string]any) ocsfReport {
	var r ocsfReport
	profiles := map[string]bool{}
	if md, ok := rec["metadata"].(map[string]any); ok {
		if ps, ok := md["profiles"].([]any); ok {
			for _, p := range ps {
				if s, ok := p.(string); ok {
					profiles[s] = true
				}
			}
		}
		if md["version"] != c.Version {
			r.errors = append(r.errors, fmt.Sprintf("metadata.version = %v, want %s", md["version"], c.Version))
		}
	}
	def := c.Objects[c.Class]
	c.object(&r, "", c.Class, rec, profiles)
	if n, ok := num(rec["class_uid"]); !ok || n != float64(def.UID) {
		r.errors = append(r.errors, fmt.Sprintf("class_uid = %v, want %d", rec["class_uid"], def.UID))
	}
	if n, ok := num(rec["category_uid"]); !ok || n != float64(def.CategoryUID) {
		r.errors = append(r.errors, fmt.Sprintf("category_uid = %v, want %d", rec["category_uid"], def.CategoryUID))
	}
	act, _ := num(rec["activity_id"])
	if typ, ok := num(rec["type_uid"]); !ok || typ != float64(def.UID)*100+act {
		r.errors = append(r.errors, fmt.Sprintf("type_uid = %v, want class_uid*100+activity_id = %v", rec["type_uid"], float64(def.UID)*100+act))
	}
	return r
}

func num(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

func (c *ocsfClass) object(r *ocsfReport, path, name string, obj map[string]any, profiles map[string]bool) {
	def, ok := c.Objects[name]
	if !ok {
		r.errors = append(r.errors, fmt.Sprintf("%s: object type %q is not in the transcribed class definition", path, name))
		return
	}
	at := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		a, ok := def.Attributes[k]
		if !ok {
			r.errors = append(r.errors, fmt.Sprintf("%s: not an attribute of %s", at(k), name))
			continue
		}
		if a.Profile != "" && !profiles[a.Profile] {
			r.errors = append(r.errors, fmt.Sprintf("%s: belongs to profile %q, not declared in metadata.profiles", at(k), a.Profile))
		}
		c.value(r, at(k), a, obj[k], profiles)
		if a.Sibling != "" && len(a.Enum) > 0 {
			id := fmt.Sprint(obj[k])
			if s, ok := obj[a.Sibling]; ok && id != "99" && s != a.Enum[id] {
				r.errors = append(r.errors, fmt.Sprintf("%s = %q, but %s %s is %q", at(a.Sibling), s, at(k), id, a.Enum[id]))
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(def.Attributes)) {
		a := def.Attributes[k]
		if _, ok := obj[k]; ok || (a.Profile != "" && !profiles[a.Profile]) {
			continue
		}
		switch a.Requirement {
		case "required":
			r.errors = append(r.errors, fmt.Sprintf("%s: required attribute missing", at(k)))
		case "recommended":
			r.missing = append(r.missing, at(k))
		}
	}
	if len(def.Constraints.AtLeastOne) > 0 && !slices.ContainsFunc(def.Constraints.AtLeastOne, func(k string) bool { _, ok := obj[k]; return ok }) {
		r.errors = append(r.errors, fmt.Sprintf("%s: needs at least one of %v", path, def.Constraints.AtLeastOne))
	}
}

func (c *ocsfClass) value(r *ocsfReport, path string, a ocsfAttrDef, v any, profiles map[string]bool) {
	if a.IsArray {
		arr, ok := v.([]any)
		if !ok {
			r.errors = append(r.errors, fmt.Sprintf("%s: want an array of %s, got %T", path, a.Type, v))
			return
		}
		elem := a
		elem.IsArray = false
		for i, e := range arr {
			c.value(r, fmt.Sprintf("%s[%d]", path, i), elem, e, profiles)
		}
		return
	}
	bad := func(format string, args ...any) {
		r.errors = append(r.errors, path+": "+fmt.Sprintf(format, args...))
	}
	if v == nil {
		bad("null is not a %s", a.Type)
		return
	}
	st, scalar := c.Types[a.Type]
	if !scalar {
		obj, ok := v.(map[string]any)
		if !ok {
			bad("want a %s object, got %T", a.Type, v)
			return
		}
		c.object(r, path, a.Type, obj, profiles)
		return
	}
	switch a.Type {
	case "string_t", "url_t", "datetime_t":
		s, ok := v.(string)
		if !ok {
			bad("want a string (%s), got %T", a.Type, v)
			return
		}
		if st.MaxLen > 0 && len(s) > st.MaxLen {
			bad("%d bytes, longer than %s's %d", len(s), a.Type, st.MaxLen)
		}
		if !utf8.ValidString(s) {
			bad("not valid UTF-8")
		}
		if st.Regex != "" && !regexp.MustCompile(st.Regex).MatchString(s) {
			bad("%q does not match %s", s, a.Type)
		}
		if a.Type == "url_t" {
			if u, err := url.Parse(s); err != nil || u.Scheme == "" || u.Host == "" {
				bad("%q is not an absolute URL", s)
			}
		}
	case "integer_t", "long_t", "timestamp_t":
		n, ok := v.(json.Number)
		if !ok {
			bad("want a number (%s), got %T", a.Type, v)
			return
		}
		i, err := strconv.ParseInt(n.String(), 10, 64)
		switch {
		case err != nil:
			bad("%s is not an integer", n)
		case a.Type == "integer_t" && (i < math.MinInt32 || i > math.MaxInt32):
			bad("%d does not fit integer_t", i)
		case a.Type == "timestamp_t" && i < 0:
			bad("negative timestamp %d", i)
		}
	case "float_t":
		if _, ok := v.(json.Number); !ok {
			bad("want a number, got %T", v)
		}
	case "boolean_t":
		if _, ok := v.(bool); !ok {
			bad("want a boolean, got %T", v)
		}
	case "object":
		if _, ok := v.(map[string]any); !ok {
			bad("want an object, got %T", v)
		}
	case "json_t":
	default:
		bad("type %q has no check", a.Type)
	}
	if len(a.Enum) > 0 {
		if _, ok := a.Enum[fmt.Sprint(v)]; !ok {
			bad("%v is not one of the enum's values", v)
		}
	}
}

// decodeOCSF reads JSON Lines, numbers kept exact.
func decodeOCSF(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for n := 1; sc.Scan(); n++ {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		var rec map[string]any
		if err := dec.Decode(&rec); err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// ocsfOmitted are the recommended attributes rootwatch leaves out, and why:
// a validator report naming any other is a failure.
var ocsfOmitted = map[string]string{
	"observables":            "the account and resource are already typed in cloud and resources",
	"confidence_id":          "a rule's verdict is deterministic; there is no confidence to grade",
	"device":                 "no host is involved: the subject is an AWS account",
	"evidences":              "1.3.0 evidence artifacts describe processes, files and network endpoints; rootwatch's evidence goes in unmapped.rootwatch",
	"status_detail":          "set only for suppressions (the reason); message carries the rest",
	"metadata.log_provider":  "rootwatch writes no log of its own",
	"metadata.original_time": "the findings are produced here, not translated from another format",
	"metadata.tenant_uid":    "rootwatch has no tenants",
	"cloud.region":           "IAM is global: credential-report findings have no region",
	"cloud.account.name":     "account names are not collected",
	"resources[0].name":      "the uid (an ARN) names the resource",
	"resources[0].owner":     "the root user owns itself",
}

func ocsfTestRun() *finding.Run {
	ev := map[string]any{"user_agent": `"><img src=x onerror=alert(1)>`, "report_line": 2}
	return &finding.Run{
		Tool: finding.Tool{Name: "rootwatch", Version: "v1.2.3"}, AsOf: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		Accounts: []finding.Account{{AccountID: "111111111111", Partition: "aws"}, {AccountID: "222222222222", Partition: "aws-us-gov"}},
		Findings: []finding.Finding{
			{RuleID: "iam-root-active-password", Title: "Root user has active password", Status: finding.StatusFail, Severity: finding.SeverityCritical,
				AccountID: "111111111111", Region: "global", Resource: "arn:aws:iam::111111111111:root", Message: strings.Repeat("é", 70000), Evidence: ev, Fingerprint: "f1"},
			{RuleID: "iam-root-mfa-enabled", Title: "t", Status: finding.StatusPass, Severity: finding.SeverityHigh,
				AccountID: "222222222222", Region: "us-gov-west-1", Resource: "arn:aws-us-gov:iam::222222222222:root", Message: "ok", Fingerprint: "f2"},
			{RuleID: "org-root-access-centralized", Title: "t", Status: finding.StatusUnknown, Severity: finding.SeverityMedium,
				AccountID: "111111111111", Resource: "arn:aws:organizations::111111111111:organization/o-abc", Message: "denied", Fingerprint: "f3"},
			{RuleID: "not-in-catalog", Title: "t", Status: finding.StatusNotApplicable, Severity: finding.SeverityLow, AccountID: "222222222222", Resource: "x", Fingerprint: "f4"},
			{RuleID: "iam-root-access-key-active", Title: "t", Status: finding.StatusSuppressed, Severity: finding.SeverityInfo, AccountID: "111111111111",
				Resource: "arn:aws:iam::111111111111:root", Evidence: map[string]any{"suppression_reason": "SEC-1"}, Fingerprint: "f5",
				Suppression: &finding.Suppression{Reason: "SEC-1", Status: finding.StatusFail}},
			{RuleID: "iam-root-access-key-used", Title: "t", Status: finding.StatusError, Severity: "bogus", AccountID: "111111111111", Resource: "arn:aws:iam::111111111111:root", Fingerprint: "f6"},
		},
	}
}

// TestOCSFRecordsValidateAgainstClass writes every status, severity and
// resource kind and validates each record against OCSF 1.3.0's Detection
// Finding class definition.
func TestOCSFRecordsValidateAgainstClass(t *testing.T) {
	class := loadOCSFClass(t)
	meta, err := rules.Info()
	if err != nil {
		t.Fatal(err)
	}
	run := ocsfTestRun()
	var b bytes.Buffer
	if err := (OCSF{Meta: meta}).Write(&b, run); err != nil {
		t.Fatal(err)
	}
	recs := decodeOCSF(t, b.Bytes())
	if len(recs) != len(run.Findings) {
		t.Fatalf("%d records for %d findings", len(recs), len(run.Findings))
	}
	for i, rec := range recs {
		rep := class.validate(rec)
		for _, e := range rep.errors {
			t.Errorf("record %d (%s): %s", i, run.Findings[i].RuleID, e)
		}
		for _, m := range rep.missing {
			if _, ok := ocsfOmitted[m]; !ok {
				t.Errorf("record %d: recommended attribute %s missing and not explained", i, m)
			}
		}
	}
	// The mapping itself.
	want := []struct {
		statusID int
		status   string
		sevID    int
		resType  string
		part     string
	}{
		{1, "New", 5, "AwsIamRootUser", "aws"},
		{4, "Resolved", 4, "AwsIamRootUser", "aws-us-gov"},
		{1, "New", 3, "AwsOrganizationsOrganization", "aws"},
		{99, "Not Applicable", 2, "AwsAccount", "aws-us-gov"},
		{3, "Suppressed", 1, "AwsIamRootUser", "aws"},
		{1, "New", 0, "AwsIamRootUser", "aws"},
	}
	for i, w := range want {
		rec := recs[i]
		res := rec["resources"].([]any)[0].(map[string]any)
		if fmt.Sprint(rec["status_id"]) != strconv.Itoa(w.statusID) || rec["status"] != w.status || fmt.Sprint(rec["severity_id"]) != strconv.Itoa(w.sevID) ||
			res["type"] != w.resType || res["cloud_partition"] != w.part || rec["status_code"] != string(run.Findings[i].Status) {
			t.Errorf("record %d: status %v/%v severity %v resource %v, want %+v", i, rec["status_id"], rec["status"], rec["severity_id"], res, w)
		}
	}
	if n := len(recs[0]["message"].(string)); n > 65535 {
		t.Errorf("message of %d bytes exceeds string_t", n)
	}
	fi := recs[0]["finding_info"].(map[string]any)
	if fi["src_url"] != RulePageURL("iam-root-active-password") || fi["uid"] != ASFFID(run.Findings[0]) {
		t.Errorf("finding_info: %v", fi)
	}
	if rem, ok := recs[0]["remediation"].(map[string]any); !ok || rem["desc"] == "" {
		t.Errorf("remediation missing: %v", recs[0]["remediation"])
	}
	if _, ok := recs[3]["remediation"]; ok {
		t.Errorf("a rule outside the catalog has no remediation to give: %v", recs[3]["remediation"])
	}
	if recs[4]["status_detail"] != "SEC-1" {
		t.Errorf("suppression reason: %v", recs[4]["status_detail"])
	}
	ev := recs[0]["unmapped"].(map[string]any)["rootwatch"].(map[string]any)["evidence"].(map[string]any)
	if ev["user_agent"] != run.Findings[0].Evidence["user_agent"] {
		t.Errorf("evidence not carried verbatim: %v", ev)
	}
	if recs[1]["metadata"].(map[string]any)["uid"] == recs[0]["metadata"].(map[string]any)["uid"] {
		t.Error("event uids collide")
	}
}

// TestOCSFValidatorRejects makes sure the validator can fail: each mutation
// of a valid record breaks one rule of the class definition.
func TestOCSFValidatorRejects(t *testing.T) {
	class := loadOCSFClass(t)
	meta, err := rules.Info()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := (OCSF{Meta: meta}).Write(&b, ocsfTestRun()); err != nil {
		t.Fatal(err)
	}
	good := b.Bytes()[:bytes.IndexByte(b.Bytes(), '\n')+1]
	if rep := class.validate(decodeOCSF(t, good)[0]); len(rep.errors) > 0 {
		t.Fatalf("base record invalid: %v", rep.errors)
	}
	mutations := map[string]struct {
		mutate func(map[string]any)
		want   string
	}{
		"no finding_info":     {func(r map[string]any) { delete(r, "finding_info") }, "finding_info: required attribute missing"},
		"no severity_id":      {func(r map[string]any) { delete(r, "severity_id") }, "severity_id: required attribute missing"},
		"no metadata.product": {func(r map[string]any) { delete(r["metadata"].(map[string]any), "product") }, "metadata.product: required attribute missing"},
		"unknown attribute":   {func(r map[string]any) { r["severity_label"] = "x" }, "severity_label: not an attribute"},
		"nested unknown":      {func(r map[string]any) { r["cloud"].(map[string]any)["acount"] = "x" }, "cloud.acount: not an attribute of cloud"},
		"string for integer":  {func(r map[string]any) { r["severity_id"] = "5" }, "severity_id: want a number"},
		"float for integer":   {func(r map[string]any) { r["time"] = json.Number("1.5") }, "time: 1.5 is not an integer"},
		"enum value":          {func(r map[string]any) { r["status_id"] = json.Number("7") }, "status_id: 7 is not one of"},
		"sibling caption":     {func(r map[string]any) { r["severity"] = "Low" }, `severity = "Low", but severity_id 5 is "Critical"`},
		"class uid":           {func(r map[string]any) { r["class_uid"] = json.Number("2001") }, "class_uid = 2001"},
		"type uid":            {func(r map[string]any) { r["type_uid"] = json.Number("200402") }, "type_uid = 200402, want"},
		"undeclared profile":  {func(r map[string]any) { r["metadata"].(map[string]any)["profiles"] = []any{} }, `cloud: belongs to profile "cloud"`},
		"relative url":        {func(r map[string]any) { r["finding_info"].(map[string]any)["src_url"] = "docs/rules/x.md" }, "not an absolute URL"},
		"array expected":      {func(r map[string]any) { r["resources"] = r["resources"].([]any)[0] }, "resources: want an array"},
		"at_least_one": {func(r map[string]any) {
			p := r["metadata"].(map[string]any)["product"].(map[string]any)
			delete(p, "name")
			delete(p, "uid")
		}, "needs at least one of [name uid]"},
		"untranscribed": {func(r map[string]any) { r["observables"] = []any{map[string]any{"name": "x"}} }, `object type "observable" is not in the transcribed`},
		"too long":      {func(r map[string]any) { r["message"] = strings.Repeat("x", 65536) }, "longer than string_t's 65535"},
		"version":       {func(r map[string]any) { r["metadata"].(map[string]any)["version"] = "1.1.0" }, "metadata.version = 1.1.0"},
	}
	for name, m := range mutations {
		rec := decodeOCSF(t, good)[0]
		m.mutate(rec)
		rep := class.validate(rec)
		if !slices.ContainsFunc(rep.errors, func(e string) bool { return strings.Contains(e, m.want) }) {
			t.Errorf("%s: want an error containing %q, got %v", name, m.want, rep.errors)
		}
	}
}

// TestOCSFGoldenValidates validates the OCSF golden (TestFormatsGolden's),
// record by record.
func TestOCSFGoldenValidates(t *testing.T) {
	class := loadOCSFClass(t)
	b, err := os.ReadFile(goldenPath("ocsf"))
	if err != nil {
		t.Fatal(err)
	}
	recs := decodeOCSF(t, b)
	statuses := map[string]int{}
	for i, rec := range recs {
		rep := class.validate(rec)
		for _, e := range rep.errors {
			t.Errorf("golden line %d: %s", i+1, e)
		}
		for _, m := range rep.missing {
			if _, ok := ocsfOmitted[m]; !ok {
				t.Errorf("golden line %d: recommended attribute %s missing and not explained", i+1, m)
			}
		}
		statuses[fmt.Sprint(rec["status_code"])]++
	}
	for _, s := range finding.Statuses() {
		if statuses[string(s)] == 0 {
			t.Errorf("the OCSF golden has no %s finding: %v", s, statuses)
		}
	}
}
