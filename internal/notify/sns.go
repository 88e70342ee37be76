package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"
)

// SNSAPI is the SNS call notifications make.
type SNSAPI interface {
	Publish(context.Context, *sns.PublishInput, ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// SNS limits: a subject of at most 100 printable ASCII characters, a
// message of at most 256 KiB.
const (
	snsMaxSubject = 100
	snsMaxMessage = 256<<10 - 1024
)

func publish(ctx context.Context, t Target, m content, client func(context.Context, string) (SNSAPI, error)) error {
	if client == nil {
		return &permanent{errors.New("no SNS client configured")}
	}
	region := strings.Split(t.address, ":")[3]
	c, err := client(ctx, region)
	if err != nil {
		return &permanent{err}
	}
	_, err = c.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(t.address), Subject: aws.String(m.snsSubject()), Message: aws.String(m.snsBody())})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorFault() == smithy.FaultClient && ae.ErrorCode() != "Throttling" && ae.ErrorCode() != "ThrottlingException" {
			return &permanent{fmt.Errorf("Publish: %s: %s", ae.ErrorCode(), ae.ErrorMessage())}
		}
		return fmt.Errorf("Publish: %w", err)
	}
	return nil
}

// snsSubject keeps a subject SNS accepts: printable ASCII, one line, at
// most 100 characters.
func snsSubject(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r >= 0x20 && r < 0x7f {
			b = append(b, byte(r))
		}
	}
	if len(b) > snsMaxSubject {
		b = append(b[:snsMaxSubject-3], "..."...)
	}
	return string(b)
}

// snsBody is the plain-text message: every item, then the summary, cut to
// SNS's size with a count of what was left out.
func snsBody(m Message) string {
	var b strings.Builder
	b.WriteString(headline(m) + "\n\n")
	for i, c := range m.Items {
		line := fmt.Sprintf("- %s %s, account %s: %s\n", strings.ToUpper(string(c.Severity)), c.Title, c.AccountID, c.Message)
		if c.Kind == "not_assessed" {
			line = fmt.Sprintf("- account %s is no longer assessed (%s -> %s): %s\n", c.AccountID, orNone(c.FromStatus), orNone(c.ToStatus), c.Message)
		}
		if b.Len()+len(line) > snsMaxMessage-200 {
			fmt.Fprintf(&b, "...and %d more\n", len(m.Items)-i)
			break
		}
		b.WriteString(line)
	}
	b.WriteString("\n" + summaryLine(m.Run) + "\n")
	return b.String()
}
