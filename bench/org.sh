#!/usr/bin/env bash
# Benchmark `rootwatch scan --org` on the fake AWS: N generated accounts
# (default 1000), LATENCY on every call (default 100ms), credential reports
# that IAM takes REPORT_DELAY to generate (default 3s, on the fake's clock,
# however often they are polled), centralized root access on (AssumeRoot
# audits). Every run gets a fresh fake, so every account generates a report.
#   1. PAIRS times (default 5), alternated: rootwatch with its default
#      concurrency on every account, and on one member alone (the last one
#      listed: it pays the whole listing and one account, the floor any scan
#      of the organization pays); the ratio of the two is the target
#      (<= 1.5). Report calls (GenerateCredentialReport and
#      GetCredentialReport) are counted per account by the fake;
#   2. rootwatch --concurrency 1 on SAMPLE accounts (default 10), to
#      extrapolate the one-by-one cost;
#   3. a fault run: 5% of roles denied, 10% of accounts throttling in bursts,
#      1% with a call that hangs: every account must come back with the
#      status its fault calls for, and nothing may pass without evidence.
# Usage: bench/org.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
latency=${LATENCY:-100ms}
delay=${REPORT_DELAY:-3s}
sample=${SAMPLE:-10}
pairs=${PAIRS:-5}
out=bench/out
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
command -v jq >/dev/null || { echo "jq is required" >&2; exit 1; }

go build -o "$out/rootwatch" ./cmd/rootwatch
go build -o "$out/awsfake" ./cmd/awsfake

fake_pid=
start_fake() { # $1: stats file; then extra flags
  local stats=$1; shift
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$out/awsfake" --generate "$n" --latency "$latency" --report-delay "$delay" --features RootCredentialsManagement --seed 1 \
    --listen "127.0.0.1:$port" --stats-out "$stats" "$@" > "$tmp/awsfake.log" 2>&1 &
  fake_pid=$!
  for _ in $(seq 100); do grep -q serving "$tmp/awsfake.log" && return; sleep 0.1; done
  echo "awsfake did not start" >&2; cat "$tmp/awsfake.log" >&2; exit 1
}
# stop_fake also keeps the fake's CPU seconds (user + system) in fake_cpu:
# the fake shares the machine's cores with rootwatch.
stop_fake() {
  fake_cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$fake_pid/stat" 2>/dev/null || echo "?")
  kill -TERM "$fake_pid"; wait "$fake_pid" || true
}
scan() { # rootwatch scan --org against the running fake; extra flags follow
  env -i PATH="$PATH" HOME="$tmp" AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL="http://127.0.0.1:$port" \
    AWS_ACCESS_KEY_ID=AKIAGENMANAGEMENT000 AWS_SECRET_ACCESS_KEY=fake AWS_REGION=us-east-1 \
    /usr/bin/time -f "%e %M %U %S" -o "$tmp/time" "$out/rootwatch" scan --org --format json "$@" || true
}

# 1. Every account and one member alone, alternated, PAIRS times.
last=$(printf "1%011d" $((n - 1)))
walls=(); ones=(); ratios=(); cpus=(); fake_cpus=()
for i in $(seq "$pairs"); do
  start_fake "$out/org-stats.json"
  scan --output "$out/org.json"
  stop_fake
  w=$(tail -1 "$tmp/time" | cut -d" " -f1); rss=$(( $(tail -1 "$tmp/time" | cut -d" " -f2) / 1024 ))
  cpu=$(tail -1 "$tmp/time" | awk '{ printf "%.2f", $3 + $4 }')
  cpus+=("$cpu"); fake_cpus+=("$fake_cpu")
  start_fake "$tmp/member-stats.json"
  scan --accounts "$last" --output "$tmp/member.json"
  stop_fake
  o=$(tail -1 "$tmp/time" | cut -d" " -f1)
  [ "$(jq '[.accounts[] | select(.status == "assessed")] | length' "$tmp/member.json")" -eq 1 ] || { echo "the one-member scan did not assess $last" >&2; exit 1; }
  walls+=("$w"); ones+=("$o"); ratios+=("$(awk -v a="$w" -v b="$o" 'BEGIN { printf "%.2f", a / b }')")
  echo "pair $i: every account $w s (peak RSS $rss MiB, CPU $cpu s, the fake's ${fake_cpus[-1]} s), one member $o s, ratio ${ratios[-1]}; load $(cut -d" " -f1-3 /proc/loadavg)" >&2
done
median() { printf "%s\n" "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
spread() { printf "%s\n" "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "–" hi }'; }
wall=$(median "${walls[@]}"); one_member=$(median "${ones[@]}"); ratio=$(median "${ratios[@]}")
accounts=$(jq '.accounts | length' "$out/org.json")
assessed=$(jq '[.accounts[] | select(.status == "assessed")] | length' "$out/org.json")
calls=$(jq '[.by_account[]] | add' "$out/org-stats.json")
mgmt_calls=$(jq '.by_account["100000000000"]' "$out/org-stats.json")
per_account=$(awk -v c="$calls" -v m="$mgmt_calls" -v n="$n" 'BEGIN { printf "%.1f", (c - m) / (n - 1) }')
# Report calls per account (the last full run): min, median, max.
report_calls=$(jq -r '[.report_calls_by_account[]] | sort | "\(.[0]) / \(.[length / 2 | floor]) / \(.[-1])"' "$out/org-stats.json")
polls=$(jq -r '[.accounts[].sources[] | select(.name == "credential_report") | .detail | capture("\\((?<n>[0-9]+) polls?\\)").n]
  | group_by(.) | map("\(length) × \(.[0])") | join(", ")' "$out/org.json")
# Unknown findings by cause: a clean scan should have none that a scan
# could have avoided (e.g. CloudTrail evidence that misses the window).
unknown_causes() {
  jq -r '[.findings[] | select(.status == "unknown")
    | if .evidence.source_state then "\(.evidence.source) \(.evidence.source_state)"
      elif (.message | test("reaches back only|which ends before the as-of time")) then "CloudTrail evidence does not cover the window"
      elif (.message | test("does not say when it was generated")) then "undated credential report"
      elif (.message | test("cannot read its organization.s features|features could not be read")) then "organization features unknown"
      else (.rule_id + ": " + (.message | gsub("[0-9]+"; "N") | .[0:80])) end]
    | group_by(.) | map("\(length) \(.[0])") | sort_by(-(split(" ")[0] | tonumber)) | join("; ")' "$1"
}
unknown=$(jq '[.findings[] | select(.status == "unknown")] | length' "$out/org.json")
findings=$(jq '.findings | length' "$out/org.json")
causes=$(unknown_causes "$out/org.json")
ops=$(jq -r '.by_operation | to_entries | sort_by(-.value) | map("\(.key) \(.value)") | join(", ")' "$out/org-stats.json")
# The generated organization has 13 distinct SCPs: each is described once
# per scan, however many members share it.
described=$(jq '.by_operation.DescribePolicy // 0' "$out/org-stats.json")

# 2. One by one, on a sample, with fresh reports to generate.
ids=$(seq -f "1%011g" 1 "$sample" | paste -sd, -)
start_fake "$tmp/one-stats.json"
scan --concurrency 1 --accounts "$ids" --output "$tmp/one.json"
stop_fake
one=$(tail -1 "$tmp/time" | cut -d" " -f1)
one_n=$(jq '[.accounts[] | select(.status != "skipped")] | length' "$tmp/one.json")
extrapolated=$(awk -v t="$one" -v s="$one_n" -v n="$n" 'BEGIN { printf "%.0f", t / s * n }')
speedup=$(awk -v e="$extrapolated" -v w="$wall" 'BEGIN { printf "%.0f", e / w }')

# 3. Faults.
start_fake "$tmp/fault-stats.json" --deny-rate 0.05 --throttle-rate 0.10 --hang-rate 0.01 --faults-out "$out/faults.json"
scan --account-timeout 20s --output "$out/org-faults.json"
stop_fake
fwall=$(tail -1 "$tmp/time" | cut -d" " -f1)
faccounts=$(jq '.accounts | length' "$out/org-faults.json")
# Every denied role and every hang must be a failed account saying why.
wrong=$(jq -rn --slurpfile run "$out/org-faults.json" --slurpfile faults "$out/faults.json" '
  ($run[0].accounts | map({(.account_id): .}) | add) as $acc
  | [$faults[0] | to_entries[] | . as $f | $acc[$f.key] as $a
     | select(
         ($f.value == "deny" and ($a.status != "failed" or ($a.error | test("role not assumable") | not))) or
         ($f.value == "hang" and ($a.status != "failed" or ($a.error | test("timed out") | not))))
     | "\($f.key) \($f.value): \($a.status) \($a.error)"] | join("; ")')
# Accounts with no evidence at all must have no passing finding.
blind_passes=$(jq '[.accounts[] | select([.sources[] | select(.state == "ok")] | length == 0) | .account_id] as $blind
  | [.findings[] | select(.status == "pass" and (.account_id | IN($blind[])))] | length' "$out/org-faults.json")
fstatus=$(jq -r '[.accounts[].status] | group_by(.) | map("\(.[0]) \(length)") | join(", ")' "$out/org-faults.json")
denied=$(jq '[.[] | select(. == "deny")] | length' "$out/faults.json")
hung=$(jq '[.[] | select(. == "hang")] | length' "$out/faults.json")
throttled=$(jq '[.[] | select(. == "throttle")] | length' "$out/faults.json")

cat <<REPORT | tee "$out/org-results.md"
$n accounts on the fake, $latency on every call, every credential report $delay to generate, centralized root access on; $(nproc) cores; $pairs pairs.

| run | accounts | wall (s), median of $pairs | spread | notes |
|---|---|---|---|---|
| rootwatch scan --org (default concurrency) | $accounts ($assessed assessed) | $wall | $(spread "${walls[@]}") | peak RSS $rss MiB (last run) |
| rootwatch scan --org --accounts $last (one member) | 1 | $one_member | $(spread "${ones[@]}") | |
| rootwatch --concurrency 1, $one_n accounts | $one_n | $one | | extrapolated to $n: ${extrapolated} s |

Every account / one member: **${ratio}×** (median of the pairs; each pair: ${ratios[*]}; target ≤ 1.5).
CPU of every-account runs (user + system), rootwatch: $(median "${cpus[@]}") s, the fake: $(median "${fake_cpus[@]}") s (medians); load average at the end: $(cut -d" " -f1-3 /proc/loadavg).
Speed-up over one by one: ${speedup}×. API calls per member account: $per_account (all: $ops).
Report calls per account (Generate + Get), min / median / max: $report_calls; polls until ready: $polls.

SCPs: DescribePolicy called $described times for the 13 distinct SCPs.

Unknown findings of the default run: $unknown of $findings${causes:+, by cause: $causes}.
Unknown findings of the fault run, by cause: $(unknown_causes "$out/org-faults.json").

Fault run ($denied roles denied, $throttled throttling, $hung hanging; --account-timeout 20s): $faccounts accounts in the output ($fstatus), wall $fwall s.
Accounts whose status does not match their fault: ${wrong:-none}. Passing findings in accounts with no evidence: $blind_passes.
REPORT
awk -v r="$ratio" 'BEGIN { exit !(r <= 1.5) }' || echo "every account took ${ratio}× one member's time (target ≤ 1.5)" >&2
[ "$accounts" -eq "$n" ] && [ "$faccounts" -eq "$n" ] && [ "$described" -le 13 ] && [ -z "$wrong" ] && [ "$blind_passes" -eq 0 ] || { echo "org benchmark checks failed" >&2; exit 1; }
