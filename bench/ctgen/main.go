// Command ctgen writes a realistic CloudTrail corpus for benchmarks: S3
// layout (AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/…json.gz), gzip,
// a mix of identities and services, and a known number of root events
// planted among them. It writes manifest.json with what it planted.
//
//	go run ./bench/ctgen -out bench/out/corpus -size-mb 1024 -root 250
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
)

type manifest struct {
	Files           int   `json:"files"`
	Records         int64 `json:"records"`
	RootEvents      int64 `json:"root_events"`
	CompressedBytes int64 `json:"compressed_bytes"`
	RawBytes        int64 `json:"raw_bytes"`
	Seed            int64 `json:"seed"`
}

var (
	accounts = []string{"111122223333", "222233334444", "333344445555", "444455556666"}
	regions  = []string{"us-east-1", "eu-west-1", "ap-southeast-2"}
	agents   = []string{
		"aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe",
		"aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.171.0",
		"Boto3/1.34.144 md/Botocore#1.34.144 ua/2.0 os/linux#5.10.219 md/arch#x86_64 lang/python#3.12.4 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.144",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
		"terraform-provider-aws/5.58.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.30.1",
	}
)

type gen struct {
	r    *rand.Rand
	seq  int64
	acct string
}

func (g *gen) id() string {
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", g.r.Uint32(), g.r.Intn(1<<16), g.r.Intn(1<<12), 0x8000|g.r.Intn(1<<14), g.r.Int63n(1<<48))
}

func (g *gen) ip() string {
	return fmt.Sprintf("%d.%d.%d.%d", 3+g.r.Intn(200), g.r.Intn(256), g.r.Intn(256), 1+g.r.Intn(254))
}

func (g *gen) key(prefix string) string {
	const a = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	var b strings.Builder
	b.WriteString(prefix)
	for i := 0; i < 16; i++ {
		b.WriteByte(a[g.r.Intn(len(a))])
	}
	return b.String()
}

func (g *gen) tls() map[string]any {
	return map[string]any{"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": "ec2.us-east-1.amazonaws.com"}
}

func (g *gen) assumed(role string) map[string]any {
	return map[string]any{
		"type": "AssumedRole", "principalId": g.key("AROA") + ":" + "session-" + fmt.Sprint(g.r.Intn(9999)),
		"arn": "arn:aws:sts::" + g.acct + ":assumed-role/" + role + "/session-" + fmt.Sprint(g.r.Intn(9999)), "accountId": g.acct, "accessKeyId": g.key("ASIA"),
		"sessionContext": map[string]any{
			"sessionIssuer":       map[string]any{"type": "Role", "principalId": g.key("AROA"), "arn": "arn:aws:iam::" + g.acct + ":role/" + role, "accountId": g.acct, "userName": role},
			"webIdFederationData": map[string]any{},
			"attributes":          map[string]any{"creationDate": "2026-02-27T08:00:00Z", "mfaAuthenticated": "false"},
		},
	}
}

func (g *gen) user(name string) map[string]any {
	return map[string]any{"type": "IAMUser", "principalId": g.key("AIDA"), "arn": "arn:aws:iam::" + g.acct + ":user/" + name, "accountId": g.acct, "accessKeyId": g.key("AKIA"), "userName": name}
}

// record returns one non-root event of a realistic mix.
func (g *gen) record(t time.Time, region string) map[string]any {
	base := map[string]any{
		"eventVersion": "1.09", "eventTime": t.UTC().Format(time.RFC3339), "awsRegion": region, "sourceIPAddress": g.ip(),
		"userAgent": agents[g.r.Intn(len(agents))], "eventID": g.id(), "readOnly": true, "eventType": "AwsApiCall",
		"managementEvent": true, "recipientAccountId": g.acct, "eventCategory": "Management", "requestID": g.id(), "tlsDetails": g.tls(),
	}
	switch n := g.r.Intn(100); {
	case n < 30:
		base["userIdentity"] = g.assumed("app-" + fmt.Sprint(g.r.Intn(40)))
		base["eventSource"], base["eventName"] = "ec2.amazonaws.com", "DescribeInstances"
		base["requestParameters"] = map[string]any{"instancesSet": map[string]any{}, "filterSet": map[string]any{"items": []any{
			map[string]any{"name": "tag:Environment", "valueSet": map[string]any{"items": []any{map[string]any{"value": "production"}}}},
			map[string]any{"name": "instance-state-name", "valueSet": map[string]any{"items": []any{map[string]any{"value": "running"}}}}}}}
		base["responseElements"] = nil
	case n < 50:
		base["userIdentity"] = g.assumed("lambda-" + fmt.Sprint(g.r.Intn(20)))
		base["eventSource"], base["eventName"] = "kms.amazonaws.com", "Decrypt"
		base["requestParameters"] = map[string]any{"encryptionAlgorithm": "SYMMETRIC_DEFAULT", "encryptionContext": map[string]any{"aws:lambda:FunctionArn": "arn:aws:lambda:" + region + ":" + g.acct + ":function:fn-" + fmt.Sprint(g.r.Intn(300))}}
		base["responseElements"] = nil
		base["resources"] = []any{map[string]any{"accountId": g.acct, "type": "AWS::KMS::Key", "ARN": "arn:aws:kms:" + region + ":" + g.acct + ":key/" + g.id()}}
	case n < 62:
		base["userIdentity"] = map[string]any{"type": "AWSService", "invokedBy": "cloudtrail.amazonaws.com"}
		base["eventSource"], base["eventName"], base["eventType"] = "kms.amazonaws.com", "GenerateDataKey", "AwsApiCall"
		base["requestParameters"] = map[string]any{"keySpec": "AES_256", "keyId": "arn:aws:kms:" + region + ":" + g.acct + ":key/" + g.id()}
		base["responseElements"] = nil
		base["sharedEventID"] = g.id()
	case n < 75:
		base["userIdentity"] = g.assumed("ci-deployer")
		base["eventSource"], base["eventName"], base["readOnly"] = "sts.amazonaws.com", "AssumeRole", false
		base["requestParameters"] = map[string]any{"roleArn": "arn:aws:iam::" + g.acct + ":role/app-" + fmt.Sprint(g.r.Intn(40)), "roleSessionName": "gha-" + g.key(""), "durationSeconds": 3600}
		base["responseElements"] = map[string]any{"credentials": map[string]any{"accessKeyId": g.key("ASIA"), "sessionToken": strings.Repeat(g.key("IQoJ"), 12), "expiration": "Feb 27, 2026, 10:00:00 AM"},
			"assumedRoleUser": map[string]any{"assumedRoleId": g.key("AROA") + ":gha", "arn": "arn:aws:sts::" + g.acct + ":assumed-role/app/gha"}}
	case n < 88:
		base["userIdentity"] = g.user("svc-" + fmt.Sprint(g.r.Intn(30)))
		base["eventSource"], base["eventName"] = "s3.amazonaws.com", "ListBuckets"
		base["requestParameters"] = map[string]any{"Host": "s3.amazonaws.com"}
		base["responseElements"] = nil
		base["additionalEventData"] = map[string]any{"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256", "bytesTransferredIn": 0, "AuthenticationMethod": "AuthHeader", "x-amz-id-2": g.key("") + g.key("")}
	case n < 92:
		u := g.user("person-" + fmt.Sprint(g.r.Intn(50)))
		base["userIdentity"] = u
		base["eventSource"], base["eventName"], base["eventType"] = "signin.amazonaws.com", "ConsoleLogin", "AwsConsoleSignIn"
		base["responseElements"] = map[string]any{"ConsoleLogin": "Success"}
		base["additionalEventData"] = map[string]any{"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": "Yes"}
		base["requestParameters"] = nil
	case n < 93:
		// Organizations calls that mention "Root" without being root's.
		base["userIdentity"] = g.assumed("org-admin")
		base["eventSource"], base["eventName"] = "organizations.amazonaws.com", "ListRoots"
		base["requestParameters"] = nil
		base["responseElements"] = nil
	default:
		base["userIdentity"] = g.assumed("data-pipeline")
		base["eventSource"], base["eventName"] = "dynamodb.amazonaws.com", "DescribeTable"
		base["requestParameters"] = map[string]any{"tableName": "orders-" + fmt.Sprint(g.r.Intn(9))}
		base["responseElements"] = nil
	}
	return base
}

// rootRecord is a planted root event: a console sign-in or an API call.
func (g *gen) rootRecord(t time.Time) map[string]any {
	ui := map[string]any{"type": "Root", "principalId": g.acct, "arn": "arn:aws:iam::" + g.acct + ":root", "accountId": g.acct, "accessKeyId": ""}
	rec := map[string]any{"eventVersion": "1.08", "userIdentity": ui, "eventTime": t.UTC().Format(time.RFC3339), "awsRegion": "us-east-1",
		"sourceIPAddress": g.ip(), "userAgent": agents[3], "eventID": g.id(), "recipientAccountId": g.acct, "requestParameters": nil}
	if g.r.Intn(2) == 0 {
		rec["eventSource"], rec["eventName"], rec["eventType"] = "signin.amazonaws.com", "ConsoleLogin", "AwsConsoleSignIn"
		rec["responseElements"] = map[string]any{"ConsoleLogin": []string{"Success", "Failure"}[g.r.Intn(2)]}
		rec["additionalEventData"] = map[string]any{"MFAUsed": []string{"Yes", "No"}[g.r.Intn(2)], "MobileVersion": "No"}
	} else {
		rec["eventSource"], rec["eventName"], rec["eventType"] = "iam.amazonaws.com", "CreateAccessKey", "AwsApiCall"
		ui["invokedBy"] = "signin.amazonaws.com"
	}
	return rec
}

func main() {
	out := flag.String("out", "bench/out/corpus", "output directory")
	sizeMB := flag.Int("size-mb", 64, "approximate compressed size in MiB")
	roots := flag.Int("root", 250, "root events to plant")
	seed := flag.Int64("seed", 1, "random seed")
	flag.Parse()
	if err := run(*out, int64(*sizeMB)<<20, *roots, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "ctgen:", err)
		os.Exit(1)
	}
}

func run(out string, target int64, roots int, seed int64) error {
	// Decide the files first, deterministically, then write them in parallel.
	const avgCompressed = 90 << 10
	files := int(target / avgCompressed)
	if files < 1 {
		files = 1
	}
	plan := rand.New(rand.NewSource(seed))
	plant := make([]int, files)
	for i := 0; i < roots; i++ {
		plant[plan.Intn(files)]++
	}
	start := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	var m manifest
	m.Seed, m.Files, m.RootEvents = seed, files, int64(roots)
	var records, compressed, raw atomic.Int64
	next := make(chan int)
	errs := make(chan error, files)
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				g := &gen{r: rand.New(rand.NewSource(seed*1_000_003 + int64(i))), acct: accounts[i%len(accounts)]}
				region := regions[(i/len(accounts))%len(regions)]
				t := start.Add(time.Duration(i) * (28 * 24 * time.Hour / time.Duration(files)))
				dir := filepath.Join(out, "AWSLogs", g.acct, "CloudTrail", region, t.Format("2006/01/02"))
				name := fmt.Sprintf("%s_CloudTrail_%s_%s_%s.json.gz", g.acct, region, t.Format("20060102T1504Z"), g.key("")[:16])
				n := 300 + g.r.Intn(500)
				recs := make([]map[string]any, 0, n+plant[i])
				for k := 0; k < n; k++ {
					recs = append(recs, g.record(t.Add(time.Duration(k)*time.Second), region))
				}
				for k := 0; k < plant[i]; k++ {
					pos := g.r.Intn(len(recs) + 1)
					recs = append(recs[:pos], append([]map[string]any{g.rootRecord(t.Add(time.Duration(k) * time.Minute))}, recs[pos:]...)...)
				}
				body, err := json.Marshal(map[string]any{"Records": recs})
				if err != nil {
					errs <- err
					continue
				}
				if err := os.MkdirAll(dir, 0o755); err != nil {
					errs <- err
					continue
				}
				f, err := os.Create(filepath.Join(dir, name))
				if err != nil {
					errs <- err
					continue
				}
				zw := gzip.NewWriter(f)
				zw.Write(body)
				zw.Close()
				st, _ := f.Stat()
				f.Close()
				records.Add(int64(len(recs)))
				raw.Add(int64(len(body)))
				compressed.Add(st.Size())
			}
		}()
	}
	for i := 0; i < files; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		return err
	}
	m.Records, m.CompressedBytes, m.RawBytes = records.Load(), compressed.Load(), raw.Load()
	b, _ := json.MarshalIndent(m, "", "  ")
	fmt.Println(string(b))
	return os.WriteFile(filepath.Join(out, "manifest.json"), b, 0o644)
}
