package credreport

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// reportOfSize is a valid report of exactly size bytes: the root row, then
// one IAM user whose name is padded to fill it.
func reportOfSize(size int) []byte {
	head := header + "\n" + awsRootRow + "\nuser-"
	tail := ",arn:aws:iam::000000000000:user/u,2022-03-23T10:21:07+00:00,true,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
	return []byte(head + strings.Repeat("x", size-len(head)-len(tail)) + tail)
}

// TestReportOverTheBoundIsRefused: a report over MaxReportBytes is refused
// with a message that names it and the bound, in every form: CSV, the CLI's
// JSON (before decoding its base64), and a file (before reading it).
func TestReportOverTheBoundIsRefused(t *testing.T) {
	over := reportOfSize(MaxReportBytes + 1)
	var tooLarge *TooLargeError
	_, err := Parse(over, "GetCredentialReport", time.Time{})
	if !errors.As(err, &tooLarge) || !strings.Contains(err.Error(), "GetCredentialReport: the credential report is 16,777,") || !strings.Contains(err.Error(), "over the 16 MiB rootwatch reads") {
		t.Errorf("Parse: %v", err)
	}
	json := []byte(`{"Content": "` + base64.StdEncoding.EncodeToString(over) + `", "ReportFormat": "text/csv"}`)
	if _, err := ParseFile(json, "report.json"); !errors.As(err, &tooLarge) || tooLarge.Source != "report.json" {
		t.Errorf("ParseFile JSON: %v", err)
	}

	dir := t.TempDir()
	huge := filepath.Join(dir, "huge.csv")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	// A sparse 70 MB file: refused from its size, never read.
	if err := f.Truncate(70_000_000); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := ReadFile(huge); !errors.As(err, &tooLarge) || !strings.Contains(err.Error(), huge+": the credential report is 70,000,000 bytes (66.8 MiB), over the 16 MiB") {
		t.Errorf("ReadFile: %v", err)
	}

	// At the bound it is read and parsed whole.
	under := reportOfSize(MaxReportBytes)
	path := filepath.Join(dir, "under.csv")
	if err := os.WriteFile(path, under, 0o600); err != nil {
		t.Fatal(err)
	}
	data, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ParseFile(data, path)
	if err != nil || rep.Root().Row == nil || len(rep.Rows) != 2 || len(rep.CSV) != MaxReportBytes {
		t.Fatalf("a report under the bound: %v", err)
	}
}

// TestCellsKeptOnlyForRootRows: every cell by name is kept for rows the root
// lookup compares, not for every IAM user, whose cells stay in the CSV.
func TestCellsKeptOnlyForRootRows(t *testing.T) {
	rep := mustParse(t, header+"\n"+awsRootRow+"\nalice,arn:aws:iam::000000000000:user/alice,2022-03-23T10:21:07+00:00,true,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A")
	if root := rep.Rows[0]; len(root.Raw) != 22 || root.Raw["password_last_used"] != "2022-08-26T15:26:38+00:00" {
		t.Errorf("root row cells %v", root.Raw)
	}
	if alice := rep.Rows[1]; alice.Raw != nil || alice.User != "alice" || !alice.PasswordEnabled.IsTrue() {
		t.Errorf("alice %+v", alice)
	}
}
