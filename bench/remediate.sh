#!/usr/bin/env bash
# Benchmark `rootwatch remediate plan` and `apply` on the fake AWS: N
# generated accounts (default 1000), LATENCY on every call (default 100ms),
# centralized root access on, the generated mix of member root credentials
# (passwords, keys, MFA devices). apply runs with --rescan=false so that its
# own time is measured; the re-scan is timed apart.
# Usage: bench/remediate.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
latency=${LATENCY:-100ms}
out=bench/out
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -o "$out/rootwatch" ./cmd/rootwatch
go build -o "$out/awsfake" ./cmd/awsfake
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$out/awsfake" --generate "$n" --latency "$latency" --features RootCredentialsManagement --seed 1 --listen "127.0.0.1:$port" > "$tmp/awsfake.log" 2>&1 &
for _ in $(seq 100); do grep -q serving "$tmp/awsfake.log" && break; sleep 0.1; done
rw() {
  env -i PATH="$PATH" HOME="$tmp" AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL="http://127.0.0.1:$port" \
    AWS_ACCESS_KEY_ID=AKIAGENMANAGEMENT000 AWS_SECRET_ACCESS_KEY=fake AWS_REGION=us-east-1 \
    /usr/bin/time -f "%e %M" -o "$tmp/time" "$out/rootwatch" "$@"
}
rw remediate plan --org -o "$out/plan.json" > "$tmp/plan.txt"
plan_s=$(cut -d' ' -f1 "$tmp/time")
planned=$(grep -o '^[0-9]* planned' "$tmp/plan.txt" | cut -d' ' -f1)
actions=$(python3 -c "import json; p=json.load(open('$out/plan.json')); print(sum(len(a['actions']) for a in p['accounts']))")
set +e
rw remediate apply "$out/plan.json" --yes --rescan=false --log "$out/remediation.jsonl" > "$tmp/apply.txt"
code=$?
set -e
apply_s=$(cut -d' ' -f1 "$tmp/time")
done_n=$(grep -c ' done: ' "$tmp/apply.txt" || true)
rw remediate plan --org -o "$tmp/after.json" > "$tmp/after.txt"
after_s=$(cut -d' ' -f1 "$tmp/time")
left=$(grep -o '^[0-9]* planned' "$tmp/after.txt" | cut -d' ' -f1)
cat <<REPORT | tee "$out/remediate-results.md"
$n accounts on the fake, $latency on every call, centralized root access on; $(nproc) cores.

| step | accounts | wall (s) |
|---|---|---|
| remediate plan --org | $planned planned, $actions actions | $plan_s |
| remediate apply --yes --rescan=false | $done_n done, exit $code | $apply_s |
| remediate plan again (verification) | $left still planned | $after_s |
REPORT
