#!/usr/bin/env bash
# Peak memory of `rootwatch trail` on one CloudTrail log file holding a record
# of SIZE_MB megabytes (a root call whose requestParameters hold one long
# string) between two ordinary records. CloudTrail writes events of at most
# 256 KB: such a record is damage or a hostile file. Usage:
#   bench/hugerecord.sh [SIZE_MB] [ROOTWATCH_BINARY]   (default 150, built here)
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-150}
out=bench/out
mkdir -p "$out"
bin=${2:-}
if [ -z "$bin" ]; then
  go build -o "$out/rootwatch" ./cmd/rootwatch
  bin=$out/rootwatch
fi
[ -x /usr/bin/time ] || { echo "GNU time (/usr/bin/time) is required" >&2; exit 1; }
file=$out/huge-record-${size}mb.json
if [ ! -f "$file" ]; then
  rec() { # id type time [requestParameters]
    printf '{"eventVersion":"1.09","userIdentity":{"type":"%s","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},"eventTime":"%s","eventSource":"s3.amazonaws.com","eventName":"PutBucketPolicy","awsRegion":"eu-west-1","sourceIPAddress":"198.51.100.9","userAgent":"aws-cli/2","eventID":"e-%s","eventType":"AwsApiCall","recipientAccountId":"111122223333"' "$2" "$3" "$1"
  }
  {
    printf '{"Records":['
    rec 1 IAMUser 2026-02-27T09:00:00Z; printf '},'
    rec 2 Root 2026-02-27T10:00:00Z; printf ',"requestParameters":{"policy":"'
    head -c "$((size * 1000 * 1000))" /dev/zero | tr '\0' A
    printf '"}},'
    rec 3 Root 2026-02-27T11:00:00Z; printf '}]}'
  } > "$file"
fi
/usr/bin/time -f "%e s wall, %M KiB peak RSS" "$bin" trail "$file" || true
