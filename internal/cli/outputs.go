package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/rootwatch/rootwatch/internal/awsx"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/report"
	"github.com/rootwatch/rootwatch/internal/rules"
)

// extensions lists the file name endings --output-dir uses, by format.
func extensions() []string {
	var out []string
	for _, f := range report.Formats() {
		out = append(out, report.Extension(f))
	}
	return out
}

// output is one writer and where it writes ("" is standard output).
type output struct {
	writer report.Writer
	path   string
}

// planOutputs pairs formats with destinations: one format to standard
// output, formats paired in order with --output files (- for standard
// output), or every format into --output-dir (created if need be) with its
// default name. No output may name an input, the evidence bundle being
// saved, or another output, however the path is spelled.
func planOutputs(app *App, o *scanOptions) ([]output, error) {
	meta, err := rules.Info()
	if err != nil {
		return nil, err
	}
	var paths []string
	switch {
	case o.outputDir != "" && len(o.outputs) > 0:
		return nil, fmt.Errorf("--output and --output-dir cannot be combined")
	case o.outputDir != "":
		if err := os.MkdirAll(o.outputDir, 0o700); err != nil {
			return nil, fmt.Errorf("--output-dir: %w", err)
		}
		for _, f := range o.formats {
			paths = append(paths, filepath.Join(o.outputDir, "rootwatch."+report.Extension(f)))
		}
	case len(o.outputs) == len(o.formats):
		paths = o.outputs
	case len(o.outputs) == 0 && len(o.formats) == 1:
		paths = []string{""}
	case len(o.outputs) == 0:
		return nil, fmt.Errorf("%d formats but no --output: give one --output per --format, or --output-dir", len(o.formats))
	default:
		return nil, fmt.Errorf("%d --format and %d --output: give one --output per --format, in the same order", len(o.formats), len(o.outputs))
	}
	files := newPathSet()
	for _, in := range o.inputs() {
		if err := files.add(in[0], in[1]); err != nil {
			return nil, err
		}
	}
	if err := files.add("--save-evidence", o.saveEvidence); err != nil {
		return nil, err
	}
	toStdout := 0
	var outs []output
	for i, f := range o.formats {
		if paths[i] == stdoutPath {
			paths[i] = ""
		}
		if paths[i] == "" {
			if toStdout++; toStdout > 1 {
				return nil, errors.New("two outputs write to standard output: give each --format its own --output")
			}
		}
		if strings.HasPrefix(paths[i], "s3://") {
			if err := checkS3Output(paths[i]); err != nil {
				return nil, err
			}
		}
		if err := files.add("--output", paths[i]); err != nil {
			return nil, err
		}
		w, err := report.New(f, report.Options{Color: useColor(app, o, paths[i]), Meta: meta})
		if err != nil {
			return nil, err
		}
		outs = append(outs, output{writer: w, path: paths[i]})
	}
	return outs, nil
}

func useColor(app *App, o *scanOptions, path string) bool {
	switch o.color {
	case "always":
		return true
	case "never":
		return false
	}
	return path == "" && app.Getenv("NO_COLOR") == "" && app.IsTerminal(app.Stdout)
}

func writeRun(ctx context.Context, app *App, o *scanOptions, w report.Writer, run *finding.Run, path string) error {
	switch {
	case path == "":
		return w.Write(app.Stdout, run)
	case strings.HasPrefix(path, "s3://"):
		var buf bytes.Buffer
		if err := w.Write(&buf, run); err != nil {
			return err
		}
		return putS3(ctx, app, o, path, buf.Bytes())
	}
	return writeAtomically(path, func(f io.Writer) error { return w.Write(f, run) })
}

// putS3 uploads an output to s3://bucket/key with server-side encryption
// requested (SSE-S3, or the bucket's default KMS key when it has one) and
// no ACL: the object is as private as the bucket.
func putS3(ctx context.Context, app *App, o *scanOptions, uri string, body []byte) error {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(uri, "s3://"), "/")
	cfg, err := awsx.Load(ctx, app.AWSConfig, o.profile, o.region)
	if err != nil {
		return withCredentialsHelp(err)
	}
	c := s3.NewFromConfig(cfg, func(s *s3.Options) { s.UsePathStyle = cfg.BaseEndpoint != nil })
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body),
		ServerSideEncryption: s3types.ServerSideEncryptionAes256, ContentType: aws.String(contentType(key))})
	if err != nil {
		return fmt.Errorf("upload %s: %s", uri, awsx.Describe("PutObject", err))
	}
	fmt.Fprintf(app.Stderr, "uploaded %s (%d bytes, server-side encrypted)\n", report.Clean(uri), len(body))
	return nil
}

func contentType(key string) string {
	switch {
	case strings.HasSuffix(key, ".html"):
		return "text/html; charset=utf-8"
	case strings.HasSuffix(key, ".json"), strings.HasSuffix(key, ".sarif"):
		return "application/json"
	case strings.HasSuffix(key, ".csv"):
		return "text/csv; charset=utf-8"
	}
	return "text/plain; charset=utf-8"
}

// checkS3Output refuses an s3:// output without a bucket or key.
func checkS3Output(uri string) error {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(uri, "s3://"), "/")
	if bucket == "" || key == "" || strings.HasSuffix(key, "/") {
		return fmt.Errorf("--output %s: want s3://bucket/key", uri)
	}
	return nil
}

// inputs lists the files the scan reads, by the flag that names them.
func (o *scanOptions) inputs() [][2]string {
	var in [][2]string
	for _, p := range o.credentialReports {
		in = append(in, [2]string{"--credential-report", p})
	}
	for _, p := range o.cloudtrail {
		in = append(in, [2]string{"--cloudtrail", p})
	}
	if o.configFile != "" {
		in = append(in, [2]string{"--config", o.configFile})
	}
	if o.evidenceFile != "" {
		in = append(in, [2]string{"--evidence", o.evidenceFile})
	}
	return in
}
