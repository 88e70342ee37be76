package cloudtrail

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
)

// Result is everything read from a set of sources.
type Result struct {
	Sources []evidence.SourceStats
	Events  []evidence.Event
	// Duplicates counts events seen more than once (identical records, e.g.
	// in two overlapping sources); each is kept once. Records that share an
	// event ID but differ are all kept.
	Duplicates int
}

// Filter narrows the timeline. Events whose time is missing or invalid are
// kept (with their time_problem): they cannot be shown to lie outside.
type Filter struct {
	Since, Until time.Time
	Accounts     map[string]bool
}

func (f Filter) keep(e *evidence.Event) bool {
	if len(f.Accounts) > 0 && !f.Accounts[e.AccountID] {
		return false
	}
	if !e.HasTime() {
		return true
	}
	if !f.Since.IsZero() && e.Time.Before(f.Since) {
		return false
	}
	if !f.Until.IsZero() && e.Time.After(f.Until) {
		return false
	}
	return true
}

// Job is one source to decode.
type Job struct {
	Name string
	Open func(ctx context.Context) (readCloser, error)
}

type readCloser interface {
	Read([]byte) (int, error)
	Close() error
}

// FileJobs expands paths into jobs: files as given, directories walked
// recursively in lexical order, skipping CloudTrail-Digest folders (digest
// files sign log files; they hold no events).
func FileJobs(paths []string) ([]Job, []evidence.SourceStats) {
	var jobs []Job
	var bad []evidence.SourceStats
	add := func(p string) {
		jobs = append(jobs, Job{Name: p, Open: func(context.Context) (readCloser, error) { return os.Open(p) }})
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			bad = append(bad, evidence.SourceStats{Path: p, Error: err.Error()})
			continue
		}
		if !st.IsDir() {
			add(p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				bad = append(bad, evidence.SourceStats{Path: path, Error: err.Error()})
				return nil
			}
			if d.IsDir() && d.Name() == "CloudTrail-Digest" {
				return filepath.SkipDir
			}
			if d.Type().IsRegular() {
				add(path)
			}
			return nil
		})
		if err != nil {
			bad = append(bad, evidence.SourceStats{Path: p, Error: err.Error()})
		}
	}
	return jobs, bad
}

// Run decodes jobs in parallel (one worker per core unless workers > 0) and
// merges their events: filtered, de-duplicated, newest first.
func Run(ctx context.Context, jobs []Job, workers int, f Filter) Result {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	type out struct {
		events []evidence.Event
		stats  evidence.SourceStats
	}
	results := make([]out, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rd := NewReader()
			for i := range next {
				results[i].events, results[i].stats = decodeJob(ctx, rd, jobs[i])
			}
		}()
	}
feed:
	for i := range jobs {
		select {
		case next <- i:
		case <-ctx.Done():
			for j := i; j < len(jobs); j++ {
				results[j].stats = evidence.SourceStats{Path: jobs[j].Name, Error: "not read: " + ctx.Err().Error()}
			}
			break feed
		}
	}
	close(next)
	wg.Wait()

	var res Result
	seen := map[string]bool{}
	for _, r := range results {
		res.Sources = append(res.Sources, r.stats)
		for _, e := range r.events {
			if e.EventID != "" {
				key := dedupeKey(e)
				if seen[key] {
					res.Duplicates++
					continue
				}
				seen[key] = true
			}
			if f.keep(&e) {
				res.Events = append(res.Events, e)
			}
		}
	}
	evidence.SortNewestFirst(res.Events)
	return res
}

func decodeJob(ctx context.Context, rd *Reader, j Job) ([]evidence.Event, evidence.SourceStats) {
	if err := ctx.Err(); err != nil {
		return nil, evidence.SourceStats{Path: j.Name, Error: "not read: " + err.Error()}
	}
	rc, err := j.Open(ctx)
	if err != nil {
		return nil, evidence.SourceStats{Path: j.Name, Error: fmt.Sprintf("open: %v", err)}
	}
	defer rc.Close()
	return rd.Decode(rc, j.Name)
}

// dedupeKey identifies a record by everything but where it was read from.
func dedupeKey(e evidence.Event) string {
	e.Source = ""
	e.Time = time.Time{}
	return fmt.Sprintf("%+v", e)
}
