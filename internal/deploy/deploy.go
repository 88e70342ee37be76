// Package deploy writes the CloudFormation templates that feed rootwatch
// watch: the receiving side (a central event bus for the organization, an
// EventBridge rule on it, an encrypted SQS queue with a dead-letter queue
// and the queue policy that lets the rule deliver), and the member side,
// ready for a service-managed StackSet (in every account and region, a rule
// on the default bus that forwards root activity to the central bus).
package deploy

import (
	"encoding/json"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// RootPattern is the event pattern both sides use: every root sign-in and
// root API call CloudTrail sends to EventBridge (AWS blog "Monitor and
// notify on AWS account root user activity"), and the calls made about a
// root by other principals, which the watch alerts on as steps of a root
// takeover: sts:AssumeRoot (a root session opened on a member) and the
// member's primary e-mail changed (account:StartPrimaryEmailUpdate,
// AcceptPrimaryEmailUpdate). Those are made in the management account (or
// the IAM delegated administrator), so the member rule belongs there too.
const RootPattern = `{"detail-type":["AWS API Call via CloudTrail","AWS Console Sign In via CloudTrail"],"detail":{"$or":[` +
	`{"userIdentity":{"type":["Root"]}},` +
	`{"eventSource":["sts.amazonaws.com"],"eventName":["AssumeRoot"]},` +
	`{"eventSource":["account.amazonaws.com"],"eventName":["StartPrimaryEmailUpdate","AcceptPrimaryEmailUpdate"]}]}}`

// RuleState is the state of the member rule: without it, EventBridge does
// not deliver read-only management events (root's Describe, Get and List).
const RuleState = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"

// Parts of the deployment.
const (
	Receiver = "receiver"
	Member   = "member"
)

type (
	m   = map[string]any
	ref = map[string]string
)

func sub(s string) m        { return m{"Fn::Sub": s} }
func getAtt(r, a string) m  { return m{"Fn::GetAtt": []string{r, a}} }
func refTo(name string) ref { return ref{"Ref": name} }

// pattern is RootPattern as a template value (the test checks they agree).
func pattern() m {
	return m{
		"detail-type": []string{"AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail"},
		"detail": m{"$or": []m{
			{"userIdentity": m{"type": []string{"Root"}}},
			{"eventSource": []string{"sts.amazonaws.com"}, "eventName": []string{"AssumeRoot"}},
			{"eventSource": []string{"account.amazonaws.com"}, "eventName": []string{"StartPrimaryEmailUpdate", "AcceptPrimaryEmailUpdate"}},
		}},
	}
}

// ReceiverTemplate is the central side, deployed once (in the account and
// region rootwatch watch runs against).
func ReceiverTemplate() m {
	return m{
		"AWSTemplateFormatVersion": "2010-09-09",
		"Description":              "rootwatch watch: a central event bus for the organization's root activity, routed to an encrypted SQS queue with a dead-letter queue.",
		"Parameters": m{
			"OrganizationId": m{"Type": "String", "AllowedPattern": "^o-[a-z0-9]{10,32}$", "Description": "The AWS Organizations ID whose accounts may send events to the bus."},
			"BusName":        m{"Type": "String", "Default": "rootwatch-root-activity", "Description": "Name of the central event bus."},
			"MaxReceiveCount": m{"Type": "Number", "Default": 5, "MinValue": 1, "MaxValue": 1000,
				"Description": "Receives before a message rootwatch cannot read or deliver moves to the dead-letter queue."},
		},
		"Resources": m{
			"QueueKey": m{
				"Type": "AWS::KMS::Key",
				"Properties": m{
					"Description":       "Encrypts the rootwatch root-activity queues.",
					"EnableKeyRotation": true,
					"KeyPolicy": m{
						"Version": "2012-10-17",
						"Statement": []m{
							{"Sid": "AccountAdministers", "Effect": "Allow", "Principal": m{"AWS": sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")}, "Action": "kms:*", "Resource": "*"},
							{"Sid": "EventBridgeEncrypts", "Effect": "Allow", "Principal": m{"Service": "events.amazonaws.com"},
								"Action": []string{"kms:GenerateDataKey", "kms:Decrypt"}, "Resource": "*"},
						},
					},
				},
			},
			"DeadLetterQueue": m{
				"Type":       "AWS::SQS::Queue",
				"Properties": m{"KmsMasterKeyId": refTo("QueueKey"), "MessageRetentionPeriod": 1209600},
			},
			"Queue": m{
				"Type": "AWS::SQS::Queue",
				"Properties": m{
					"KmsMasterKeyId":         refTo("QueueKey"),
					"VisibilityTimeout":      60,
					"MessageRetentionPeriod": 345600,
					"RedrivePolicy":          m{"deadLetterTargetArn": getAtt("DeadLetterQueue", "Arn"), "maxReceiveCount": refTo("MaxReceiveCount")},
				},
			},
			"Bus": m{"Type": "AWS::Events::EventBus", "Properties": m{"Name": refTo("BusName")}},
			"BusPolicy": m{
				"Type": "AWS::Events::EventBusPolicy",
				"Properties": m{
					"EventBusName": refTo("Bus"),
					"StatementId":  "OrganizationPutsRootActivity",
					"Statement": m{
						"Sid": "OrganizationPutsRootActivity", "Effect": "Allow", "Principal": "*", "Action": "events:PutEvents",
						"Resource":  getAtt("Bus", "Arn"),
						"Condition": m{"StringEquals": m{"aws:PrincipalOrgID": refTo("OrganizationId")}},
					},
				},
			},
			"Rule": m{
				"Type": "AWS::Events::Rule",
				"Properties": m{
					"Description":  "Root sign-ins and root API calls, AssumeRoot calls and root e-mail changes from every account, to rootwatch watch.",
					"EventBusName": refTo("Bus"),
					"EventPattern": pattern(),
					"State":        "ENABLED",
					"Targets":      []m{{"Id": "rootwatch-queue", "Arn": getAtt("Queue", "Arn"), "DeadLetterConfig": m{"Arn": getAtt("DeadLetterQueue", "Arn")}}},
				},
			},
			"QueuePolicy": m{
				"Type": "AWS::SQS::QueuePolicy",
				"Properties": m{
					"Queues": []ref{refTo("Queue"), refTo("DeadLetterQueue")},
					"PolicyDocument": m{
						"Version": "2012-10-17",
						"Statement": []m{{
							"Sid": "EventBridgeDelivers", "Effect": "Allow", "Principal": m{"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage",
							"Resource":  []m{getAtt("Queue", "Arn"), getAtt("DeadLetterQueue", "Arn")},
							"Condition": m{"ArnEquals": m{"aws:SourceArn": getAtt("Rule", "Arn")}},
						}},
					},
				},
			},
		},
		"Outputs": m{
			"QueueUrl":           m{"Description": "Give it to rootwatch watch --queue-url.", "Value": refTo("Queue")},
			"DeadLetterQueueUrl": m{"Value": refTo("DeadLetterQueue")},
			"EventBusArn":        m{"Description": "Give it to the member template (CentralBusArn).", "Value": getAtt("Bus", "Arn")},
		},
	}
}

// MemberTemplate is deployed in every member account and enabled region
// (a service-managed StackSet): a rule on the default bus that forwards
// root activity to the central bus, with the role it needs.
func MemberTemplate() m {
	return m{
		"AWSTemplateFormatVersion": "2010-09-09",
		"Description":              "rootwatch watch: forward this account's root sign-ins and root API calls in this region to the central event bus. Deploy with a service-managed StackSet to every account and enabled region.",
		"Parameters": m{
			"CentralBusArn": m{"Type": "String", "AllowedPattern": "^arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus/.+$",
				"Description": "The EventBusArn output of the receiver stack."},
		},
		"Resources": m{
			"ForwardRole": m{
				"Type": "AWS::IAM::Role",
				"Properties": m{
					"AssumeRolePolicyDocument": m{
						"Version":   "2012-10-17",
						"Statement": []m{{"Effect": "Allow", "Principal": m{"Service": "events.amazonaws.com"}, "Action": "sts:AssumeRole"}},
					},
					"Policies": []m{{
						"PolicyName": "PutRootActivityOnCentralBus",
						"PolicyDocument": m{
							"Version":   "2012-10-17",
							"Statement": []m{{"Effect": "Allow", "Action": "events:PutEvents", "Resource": refTo("CentralBusArn")}},
						},
					}},
				},
			},
			"RootActivityRule": m{
				"Type": "AWS::Events::Rule",
				"Properties": m{
					"Description":  "Root sign-ins and root API calls (read-only ones included), AssumeRoot calls and root e-mail changes, to the central rootwatch bus.",
					"EventBusName": "default",
					"EventPattern": pattern(),
					"State":        RuleState,
					"Targets":      []m{{"Id": "central-bus", "Arn": refTo("CentralBusArn"), "RoleArn": getAtt("ForwardRole", "Arn")}},
				},
			},
		},
	}
}

// Template returns a part's template.
func Template(part string) (m, error) {
	switch part {
	case Receiver:
		return ReceiverTemplate(), nil
	case Member:
		return MemberTemplate(), nil
	}
	return nil, fmt.Errorf("template %q: want %s or %s", part, Receiver, Member)
}

// Render writes a template as JSON or YAML.
func Render(t m, format string) ([]byte, error) {
	switch format {
	case "json":
		b, err := json.MarshalIndent(t, "", "  ")
		return append(b, '\n'), err
	case "yaml":
		// Through JSON, so keys sort as in the JSON form.
		b, err := json.Marshal(t)
		if err != nil {
			return nil, err
		}
		var v any
		if err := yaml.Unmarshal(b, &v); err != nil {
			return nil, err
		}
		return yaml.Marshal(v)
	}
	return nil, fmt.Errorf("format %q: want json or yaml", format)
}
