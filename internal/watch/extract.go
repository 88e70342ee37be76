package watch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/source/cloudtrail"
)

// S3API reads the CloudTrail log files an S3 or CloudTrail notification
// points at.
type S3API interface {
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// maxUnwrap bounds SNS-in-SQS nesting.
const maxUnwrap = 3

// classified is what one message holds.
type classified struct {
	root  []evidence.Event // root events, as the classifier sees them
	total int              // every CloudTrail event, root or not
}

// errUnparseable marks a message rootwatch cannot read: it is left for
// the dead-letter queue, never deleted.
var errUnparseable = errors.New("unparseable")

// extract reads a message body: an EventBridge event (the CloudTrail
// record under detail), a raw CloudTrail record or {"Records": [...]}, an
// SNS notification wrapping any of these, or a notification that log files
// were delivered to S3 (CloudTrail's own, or an S3 event notification),
// whose files are read.
func extract(ctx context.Context, body, name string, s3c S3API) (classified, error) {
	for range maxUnwrap {
		var probe struct {
			Type        string          `json:"Type"`
			Message     *string         `json:"Message"`
			S3Bucket    string          `json:"s3Bucket"`
			S3ObjectKey []string        `json:"s3ObjectKey"`
			Records     json.RawMessage `json:"Records"`
			Event       string          `json:"Event"`
		}
		if json.Unmarshal([]byte(body), &probe) != nil {
			break // not an object: the reader says what it is
		}
		switch {
		case probe.Type == "Notification" && probe.Message != nil:
			body = *probe.Message
			continue
		case probe.Event == "s3:TestEvent":
			return classified{}, nil
		case probe.S3Bucket != "" && len(probe.S3ObjectKey) > 0:
			return readObjects(ctx, s3c, probe.S3Bucket, probe.S3ObjectKey)
		case len(probe.Records) > 0:
			if bucket, keys, ok := s3Records(probe.Records); ok {
				return readObjects(ctx, s3c, bucket, keys)
			}
		}
		break
	}
	events, st := cloudtrail.Decode(strings.NewReader(body), name)
	if st.Error != "" {
		return classified{}, fmt.Errorf("%w: %s", errUnparseable, st.Error)
	}
	return classified{root: events, total: st.Events}, nil
}

// s3Records reads an S3 event notification's bucket and object keys.
func s3Records(raw json.RawMessage) (string, []string, bool) {
	var recs []struct {
		EventSource string `json:"eventSource"`
		S3          struct {
			Bucket struct {
				Name string `json:"name"`
			} `json:"bucket"`
			Object struct {
				Key string `json:"key"`
			} `json:"object"`
		} `json:"s3"`
	}
	if json.Unmarshal(raw, &recs) != nil || len(recs) == 0 || recs[0].EventSource != "aws:s3" {
		return "", nil, false
	}
	bucket := recs[0].S3.Bucket.Name
	var keys []string
	for _, r := range recs {
		if r.S3.Bucket.Name != bucket {
			return "", nil, false
		}
		// Keys in S3 event notifications are URL-encoded, spaces as +.
		k, err := url.QueryUnescape(r.S3.Object.Key)
		if err != nil {
			return "", nil, false
		}
		keys = append(keys, k)
	}
	return bucket, keys, true
}

// readObjects reads and classifies each log file; a file that cannot be
// read leaves the message unparsed (to be received again), so that no
// file's events are lost.
func readObjects(ctx context.Context, c S3API, bucket string, keys []string) (classified, error) {
	if c == nil {
		return classified{}, fmt.Errorf("%w: the message points at s3://%s but no S3 client is configured", errUnparseable, bucket)
	}
	var out classified
	for _, k := range keys {
		if strings.Contains(k, "/CloudTrail-Digest/") {
			continue
		}
		obj, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)})
		if err != nil {
			return classified{}, fmt.Errorf("read s3://%s/%s: %w", bucket, k, err)
		}
		events, st := cloudtrail.Decode(io.LimitReader(obj.Body, 1<<30), "s3://"+bucket+"/"+k)
		obj.Body.Close()
		if st.Error != "" {
			return classified{}, fmt.Errorf("%w: s3://%s/%s: %s", errUnparseable, bucket, k, st.Error)
		}
		out.root = append(out.root, events...)
		out.total += st.Events
	}
	return out, nil
}
