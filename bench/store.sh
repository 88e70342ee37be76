#!/usr/bin/env bash
# Benchmark the history store's growth: what one more run of an organization
# adds to the store, when nothing changed in AWS and when 1% of the accounts
# changed a verdict, for SQLite and PostgreSQL, with this tree's store and
# with BASE's (default main: the store as it was, whole documents).
#   1. bench/storegen scans a generated organization of N accounts (default
#      1000 and 10000) against the fake AWS with `scan --org --store`, on
#      day 1, on day 2 (a day and 11 minutes later, unchanged) and on day 2
#      after 1% of the accounts changed their root MFA; each run's -f json
#      is kept in bench/out/store/N (reused when there; delete it to
#      generate again).
#   2. BenchmarkStoreGrowth (internal/store/growth_bench_test.go) stores day 1
#      and then each day-2 run in a fresh store, and reports the bytes the
#      day-2 run adds (a SQLite file after a checkpoint, a PostgreSQL
#      database's size), the bytes of day 1, and the time Save and Load take
#      for the day-2 run. The same file runs on BASE's tree (git archive).
# PostgreSQL is the throwaway server internal/testutil starts (initdb and
# pg_ctl on PATH), or ROOTWATCH_TEST_POSTGRES.
# go test's own output is kept in bench/out/store/N-{base,this}.txt.
# On 2 shared cores, with the runs generated: ~2 min for 1000 accounts,
# ~6 min for 10000 (generating 10000's runs is three scans of minutes each).
# Usage: bench/store.sh [N...]   (BASE=ref, DIALECTS=sqlite,postgres)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000)
base=${BASE:-main}
dialects=${DIALECTS:-sqlite,postgres}
out=bench/out/store
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go build -o "$out/storegen" ./bench/storegen
git archive "$base" | tar -x -C "$tmp" --one-top-level=base
cp internal/store/growth_bench_test.go "$tmp/base/internal/store/"

for n in "${sizes[@]}"; do
  runs=$out/$n
  if [ ! -s "$runs/day2-changed.json" ]; then
    "$out/storegen" -accounts "$n" -out "$runs" 2>&1 | grep '^storegen' >&2
  fi
  runs=$(cd "$runs" && pwd)
  for tree in base this; do
    dir=.
    [ "$tree" = base ] && dir=$tmp/base
    (cd "$dir" && ROOTWATCH_STORE_RUNS=$runs ROOTWATCH_STORE_DIALECTS=$dialects \
      go test -run '^$' -bench BenchmarkStoreGrowth -benchtime 1x -timeout 2h ./internal/store) 2>&1 |
      tee "$out/$n-$tree.txt" | awk -v n="$n" -v tree="$tree" '/^BenchmarkStoreGrowth\// {
        split($1, name, "/"); sub(/-[0-9]+$/, "", name[3])
        for (i = 3; i < NF; i += 2) v[$(i + 1)] = $i
        printf "%6d accounts  %-8s  %-12s  %-4s  first run %8.1f MiB  day-2 run adds %9.1f KiB  save %6d ms  load %6d ms\n",
          n, name[2], name[3], tree, v["B/first"] / 1048576, v["B/run"] / 1024, v["save-ms"], v["load-ms"]
      }' || { echo "store.sh: the benchmark failed on $tree's tree; see $out/$n-$tree.txt" >&2; exit 1; }
  done
done
