#!/usr/bin/env bash
# Benchmark rootwatch serve, the panel, over 30 stored runs of an
# organization of N accounts (default 10000), from SQLite and from
# PostgreSQL, and what a user without the panel would do for the same
# questions (`rootwatch runs export` of the latest run piped to jq).
#   1. bench/storegen scans a generated organization with the fake AWS
#      (bench/out/store/N/day1.json, shared with bench/store.sh; reused
#      when there).
#   2. BenchmarkPanelLatency (internal/panel/latency_bench_test.go) stores
#      30 runs derived from that scan through history.Record, as
#      `scan --store` stores them: a day apart, each with 1% of the
#      accounts changing a verdict and 0.1% not assessed (their state
#      carried from an earlier run). The SQLite store is kept in
#      bench/out/panel/panel-30.db (delete it to generate again; ~7 min on
#      2 shared cores); PostgreSQL is the throwaway server internal/testutil
#      starts (initdb and pg_ctl on PATH), filled again each time (~8 min).
#   3. For each dialect and page it starts `rootwatch serve --store STORE`
#      (a process of its own, the store opened read-only), times the first
#      request after the start (cold) and REPEAT more (warm; the account
#      page asks for a different account each time) over real HTTP, and
#      reads the server's peak RSS (VmHWM from /proc). Results in
#      bench/out/panel/panel-DIALECT.txt.
# Usage: bench/panel.sh [N]   (DIALECTS=sqlite,postgres, REPEAT=40)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
out=bench/out/panel
mkdir -p "$out"
go build -o "$out/rootwatch" ./cmd/rootwatch
runs=bench/out/store/$n
if [ ! -s "$runs/day1.json" ]; then
  go build -o bench/out/store/storegen ./bench/storegen
  bench/out/store/storegen -accounts "$n" -out "$runs" 2>&1 | grep '^storegen' >&2
fi
ROOTWATCH_PANEL_RUN=$PWD/$runs/day1.json ROOTWATCH_BIN=$PWD/$out/rootwatch ROOTWATCH_PANEL_OUT=$PWD/$out \
  ROOTWATCH_STORE_DIALECTS=${DIALECTS:-sqlite,postgres} REPEAT=${REPEAT:-40} \
  go test -run '^$' -bench BenchmarkPanelLatency -benchtime 1x -timeout 3h ./internal/panel >"$out/bench.txt" 2>&1 ||
  { echo "panel.sh: the benchmark failed; see $out/bench.txt" >&2; exit 1; }
for d in $(echo "${DIALECTS:-sqlite,postgres}" | tr , ' '); do
  cat "$out/panel-$d${MOVE:+-moved}.txt"
done
