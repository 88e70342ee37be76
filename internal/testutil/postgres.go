package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// StartPostgres returns the URL of a PostgreSQL server for the test:
// ROOTWATCH_TEST_POSTGRES when set, else a throwaway server started from
// the machine's own binaries (initdb, pg_ctl; as the postgres user when
// the test runs as root) on a free loopback port and removed afterwards.
// Locally a machine without the binaries skips; in CI it fails.
func StartPostgres(t testing.TB) string {
	t.Helper()
	if url := os.Getenv("ROOTWATCH_TEST_POSTGRES"); url != "" {
		return url
	}
	return StartOwnPostgres(t).URL
}

// Postgres is a throwaway PostgreSQL server a test can stop and start
// again (a database that goes away in the middle of a run).
type Postgres struct {
	URL         string
	Stop, Start func()
}

// StartOwnPostgres starts a throwaway server, as StartPostgres does
// without ROOTWATCH_TEST_POSTGRES, that the test may stop and start.
func StartOwnPostgres(t testing.TB) *Postgres {
	t.Helper()
	initdb := RequireTool(t, "initdb")
	pgctl := RequireTool(t, "pg_ctl")
	dir, err := os.MkdirTemp("", "rootwatch-pg-")
	if err != nil {
		t.Fatal(err)
	}
	var asUser []string
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("running as root needs a postgres user to start PostgreSQL: %v", err)
			}
			t.Skipf("no postgres user to run PostgreSQL as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	run := func(args ...string) {
		t.Helper()
		full := append(append([]string{}, asUser...), args...)
		out, err := exec.Command(full[0], full[1:]...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	data := filepath.Join(dir, "data")
	run(initdb, "-D", data, "-U", "rootwatch", "--auth=trust", "-E", "UTF8", "--no-locale")
	port := FreePort(t)
	pg := &Postgres{URL: fmt.Sprintf("postgres://rootwatch@127.0.0.1:%d/postgres?sslmode=disable", port)}
	logFile := filepath.Join(dir, "server.log")
	pg.Start = func() {
		t.Helper()
		full := append(append([]string{}, asUser...), pgctl, "-D", data, "-l", logFile, "-w", "-t", "60",
			"-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off", port, dir), "start")
		if out, err := exec.Command(full[0], full[1:]...).CombinedOutput(); err != nil {
			log, _ := os.ReadFile(logFile)
			t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
		}
	}
	pg.Stop = func() { run(pgctl, "-D", data, "-m", "fast", "-w", "stop") }
	pg.Start()
	t.Cleanup(func() {
		full := append(append([]string{}, asUser...), pgctl, "-D", data, "-m", "immediate", "stop")
		exec.Command(full[0], full[1:]...).Run()
		os.RemoveAll(dir)
	})
	return pg
}
