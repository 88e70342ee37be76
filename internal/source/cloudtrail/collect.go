package cloudtrail

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
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
	// SharedCopies counts copies of cross-account calls folded into
	// another (see Merge): one call logged in two accounts' trails is one
	// root action.
	SharedCopies int
}

// Filter narrows the timeline. Events whose time is missing or invalid are
// kept (with their time_problem): they cannot be shown to lie outside.
type Filter struct {
	Since, Until time.Time
	// Accounts keeps the root activity of these accounts, what other
	// roots did that these accounts' trails logged, and the calls made
	// elsewhere about their roots (AssumeRoot, primary e-mail changes).
	Accounts map[string]bool
}

// Keep reports whether the filter keeps an event.
func (f Filter) Keep(e *evidence.Event) bool {
	if len(f.Accounts) > 0 && !f.Accounts[e.AccountID] && !f.Accounts[e.OtherAccount] && !f.Accounts[e.Recipient] && !f.Accounts[e.TargetAccount()] &&
		!slices.ContainsFunc(e.LoggedIn, func(a string) bool { return f.Accounts[a] }) {
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
// files sign log files; they hold no events). Symbolic links are followed.
// A link back to a directory being read (a symbolic link loop) or to one
// already read (the same directory twice) is listed as not read, with the
// reason: its files are read once, through the other path. Anything that
// is not a regular file is listed as not read; a broken link, and a chain
// of links that never ends (a loop of links, ELOOP), with its error.
// Nothing below a path is passed over without a line saying so.
func FileJobs(paths []string) ([]Job, []evidence.SourceStats) {
	w := &fileWalker{seen: map[string]bool{}, open: map[string]bool{}}
	for _, p := range paths {
		st, err := os.Stat(p)
		switch {
		case err != nil:
			w.broken(p, "", err)
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
	open map[string]bool // the directories being walked (a link to one is a loop)
}

func (w *fileWalker) add(p string) {
	w.jobs = append(w.jobs, Job{Name: p, Open: func(context.Context) (readCloser, error) { return os.Open(p) }})
}

// skip lists a path that is not read, and why: not a failure to read it
// (its content, if any, is read elsewhere or is no log file).
func (w *fileWalker) skip(p, why string) {
	w.bad = append(w.bad, evidence.SourceStats{Path: p, NotRead: why})
}

// broken lists a path that cannot be followed, naming a loop of links as
// such.
func (w *fileWalker) broken(p, prefix string, err error) {
	if errors.Is(err, syscall.ELOOP) {
		w.bad = append(w.bad, evidence.SourceStats{Path: p, Error: "symbolic link loop: following its links never ends at a file or directory (" + err.Error() + ")"})
		return
	}
	w.bad = append(w.bad, evidence.SourceStats{Path: p, Error: prefix + err.Error()})
}

func (w *fileWalker) dir(p string) {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		w.broken(p, "", err)
		return
	}
	if abs, err := filepath.Abs(real); err == nil {
		real = abs
	}
	if w.seen[real] {
		why := "a link to directory " + real + ", which is already read through another path: its files are read once"
		if w.open[real] {
			why = "symbolic link loop: a link back to directory " + real + ", which is being read (its files are read once)"
		}
		w.skip(p, why)
		return
	}
	w.seen[real] = true
	w.open[real] = true
	defer delete(w.open, real)
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
				w.broken(path, "broken symbolic link: ", err)
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
	var all []evidence.Event
	for _, r := range results {
		res.Sources = append(res.Sources, r.stats)
		all = append(all, r.events...)
	}
	all, res.Duplicates, res.SharedCopies = Merge(all)
	// Sessions are linked before filtering: the AssumeRoot call is in the
	// management account, which the filter may leave out.
	LinkRootSessions(all)
	for _, e := range all {
		if f.Keep(&e) {
			res.Events = append(res.Events, e)
		}
	}
	evidence.SortNewestFirst(res.Events)
	return res
}

// Merge keeps each root action once. Identical records (one digest, e.g.
// a log file and LookupEvents, or two overlapping sources) are one
// (duplicates). So are the copies CloudTrail delivers of one
// cross-account call: the caller's account and the resource owner's
// account each get a record with its own eventID and recipientAccountId
// and one sharedEventID ("sharedEventID", CloudTrail record contents); an
// organization trail, or both accounts' trails read together, holds both.
// Copies are folded only when they agree on whose root acted, what, when,
// where and with what result; the kept one is the resource owner's (it
// says on whose resource), with every recipient in LoggedIn. Copies that
// disagree are all kept: two actions counted rather than one hidden.
func Merge(evs []evidence.Event) (kept []evidence.Event, duplicates, copies int) {
	seen := map[string]bool{}
	shared := map[string]int{} // copy key → index in kept
	for _, e := range evs {
		if e.Digest != "" {
			if seen[e.Digest] {
				duplicates++
				continue
			}
			seen[e.Digest] = true
		}
		if e.SharedEventID == "" {
			kept = append(kept, e)
			continue
		}
		key := strings.Join([]string{e.SharedEventID, e.AccountID, e.OtherAccount, e.EventSource, e.EventName, e.EventTime, e.Category, e.Result, e.Region}, "\x00")
		i, ok := shared[key]
		if !ok {
			shared[key] = len(kept)
			kept = append(kept, e)
			continue
		}
		copies++
		k := &kept[i]
		logged := append(append(slices.Clone(k.LoggedIn), k.Recipient, e.Recipient), e.LoggedIn...)
		if k.Recipient == k.AccountID && e.Recipient != e.AccountID {
			*k = e // the owner's copy names the resource's account
		}
		slices.Sort(logged)
		k.LoggedIn = slices.DeleteFunc(slices.Compact(logged), func(a string) bool { return a == "" })
	}
	return kept, duplicates, copies
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
