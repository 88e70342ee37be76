package report

import (
	"encoding/xml"
	"fmt"
	"io"

	"github.com/rootwatch/rootwatch/internal/finding"
)

// JUnit writes a suite per account and a case per finding, for CI
// dashboards: fail is a failure, error an error, and unknown,
// not_applicable and suppressed are skipped with the reason. Rules the
// configuration disabled are skipped cases of one more suite.
type JUnit struct{}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

func (JUnit) Write(w io.Writer, run *finding.Run) error {
	run = clean(run)
	out := junitSuites{Name: "rootwatch"}
	index := map[string]int{}
	for _, a := range run.Accounts {
		index[a.AccountID] = len(out.Suites)
		out.Suites = append(out.Suites, junitSuite{Name: "aws account " + a.AccountID + " (" + string(a.Status) + ")"})
	}
	for _, f := range run.Findings {
		i, ok := index[f.AccountID]
		if !ok {
			index[f.AccountID] = len(out.Suites)
			i = len(out.Suites)
			out.Suites = append(out.Suites, junitSuite{Name: "aws account " + f.AccountID})
		}
		s := &out.Suites[i]
		c := junitCase{Name: f.RuleID + " " + f.Resource, Classname: "rootwatch." + f.AccountID}
		msg := &junitMessage{Message: f.Message, Type: string(f.Severity), Text: f.Title + ": " + f.Message}
		switch f.Status {
		case finding.StatusFail:
			c.Failure = msg
			s.Failures++
		case finding.StatusError:
			c.Error = msg
			s.Errors++
		case finding.StatusUnknown, finding.StatusNotApplicable, finding.StatusSuppressed:
			c.Skipped = &junitMessage{Message: string(f.Status) + ": " + f.Message}
			s.Skipped++
		}
		s.Tests++
		s.Cases = append(s.Cases, c)
	}
	if len(run.DisabledRules) > 0 {
		// One suite for the configuration, not a case per account: a
		// disabled rule was judged for no account.
		s := junitSuite{Name: "rules disabled by the configuration"}
		for _, r := range run.DisabledRules {
			s.Cases = append(s.Cases, junitCase{Name: r.RuleID, Classname: "rootwatch.disabled",
				Skipped: &junitMessage{Message: "disabled by the configuration (enabled: false), judged for no account: " + r.Title}})
			s.Tests++
			s.Skipped++
		}
		out.Suites = append(out.Suites, s)
	}
	for _, s := range out.Suites {
		out.Tests, out.Failures, out.Errors, out.Skipped = out.Tests+s.Tests, out.Failures+s.Failures, out.Errors+s.Errors, out.Skipped+s.Skipped
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}
