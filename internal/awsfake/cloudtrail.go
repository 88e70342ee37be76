package awsfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

type lookupEvent struct {
	EventID         string    `json:"EventId"`
	EventName       string    `json:"EventName"`
	ReadOnly        string    `json:"ReadOnly"`
	EventTime       float64   `json:"EventTime"`
	EventSource     string    `json:"EventSource"`
	Username        string    `json:"Username"`
	Resources       []any     `json:"Resources"`
	CloudTrailEvent string    `json:"CloudTrailEvent"`
	at              time.Time // zero when the event's time is not a time
}

// trailEvents renders the account's trail as LookupEvents results, newest first.
func (s *Server) trailEvents(a *Account) ([]lookupEvent, error) {
	now := s.now()
	var out []lookupEvent
	for i, te := range a.Trail {
		id := fmt.Sprintf("fa4e%04d-0000-4000-8000-%s", i, a.ID)
		if te.Raw != "" {
			t, _ := resolveTime(orDefault(te.Time, "-1h"), now)
			at, _ := time.Parse("2006-01-02T15:04:05+00:00", t)
			out = append(out, lookupEvent{EventID: id, EventName: orDefault(te.Name, "ConsoleLogin"), ReadOnly: "false", EventTime: float64(at.Unix()),
				EventSource: orDefault(te.Source, "signin.amazonaws.com"), Username: "root", Resources: []any{}, CloudTrailEvent: te.Raw, at: at})
			continue
		}
		ts, err := resolveTime(orDefault(te.Time, "-1h"), now)
		if err != nil {
			return nil, err
		}
		at, perr := time.Parse("2006-01-02T15:04:05+00:00", ts)
		eventTime := strings.Replace(ts, "+00:00", "Z", 1)
		identity := orDefault(te.Identity, "Root")
		ui := map[string]any{"type": identity, "accountId": a.ID}
		username := "root"
		switch identity {
		case "Root":
			ui["arn"], ui["principalId"] = rootARN(a), a.ID
			if te.Actor != "" {
				ui["accountId"], ui["arn"], ui["principalId"] = te.Actor, fmt.Sprintf("arn:%s:iam::%s:root", partition(a), te.Actor), te.Actor
			}
		case "AssumedRole":
			role := orDefault(te.User, "Admin/alice")
			username = role[strings.LastIndex(role, "/")+1:]
			ui["arn"], ui["principalId"] = fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s", partition(a), a.ID, role), "AROAFAKE"+a.ID+":"+username
		default:
			username = orDefault(te.User, "alice")
			ui["arn"], ui["principalId"], ui["userName"] = userARN(a, username), "AIDAFAKE"+a.ID, username
		}
		if te.AccessKey != "" {
			ui["accessKeyId"] = te.AccessKey
		}
		if te.InvokedBy != "" {
			ui["invokedBy"] = te.InvokedBy
		}
		name, source := orDefault(te.Name, "ConsoleLogin"), orDefault(te.Source, "signin.amazonaws.com")
		rec := map[string]any{
			"eventVersion": "1.08", "userIdentity": ui, "eventTime": eventTime, "eventSource": source, "eventName": name,
			"awsRegion": orDefault(te.Region, "us-east-1"), "sourceIPAddress": orDefault(te.IP, "198.51.100.7"),
			"userAgent": orDefault(te.UserAgent, "Mozilla/5.0"), "requestParameters": nil, "eventID": id,
			"eventType": orDefault(te.EventType, "AwsApiCall"), "recipientAccountId": a.ID,
		}
		if te.Request != nil {
			rec["requestParameters"] = te.Request
		}
		if te.Response != nil {
			rec["responseElements"] = te.Response
		}
		if source == "signin.amazonaws.com" {
			rec["eventType"] = orDefault(te.EventType, "AwsConsoleSignIn")
			result := orDefault(te.Result, "Success")
			rec["responseElements"] = map[string]string{name: result}
			if result == "Failure" {
				rec["errorMessage"] = "Failed authentication"
			}
		}
		if te.SharedEventID != "" {
			rec["sharedEventID"] = te.SharedEventID
		}
		if te.MFA != "" {
			rec["additionalEventData"] = map[string]string{"MFAUsed": te.MFA, "MobileVersion": "No"}
		}
		body, err := json.Marshal(rec)
		if err != nil {
			return nil, err
		}
		le := lookupEvent{EventID: id, EventName: name, ReadOnly: "false", EventSource: source, Username: username, Resources: []any{}, CloudTrailEvent: string(body)}
		if perr == nil {
			le.at, le.EventTime = at, float64(at.Unix())
		}
		out = append(out, le)
	}
	slices.SortStableFunc(out, func(a, b lookupEvent) int { return b.at.Compare(a.at) })
	return out, nil
}

type lookupRequest struct {
	LookupAttributes []struct {
		AttributeKey   string `json:"AttributeKey"`
		AttributeValue string `json:"AttributeValue"`
	} `json:"LookupAttributes"`
	StartTime     *float64 `json:"StartTime"`
	EndTime       *float64 `json:"EndTime"`
	MaxResults    *int     `json:"MaxResults"`
	NextToken     *string  `json:"NextToken"`
	EventCategory *string  `json:"EventCategory"`
}

func epoch(f float64) time.Time {
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}

func (s *Server) serveCloudTrail(w http.ResponseWriter, req request) {
	switch req.op {
	case "DescribeTrails", "GetTrailStatus", "GetEventSelectors":
		s.serveTrailOps(w, req)
		return
	case "StartQuery", "GetQueryResults", "DescribeQuery", "CancelQuery":
		s.serveLake(w, req)
		return
	case "LookupEvents":
	default:
		s.writeJSONError(w, http.StatusBadRequest, "UnknownOperationException", "unknown operation "+req.op)
		return
	}
	a := req.acct.spec
	limit := a.Lookup.MaxPerSecond
	if limit == 0 {
		limit = 2
	}
	if limit > 0 {
		s.mu.Lock()
		now := time.Now()
		recent := req.acct.lookups[:0]
		for _, t := range req.acct.lookups {
			if now.Sub(t) < time.Second {
				recent = append(recent, t)
			}
		}
		throttled := len(recent) >= limit
		if !throttled {
			recent = append(recent, now)
		}
		req.acct.lookups = recent
		s.mu.Unlock()
		if throttled {
			s.writeJSONError(w, http.StatusBadRequest, "ThrottlingException", "Rate exceeded")
			return
		}
	}
	var in lookupRequest
	if err := json.Unmarshal(req.body, &in); err != nil {
		s.writeJSONError(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	if len(in.LookupAttributes) > 1 {
		s.writeJSONError(w, http.StatusBadRequest, "InvalidLookupAttributesException", "You cannot specify more than one lookup attribute.")
		return
	}
	max := 50
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 50 {
			s.writeJSONError(w, http.StatusBadRequest, "InvalidMaxResultsException", "MaxResults must be between 1 and 50.")
			return
		}
		max = *in.MaxResults
	}
	if a.Lookup.PageSize > 0 && a.Lookup.PageSize < max {
		max = a.Lookup.PageSize
	}
	var start, end time.Time
	if in.StartTime != nil {
		start = epoch(*in.StartTime)
	}
	if in.EndTime != nil {
		end = epoch(*in.EndTime)
	}
	if !start.IsZero() && !end.IsZero() && end.Before(start) {
		s.writeJSONError(w, http.StatusBadRequest, "InvalidTimeRangeException", "EndTime is before StartTime.")
		return
	}
	all, err := s.trailEvents(a)
	if err != nil {
		s.writeJSONError(w, http.StatusInternalServerError, "InternalServerException", err.Error())
		return
	}
	var match []lookupEvent
	for _, e := range all {
		if !e.at.IsZero() && ((!start.IsZero() && e.at.Before(start)) || (!end.IsZero() && e.at.After(end))) {
			continue
		}
		if len(in.LookupAttributes) == 1 {
			attr := in.LookupAttributes[0]
			var v string
			switch attr.AttributeKey {
			case "Username":
				v = e.Username
			case "EventName":
				v = e.EventName
			case "EventSource":
				v = e.EventSource
			case "EventId":
				v = e.EventID
			case "ReadOnly":
				v = e.ReadOnly
			default:
				s.writeJSONError(w, http.StatusBadRequest, "InvalidLookupAttributesException", "unsupported attribute key "+attr.AttributeKey)
				return
			}
			if v != attr.AttributeValue {
				continue
			}
		}
		match = append(match, e)
	}
	from := 0
	if in.NextToken != nil {
		raw, err := base64.RawURLEncoding.DecodeString(*in.NextToken)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(raw), "lookup:"))
		if err != nil || err2 != nil || n < 0 || n > len(match) {
			s.writeJSONError(w, http.StatusBadRequest, "InvalidNextTokenException", "A token you provided is not valid.")
			return
		}
		from = n
	}
	to := min(from+max, len(match))
	out := map[string]any{"Events": match[from:to]}
	if to < len(match) {
		out["NextToken"] = base64.RawURLEncoding.EncodeToString([]byte("lookup:" + strconv.Itoa(to)))
	}
	s.writeJSON(w, out)
}
