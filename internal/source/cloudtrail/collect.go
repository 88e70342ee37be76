package cloudtrail

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/rootwatch/rootwatch/internal/evidence"
	"github.com/rootwatch/rootwatch/internal/parallel"
)

// Result is everything read from a set of sources.
type Result struct {
	Sources []evidence.SourceStats
	Events  []evidence.Event
	// Duplicates counts records seen more than once: identical after
	// canonicalisation (Event.Digest), e.g. in two overlapping sources;
	// each is kept once. Records that share an event ID but differ in any
	// field are all kept.
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

// Job is one source to read: a file or object to decode (Open), or a
// query an engine answers (Read).
type Job struct {
	Name string
	Open func(ctx context.Context) (readCloser, error)
	Read func(ctx context.Context) ([]evidence.Event, evidence.SourceStats)
}

type readCloser interface {
	Read([]byte) (int, error)
	Close() error
}

// FileJobs expands paths into jobs: files as given, directories walked
// recursively in lexical order, skipping CloudTrail-Digest folders (digest
// files sign log files; they hold no events). Symbolic links are followed;
// a link to a directory already being read (a loop, or the same directory
// twice), and anything that is not a regular file, is listed as skipped
// with the reason; a broken link is listed with its error. Nothing below a
// path is passed over without a line saying so.
func FileJobs(paths []string) ([]Job, []evidence.SourceStats) {
	w := &fileWalker{seen: map[string]bool{}}
	for _, p := range paths {
		st, err := os.Stat(p)
		switch {
		case err != nil:
			w.bad = append(w.bad, evidence.SourceStats{Path: p, Error: err.Error()})
		case st.IsDir():
			w.dir(p)
		case st.Mode().IsRegular():
			w.add(p)
		default:
			w.skip(p, "not a regular file ("+st.Mode().Type().String()+")")
		}
	}
	return w.jobs, w.bad
}

type fileWalker struct {
	jobs []Job
	bad  []evidence.SourceStats
	seen map[string]bool // directories entered, by resolved path
}

func (w *fileWalker) add(p string) {
	w.jobs = append(w.jobs, Job{Name: p, Open: func(context.Context) (readCloser, error) { return os.Open(p) }})
}

func (w *fileWalker) skip(p, why string) {
	w.bad = append(w.bad, evidence.SourceStats{Path: p, Skipped: 1, Problems: []string{"skipped: " + why}})
}

func (w *fileWalker) dir(p string) {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		w.bad = append(w.bad, evidence.SourceStats{Path: p, Error: err.Error()})
		return
	}
	if abs, err := filepath.Abs(real); err == nil {
		real = abs
	}
	if w.seen[real] {
		w.skip(p, "a link to directory "+real+", which is already being read")
		return
	}
	w.seen[real] = true
	entries, err := os.ReadDir(p)
	if err != nil {
		w.bad = append(w.bad, evidence.SourceStats{Path: p, Error: err.Error()})
	}
	for _, e := range entries { // sorted by name
		path := filepath.Join(p, e.Name())
		mode := e.Type()
		if mode&fs.ModeSymlink != 0 {
			st, err := os.Stat(path)
			if err != nil {
				w.bad = append(w.bad, evidence.SourceStats{Path: path, Error: "broken symbolic link: " + err.Error()})
				continue
			}
			mode = st.Mode().Type()
		}
		switch {
		case mode.IsDir() && e.Name() == "CloudTrail-Digest":
		case mode.IsDir():
			w.dir(path)
		case mode.IsRegular():
			w.add(path)
		default:
			w.skip(path, "not a regular file ("+mode.String()+")")
		}
	}
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
	// Pointers, not values: a large slice of values is one allocation that
	// the garbage collector scans (mapping the kernel's zero page) before the
	// workers first write each page, and every such write is a
	// write-protect fault that flushes the other cores' TLBs; small
	// objects come from the heap's spans.
	// Each job in flight has a Reader; at most workers are, so the free
	// list never holds more.
	readers := make(chan *Reader, workers)
	results, notRun := parallel.Map(ctx, len(jobs), parallel.Options{Limit: workers}, func(ctx context.Context, i int) *out {
		var rd *Reader
		select {
		case rd = <-readers:
		default:
			rd = NewReader()
		}
		defer func() { readers <- rd }()
		o := &out{}
		o.events, o.stats = decodeJob(ctx, rd, jobs[i])
		return o
	})
	for _, i := range notRun {
		results[i] = &out{stats: evidence.SourceStats{Path: jobs[i].Name, Error: "not read: " + ctx.Err().Error()}}
	}

	var res Result
	seen := map[string]bool{}
	var all []evidence.Event
	for _, r := range results {
		res.Sources = append(res.Sources, r.stats)
		for _, e := range r.events {
			if e.Digest != "" {
				if seen[e.Digest] {
					res.Duplicates++
					continue
				}
				seen[e.Digest] = true
			}
			all = append(all, e)
		}
	}
	// Sessions are linked before filtering: the AssumeRoot call is in the
	// management account, which the filter may leave out.
	LinkRootSessions(all)
	for _, e := range all {
		if f.keep(&e) {
			res.Events = append(res.Events, e)
		}
	}
	evidence.SortNewestFirst(res.Events)
	return res
}

func decodeJob(ctx context.Context, rd *Reader, j Job) ([]evidence.Event, evidence.SourceStats) {
	if err := ctx.Err(); err != nil {
		return nil, evidence.SourceStats{Path: j.Name, Error: "not read: " + err.Error()}
	}
	if j.Read != nil {
		return j.Read(ctx)
	}
	rc, err := j.Open(ctx)
	if err != nil {
		return nil, evidence.SourceStats{Path: j.Name, Error: fmt.Sprintf("open: %v", err)}
	}
	defer rc.Close()
	return rd.Decode(rc, j.Name)
}
