package awsfake

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Server.
type Options struct {
	// Now is the fake's clock (default time.Now). Relative world times and
	// report generation are measured on it.
	Now func() time.Time
	// Seed makes fault rates reproducible.
	Seed int64
	// ReportDelay is how long generating a credential report takes for
	// accounts whose world gives no report.delay (default 0: ready at the
	// first poll after STARTED); negative: never ready.
	ReportDelay time.Duration
}

// Server is the fake AWS. It is safe for concurrent use.
type Server struct {
	now         func() time.Time
	reportDelay time.Duration
	style       string
	latency     time.Duration
	world       *World

	mu       sync.Mutex
	accounts map[string]*acctState
	byKey    map[string]session
	calls    map[string]int // "account/Op" → count
	// trustedIAM holds the organizations that EnableAWSServiceAccess gave
	// trusted access for IAM.
	trustedIAM map[string]bool
	rng        *rand.Rand
	reqSeq     atomic.Int64
	sqs        sqsState
	lake       map[string]*lakeQuery // CloudTrail Lake queries by ID
	// securityHub holds imported findings by account and region.
	securityHub shState
	trees       map[string]*orgTree // organization structures by ID (scp.go)
}

// session is what an access key stands for: an account, and the kind of
// credentials (a user's keys, an assumed role, or an AssumeRoot audit).
type session struct {
	acct *acctState
	kind string // "user", "role", "root"
	task string // the AssumeRoot task policy, for root sessions
}

type acctState struct {
	spec *Account

	reportAt   time.Time
	reportCSV  []byte
	expired    bool
	generating bool
	readyAt    time.Time // when the generation under way finishes
	neverReady bool      // the generation under way never finishes

	faultCalls []int
	lookups    []time.Time // recent LookupEvents calls, for the throttle
}

// New builds a server over a world.
func New(w *World, opts Options) (*Server, error) {
	if err := w.Validate(); err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	latency, _ := parseDur(w.Latency)
	s := &Server{
		now: opts.Now, reportDelay: opts.ReportDelay, style: w.OrgErrorStyle, latency: latency, world: w,
		accounts: map[string]*acctState{}, byKey: map[string]session{}, calls: map[string]int{}, trustedIAM: map[string]bool{},
		rng: rand.New(rand.NewSource(opts.Seed)),
	}
	s.sqs.init(w.Accounts)
	trees, err := buildTrees(w)
	if err != nil {
		return nil, err
	}
	s.trees = trees
	now := s.now()
	for _, a := range w.Accounts {
		st := &acctState{spec: a, faultCalls: make([]int, len(a.Faults)), expired: a.Report.Expired}
		if a.Report.Existing != "" {
			age, _ := parseDur(a.Report.Existing)
			st.reportAt = now.Add(-age)
			csv, err := buildReport(a, st.reportAt)
			if err != nil {
				return nil, err
			}
			st.reportCSV = csv
		}
		s.accounts[a.ID] = st
		for _, k := range a.AccessKeys {
			s.byKey[k] = session{acct: st, kind: "user"}
		}
	}
	return s, nil
}

// Calls returns how many times an operation was called for an account.
func (s *Server) Calls(account, op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[account+"/"+op]
}

// CallCounts returns the number of calls per operation and per account.
func (s *Server) CallCounts() (byOp map[string]int, byAccount map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	byOp, byAccount = map[string]int{}, map[string]int{}
	for k, n := range s.calls {
		acct, op, _ := strings.Cut(k, "/")
		byOp[op] += n
		byAccount[acct] += n
	}
	return byOp, byAccount
}

// CallsByAccount returns, for every account of the world, how many calls
// of the given operations it received (0 for none).
func (s *Server) CallsByAccount(ops ...string) map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.accounts))
	for id := range s.accounts {
		for _, op := range ops {
			out[id] += s.calls[id+"/"+op]
		}
	}
	return out
}

// Listen serves on addr (use "127.0.0.1:0" for a free loopback port) until
// ctx ends. It returns the base URL.
func (s *Server) Listen(ctx context.Context, addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("awsfake listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
		_ = srv.Close()
	}()
	return "http://" + ln.Addr().String(), nil
}

var credScope = regexp.MustCompile(`Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request`)

// request is one decoded call.
type request struct {
	service string // iam, sts, organizations, cloudtrail
	op      string
	form    url.Values
	body    []byte
	acct    *acctState
	session session
	region  string
	json    bool
	rest    bool   // REST-JSON (GuardDuty, Account, Security Hub)
	host    string // the Host header, for queue URLs
	path    string // the URL path, for REST-JSON
	ctx     context.Context
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	req := request{body: body, ctx: r.Context(), host: r.Host}
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		req.json = true
		i := strings.LastIndex(target, ".")
		req.op = target[i+1:]
		switch {
		case strings.HasPrefix(target, "AWSOrganizationsV20161128."):
			req.service = "organizations"
		case strings.Contains(target, "CloudTrail_20131101."):
			req.service = "cloudtrail"
		case strings.HasPrefix(target, "Logs_20140328."):
			req.service = "logs"
		case strings.HasPrefix(target, "GraniteServiceVersion20100801."):
			req.service = "cloudwatch"
		case strings.HasPrefix(target, "AWSEvents."):
			req.service = "events"
		case strings.HasPrefix(target, "AmazonSQS."):
			req.service = "sqs"
		default:
			s.writeJSONError(w, http.StatusBadRequest, "UnknownOperationException", "unknown target "+target)
			return
		}
	} else if p := r.URL.Path; strings.HasPrefix(p, "/detector") || p == "/listRegions" || p == "/findings" || p == "/findings/import" {
		req.json, req.rest, req.path = true, true, p
		switch {
		case p == "/findings/import" && r.Method == http.MethodPost:
			req.service, req.op = "securityhub", "BatchImportFindings"
		case p == "/findings" && r.Method == http.MethodPost:
			req.service, req.op = "securityhub", "GetFindings"
		case p == "/listRegions" && r.Method == http.MethodPost:
			req.service, req.op = "account", "ListRegions"
		case p == "/detector" && r.Method == http.MethodGet:
			req.service, req.op = "guardduty", "ListDetectors"
		case strings.HasPrefix(p, "/detector/") && r.Method == http.MethodGet:
			req.service, req.op = "guardduty", "GetDetector"
		default:
			s.writeRESTError(w, http.StatusNotFound, "UnknownOperationException", r.Method+" "+p)
			return
		}
	} else {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			s.writeQueryError(w, iamNS, http.StatusBadRequest, "MalformedQueryString", err.Error())
			return
		}
		for k, v := range r.URL.Query() {
			form[k] = v
		}
		req.form = form
		req.op = form.Get("Action")
		req.service = serviceOfAction(req.op)
	}
	m := credScope.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		s.writeError(w, req, http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token")
		return
	}
	req.region = m[2]
	if !req.json && (m[3] == "iam" || m[3] == "sts" || m[3] == "sns" || m[3] == "ec2") {
		req.service = m[3]
	}
	s.mu.Lock()
	sess, known := s.byKey[m[1]]
	s.mu.Unlock()
	if !known {
		s.writeError(w, req, http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
		return
	}
	acct := sess.acct
	req.acct, req.session = acct, sess
	if s.latency > 0 {
		select {
		case <-time.After(s.latency):
		case <-r.Context().Done():
			return
		}
	}
	if sess.kind == "root" && !rootTaskAllows(sess.task, req.op) {
		s.writeError(w, req, http.StatusForbidden, "AccessDenied",
			fmt.Sprintf("User: arn:aws:iam::%s:root is not authorized to perform: %s:%s with an explicit deny in a session policy", acct.spec.ID, req.service, req.op))
		return
	}
	s.mu.Lock()
	s.calls[acct.spec.ID+"/"+req.op]++
	s.mu.Unlock()

	// The faults of the account the credentials land in; AssumeRole and
	// AssumeRoot also apply the target account's own, in their handlers.
	if req.op != "AssumeRole" && req.op != "AssumeRoot" && s.applyFaults(r.Context(), w, req) {
		return
	}
	switch req.service {
	case "iam":
		s.serveIAM(w, req)
	case "sts":
		s.serveSTS(w, req)
	case "organizations":
		s.serveOrganizations(w, req)
	case "cloudtrail":
		s.serveCloudTrail(w, req)
	case "logs":
		s.serveLogs(w, req)
	case "cloudwatch":
		s.serveAlarms(w, req)
	case "sns":
		s.serveSNS(w, req)
	case "events":
		s.serveEvents(w, req)
	case "guardduty":
		s.serveGuardDuty(w, req, req.path)
	case "account":
		s.serveAccount(w, req)
	case "ec2":
		s.serveEC2(w, req)
	case "sqs":
		s.serveSQS(w, req)
	case "securityhub":
		s.serveSecurityHub(w, req)
	default:
		s.writeError(w, req, http.StatusBadRequest, "InvalidAction", "The action "+req.op+" is not valid for this endpoint.")
	}
}

func serviceOfAction(op string) string {
	switch op {
	case "GetCallerIdentity", "AssumeRole", "AssumeRoot", "GetSessionToken":
		return "sts"
	}
	return "iam"
}

// applyTargetFaults injects the faults of the account a role or root
// session is requested for (a role that cannot be assumed, a hang).
func (s *Server) applyTargetFaults(w http.ResponseWriter, req request, target *acctState) bool {
	t := req
	t.acct = target
	return s.applyFaults(req.ctx, w, t)
}

// applyFaults injects the account's faults for this operation; it reports
// whether it wrote the response.
func (s *Server) applyFaults(ctx context.Context, w http.ResponseWriter, req request) bool {
	for i, f := range req.acct.spec.Faults {
		if f.Op != req.op && f.Op != "*" || f.Region != "" && f.Region != req.region {
			continue
		}
		s.mu.Lock()
		req.acct.faultCalls[i]++
		n := req.acct.faultCalls[i]
		fire := (f.Times == 0 || n <= f.Times) && (f.Rate == 0 || s.rng.Float64() < f.Rate)
		s.mu.Unlock()
		if !fire {
			continue
		}
		if d, _ := parseDur(f.Latency); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return true
			}
		}
		if f.Hang {
			<-ctx.Done()
			return true
		}
		if f.Code == "" {
			continue // latency only
		}
		status := f.Status
		if status == 0 {
			status = http.StatusBadRequest
		}
		msg := f.Message
		if msg == "" {
			msg = "injected fault " + f.Code
		}
		s.writeError(w, req, status, f.Code, msg)
		return true
	}
	return false
}

const (
	iamNS = "https://iam.amazonaws.com/doc/2010-05-08/"
	stsNS = "https://sts.amazonaws.com/doc/2011-06-15/"
)

func (s *Server) requestID() string {
	n := s.reqSeq.Add(1) // atomic: responses are written under s.mu too
	return fmt.Sprintf("f4ke%04x-0000-4000-8000-%012x", n&0xffff, n)
}

func (s *Server) writeError(w http.ResponseWriter, req request, status int, code, msg string) {
	if req.rest {
		s.writeRESTError(w, status, code, msg)
		return
	}
	if req.json {
		s.writeJSONError(w, status, code, msg)
		return
	}
	if req.service == "ec2" {
		s.writeEC2Error(w, status, code, msg)
		return
	}
	ns := iamNS
	switch req.service {
	case "sts":
		ns = stsNS
	case "sns":
		ns = snsNS
	}
	s.writeQueryError(w, ns, status, code, msg)
}

// writeQueryResult writes an AWS Query response. result must be a pointer to
// a struct with an XMLName field; nil writes a response without a result.
func (s *Server) writeQueryResult(w http.ResponseWriter, ns, action string, result any) {
	var inner []byte
	if result != nil {
		reflect.ValueOf(result).Elem().FieldByName("XMLName").Set(reflect.ValueOf(xml.Name{Local: action + "Result"}))
		var err error
		if inner, err = xml.Marshal(result); err != nil {
			s.writeQueryError(w, ns, http.StatusInternalServerError, "ServiceFailure", err.Error())
			return
		}
	}
	id := s.requestID()
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-RequestId", id) // as AWS sends it; the SDK reads it from here
	fmt.Fprintf(w, `<%sResponse xmlns="%s">%s<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>`,
		action, ns, inner, id, action)
}

func (s *Server) writeQueryError(w http.ResponseWriter, ns string, status int, code, msg string) {
	typ := "Sender"
	if status >= 500 {
		typ = "Receiver"
	}
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(msg))
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
		ns, typ, code, b.String(), s.requestID())
}

func (s *Server) writeJSON(w http.ResponseWriter, v any) {
	s.writeBody(w, "application/x-amz-json-1.1", v)
}

func (s *Server) writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", s.requestID())
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg, "Message": msg})
}

// Serve parses a world, starts the fake on a free loopback port until ctx
// ends, and returns its URL: the one-call start tests and the demo use.
func Serve(ctx context.Context, worldYAML []byte, name string, opts Options) (*Server, string, error) {
	w, err := ParseWorld(worldYAML, name)
	if err != nil {
		return nil, "", err
	}
	srv, err := New(w, opts)
	if err != nil {
		return nil, "", err
	}
	url, err := srv.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	return srv, url, nil
}
