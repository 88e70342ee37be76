package store

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

// rawRun is a run as the JSON a scan wrote of it (-f json is this
// document, indented): the frame (the document with its accounts and
// findings arrays left empty, or null) and each account's and finding's
// compact JSON, with the facts the store indexes.
type rawRun struct {
	frame    []byte
	accounts [][]byte
	findings [][]byte
	acctIDs  []string
	acctSt   []string
	facts    []facts
}

// facts are what the store indexes of a finding.
type facts struct {
	Fingerprint string     `json:"fingerprint"`
	RuleID      string     `json:"rule_id"`
	AccountID   string     `json:"account_id"`
	Resource    string     `json:"resource"`
	Status      string     `json:"status"`
	Severity    string     `json:"severity"`
	FirstSeen   *time.Time `json:"first_seen"`
}

// fromRun encodes a run as encoding/json encodes it whole: an element of
// a slice is encoded as its own value (by address, as in the slice).
func fromRun(run *finding.Run) (*rawRun, error) {
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
	r := &rawRun{frame: frame, accounts: make([][]byte, len(run.Accounts)), findings: make([][]byte, len(run.Findings)),
		acctIDs: make([]string, len(run.Accounts)), acctSt: make([]string, len(run.Accounts)), facts: make([]facts, len(run.Findings))}
	for i := range run.Accounts {
		a := &run.Accounts[i]
		if r.accounts[i], err = json.Marshal(a); err != nil {
			return nil, fmt.Errorf("store: encode account %s: %w", a.AccountID, err)
		}
		r.acctIDs[i], r.acctSt[i] = a.AccountID, string(a.Status)
	}
	for i := range run.Findings {
		f := &run.Findings[i]
		if r.findings[i], err = json.Marshal(f); err != nil {
			return nil, fmt.Errorf("store: encode finding %s of account %s: %w", f.RuleID, f.AccountID, err)
		}
		r.facts[i] = facts{Fingerprint: f.Fingerprint, RuleID: f.RuleID, AccountID: f.AccountID, Resource: f.Resource,
			Status: string(f.Status), Severity: string(f.Severity), FirstSeen: f.FirstSeen}
	}
	return r, nil
}

// fromDocument cuts a stored document (a run's compact JSON, as schema 3
// kept it whole) into the same parts, byte for byte.
func fromDocument(doc []byte) (*rawRun, error) {
	fields, err := frameFields(doc)
	if err != nil {
		return nil, err
	}
	r := &rawRun{}
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
				r.accounts, r.acctIDs, r.acctSt = append(r.accounts, e), append(r.acctIDs, a.AccountID), append(r.acctSt, a.Status)
				continue
			}
			var fa facts
			if err := json.Unmarshal(e, &fa); err != nil {
				return nil, fmt.Errorf("a finding: %w", err)
			}
			r.findings, r.facts = append(r.findings, e), append(r.facts, fa)
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
	r.frame = b.Bytes()
	if ok, err := readsBack(r, doc); err != nil {
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

// writeDocument writes a run's document as `scan -f json` writes it (a
// json.Encoder with a two-space indent, ending in a newline), with id as
// its history's run_id (0: as stored).
func writeDocument(w io.Writer, raw *rawRun, id int64) error {
	fields, err := frameFields(raw.frame)
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
			elems = raw.accounts
		case "findings":
			elems = raw.findings
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

// readsBack says whether a run's parts write the document they were cut
// from (compact, as a store keeps it).
func readsBack(raw *rawRun, doc []byte) (bool, error) {
	var indented, compact bytes.Buffer
	if err := writeDocument(&indented, raw, 0); err != nil {
		return false, err
	}
	if err := json.Compact(&compact, indented.Bytes()); err != nil {
		return false, err
	}
	return bytes.Equal(compact.Bytes(), doc), nil
}

// decodeRun reads a run back from its frame and parts.
func decodeRun(frame []byte, accounts, findings [][]byte) (*finding.Run, error) {
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
