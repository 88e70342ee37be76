// Command awsfake serves rootwatch's fake AWS on a loopback port, for trying
// rootwatch or the AWS CLI against a controlled world:
//
//	awsfake --world world.yaml --listen 127.0.0.1:4566
//	AWS_ENDPOINT_URL=http://127.0.0.1:4566 AWS_ACCESS_KEY_ID=AKIA... AWS_SECRET_ACCESS_KEY=x rootwatch scan
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/rootwatch/rootwatch/internal/awsfake"
	"github.com/rootwatch/rootwatch/internal/source/demo"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "awsfake:", err)
		os.Exit(2)
	}
}

func run() error {
	worldPath := flag.String("world", "", "world `FILE` (YAML); default: rootwatch's demo world")
	listen := flag.String("listen", "127.0.0.1:4566", "loopback `ADDRESS` to listen on")
	seed := flag.Int64("seed", 1, "seed for fault rates and generated worlds")
	generate := flag.Int("generate", 0, "serve a generated organization of `N` accounts instead of a world file")
	latency := flag.String("latency", "", "with --generate: delay every call, e.g. 100ms")
	reportDelay := flag.String("report-delay", "3s", "how long IAM takes to generate a credential report (`DURATION` or never), for accounts whose world gives no report.delay")
	features := flag.String("features", "", "with --generate: organization features, comma-separated (e.g. RootCredentialsManagement)")
	deny := flag.Float64("deny-rate", 0, "with --generate: fraction of member accounts whose role cannot be assumed")
	throttle := flag.Float64("throttle-rate", 0, "with --generate: fraction of member accounts that throttle in bursts")
	hang := flag.Float64("hang-rate", 0, "with --generate: fraction of member accounts with a call that hangs")
	scpFaults := flag.Bool("scp-faults", false, "with --generate: deny DescribePolicy of one SCP and ListPoliciesForTarget of one OU")
	statsOut := flag.String("stats-out", "", "on shutdown, write call counts (per operation, per account, and credential report calls per account) to this JSON `FILE`")
	faultsOut := flag.String("faults-out", "", "with --generate: write each account's injected fault to this JSON `FILE`")
	flag.Parse()

	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return errors.New("--listen must be a loopback address: the fake accepts any signature")
	}
	var w *awsfake.World
	if *generate > 0 {
		var feats []string
		if *features != "" {
			feats = strings.Split(*features, ",")
		}
		var faults map[string]string
		w, faults = awsfake.GenerateWorld(awsfake.GenOptions{Accounts: *generate, Seed: *seed, Latency: *latency,
			Features: feats, DenyRate: *deny, ThrottleRate: *throttle, HangRate: *hang, SCPFaults: *scpFaults})
		if *faultsOut != "" {
			if err := writeJSON(*faultsOut, faults); err != nil {
				return err
			}
		}
		fmt.Printf("management account %s, access key %s\n", awsfake.GenManagementAccount, awsfake.GenManagementKey)
	} else if *worldPath == "" {
		w, err = awsfake.ParseWorld(demo.World(), "demo world")
	} else {
		w, err = awsfake.LoadWorld(*worldPath)
	}
	if err != nil {
		return err
	}
	delay, err := parseReportDelay(*reportDelay)
	if err != nil {
		return err
	}
	srv, err := awsfake.New(w, awsfake.Options{Seed: *seed, ReportDelay: delay})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	url, err := srv.Listen(ctx, *listen)
	if err != nil {
		return err
	}
	fmt.Printf("awsfake serving %d accounts on %s\n", len(w.Accounts), url)
	if *generate == 0 {
		for _, a := range w.Accounts {
			fmt.Printf("  account %s: access keys %v\n", a.ID, a.AccessKeys)
		}
	}
	<-ctx.Done()
	if *statsOut != "" {
		byOp, byAccount := srv.CallCounts()
		return writeJSON(*statsOut, map[string]any{"by_operation": byOp, "by_account": byAccount,
			"report_calls_by_account": srv.CallsByAccount("GenerateCredentialReport", "GetCredentialReport")})
	}
	return nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// parseReportDelay reads --report-delay: a duration, or never (a negative
// delay for the server).
func parseReportDelay(s string) (time.Duration, error) {
	if s == "never" {
		return -1, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("--report-delay %q: want a duration such as 3s, or never", s)
	}
	return d, nil
}
