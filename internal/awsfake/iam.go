package awsfake

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/xml"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

var columns22 = strings.Split("user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated", ",")

func partition(a *Account) string {
	if a.Partition == "" {
		return "aws"
	}
	return a.Partition
}

func rootARN(a *Account) string { return fmt.Sprintf("arn:%s:iam::%s:root", partition(a), a.ID) }

func userARN(a *Account, name string) string {
	return fmt.Sprintf("arn:%s:iam::%s:user/%s", partition(a), a.ID, name)
}

// buildReport renders the account's credential report as AWS would at time at.
func buildReport(a *Account, at time.Time) ([]byte, error) {
	var rows [][]string
	for i, p := range append([]Principal{a.Root}, a.Users...) {
		isRoot := i == 0
		cell := map[string]string{}
		t := func(col, v string) error {
			s, err := resolveTime(v, at)
			cell[col] = s
			return err
		}
		if isRoot {
			cell["user"], cell["arn"] = "<root_account>", rootARN(a)
			cell["password_enabled"] = p.PasswordEnabled
			if cell["password_enabled"] == "" {
				cell["password_enabled"] = "not_supported"
			}
			if p.PasswordLastUsed == "" {
				p.PasswordLastUsed = "no_information"
			}
			cell["password_last_changed"], cell["password_next_rotation"] = "not_supported", "not_supported"
		} else {
			cell["user"], cell["arn"] = p.Name, userARN(a, p.Name)
			cell["password_enabled"] = strconv.FormatBool(p.PasswordLastUsed != "")
			cell["password_last_changed"], cell["password_next_rotation"] = "N/A", "N/A"
		}
		if p.Created == "" {
			p.Created = "-1000d"
		}
		if err := t("user_creation_time", p.Created); err != nil {
			return nil, err
		}
		if err := t("password_last_used", p.PasswordLastUsed); err != nil {
			return nil, err
		}
		cell["mfa_active"] = strconv.FormatBool(hasMFA(p))
		for n := 1; n <= 2; n++ {
			k := KeySpec{}
			if n <= len(p.AccessKeys) && !p.AccessKeys[n-1].Deleted {
				k = p.AccessKeys[n-1]
			}
			pre := fmt.Sprintf("access_key_%d_", n)
			cell[pre+"active"] = strconv.FormatBool(k.Active)
			if err := t(pre+"last_rotated", k.LastRotated); err != nil {
				return nil, err
			}
			if err := t(pre+"last_used_date", k.LastUsed); err != nil {
				return nil, err
			}
			cell[pre+"last_used_region"], cell[pre+"last_used_service"] = orNA(k.Region), orNA(k.Service)
			c := CertSpec{}
			if n <= len(p.Certs) && !p.Certs[n-1].Deleted {
				c = p.Certs[n-1]
			}
			cell[fmt.Sprintf("cert_%d_active", n)] = strconv.FormatBool(c.Active)
			if err := t(fmt.Sprintf("cert_%d_last_rotated", n), c.LastRotated); err != nil {
				return nil, err
			}
		}
		row := []string{}
		for _, col := range reportColumns(a) {
			row = append(row, cell[col])
		}
		rows = append(rows, row)
	}
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	_ = cw.Write(reportColumns(a))
	_ = cw.WriteAll(rows)
	// AWS's report has no final newline.
	return bytes.TrimRight(b.Bytes(), "\n"), cw.Error()
}

func reportColumns(a *Account) []string {
	if a.Report.Columns != 16 {
		return columns22
	}
	var out []string
	for _, c := range columns22 {
		if !strings.Contains(c, "_last_used_") {
			out = append(out, c)
		}
	}
	return out
}

func orNA(s string) string {
	if s == "" {
		return "N/A"
	}
	return s
}

type generateResult struct {
	XMLName     xml.Name
	Description string `xml:"Description,omitempty"`
	State       string `xml:"State"`
}

type getReportResult struct {
	XMLName       xml.Name
	Content       string `xml:"Content"`
	ReportFormat  string `xml:"ReportFormat"`
	GeneratedTime string `xml:"GeneratedTime"`
}

type entry struct {
	Key   string `xml:"key"`
	Value int    `xml:"value"`
}

type summaryResult struct {
	XMLName    xml.Name
	SummaryMap []entry `xml:"SummaryMap>entry"`
}

type mfaUser struct {
	Path       string `xml:"Path,omitempty"`
	UserName   string `xml:"UserName,omitempty"`
	UserID     string `xml:"UserId"`
	Arn        string `xml:"Arn"`
	CreateDate string `xml:"CreateDate"`
}

type virtualMFA struct {
	SerialNumber string   `xml:"SerialNumber"`
	EnableDate   string   `xml:"EnableDate,omitempty"`
	User         *mfaUser `xml:"User,omitempty"`
}

type listMFAResult struct {
	XMLName     xml.Name
	IsTruncated bool         `xml:"IsTruncated"`
	Devices     []virtualMFA `xml:"VirtualMFADevices>member"`
	Marker      string       `xml:"Marker,omitempty"`
}

type orgFeaturesResult struct {
	XMLName         xml.Name
	OrganizationID  string   `xml:"OrganizationId"`
	EnabledFeatures []string `xml:"EnabledFeatures>member"`
}

func (s *Server) serveIAM(w http.ResponseWriter, req request) {
	if s.serveRootCredentials(w, req) || s.serveIAMAuthorization(w, req) {
		return
	}
	switch req.op {
	case "GenerateCredentialReport":
		s.generateReport(w, req)
	case "GetCredentialReport":
		s.getReport(w, req)
	case "GetAccountSummary":
		// Deletions and deactivations change the credentials under s.mu.
		s.mu.Lock()
		sum := s.summary(req.acct.spec)
		s.mu.Unlock()
		s.writeQueryResult(w, iamNS, req.op, &summaryResult{SummaryMap: sum})
	case "ListVirtualMFADevices":
		s.listVirtualMFA(w, req)
	case "ListOrganizationsFeatures":
		s.listOrgFeatures(w, req)
	case "EnableOrganizationsRootCredentialsManagement", "EnableOrganizationsRootSessions":
		s.enableOrgFeature(w, req)
	default:
		s.writeQueryError(w, iamNS, http.StatusBadRequest, "InvalidAction", "The action "+req.op+" is not valid for this web service.")
	}
}

// advanceReport finishes the generation under way if its time has come;
// the caller holds s.mu. Generation is measured on the fake's clock, as IAM
// takes its time however often it is asked: polling does not hurry it.
func (s *Server) advanceReport(st *acctState) error {
	if !st.generating || st.neverReady || s.now().Before(st.readyAt) {
		return nil
	}
	csv, err := buildReport(st.spec, st.readyAt)
	if err != nil {
		return err
	}
	st.generating, st.reportAt, st.reportCSV, st.expired = false, st.readyAt, csv, false
	return nil
}

// lockAndAdvance takes s.mu and brings the account's report generation up
// to the fake's clock. On success it returns true with s.mu still held, for
// the caller to read the report state and unlock; on failure it has
// unlocked and written the error.
func (s *Server) lockAndAdvance(w http.ResponseWriter, st *acctState) bool {
	s.mu.Lock()
	if err := s.advanceReport(st); err != nil {
		s.mu.Unlock()
		s.writeQueryError(w, iamNS, http.StatusInternalServerError, "ServiceFailure", err.Error())
		return false
	}
	return true
}

// delayOf is how long the account's report generation takes.
func (s *Server) delayOf(a *Account) (d time.Duration, never bool) {
	if a.Report.Delay == "" {
		return max(s.reportDelay, 0), s.reportDelay < 0
	}
	d, never, _ = parseDelay(a.Report.Delay) // checked by Validate
	return d, never
}

func (s *Server) generateReport(w http.ResponseWriter, req request) {
	st := req.acct
	if !s.lockAndAdvance(w, st) {
		return
	}
	res := &generateResult{}
	switch {
	case st.generating:
		res.State = "INPROGRESS"
	case !st.reportAt.IsZero() && !st.expired && s.now().Sub(st.reportAt) < 4*time.Hour:
		// AWS generates at most once every four hours and answers COMPLETE.
		res.State = "COMPLETE"
	default:
		if st.reportAt.IsZero() {
			res.Description = "No report exists. Starting a new report generation task"
		}
		d, never := s.delayOf(st.spec)
		st.generating, st.readyAt, st.neverReady = true, s.now().Add(d), never
		res.State = "STARTED"
	}
	s.mu.Unlock()
	s.writeQueryResult(w, iamNS, req.op, res)
}

func (s *Server) getReport(w http.ResponseWriter, req request) {
	st := req.acct
	if !s.lockAndAdvance(w, st) {
		return
	}
	generating, at, csv, expired := st.generating, st.reportAt, st.reportCSV, st.expired
	s.mu.Unlock()
	switch {
	case generating:
		s.writeQueryError(w, iamNS, http.StatusNotFound, "ReportInProgress", "Report generation in progress.")
	case at.IsZero():
		s.writeQueryError(w, iamNS, http.StatusGone, "ReportNotPresent", "Credential report not present. Call GenerateCredentialReport.")
	case expired:
		s.writeQueryError(w, iamNS, http.StatusGone, "ReportExpired", "The credential report has expired. Call GenerateCredentialReport.")
	default:
		s.writeQueryResult(w, iamNS, req.op, &getReportResult{
			Content: base64.StdEncoding.EncodeToString(csv), ReportFormat: "text/csv",
			GeneratedTime: at.UTC().Format(time.RFC3339),
		})
	}
}

func (s *Server) summary(a *Account) []entry {
	b := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	mfaDevices := len(s.mfaDevices(a, &a.Root, ""))
	for i := range a.Users {
		mfaDevices += len(s.mfaDevices(a, &a.Users[i], a.Users[i].Name))
	}
	return []entry{
		{"AccessKeysPerUserQuota", 2},
		{"AccountAccessKeysPresent", b(slices.ContainsFunc(a.Root.AccessKeys, func(k KeySpec) bool { return !k.Deleted }))},
		{"AccountMFAEnabled", b(hasMFA(a.Root))},
		{"AccountSigningCertificatesPresent", b(slices.ContainsFunc(a.Root.Certs, func(c CertSpec) bool { return !c.Deleted }))},
		{"MFADevices", mfaDevices},
		{"MFADevicesInUse", mfaDevices},
		{"Users", len(a.Users)},
		{"UsersQuota", 5000},
	}
}

func (s *Server) virtualDevices(a *Account, assignment string) []virtualMFA {
	created := func(p Principal) string {
		v, _ := resolveTime(orDefault(p.Created, "-1000d"), s.now())
		return strings.Replace(v, "+00:00", "Z", 1)
	}
	var out []virtualMFA
	if assignment == "Unassigned" {
		return out
	}
	for _, d := range s.mfaDevices(a, &a.Root, "") {
		if d.kind == "virtual" {
			out = append(out, virtualMFA{SerialNumber: d.serial, EnableDate: d.enabled,
				User: &mfaUser{UserID: a.ID, Arn: rootARN(a), CreateDate: created(a.Root)}})
		}
	}
	for i := range a.Users {
		u := &a.Users[i]
		for _, d := range s.mfaDevices(a, u, u.Name) {
			if d.kind == "virtual" {
				out = append(out, virtualMFA{SerialNumber: d.serial, EnableDate: d.enabled,
					User: &mfaUser{Path: "/", UserName: u.Name, UserID: fmt.Sprintf("AIDAFAKE%012d", i), Arn: userARN(a, u.Name), CreateDate: created(*u)}})
			}
		}
	}
	return out
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func (s *Server) listVirtualMFA(w http.ResponseWriter, req request) {
	assignment := req.form.Get("AssignmentStatus")
	switch assignment {
	case "", "Any", "Assigned", "Unassigned":
	default:
		s.writeQueryError(w, iamNS, http.StatusBadRequest, "ValidationError", "AssignmentStatus must be Assigned, Unassigned or Any")
		return
	}
	s.mu.Lock()
	all := s.virtualDevices(req.acct.spec, assignment)
	s.mu.Unlock()
	start := 0
	if m := req.form.Get("Marker"); m != "" {
		raw, err := base64.RawURLEncoding.DecodeString(m)
		n, err2 := strconv.Atoi(string(raw))
		if err != nil || err2 != nil || n < 0 || n > len(all) {
			s.writeQueryError(w, iamNS, http.StatusBadRequest, "InvalidInput", "invalid Marker")
			return
		}
		start = n
	}
	max := 100
	if v := req.form.Get("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			s.writeQueryError(w, iamNS, http.StatusBadRequest, "ValidationError", "MaxItems must be between 1 and 1000")
			return
		}
		max = n
	}
	end := min(start+max, len(all))
	res := &listMFAResult{Devices: all[start:end]}
	if end < len(all) {
		res.IsTruncated, res.Marker = true, base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	s.writeQueryResult(w, iamNS, req.op, res)
}

// orgCode spells an IAM organization error as the world asks: the SDK
// matches Exception-suffixed codes; the API reference documents bare ones.
func (s *Server) orgCode(code string) string {
	if s.style == "documented" {
		return code
	}
	return code + "Exception"
}

// enableOrgFeature turns on a centralized-root-access feature (the
// management account only, after trusted access for IAM).
func (s *Server) enableOrgFeature(w http.ResponseWriter, req request) {
	a := req.acct.spec
	if a.Organization == nil || a.Organization.ManagementAccount != a.ID || req.session.kind != "user" {
		s.writeQueryError(w, iamNS, http.StatusBadRequest, s.orgCode("AccountNotManagementOrDelegatedAdministrator"), "The account is not the management account or a delegated administrator.")
		return
	}
	feature := strings.TrimPrefix(req.op, "EnableOrganizations")
	s.mu.Lock()
	if trusted := a.Organization.TrustedIAM || len(a.Organization.Features) > 0 || s.trustedIAM[a.Organization.ID]; !trusted {
		s.mu.Unlock()
		s.writeQueryError(w, iamNS, http.StatusBadRequest, s.orgCode("ServiceAccessNotEnabled"), "Trusted access for IAM is not enabled in the organization.")
		return
	}
	if !slices.Contains(a.Organization.Features, feature) {
		a.Organization.Features = append(a.Organization.Features, feature)
	}
	res := &orgFeaturesResult{OrganizationID: a.Organization.ID, EnabledFeatures: slices.Clone(a.Organization.Features)}
	s.mu.Unlock()
	s.writeQueryResult(w, iamNS, req.op, res)
}

func (s *Server) listOrgFeatures(w http.ResponseWriter, req request) {
	a := req.acct.spec
	switch {
	case a.Organization == nil:
		s.writeQueryError(w, iamNS, http.StatusBadRequest, s.orgCode("OrganizationNotFound"), "The organization was not found.")
	case a.Organization.ManagementAccount != a.ID:
		if o, ok := s.iamDelegatedAdmin(a); ok {
			s.writeQueryResult(w, iamNS, req.op, &orgFeaturesResult{OrganizationID: o.ID, EnabledFeatures: o.Features})
			return
		}
		s.writeQueryError(w, iamNS, http.StatusBadRequest, s.orgCode("AccountNotManagementOrDelegatedAdministrator"),
			"The account is not the management account or a delegated administrator.")
	default:
		s.writeQueryResult(w, iamNS, req.op, &orgFeaturesResult{OrganizationID: a.Organization.ID, EnabledFeatures: a.Organization.Features})
	}
}
