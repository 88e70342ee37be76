package cloudtrail

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/rootwatch/rootwatch/internal/evidence"
)

// TestRunCancelledListsEveryJob: a read cancelled by its second job lists
// every job, in order; those never started say so.
func TestRunCancelledListsEveryJob(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var jobs []Job
	for i := range 6 {
		name := fmt.Sprintf("job-%d", i)
		jobs = append(jobs, Job{Name: name, Read: func(context.Context) ([]evidence.Event, evidence.SourceStats) {
			if i == 1 {
				cancel()
			}
			return nil, evidence.SourceStats{Path: name}
		}})
	}
	res := Run(ctx, jobs, 1, Filter{})
	if len(res.Sources) != len(jobs) {
		t.Fatalf("%d sources for %d jobs", len(res.Sources), len(jobs))
	}
	for i, s := range res.Sources {
		want := ""
		if i > 1 {
			want = "not read: context canceled"
		}
		if s.Path != jobs[i].Name || s.Error != want {
			t.Errorf("source %d: %s %q, want %s %q", i, s.Path, s.Error, jobs[i].Name, want)
		}
	}
}

// TestRunReusesReaders: Readers pass from job to job, each job with one to
// itself (a Reader shared by two at once would mix their buffers, and the
// race detector would see it).
func TestRunReusesReaders(t *testing.T) {
	var jobs []Job
	for i := range 40 {
		jobs = append(jobs, Job{Name: fmt.Sprintf("f%d.json", i), Open: func(context.Context) (readCloser, error) {
			return nopCloser{strings.NewReader(fmt.Sprintf(`{"Records":[%s]}`, strings.Replace(oneRoot, `"eventID":"e1"`, fmt.Sprintf(`"eventID":"e-%d"`, i), 1)))}, nil
		}})
	}
	res := Run(context.Background(), jobs, 3, Filter{})
	if len(res.Sources) != 40 {
		t.Fatalf("%d sources", len(res.Sources))
	}
	for i, s := range res.Sources {
		if s.Path != jobs[i].Name || s.Error != "" || s.Events != 1 {
			t.Errorf("source %d: %+v", i, s)
		}
	}
	if len(res.Events) != 40 || res.Duplicates != 0 {
		t.Errorf("%d events, %d duplicates: want each job's own event", len(res.Events), res.Duplicates)
	}
}

type nopCloser struct{ *strings.Reader }

func (nopCloser) Close() error { return nil }
