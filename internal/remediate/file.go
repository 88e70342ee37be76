package remediate

// The plan file: what remediate plan writes and remediate apply reads, as
// evidence/bundle is for bundles.

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/rootwatch/rootwatch/internal/outfile"
)

// ErrRefused says a plan cannot be applied.
var ErrRefused = errors.New("plan refused")

// Write encodes the plan as its file holds it: indented JSON.
func (p *Plan) Write(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}

// Save writes the plan to path, owner-only, through outfile: a file is
// written whole or not at all, a device or a pipe in place, a symbolic
// link through.
func (p *Plan) Save(ctx context.Context, path string) error {
	return outfile.WriteFile(ctx, "plan", path, 0o600, p.Write)
}

// LoadPlan reads a plan file and checks it against itself (verify), with
// its signature under key when a key is given. Errors name the file.
func LoadPlan(path string, key []byte) (*Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	p, err := DecodePlan(data)
	if err == nil {
		err = p.verify(key)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// DecodePlan reads a plan file's bytes: a plan of another schema version
// is refused by that name (before its fields are held against this one),
// and unknown fields or trailing data are errors.
func DecodePlan(data []byte) (*Plan, error) {
	var head struct {
		SchemaVersion *string `json:"schema_version"`
	}
	if err := json.Unmarshal(data, &head); err != nil || head.SchemaVersion == nil {
		if err == nil {
			err = errors.New("no schema_version")
		}
		return nil, fmt.Errorf("not a rootwatch plan: %w", err)
	}
	if *head.SchemaVersion != SchemaVersion {
		return nil, otherSchema(*head.SchemaVersion)
	}
	var p Plan
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("not a rootwatch plan: %w", err)
	}
	if dec.More() {
		return nil, errors.New("not a rootwatch plan: data after the plan's JSON object")
	}
	return &p, nil
}

func otherSchema(v string) error {
	return fmt.Errorf("%w: schema_version %q, this rootwatch applies %q: make the plan again with remediate plan", ErrRefused, v, SchemaVersion)
}

// verify checks the plan against itself: its schema version, its digest,
// and, when key is not nil, its signature under key.
func (p *Plan) verify(key []byte) error {
	if p.SchemaVersion != SchemaVersion {
		return otherSchema(p.SchemaVersion)
	}
	if p.Digest != p.ComputeDigest() {
		return fmt.Errorf("%w: digest: does not match the plan's content: the plan was changed or cut short after it was made; make a new one", ErrRefused)
	}
	if key != nil {
		if why := p.checkSignature(key); why != "" {
			return fmt.Errorf("%w: %s", ErrRefused, why)
		}
	}
	return nil
}

// content is what the digest and the signature cover: the plan's JSON
// without either.
func (p *Plan) content() []byte {
	c := *p
	c.Digest, c.Signature = "", ""
	b, _ := json.Marshal(c)
	return b
}

// ComputeDigest is the SHA-256 of the plan's JSON with the digest and the
// signature left out. It detects accidental change, not a forger: anyone
// who can edit the plan can recompute it.
func (p *Plan) ComputeDigest() string {
	sum := sha256.Sum256(p.content())
	return hex.EncodeToString(sum[:])
}

const signaturePrefix = "hmac-sha256:"

func (p *Plan) mac(key []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(p.content())
	return m.Sum(nil)
}

// Sign sets the signature under key (the digest is unchanged).
func (p *Plan) Sign(key []byte) { p.Signature = signaturePrefix + hex.EncodeToString(p.mac(key)) }

// checkSignature says why the plan's signature is not valid under key, or
// "" when it is. The comparison is constant-time.
func (p *Plan) checkSignature(key []byte) string {
	if p.Signature == "" {
		return "signature: the plan is not signed, and --sign-key requires a plan signed with that key (remediate plan --sign-key)"
	}
	hexSig, ok := strings.CutPrefix(p.Signature, signaturePrefix)
	got, err := hex.DecodeString(hexSig)
	if !ok || err != nil {
		return "signature: not an " + signaturePrefix + "<hex> value"
	}
	if !hmac.Equal(got, p.mac(key)) {
		return "signature: does not match under the --sign-key key: the plan was changed after it was signed, or signed with another key"
	}
	return ""
}
