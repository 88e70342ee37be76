// Package runcodec is how the history store keeps a run without SQL: the
// JSON a scan wrote cut into a frame, accounts and findings (Doc, FromRun,
// FromDocument) and written back byte for byte (WriteDocument, DecodeRun);
// each account and finding a Part whose template is a Version shared by
// the runs that hold it, with the slots (times, numbers) a run writes
// differently as Edits (Exceptions, Apply); a run's references to its
// versions packed as varints (Row, EncodeRow, DecodeRow, Reader).
package runcodec

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/rootwatch/rootwatch/internal/finding"
)

// Doc is a run as the JSON a scan wrote of it (-f json is this
// document, indented): the frame (the document with its accounts and
// findings arrays left empty, or null) and each account's and finding's
// compact JSON, with the facts the store indexes.
type Doc struct {
	Frame         []byte
	Accounts      [][]byte
	Findings      [][]byte
	AccountIDs    []string
	AccountStatus []string
	Facts         []Facts
}

// Facts are what the store indexes of a finding.
type Facts struct {
	Fingerprint string     `json:"fingerprint"`
	RuleID      string     `json:"rule_id"`
	AccountID   string     `json:"account_id"`
	Resource    string     `json:"resource"`
	Status      string     `json:"status"`
	Severity    string     `json:"severity"`
	FirstSeen   *time.Time `json:"first_seen"`
}

// FromRun encodes a run as encoding/json encodes it whole: an element of
// a slice is encoded as its own value (by address, as in the slice).
func FromRun(run *finding.Run) (*Doc, error) {
	cp := *run
	if cp.Accounts != nil {
		cp.Accounts = []finding.Account{}
	}
	if cp.Findings != nil {
		cp.Findings = []finding.Finding{}
	}
	frame, err := json.Marshal(&cp)
	if err != nil {
		return nil, fmt.Errorf("store: encode run: %w", err)
	}
	r := &Doc{Frame: frame, Accounts: make([][]byte, len(run.Accounts)), Findings: make([][]byte, len(run.Findings)),
		AccountIDs: make([]string, len(run.Accounts)), AccountStatus: make([]string, len(run.Accounts)), Facts: make([]Facts, len(run.Findings))}
	for i := range run.Accounts {
		a := &run.Accounts[i]
		if r.Accounts[i], err = json.Marshal(a); err != nil {
			return nil, fmt.Errorf("store: encode account %s: %w", a.AccountID, err)
		}
		r.AccountIDs[i], r.AccountStatus[i] = a.AccountID, string(a.Status)
	}
	for i := range run.Findings {
		f := &run.Findings[i]
		if r.Findings[i], err = json.Marshal(f); err != nil {
			return nil, fmt.Errorf("store: encode finding %s of account %s: %w", f.RuleID, f.AccountID, err)
		}
		r.Facts[i] = Facts{Fingerprint: f.Fingerprint, RuleID: f.RuleID, AccountID: f.AccountID, Resource: f.Resource,
			Status: string(f.Status), Severity: string(f.Severity), FirstSeen: f.FirstSeen}
	}
	return r, nil
}

// FromDocument cuts a stored document (a run's compact JSON, as schema 3
// kept it whole) into the same parts, byte for byte.
func FromDocument(doc []byte) (*Doc, error) {
	fields, err := frameFields(doc)
	if err != nil {
		return nil, err
	}
	r := &Doc{}
	for i, f := range fields {
		if f.key != "accounts" && f.key != "findings" {
			continue
		}
		var elems []json.RawMessage
		if err := json.Unmarshal(f.value, &elems); err != nil {
			return nil, fmt.Errorf("%s: %w", f.key, err)
		}
		if elems != nil {
			fields[i].value = []byte("[]")
		}
		for _, e := range elems {
			if f.key == "accounts" {
				var a struct {
					AccountID string `json:"account_id"`
					Status    string `json:"status"`
				}
				if err := json.Unmarshal(e, &a); err != nil {
					return nil, fmt.Errorf("an account: %w", err)
				}
				r.Accounts, r.AccountIDs, r.AccountStatus = append(r.Accounts, e), append(r.AccountIDs, a.AccountID), append(r.AccountStatus, a.Status)
				continue
			}
			var fa Facts
			if err := json.Unmarshal(e, &fa); err != nil {
				return nil, fmt.Errorf("a finding: %w", err)
			}
			r.Findings, r.Facts = append(r.Findings, e), append(r.Facts, fa)
		}
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(f.name)
		b.WriteByte(':')
		b.Write(f.value)
	}
	b.WriteByte('}')
	r.Frame = b.Bytes()
	if ok, err := ReadsBack(r, doc); err != nil {
		return nil, err
	} else if !ok {
		return nil, errors.New("the document does not read back byte for byte from its parts")
	}
	return r, nil
}

// field is one top-level member of a run's document.
type field struct {
	key   string
	name  []byte // the key as encoded
	value []byte
}

// frameFields lists the top-level members of a compact JSON object.
func frameFields(doc []byte) ([]field, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object (%v)", err)
	}
	var out []field
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		name, _ := json.Marshal(key)
		out = append(out, field{key: key, name: name, value: v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the document")
	}
	return out, nil
}

// withRunID writes a history object with its run's id: the run is saved
// before the store gives it one (as Load has always set it).
func withRunID(history []byte, id int64) []byte {
	const head = `{"run_id":`
	if !bytes.HasPrefix(history, []byte(head)) {
		return history
	}
	rest := history[len(head):]
	n := 0
	for n < len(rest) && (isDigit(rest[n]) || rest[n] == '-') {
		n++
	}
	if n == 0 || n == len(rest) || rest[n] != ',' && rest[n] != '}' {
		return history
	}
	out := append([]byte(head), strconv.FormatInt(id, 10)...)
	return append(out, rest[n:]...)
}

// WriteDocument writes a run's document as `scan -f json` writes it (a
// json.Encoder with a two-space indent, ending in a newline), with id as
// its history's run_id (0: as stored).
func WriteDocument(w io.Writer, raw *Doc, id int64) error {
	fields, err := frameFields(raw.Frame)
	if err != nil {
		return fmt.Errorf("store: the run's frame: %w", err)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	var scratch bytes.Buffer
	put := func(v []byte, prefix string) {
		scratch.Reset()
		if err := json.Indent(&scratch, v, prefix, "  "); err != nil {
			bw.Write(v)
			return
		}
		bw.Write(scratch.Bytes())
	}
	end := func(last bool) {
		if last {
			bw.WriteString("\n")
		} else {
			bw.WriteString(",\n")
		}
	}
	bw.WriteString("{\n")
	for i, f := range fields {
		bw.WriteString("  ")
		bw.Write(f.name)
		bw.WriteString(": ")
		var elems [][]byte
		switch f.key {
		case "accounts":
			elems = raw.Accounts
		case "findings":
			elems = raw.Findings
		}
		switch {
		case len(elems) > 0 && string(f.value) == "[]":
			bw.WriteString("[\n")
			for k, e := range elems {
				bw.WriteString("    ")
				put(e, "    ")
				end(k == len(elems)-1)
			}
			bw.WriteString("  ]")
		case f.key == "history" && id != 0:
			put(withRunID(f.value, id), "  ")
		default:
			put(f.value, "  ")
		}
		end(i == len(fields)-1)
	}
	bw.WriteString("}\n")
	return bw.Flush()
}

// ReadsBack says whether a run's parts write the document they were cut
// from (compact, as a store keeps it).
func ReadsBack(raw *Doc, doc []byte) (bool, error) {
	var indented, compact bytes.Buffer
	if err := WriteDocument(&indented, raw, 0); err != nil {
		return false, err
	}
	if err := json.Compact(&compact, indented.Bytes()); err != nil {
		return false, err
	}
	return bytes.Equal(compact.Bytes(), doc), nil
}

// DecodeRun reads a run back from its frame and parts.
func DecodeRun(frame []byte, accounts, findings [][]byte) (*finding.Run, error) {
	var run finding.Run
	if err := json.Unmarshal(frame, &run); err != nil {
		return nil, err
	}
	for _, a := range accounts {
		var acc finding.Account
		if err := json.Unmarshal(a, &acc); err != nil {
			return nil, err
		}
		run.Accounts = append(run.Accounts, acc)
	}
	if len(findings) > 0 {
		run.Findings = make([]finding.Finding, len(findings))
	}
	for i, f := range findings {
		if err := json.Unmarshal(f, &run.Findings[i]); err != nil {
			return nil, err
		}
	}
	return &run, nil
}
