package panel_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rootwatch/rootwatch/internal/finding"
	"github.com/rootwatch/rootwatch/internal/store"
	"github.com/rootwatch/rootwatch/internal/store/history"
	"github.com/rootwatch/rootwatch/internal/testutil"
)

// panelRuns is how many runs BenchmarkPanelLatency stores.
const panelRuns = 30

// BenchmarkPanelLatency measures `rootwatch serve` over 30 stored runs of
// an organization (bench/panel.sh runs it): ROOTWATCH_PANEL_RUN is a scan's
// -f json (bench/storegen's day1.json), ROOTWATCH_BIN the rootwatch binary,
// ROOTWATCH_PANEL_OUT a directory for the SQLite store (kept and reused:
// generating it takes minutes) and the results. The runs are the scan
// moved a day at a time, each with 1% of the accounts changing a verdict
// and 0.1% not assessed (their state carried), stored through
// history.Record as `scan --store` stores them. For each dialect it starts
// the server (a process of its own, the store opened read-only), times
// each page's first request after a start (cold) and then REPEAT (default
// 40) requests each (warm), and reads the server's peak RSS (VmHWM). It
// also times what a user without the panel does: `runs export` of the
// latest run piped to jq. ROOTWATCH_STORE_DIALECTS limits the dialects.
func BenchmarkPanelLatency(b *testing.B) {
	runFile, bin, out := os.Getenv("ROOTWATCH_PANEL_RUN"), os.Getenv("ROOTWATCH_BIN"), os.Getenv("ROOTWATCH_PANEL_OUT")
	if runFile == "" || bin == "" || out == "" {
		b.Skip("ROOTWATCH_PANEL_RUN, ROOTWATCH_BIN and ROOTWATCH_PANEL_OUT are not set (bench/panel.sh sets them)")
	}
	repeat := 40
	if n, err := strconv.Atoi(os.Getenv("REPEAT")); err == nil && n > 0 {
		repeat = n
	}
	dialects := os.Getenv("ROOTWATCH_STORE_DIALECTS")
	if dialects == "" {
		dialects = "sqlite,postgres"
	}
	move := os.Getenv("MOVE") == "1"
	ctx := context.Background()
	for _, dialect := range strings.Split(dialects, ",") {
		b.Run(dialect, func(b *testing.B) {
			var spec string
			if dialect == "postgres" {
				spec = testutil.StartPostgres(b)
				fill(b, ctx, spec, runFile, move)
			} else {
				spec = filepath.Join(out, fmt.Sprintf("panel-%d%s.db", panelRuns, map[bool]string{true: "-moved"}[move]))
				if _, err := os.Stat(spec); err != nil {
					tmp := spec + ".part"
					os.Remove(tmp)
					fill(b, ctx, tmp, runFile, move)
					if err := os.Rename(tmp, spec); err != nil {
						b.Fatal(err)
					}
				}
			}
			for i := 0; i < b.N; i++ {
				measure(b, dialect+map[bool]string{true: "-moved"}[move], bin, spec, out, repeat)
			}
		})
	}
}

// fill stores the runs derived from the scan in runFile; with move, every
// time the scan wrote (report times, CloudTrail windows, in evidence,
// messages and sources) moves with the as-of time, as the next day's scan
// writes its windows (and, unlike it, times that stay: when a password was
// last used), so that most findings are written anew each run.
func fill(b *testing.B, ctx context.Context, spec, runFile string, move bool) {
	f, err := os.Open(runFile)
	if err != nil {
		b.Fatal(err)
	}
	base, err := history.ReadRun(bufio.NewReaderSize(f, 1<<20), runFile)
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	s, err := store.Open(ctx, spec, func(string) string { return "" })
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	n := len(base.Accounts)
	for i := range panelRuns {
		began := time.Now()
		run := *base
		day := time.Duration(i) * 24 * time.Hour
		run.AsOf, run.GeneratedAt = base.AsOf.Add(day), base.GeneratedAt.Add(day)
		run.History = nil
		run.Accounts = slices.Clone(base.Accounts)
		run.Findings = make([]finding.Finding, 0, len(base.Findings))
		// 1% of the accounts change a verdict (a different 1% each run),
		// and 0.1% are not assessed: they keep their last known state.
		flip, down := map[string]bool{}, map[string]bool{}
		for k := 0; k < n/100; k++ {
			flip[base.Accounts[(i*7+k*100)%n].AccountID] = true
		}
		for k := 0; k < n/1000; k++ {
			a := &run.Accounts[(i*13+k*1000+500)%n]
			if a.Status == finding.AccountAssessed {
				down[a.AccountID] = true
				a.Status, a.Error, a.Sources = finding.AccountFailed, "AccessDenied: the bench's account is not assessed in this run", nil
			}
		}
		if move {
			for k := range run.Accounts {
				a := &run.Accounts[k]
				a.Sources = slices.Clone(a.Sources)
				for j := range a.Sources {
					a.Sources[j].Detail, _ = shift(a.Sources[j].Detail, day).(string)
					a.Sources[j].GeneratedTime, _ = shift(a.Sources[j].GeneratedTime, day).(string)
				}
			}
		}
		for _, f := range base.Findings {
			if down[f.AccountID] {
				continue
			}
			f.FirstSeen, f.Change = nil, ""
			if move {
				f.Message, _ = shift(f.Message, day).(string)
				f.Evidence, _ = shift(f.Evidence, day).(map[string]any)
			}
			if flip[f.AccountID] && (f.Status == finding.StatusFail || f.Status == finding.StatusPass) {
				delete(flip, f.AccountID)
				if f.Status == finding.StatusFail {
					f.Status = finding.StatusPass
				} else {
					f.Status = finding.StatusFail
				}
			}
			run.Findings = append(run.Findings, f)
		}
		run.Summary = finding.Summarize(run.Findings)
		if _, err := history.Record(ctx, s, &run); err != nil {
			b.Fatalf("run %d: %v", i+1, err)
		}
		b.Logf("stored run %d of %d in %s", i+1, panelRuns, time.Since(began).Round(time.Millisecond))
	}
}

// page is one request the benchmark times.
type page struct{ name, path string }

// measure starts the server over spec, times the pages cold and warm, and
// writes the results under out.
func measure(b *testing.B, dialect, bin, spec, out string, repeat int) {
	ctx := context.Background()
	s, err := store.OpenReadOnly(ctx, spec, store.Options{Getenv: func(string) string { return "" }})
	if err != nil {
		b.Fatal(err)
	}
	runs, err := s.Runs(ctx, 0)
	if err != nil {
		b.Fatal(err)
	}
	latest, _, err := s.Load(ctx, runs[0].ID)
	s.Close()
	if err != nil {
		b.Fatal(err)
	}
	var accounts []string
	for i := 0; i < len(latest.Accounts); i += max(1, len(latest.Accounts)/repeat) {
		accounts = append(accounts, latest.Accounts[i].AccountID)
	}
	pages := []page{{"overview", "/"}, {"matrix", "/matrix"}, {"matrix ?status=fail", "/matrix?status=fail"}, {"account", "/accounts/"}}
	path := func(p page, i int) string {
		if p.name == "account" {
			return p.path + accounts[i%len(accounts)]
		}
		return p.path
	}
	var report strings.Builder
	fmt.Fprintf(&report, "%d runs of %d accounts, %s\n", len(runs), len(latest.Accounts), dialect)
	peak := 0
	for _, p := range pages {
		// A server of its own for each page, so that its first request is
		// the first after a start.
		srv := startServe(b, bin, spec)
		cold, status := srv.get(b, path(p, 0))
		if status != http.StatusOK {
			// A server that cannot answer (the request timed out): said,
			// not timed further.
			kb, _ := srv.stop(b)
			peak = max(peak, kb)
			fmt.Fprintf(&report, "%-20s cold: HTTP %d after %.0f ms\n", p.name, status, ms(cold))
			continue
		}
		var warm []time.Duration
		for i := range repeat {
			d, status := srv.get(b, path(p, i+1))
			if status != http.StatusOK {
				b.Fatalf("GET %s: HTTP %d", path(p, i+1), status)
			}
			warm = append(warm, d)
		}
		kb, took := srv.stop(b)
		peak = max(peak, kb)
		slices.Sort(warm)
		fmt.Fprintf(&report, "%-20s cold %7.0f ms  warm p50 %6.1f ms  p95 %6.1f ms  (%d requests; the runs read at start in %s)\n", p.name,
			ms(cold), ms(warm[len(warm)/2]), ms(warm[(len(warm)*95+99)/100-1]), len(warm), took)
		b.ReportMetric(ms(warm[(len(warm)*95+99)/100-1]), strings.ReplaceAll(strings.ReplaceAll(p.name, " ", ""), "?status=", "-")+"-p95-ms")
	}
	fmt.Fprintf(&report, "server peak RSS (VmHWM) %.0f MiB\n", float64(peak)/1024)
	b.ReportMetric(float64(peak)/1024, "peak-MiB")
	// The same questions without the panel: the latest run exported, and
	// jq over it.
	for _, q := range []struct{ name, filter string }{
		{"jq: failing accounts", `[.findings[] | select(.status == "fail") | .account_id] | unique | length`},
		{"jq: one account", fmt.Sprintf(`[.findings[] | select(.account_id == %q)] | length`, accounts[0])},
	} {
		d := pipeline(b, bin, spec, runs[0].ID, q.filter)
		fmt.Fprintf(&report, "%-20s runs export | jq: %7.0f ms\n", q.name, ms(d))
	}
	b.Log("\n" + report.String())
	if err := os.WriteFile(filepath.Join(out, "panel-"+dialect+".txt"), []byte(report.String()), 0o644); err != nil {
		b.Fatal(err)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

type served struct {
	cmd  *exec.Cmd
	log  *bytes.Buffer
	base string
	c    *http.Client
}

// startServe starts `rootwatch serve` on a free loopback port and waits
// for /healthz.
func startServe(b *testing.B, bin, spec string) *served {
	port := testutil.FreePort(b)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin, "serve", "--store", spec, "--addr", addr)
	var log bytes.Buffer // read once the process ended
	cmd.Stdout, cmd.Stderr = io.Discard, &log
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	// A benchmark that fails leaves no server behind.
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	s := &served{cmd: cmd, log: &log, base: "http://" + addr, c: &http.Client{Timeout: 10 * time.Minute}}
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		resp, err := s.c.Get(s.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if wait > 50*time.Millisecond && cmd.ProcessState != nil {
			b.Fatalf("rootwatch serve exited")
		}
		time.Sleep(wait) // a process starting: nothing to wait on but its port
	}
}

// get times one request, the body read whole.
func (s *served) get(b *testing.B, path string) (time.Duration, int) {
	began := time.Now()
	resp, err := s.c.Get(s.base + path)
	if err != nil {
		b.Fatal(err)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	took := time.Since(began)
	if err != nil {
		b.Fatalf("GET %s: %v", path, err)
	}
	return took, resp.StatusCode
}

// stop ends the server and returns its peak RSS in KiB and how long it
// took to read the stored runs at its start ("" when it did not say).
func (s *served) stop(b *testing.B) (int, string) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	s.cmd.Process.Signal(os.Interrupt)
	s.cmd.Wait() // the Cleanup's Wait then returns at once
	took := ""
	if m := regexp.MustCompile(`msg="read the stored runs".* took=(\S+)`).FindStringSubmatch(s.log.String()); m != nil {
		took = m[1]
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return kb, took
		}
	}
	b.Fatal("no VmHWM in /proc/PID/status")
	return 0, took
}

// pipeline times `rootwatch runs export --store spec ID | jq filter`.
func pipeline(b *testing.B, bin, spec string, id int64, filter string) time.Duration {
	began := time.Now()
	cmd := exec.Command("sh", "-c", `"$0" runs export --store "$1" "$2" | jq "$3" >/dev/null`, bin, spec, strconv.FormatInt(id, 10), filter)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("runs export | jq: %v\n%s", err, out)
	}
	return time.Since(began)
}

var stamp = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)

// shift moves every RFC 3339 time in v by d, in a copy.
func shift(v any, d time.Duration) any {
	switch v := v.(type) {
	case string:
		return stamp.ReplaceAllStringFunc(v, func(t string) string {
			at, err := time.Parse(time.RFC3339Nano, t)
			if err != nil {
				return t
			}
			if strings.HasSuffix(t, "Z") {
				return at.Add(d).UTC().Format(time.RFC3339)
			}
			return at.Add(d).Format(time.RFC3339)
		})
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = shift(x, d)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = shift(x, d)
		}
		return out
	}
	return v
}
