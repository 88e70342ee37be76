package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/rootwatch/rootwatch/internal/awsx"
	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/outfile"
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

// output is one writer and where it writes: a local target (a file, a
// device, a pipe, standard output) or an s3:// URI.
type output struct {
	writer report.Writer
	target *outfile.Target
	uri    string
}

// planOutputs pairs formats with destinations: one format to standard
// output, formats paired in order with --output files (- for standard
// output), or every format into --output-dir (created when the run
// succeeds) with its default name. Every path, and --save-evidence's, is
// checked now, before anything is collected (outfile.Check: its directory
// exists and takes a new file, it is not a directory or a socket); none may
// name an input, the bundle or another output, or lie inside an input
// directory, however the path is spelled.
func planOutputs(app *App, o *scanOptions) ([]output, *outfile.Target, error) {
	meta, err := rules.Info()
	if err != nil {
		return nil, nil, err
	}
	var paths []string
	role, mkdir := "--output", outfile.Options{}
	switch {
	case o.outputDir != "" && len(o.outputs) > 0:
		return nil, nil, fmt.Errorf("--output and --output-dir cannot be combined")
	case o.outputDir != "":
		role, mkdir = "--output-dir", outfile.Options{MakeDirs: true, DirPerm: 0o700}
		for _, f := range o.formats {
			paths = append(paths, filepath.Join(o.outputDir, "rootwatch."+report.Extension(f)))
		}
	case len(o.outputs) == len(o.formats):
		paths = o.outputs
	case len(o.outputs) == 0 && len(o.formats) == 1:
		paths = []string{stdoutPath}
	case len(o.outputs) == 0:
		return nil, nil, fmt.Errorf("%d formats but no --output: give one --output per --format, or --output-dir", len(o.formats))
	default:
		return nil, nil, fmt.Errorf("%d --format and %d --output: give one --output per --format, in the same order", len(o.formats), len(o.outputs))
	}
	files := newPathSet()
	for _, in := range o.inputs() {
		if err := files.input(in[0], in[1]); err != nil {
			return nil, nil, err
		}
	}
	var bundle *outfile.Target
	if o.saveEvidence != "" {
		if bundle, err = files.output("--save-evidence", o.saveEvidence, outfile.Options{}); err != nil {
			return nil, nil, err
		}
	}
	var outs []output
	for i, f := range o.formats {
		out := output{}
		if strings.HasPrefix(paths[i], "s3://") {
			if err := checkS3Output(paths[i]); err != nil {
				return nil, nil, err
			}
			out.uri = paths[i]
		} else if out.target, err = files.output(role, paths[i], mkdir); err != nil {
			return nil, nil, err
		}
		if out.writer, err = report.New(f, report.Options{Color: useColor(app, o, out.target), Meta: meta}); err != nil {
			return nil, nil, err
		}
		outs = append(outs, out)
	}
	return outs, bundle, nil
}

func useColor(app *App, o *scanOptions, t *outfile.Target) bool {
	switch o.color {
	case "always":
		return true
	case "never":
		return false
	}
	stdout := t != nil && t.Kind == outfile.Descriptor && t.FD == 1
	return stdout && app.Getenv("NO_COLOR") == "" && app.IsTerminal(app.Stdout)
}

// writeRun writes the run to every output, all or nothing for local ones:
// each is staged in batch (files in temporaries beside them), then the
// s3:// objects are uploaded, then the batch is committed (devices, pipes
// and standard output written, files renamed into place). A failure
// before the commit changes no local file.
func writeRun(ctx context.Context, app *App, o *scanOptions, batch *outfile.Batch, outs []output, run *finding.Run) error {
	for _, out := range outs {
		if out.target != nil {
			if err := batch.Add(out.target, 0o600, func(w io.Writer) error { return out.writer.Write(w, run) }); err != nil {
				return err
			}
		}
	}
	for _, out := range outs {
		if out.uri != "" {
			var buf bytes.Buffer
			if err := out.writer.Write(&buf, run); err != nil {
				return err
			}
			if err := putS3(ctx, app, o, out.uri, buf.Bytes()); err != nil {
				return err
			}
		}
	}
	return batch.Commit(ctx)
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
	if o.store != "" && !strings.Contains(o.store, "://") && !strings.HasPrefix(o.store, "env:") {
		in = append(in, [2]string{"--store", strings.TrimPrefix(o.store, "sqlite:")})
	}
	return in
}
