package eventpattern

import (
	"strings"
	"testing"
)

// event is an EventBridge CloudTrail event (the shape of the EventBridge
// user guide's "AWS API Call via CloudTrail" example), written again.
const event = `{
  "version": "0", "id": "6f87d04b-9f74-4f04-a780-7acf4b0a9b38",
  "detail-type": "AWS API Call via CloudTrail", "source": "aws.s3",
  "account": "111122223333", "time": "2026-11-30T10:00:00Z", "region": "eu-west-1",
  "resources": [],
  "detail": {
    "eventVersion": "1.08",
    "userIdentity": {"type": "Root", "arn": "arn:aws:iam::111122223333:root", "accountId": "111122223333"},
    "eventSource": "s3.amazonaws.com", "eventName": "PutBucketPolicy",
    "sourceIPAddress": "203.0.113.24", "eventType": "AwsApiCall",
    "readOnly": false, "tags": ["a", "b"], "size": 42, "nothing": null
  }
}`

func TestMatching(t *testing.T) {
	cases := []struct {
		pattern string
		want    bool
	}{
		{`{"source": ["aws.s3"]}`, true},
		{`{"source": ["aws.ec2", "aws.s3"]}`, true},
		{`{"source": ["aws.ec2"]}`, false},
		{`{"detail-type": ["AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail"], "detail": {"userIdentity": {"type": ["Root"]}}}`, true},
		{`{"detail": {"userIdentity": {"type": ["root"]}}}`, false},
		{`{"detail": {"userIdentity": {"type": [{"equals-ignore-case": "ROOT"}]}}}`, true},
		{`{"detail": {"userIdentity": {"type": ["Root"], "invokedBy": [{"exists": false}]}, "eventType": [{"anything-but": "AwsServiceEvent"}]}}`, true},
		{`{"detail": {"userIdentity": {"invokedBy": [{"exists": true}]}}}`, false},
		// exists works on leaves only.
		{`{"detail": {"userIdentity": [{"exists": true}]}}`, false},
		{`{"detail": {"missing": {"deeper": [{"exists": false}]}}}`, true},
		{`{"detail": {"eventName": [{"prefix": "Put"}]}}`, true},
		{`{"detail": {"eventName": [{"prefix": {"equals-ignore-case": "put"}}]}}`, true},
		{`{"detail": {"eventName": [{"suffix": "Policy"}]}}`, true},
		{`{"detail": {"eventName": [{"suffix": "policy"}]}}`, false},
		{`{"detail": {"eventName": [{"wildcard": "Put*Policy"}]}}`, true},
		{`{"detail": {"eventName": [{"wildcard": "Get*"}]}}`, false},
		{`{"detail": {"eventType": [{"anything-but": ["AwsServiceEvent", "AwsApiCall"]}]}}`, false},
		{`{"detail": {"eventType": [{"anything-but": {"prefix": "AwsService"}}]}}`, true},
		{`{"detail": {"eventType": [{"anything-but": {"suffix": "Call"}}]}}`, false},
		{`{"detail": {"eventType": [{"anything-but": {"equals-ignore-case": ["awsapicall"]}}]}}`, false},
		{`{"detail": {"missing": [{"anything-but": "x"}]}}`, false},
		{`{"detail": {"size": [{"numeric": [">", 40, "<=", 42]}]}}`, true},
		{`{"detail": {"size": [{"numeric": ["<", 40]}]}}`, false},
		{`{"detail": {"size": [42]}}`, true},
		{`{"detail": {"size": [42.0]}}`, true},
		{`{"detail": {"size": ["42"]}}`, false},
		{`{"detail": {"readOnly": [false]}}`, true},
		{`{"detail": {"nothing": [null]}}`, true},
		{`{"detail": {"sourceIPAddress": [{"cidr": "203.0.113.0/24"}]}}`, true},
		{`{"detail": {"sourceIPAddress": [{"cidr": "198.51.100.0/24"}]}}`, false},
		{`{"detail": {"tags": ["b"]}}`, true},
		{`{"detail": {"tags": ["c"]}}`, false},
		{`{"$or": [{"source": ["aws.ec2"]}, {"detail": {"userIdentity": {"type": ["Root"]}}}]}`, true},
		{`{"$or": [{"source": ["aws.ec2"]}, {"region": ["us-east-1"]}]}`, false},
		{`{"detail": {"$or": [{"eventName": ["x"]}, {"eventSource": ["s3.amazonaws.com"]}]}}`, true},
		{`{"region": ["us-east-1"]}`, false},
	}
	for _, c := range cases {
		p, err := Parse(c.pattern)
		if err != nil {
			t.Errorf("Parse(%s): %v", c.pattern, err)
			continue
		}
		got, err := p.Match([]byte(event))
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%s = %v, want %v", c.pattern, got, c.want)
		}
	}
}

func TestRefusedPatterns(t *testing.T) {
	cases := map[string]string{
		`{"source": ["aws.s3"]`:                "not valid JSON",
		`{"source": ["a"], "source": ["b"]}`:   "duplicate key",
		`["aws.s3"]`:                           "must be a JSON object",
		`{}`:                                   "empty object",
		`{"source": "aws.s3"}`:                 "must be an array",
		`{"source": []}`:                       "empty array",
		`{"source": [{"begins-with": "aws"}]}`: "unknown operator",
		`{"source": [{"prefix": "a", "suffix": "b"}]}`: "exactly one operator",
		`{"size": [{"numeric": ["==", 1]}]}`:           "numeric operator",
		`{"size": [{"numeric": [">"]}]}`:               "numeric needs",
		`{"ip": [{"cidr": "10.0.0.0/99"}]}`:            "cidr",
		`{"name": [{"wildcard": "a**b"}]}`:             "consecutive",
		`{"$or": [{"source": ["a"]}]}`:                 "at least two",
		`{"e": [{"anything-but": {"exists": true}}]}`:  "does not take",
		`{"e": [{"exists": "yes"}]}`:                   "true or false",
		`{"source": ["a"]} {}`:                         "after the pattern",
	}
	for pattern, want := range cases {
		_, err := Parse(pattern)
		if err == nil {
			t.Errorf("Parse(%s) succeeded; want an error with %q", pattern, want)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%s) = %v; want it to say %q", pattern, err, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"detail-type": ["AWS Console Sign In via CloudTrail"], "detail": {"userIdentity": {"type": ["Root"]}}}`,
		`{"$or": [{"a": [1]}, {"b": [{"numeric": [">", 0]}]}]}`,
		`{"a": [{"anything-but": {"prefix": "x"}}, {"wildcard": "a*b"}, {"cidr": "10.0.0.0/8"}]}`,
	} {
		f.Add(s, event)
	}
	f.Fuzz(func(t *testing.T, pattern, ev string) {
		p, err := Parse(pattern)
		if err != nil {
			return
		}
		_, _ = p.Match([]byte(ev))
	})
}
