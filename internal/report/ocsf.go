package report

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/rootwatch/rootwatch/internal/finding"
)

// OCSFVersion is the OCSF schema version the OCSF writer targets.
const OCSFVersion = "1.3.0"

// OCSF class and category of a Detection Finding (class_uid 2004 =
// category 2 × 1000 + class 4), and the one activity rootwatch reports.
const (
	ocsfCategoryUID  = 2
	ocsfCategoryName = "Findings"
	ocsfClassUID     = 2004
	ocsfClassName    = "Detection Finding"
	ocsfActivityID   = 1 // Create: each run reports its findings afresh
	ocsfActivityName = "Create"
	ocsfStringMax    = 65535 // string_t max_len
)

// OCSF finding status_id values (the finding class's enum).
const (
	ocsfStatusNew        = 1
	ocsfStatusSuppressed = 3
	ocsfStatusResolved   = 4
	ocsfStatusOther      = 99
)

// OCSF writes one OCSF 1.3.0 Detection Finding (class 2004) per finding, as
// JSON Lines: one record per line, ready for a Security Lake custom source
// or any OCSF pipeline. The rootwatch status travels in status_code, the
// evidence in unmapped.rootwatch, the knowledge-base page in
// finding_info.src_url and remediation.references.
type OCSF struct{ Meta finding.Catalog }

// OCSFRecord is one Detection Finding. Field names are OCSF attribute names.
type OCSFRecord struct {
	ActivityID     int              `json:"activity_id"`
	ActivityName   string           `json:"activity_name"`
	CategoryUID    int              `json:"category_uid"`
	CategoryName   string           `json:"category_name"`
	ClassUID       int              `json:"class_uid"`
	ClassName      string           `json:"class_name"`
	TypeUID        int64            `json:"type_uid"`
	TypeName       string           `json:"type_name"`
	SeverityID     int              `json:"severity_id"`
	Severity       string           `json:"severity"`
	StatusID       int              `json:"status_id"`
	Status         string           `json:"status"`
	StatusCode     string           `json:"status_code"`
	StatusDetail   string           `json:"status_detail,omitempty"`
	Message        string           `json:"message"`
	Time           int64            `json:"time"`
	TimezoneOffset int              `json:"timezone_offset"`
	Metadata       ocsfMetadata     `json:"metadata"`
	FindingInfo    ocsfFindingInfo  `json:"finding_info"`
	Cloud          ocsfCloud        `json:"cloud"`
	Resources      []ocsfResource   `json:"resources"`
	Remediation    *ocsfRemediation `json:"remediation,omitempty"`
	Unmapped       map[string]any   `json:"unmapped"`
}

type ocsfMetadata struct {
	Version  string      `json:"version"`
	UID      string      `json:"uid"`
	Product  ocsfProduct `json:"product"`
	Profiles []string    `json:"profiles"`
	LogName  string      `json:"log_name"`
}

type ocsfProduct struct {
	UID        string `json:"uid"`
	Name       string `json:"name"`
	VendorName string `json:"vendor_name"`
	Version    string `json:"version,omitempty"`
	URLString  string `json:"url_string"`
}

type ocsfFindingInfo struct {
	UID      string       `json:"uid"`
	Title    string       `json:"title"`
	Desc     string       `json:"desc,omitempty"`
	SrcURL   string       `json:"src_url"`
	Types    []string     `json:"types,omitempty"`
	Analytic ocsfAnalytic `json:"analytic"`
}

type ocsfAnalytic struct {
	UID      string `json:"uid"`
	Name     string `json:"name"`
	TypeID   int    `json:"type_id"`
	Type     string `json:"type"`
	Category string `json:"category,omitempty"`
}

type ocsfCloud struct {
	Provider string      `json:"provider"`
	Region   string      `json:"region,omitempty"`
	Account  ocsfAccount `json:"account"`
}

type ocsfAccount struct {
	UID    string `json:"uid"`
	TypeID int    `json:"type_id"`
	Type   string `json:"type"`
}

type ocsfResource struct {
	UID            string `json:"uid"`
	Type           string `json:"type"`
	CloudPartition string `json:"cloud_partition,omitempty"`
	Region         string `json:"region,omitempty"`
}

type ocsfRemediation struct {
	Desc       string   `json:"desc"`
	References []string `json:"references"`
}

// ocsfText keeps a string within string_t's 65,535 bytes (a rune is at
// most 4 bytes), marking any cut.
func ocsfText(s string) string { return Truncate(s, ocsfStringMax/4) }

// ocsfSeverity maps a severity to OCSF severity_id and its caption.
func ocsfSeverity(s finding.Severity) (int, string) {
	switch s {
	case finding.SeverityCritical:
		return 5, "Critical"
	case finding.SeverityHigh:
		return 4, "High"
	case finding.SeverityMedium:
		return 3, "Medium"
	case finding.SeverityLow:
		return 2, "Low"
	case finding.SeverityInfo:
		return 1, "Informational"
	}
	return 0, "Unknown"
}

// ocsfStatus maps a rootwatch status to the finding's status_id: failing,
// unknown and error findings are New (each needs someone's attention; fail
// closed), a pass is Resolved, a suppression Suppressed, and not_applicable
// is Other with its own caption.
func ocsfStatus(s finding.Status) (int, string) {
	switch s {
	case finding.StatusPass:
		return ocsfStatusResolved, "Resolved"
	case finding.StatusSuppressed:
		return ocsfStatusSuppressed, "Suppressed"
	case finding.StatusNotApplicable:
		return ocsfStatusOther, "Not Applicable"
	}
	return ocsfStatusNew, "New"
}

// ocsfResourceType names the kind of resource an ARN is.
func ocsfResourceType(arn string) string {
	p := strings.SplitN(arn, ":", 6)
	switch {
	case len(p) == 6 && p[2] == "iam" && p[5] == "root":
		return "AwsIamRootUser"
	case len(p) == 6 && p[2] == "organizations":
		return "AwsOrganizationsOrganization"
	}
	return "AwsAccount"
}

// Records converts a run into Detection Findings, one per finding, in run order.
func (o OCSF) Records(run *finding.Run) []OCSFRecord {
	out := make([]OCSFRecord, 0, len(run.Findings))
	o.each(run, func(rec OCSFRecord) error {
		out = append(out, rec)
		return nil
	})
	return out
}

// each gives fn the run's records one at a time, stopping at its error.
func (o OCSF) each(run *finding.Run, fn func(OCSFRecord) error) error {
	partitions := map[string]string{}
	for _, a := range run.Accounts {
		partitions[a.AccountID] = a.Partition
	}
	stamp := run.AsOf.UTC().UnixMilli()
	for _, f := range run.Findings {
		sevID, sev := ocsfSeverity(f.Severity)
		stID, st := ocsfStatus(f.Status)
		partition := partitions[f.AccountID]
		if p := arnPartition(f.Resource); p != "" {
			partition = p
		}
		region := f.Region
		if region == "global" {
			region = "" // IAM is global: no region to name
		}
		uid := ASFFID(f)
		sum := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%d", uid, stamp)))
		rec := OCSFRecord{
			ActivityID: ocsfActivityID, ActivityName: ocsfActivityName,
			CategoryUID: ocsfCategoryUID, CategoryName: ocsfCategoryName,
			ClassUID: ocsfClassUID, ClassName: ocsfClassName,
			TypeUID: ocsfClassUID*100 + ocsfActivityID, TypeName: ocsfClassName + ": " + ocsfActivityName,
			SeverityID: sevID, Severity: sev,
			StatusID: stID, Status: st, StatusCode: string(f.Status),
			Message: ocsfText(f.Message), Time: stamp,
			Metadata: ocsfMetadata{
				Version: OCSFVersion, UID: hex.EncodeToString(sum[:16]),
				Product:  ocsfProduct{UID: "rootwatch", Name: "rootwatch", VendorName: "rootwatch", Version: run.Tool.Version, URLString: "https://github.com/rootwatch/rootwatch"},
				Profiles: []string{"cloud"}, LogName: "rootwatch scan",
			},
			FindingInfo: ocsfFindingInfo{
				UID: uid, Title: ocsfText(f.Title), SrcURL: RulePageURL(f.RuleID),
				Analytic: ocsfAnalytic{UID: f.RuleID, Name: ocsfText(f.Title), TypeID: 1, Type: "Rule"},
			},
			Cloud:     ocsfCloud{Provider: "AWS", Region: region, Account: ocsfAccount{UID: f.AccountID, TypeID: 10, Type: "AWS Account"}},
			Resources: []ocsfResource{{UID: f.Resource, Type: ocsfResourceType(f.Resource), CloudPartition: partition, Region: region}},
			Unmapped: map[string]any{"rootwatch": map[string]any{
				"rule_id": f.RuleID, "status": string(f.Status), "fingerprint": f.Fingerprint, "evidence": f.Evidence,
			}},
		}
		if f.Status == finding.StatusSuppressed && f.Suppression != nil {
			rec.StatusDetail = ocsfText(f.Suppression.Reason)
		}
		if m, ok := o.Meta.Rule(f.RuleID); ok {
			rec.FindingInfo.Desc = ocsfText(m.Summary)
			rec.FindingInfo.Types = append([]string{m.Category}, m.Tags...)
			rec.FindingInfo.Analytic.Category = m.Category
			if m.Action != "" {
				rec.Remediation = &ocsfRemediation{Desc: ocsfText(m.Action), References: []string{RulePageURL(f.RuleID)}}
			}
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

// Write emits the records as JSON Lines, each as soon as it is built: a
// large organization's run is not held twice.
func (o OCSF) Write(w io.Writer, run *finding.Run) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	err := o.each(run, func(rec OCSFRecord) error { return enc.Encode(rec) })
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return fmt.Errorf("write ocsf: %w", err)
	}
	return nil
}
