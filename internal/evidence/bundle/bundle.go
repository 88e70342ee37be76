// Package bundle saves what a scan collected as an evidence bundle and reads
// it back, so that evidence collected live can be evaluated again offline
// with identical results (docs/DESIGN.md, "Offline equals live").
//
// A bundle is one JSON document (gzip-compressed when its name ends in .gz)
// holding, per account, every source's status and the evidence itself: the
// credential report exactly as AWS sent it (re-parsed on load by the same
// parser), the account summary, MFA devices, organization facts, root
// credentials read by an AssumeRoot audit, the SCPs on the account's path,
// and the classified CloudTrail root events. It also keeps the as-of time and the configuration the scan used.
// It holds no AWS credentials; it does hold the whole credential report, so
// it is written readable by its owner only.
package bundle

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/evidence/credreport"
	"github.com/rootwatch/rootwatch/internal/outfile"
	"github.com/rootwatch/rootwatch/internal/window"
)

// Format and Version identify a bundle document.
const (
	Format  = "rootwatch-evidence"
	Version = 1
)

// ConfigFile is a configuration file the scan read, kept verbatim.
type ConfigFile struct {
	Name string `json:"name"`
	Data string `json:"data"`
}

// Bundle is the saved evidence of one scan.
type Bundle struct {
	Format      string    `json:"format"`
	Version     int       `json:"version"`
	Tool        string    `json:"tool"`
	ToolVersion string    `json:"tool_version"`
	CreatedAt   time.Time `json:"created_at"`
	// AsOf is the time the scan judged as of; evaluating the bundle again
	// uses it unless told otherwise.
	AsOf time.Time `json:"as_of"`
	// Config, Window and MaxReportAge are the settings the scan was given.
	Config       []ConfigFile        `json:"config,omitempty"`
	Window       window.Window       `json:"window,omitempty"`
	MaxReportAge window.Window       `json:"max_report_age,omitempty"`
	Accounts     []*evidence.Account `json:"accounts"`
}

// New builds a bundle from collected accounts. The accounts are saved as
// they are (evidence types carry their own JSON form).
func New(accounts []*evidence.Account, tool, toolVersion string, createdAt, asOf time.Time) *Bundle {
	return &Bundle{Format: Format, Version: Version, Tool: tool, ToolVersion: toolVersion,
		CreatedAt: createdAt.UTC(), AsOf: asOf.UTC(), Accounts: accounts}
}

// Write encodes the bundle, gzip-compressed when gz is set.
func (b *Bundle) Write(w io.Writer, gz bool) error {
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(w)
		w = zw
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	if err := enc.Encode(b); err != nil {
		return fmt.Errorf("encode evidence bundle: %w", err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return fmt.Errorf("compress evidence bundle: %w", err)
		}
	}
	return nil
}

// Save writes the bundle to path (owner-only permissions), compressed when
// path ends in .gz, through outfile: a file is written whole or not at all
// (a temporary file beside it renamed into place), a device or a pipe is
// written in place, a symbolic link is written through.
func (b *Bundle) Save(ctx context.Context, path string) error {
	return outfile.WriteFile(ctx, "evidence bundle", path, 0o600, func(w io.Writer) error {
		return b.Write(w, strings.HasSuffix(path, ".gz"))
	})
}

// maxBundle bounds what Load decompresses (a bundle of 1,000 accounts with
// CloudTrail is tens of megabytes).
const maxBundle = 4 << 30

// Load reads a bundle file: JSON, gzip-compressed or not (detected from the
// content, not the name).
func Load(path string) (*Bundle, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("evidence bundle: %w", err)
	}
	defer f.Close()
	return Read(f, path)
}

// Read decodes a bundle; name is used in errors.
func Read(r io.Reader, name string) (*Bundle, error) {
	var head [2]byte
	n, _ := io.ReadFull(r, head[:])
	in := io.MultiReader(bytes.NewReader(head[:n]), r)
	if n == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(in)
		if err != nil {
			return nil, fmt.Errorf("%s: not a valid gzip file: %w", name, err)
		}
		defer zr.Close()
		in = zr
	}
	dec := json.NewDecoder(io.LimitReader(in, maxBundle))
	dec.DisallowUnknownFields()
	var b Bundle
	if err := dec.Decode(&b); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty file, not an evidence bundle", name)
		}
		return nil, fmt.Errorf("%s: not a rootwatch evidence bundle: %w", name, err)
	}
	if b.Format != Format {
		return nil, fmt.Errorf("%s: format is %q, want %q (written by rootwatch scan --save-evidence)", name, b.Format, Format)
	}
	if b.Version != Version {
		return nil, fmt.Errorf("%s: bundle version %d, this rootwatch reads version %d", name, b.Version, Version)
	}
	if len(b.Accounts) == 0 {
		return nil, fmt.Errorf("%s: the bundle holds no account", name)
	}
	return &b, nil
}

// partitions are the AWS partitions an account can be in.
var partitions = []string{"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"}

// consistentSources refuses an account whose source states and data
// disagree: a source ok without its data, or one that was not collected
// (missing, denied, error) with data.
func consistentSources(a *evidence.Account) error {
	has := map[string]bool{
		evidence.SourceCredentialReport: a.CredentialReport != nil,
		evidence.SourceAccountSummary:   a.AccountSummary != nil,
		evidence.SourceVirtualMFA:       a.VirtualMFADevices != nil,
		evidence.SourceOrganization:     a.Organization != nil,
		evidence.SourceCloudTrail:       a.CloudTrail != nil,
		evidence.SourceRootCredentials:  a.RootCredentials != nil,
		evidence.SourceIAMAuthorization: a.IAMAuthorization != nil,
		evidence.SourcePolicySimulation: a.PolicySimulations != nil,
		evidence.SourceRootEmail:        a.RootEmail != nil,
	}
	for _, name := range slices.Sorted(maps.Keys(has)) {
		st, recorded := a.Sources[name]
		switch {
		case recorded && (st.State == evidence.StateOK || st.State == evidence.StatePartial) && !has[name]:
			return fmt.Errorf("sources.%s is %s but the bundle holds no %s", name, st.State, name)
		case has[name] && (!recorded || (st.State != evidence.StateOK && st.State != evidence.StatePartial)):
			state := "not recorded"
			if recorded {
				state = string(st.State)
			}
			return fmt.Errorf("sources.%s is %s but the bundle holds %s data", name, state, name)
		}
	}
	// SCPs keep what was read beside a refused read: their data goes with
	// any state the scan recorded, and ok needs it.
	st, recorded := a.Sources[evidence.SourceSCPs]
	switch {
	case recorded && st.State == evidence.StateOK && a.SCPs == nil:
		return fmt.Errorf("sources.%s is ok but the bundle holds no scps", evidence.SourceSCPs)
	case a.SCPs != nil && (!recorded || st.State == evidence.StateMissing):
		return fmt.Errorf("sources.%s is not recorded but the bundle holds scps", evidence.SourceSCPs)
	}
	// The monitoring sources share one part: any of them ok needs it.
	for _, name := range evidence.MonitoringSources() {
		if st, ok := a.Sources[name]; ok && st.State == evidence.StateOK && a.Monitoring == nil {
			return fmt.Errorf("sources.%s is ok but the bundle holds no monitoring", name)
		}
	}
	return nil
}

// Evidence rebuilds the accounts' evidence: credential reports are parsed
// again from their saved bytes, CloudTrail event times restored.
func (b *Bundle) Evidence(name string) ([]*evidence.Account, error) {
	seen := map[string]bool{}
	out := make([]*evidence.Account, 0, len(b.Accounts))
	for i, a := range b.Accounts {
		if a == nil {
			return nil, fmt.Errorf("%s: accounts[%d] is null", name, i)
		}
		where := fmt.Sprintf("%s: accounts[%d] (%s)", name, i, a.ID)
		if !evidence.ValidAccountID(a.ID) {
			return nil, fmt.Errorf("%s: account_id %q is not 12 digits", where, a.ID)
		}
		if seen[a.ID] {
			return nil, fmt.Errorf("%s: account %s appears twice", where, a.ID)
		}
		seen[a.ID] = true
		if a.Partition != "" && !slices.Contains(partitions, a.Partition) {
			return nil, fmt.Errorf("%s: partition %q is not an AWS partition (%s)", where, a.Partition, strings.Join(partitions, ", "))
		}
		for name, st := range a.Sources {
			switch st.State {
			case evidence.StateOK, evidence.StateMissing, evidence.StateDenied, evidence.StateError:
			case evidence.StatePartial:
				if name != evidence.SourceCloudTrail {
					return nil, fmt.Errorf("%s: source %s has state partial, which only cloudtrail can have", where, name)
				}
			default:
				return nil, fmt.Errorf("%s: source %s has state %q (want ok, partial, missing, denied or error)", where, name, st.State)
			}
		}
		if err := consistentSources(a); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if r := a.CredentialReport; r != nil {
			rep, err := credreport.Parse(r.CSV, r.Source, r.GeneratedTime.UTC())
			if err != nil {
				return nil, fmt.Errorf("%s: credential_report: %w", where, err)
			}
			rep.TakenAtAsOf = r.TakenAtAsOf
			a.CredentialReport = rep
			if p, acct, err := credreport.AccountOf(rep); err == nil && (acct != a.ID || (a.Partition != "" && p != a.Partition)) {
				return nil, fmt.Errorf("%s: credential_report: its ARNs name account %s in %s, not account_id %s in %s", where, acct, p, a.ID, a.Partition)
			}
		}
		if rc := a.RootCredentials; rc != nil {
			for j, d := range rc.MFADevices {
				if d.Kind != "" && d.Kind != d.MFAKind() {
					return nil, fmt.Errorf("%s: root_credentials.mfa_devices[%d]: kind %q, but its serial number %q is a %s", where, j, d.Kind, d.ID, d.MFAKind())
				}
			}
		}
		if ct := a.CloudTrail; ct != nil {
			for j := range ct.Events {
				if err := ct.Events[j].RestoreTime(); err != nil {
					return nil, fmt.Errorf("%s: cloudtrail.events[%d]: %w", where, j, err)
				}
				if c := ct.Events[j].Category; !slices.Contains(evidence.Categories(), c) {
					return nil, fmt.Errorf("%s: cloudtrail.events[%d].category: %q is not a category of root activity (%s)", where, j, c, strings.Join(evidence.Categories(), ", "))
				}
			}
		}
		if err := checkCounts(a); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		out = append(out, a)
	}
	return out, nil
}
