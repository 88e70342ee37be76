package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/rootwatch/rootwatch/internal/awsx"
)

// Amazon SNS: a plain-text message published to a topic
// (sns=arn:aws:sns:REGION:ACCOUNT:TOPIC), in the topic's region.

// SNSAPI is the SNS call notifications make.
type SNSAPI interface {
	Publish(context.Context, *sns.PublishInput, ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// SNSClients gives sns targets a client for a topic's region, with the
// credentials load and profile give.
func SNSClients(load awsx.Loader, profile string) func(ctx context.Context, region string) (SNSAPI, error) {
	return func(ctx context.Context, region string) (SNSAPI, error) {
		cfg, err := awsx.Load(ctx, load, profile, region)
		if err != nil {
			return nil, err
		}
		return sns.NewFromConfig(cfg), nil
	}
}

// SNS limits: a subject of at most 100 printable ASCII characters, a
// message of at most 256 KiB.
const (
	snsMaxSubject = 100
	snsMaxMessage = 256<<10 - 1024
)

func snsChannel() channel {
	return channel{kind: "sns", syntax: "TOPIC-ARN", check: checkTopicARN,
		notifier: func(t Target, o Options) Notifier { return snsNotifier{t.address, o.SNS} }}
}

// checkTopicARN checks arn:PARTITION:sns:REGION:ACCOUNT:NAME, which is not
// a secret: the target's name shows it.
func checkTopicARN(addr string) (string, error) {
	p := strings.Split(addr, ":")
	if len(p) != 6 || p[0] != "arn" || p[2] != "sns" || p[3] == "" || p[5] == "" {
		return "", errors.New("want a topic ARN, arn:aws:sns:REGION:ACCOUNT:TOPIC")
	}
	return addr, nil
}

type snsNotifier struct {
	topic  string
	client func(context.Context, string) (SNSAPI, error)
}

// Notify publishes once. A client fault other than throttling (no such
// topic, access denied) will not pass; anything else may.
func (s snsNotifier) Notify(ctx context.Context, c Content) (bool, error) {
	body, err := snsText(c)
	if err != nil {
		return false, err
	}
	if s.client == nil {
		return false, errors.New("no SNS client configured")
	}
	region := strings.Split(s.topic, ":")[3]
	cl, err := s.client(ctx, region)
	if err != nil {
		return false, err
	}
	_, err = cl.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(s.topic), Subject: aws.String(snsSubject(c.Headline())), Message: aws.String(body)})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorFault() == smithy.FaultClient && ae.ErrorCode() != "Throttling" && ae.ErrorCode() != "ThrottlingException" {
			return false, fmt.Errorf("Publish: %s: %s", ae.ErrorCode(), ae.ErrorMessage())
		}
		return true, fmt.Errorf("Publish: %w", err)
	}
	return false, nil
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

// snsText is the plain-text message: a run's, or an alert's e-mail text
// with plain line ends.
func snsText(c Content) (string, error) {
	switch c := c.(type) {
	case Message:
		return snsBody(c), nil
	case Alert:
		return strings.ReplaceAll(alertMail(c), "\r\n", "\n"), nil
	}
	return "", cannotSend("sns", c)
}

// snsBody is a run's plain-text message: every item, then the summary,
// cut to SNS's size with a count of what was left out.
func snsBody(m Message) string {
	var b strings.Builder
	b.WriteString(m.Headline() + "\n\n")
	for i, c := range m.Items {
		line := itemLine(c)
		if b.Len()+len(line) > snsMaxMessage-200 {
			fmt.Fprintf(&b, "...and %d more\n", len(m.Items)-i)
			break
		}
		b.WriteString(line)
	}
	b.WriteString("\n" + summaryLine(m.Run) + "\n")
	return b.String()
}
