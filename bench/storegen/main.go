// Command storegen writes the runs bench/store.sh stores: a generated
// organization (internal/awsfake's GenerateWorld, its times fixed as a
// real organization's are) scanned with `rootwatch scan --org --store`
// against the fake AWS, as the JSON each scan wrote (-f json, with its
// history marks):
//
//	day1.json          the first scan
//	day2.json          a day (and 11 minutes) later, nothing changed in AWS
//	day2-changed.json  the same day, after 1% of the accounts changed their
//	                   root user's MFA (a verdict changes for each)
//
//	go run ./bench/storegen -accounts 1000 -out bench/out/store/1000
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/rootwatch/rootwatch/internal/awsfake"
	"github.com/rootwatch/rootwatch/internal/cli"
	"github.com/rootwatch/rootwatch/internal/evidence"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "storegen:", err)
		os.Exit(1)
	}
}

// day1 is when the first scan starts.
var day1 = time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)

const config = `rules:
  iam-root-signing-cert-active:
    enabled: false
suppressions:
  - rule: account-root-activity-unalerted
    account: "100000000007"
    reason: sandbox account, alerts routed elsewhere (SEC-77)
    expires: 2027-01-01
`

func run() error {
	accounts := flag.Int("accounts", 1000, "accounts in the organization")
	out := flag.String("out", "bench/out/store", "`DIR` for the runs")
	seed := flag.Int64("seed", 1, "seed of the generated organization")
	flag.Parse()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "storegen-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	cfg := filepath.Join(tmp, "rootwatch.yaml")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		return err
	}
	world := func(changed bool) *awsfake.World {
		w, _ := awsfake.GenerateWorld(awsfake.GenOptions{Accounts: *accounts, Seed: *seed, Features: []string{evidence.FeatureRootCredentialsManagement}})
		fix(reflect.ValueOf(w), day1)
		if changed {
			for i := 50; i < len(w.Accounts); i += 100 {
				r := &w.Accounts[i].Root
				if r.MFA == "none" {
					r.MFA = "hardware"
				} else {
					r.MFA = "none"
				}
			}
		}
		return w
	}
	store, other := filepath.Join(tmp, "day.db"), filepath.Join(tmp, "changed.db")
	nextDay := day1.Add(24*time.Hour + 11*time.Minute)
	steps := []struct {
		name    string
		start   time.Time
		changed bool
		store   string
	}{
		{"day1", day1, false, store},
		{"day2", nextDay, false, store},
		{"day2-changed", nextDay, true, other},
	}
	for _, s := range steps {
		if s.name == "day2" {
			// The changed day starts from the same history as the unchanged one.
			if err := copyFile(store, other); err != nil {
				return err
			}
		}
		began := time.Now()
		if err := scan(world(s.changed), s.start, cfg, s.store, filepath.Join(*out, s.name+".json")); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		fmt.Fprintf(os.Stderr, "storegen: %s: %d accounts in %s\n", s.name, *accounts, time.Since(began).Round(time.Second))
	}
	return nil
}

// scan runs `rootwatch scan --org` against a fake serving w whose clock
// starts at start.
func scan(w *awsfake.World, start time.Time, cfg, store, out string) error {
	began := time.Now()
	now := func() time.Time { return start.Add(time.Since(began)) }
	srv, err := awsfake.New(w, awsfake.Options{Now: now})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url, err := srv.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		return err
	}
	app := &cli.App{Stdout: io.Discard, Stderr: os.Stderr, Getenv: func(string) string { return "" }, Now: now, Version: "bench",
		IsTerminal: func(io.Writer) bool { return false }, StdinIsTerminal: func() bool { return false },
		AWSConfig: func(context.Context, string, string) (aws.Config, error) {
			return awsfake.ClientConfig(url, awsfake.GenManagementKey), nil
		}}
	err = cli.Execute(ctx, app, []string{"scan", "--org", "--config", cfg, "--store", store, "-f", "json", "-o", out})
	var exit *cli.ExitError
	if errors.As(err, &exit) && exit.Code == cli.ExitFindings {
		return nil // the organization has failures, as every one does
	}
	return err
}

var relative = regexp.MustCompile(`^-(\d+)(d|h|m|s)$`)

// fix turns the world's relative times (-20d) into times relative to at,
// as a real organization's stay when it is scanned again the next day.
func fix(v reflect.Value, at time.Time) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			fix(v.Elem(), at)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fix(v.Field(i), at)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			fix(v.Index(i), at)
		}
	case reflect.String:
		if m := relative.FindStringSubmatch(v.String()); m != nil && v.CanSet() {
			n, _ := strconv.Atoi(m[1])
			unit := map[string]time.Duration{"d": 24 * time.Hour, "h": time.Hour, "m": time.Minute, "s": time.Second}[m[2]]
			v.SetString(at.Add(-time.Duration(n) * unit).Format(time.RFC3339))
		}
	}
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o600)
}
