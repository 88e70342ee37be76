#!/usr/bin/env bash
# Benchmark `rootwatch trail` on a generated CloudTrail corpus against, in the
# same run on the same files:
#   - the decompression floor: parallel `zcat > /dev/null`;
#   - the same-library inflate floor: bench/inflatefloor, klauspost/compress
#     on as many workers as rootwatch, every file, output discarded;
#   - the filter a user would otherwise write: `zcat | jq` selecting root
#     events, parallelised the same way.
# It checks that rootwatch (and jq) found exactly the planted root events and
# records rootwatch's peak RSS. Then it times the reader on each path the CPU
# offers against the inflate floor, in paired rounds (the floor, then the
# reader, under the same GODEBUG; ROUNDS rounds, medians of the per-round
# ratios): AVX-512 (when present), AVX2, and neither (GODEBUG
# cpu.avx2=off,cpu.avx512f=off: the portable SWAR path arm64 runs), and the
# purego build. Usage:
#   bench/cloudtrail.sh [SIZE_MB]        (default 1024: 1 GiB compressed)
#   ROUNDS=9 bench/cloudtrail.sh 150     (default 5 rounds)
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1024}
out=bench/out
corpus=$out/corpus-${size}mb
procs=$(nproc)
mkdir -p "$out"
command -v jq >/dev/null || { echo "jq is required" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "GNU time (/usr/bin/time) is required" >&2; exit 1; }

go build -o "$out/rootwatch" ./cmd/rootwatch
go build -tags purego -o "$out/rootwatch-purego" ./cmd/rootwatch
go build -o "$out/inflatefloor" ./bench/inflatefloor
if [ ! -f "$corpus/manifest.json" ]; then
  echo "generating a ${size} MiB corpus in $corpus ..."
  go run ./bench/ctgen -out "$corpus" -size-mb "$size" -root 250 -seed 1 >/dev/null
fi
planted=$(jq .root_events "$corpus/manifest.json")
cbytes=$(jq .compressed_bytes "$corpus/manifest.json")
rbytes=$(jq .raw_bytes "$corpus/manifest.json")
files=$(jq .files "$corpus/manifest.json")
list() { find "$corpus/AWSLogs" -path '*/CloudTrail/*' -name '*.json.gz' -print0; }

# Warm the page cache so that every contender reads from memory.
list | xargs -0 cat > /dev/null

secs() { /usr/bin/time -f "%e %M" -o "$out/time.txt" "$@"; cut -d' ' -f1 "$out/time.txt"; }

floor=$(secs sh -c "find '$corpus/AWSLogs' -path '*/CloudTrail/*' -name '*.json.gz' -print0 | xargs -0 -P $procs -n 64 zcat > /dev/null")
inflate=$(secs "$out/inflatefloor" "$corpus/AWSLogs" 2>/dev/null)
rw=$(secs "$out/rootwatch" trail "$corpus/AWSLogs" --format json --output "$out/trail.json" || true)
rss=$(cut -d' ' -f2 "$out/time.txt")
found=$(jq '.events | length' "$out/trail.json")
read_events=$(jq '[.sources[].events] | add' "$out/trail.json")
jqs=$(secs sh -c "find '$corpus/AWSLogs' -path '*/CloudTrail/*' -name '*.json.gz' -print0 | xargs -0 -P $procs -n 64 sh -c 'zcat \"\$@\" | jq -c \".Records[] | select(.userIdentity.type == \\\"Root\\\")\"' sh > '$out/jq.jsonl'")
jq_found=$(wc -l < "$out/jq.jsonl")

mb() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.0f", b / 1048576 / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
cat <<REPORT | tee "$out/cloudtrail-results.md"
Corpus: $files files, $(awk -v b="$cbytes" 'BEGIN{printf "%.0f", b/1048576}') MiB gzip ($(awk -v b="$rbytes" 'BEGIN{printf "%.0f", b/1048576}') MiB JSON), $read_events records, $planted root events planted; $procs cores; page cache warm.

| contender | wall (s) | compressed MiB/s | JSON MiB/s | vs rootwatch |
|---|---|---|---|---|
| parallel zcat > /dev/null (floor) | $floor | $(mb "$cbytes" "$floor") | $(mb "$rbytes" "$floor") | $(ratio "$floor" "$rw")× |
| inflate floor (same library, same workers) | $inflate | $(mb "$cbytes" "$inflate") | $(mb "$rbytes" "$inflate") | $(ratio "$inflate" "$rw")× |
| rootwatch trail | $rw | $(mb "$cbytes" "$rw") | $(mb "$rbytes" "$rw") | 1.00× |
| parallel zcat \| jq (root filter) | $jqs | $(mb "$cbytes" "$jqs") | $(mb "$rbytes" "$jqs") | $(ratio "$jqs" "$rw")× |

rootwatch / zcat floor: $(ratio "$rw" "$floor")×; rootwatch / inflate floor: $(ratio "$rw" "$inflate")×; jq / rootwatch: $(ratio "$jqs" "$rw")×; rootwatch peak RSS: $((rss / 1024)) MiB.
Root events found: rootwatch $found, jq $jq_found, planted $planted.
REPORT
[ "$found" -eq "$planted" ] || { echo "rootwatch found $found root events, $planted were planted" >&2; exit 1; }

# The reader on each CPU path, paired with the floor under the same GODEBUG.
rounds=${ROUNDS:-5}
flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
paths=()
case " $flags " in *" avx512bw "*) paths+=("AVX-512|default|rootwatch") ;; esac
case " $flags " in *" avx2 "*)
  case " $flags " in *" avx512bw "*) paths+=("AVX2|cpu.avx512f=off|rootwatch") ;; *) paths+=("AVX2|default|rootwatch") ;; esac
  paths+=("neither (SWAR)|cpu.avx2=off,cpu.avx512f=off|rootwatch") ;;
*) paths+=("neither (SWAR)|default|rootwatch") ;;
esac
paths+=("purego build (SWAR)|default|rootwatch-purego")
# cpu: user + system seconds of the whole process.
timed() { /usr/bin/time -f "%e %U %S" -o "$out/time.txt" "$@" >/dev/null 2>&1 || true; awk '{printf "%s %.2f", $1, $2 + $3}' "$out/time.txt"; }
: > "$out/paths.txt"
for r in $(seq "$rounds"); do
  for p in "${paths[@]}"; do
    IFS='|' read -r name godebug bin <<<"$p"
    [ "$godebug" = default ] && godebug=
    f=$(GODEBUG=$godebug timed "$out/inflatefloor" "$corpus/AWSLogs")
    t=$(GODEBUG=$godebug timed "$out/$bin" trail "$corpus/AWSLogs" --format json --output "$out/trail-path.json")
    n=$(jq '.events | length' "$out/trail-path.json")
    [ "$n" -eq "$planted" ] || { echo "$name: rootwatch found $n root events, $planted were planted" >&2; exit 1; }
    echo "$name|$t|$f" >> "$out/paths.txt"
  done
done
{
  echo
  echo "Reader by CPU path ($rounds paired rounds: the inflate floor, then rootwatch trail, same GODEBUG; medians):"
  echo
  echo "| path | GODEBUG | rootwatch wall (s) | floor wall (s) | wall ratio (min-max) | cpu ratio (min-max) |"
  echo "|---|---|---|---|---|---|"
  for p in "${paths[@]}"; do
    IFS='|' read -r name godebug bin <<<"$p"
    grep -F "$name|" "$out/paths.txt" | awk -F'|' -v name="$name" -v godebug="$godebug" '
      { split($2, a, " "); split($3, b, " "); n++; tw[n] = a[1]; fw[n] = b[1]; wr[n] = a[1] / b[1]; cr[n] = a[2] / b[2] }
      function med(x,   i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && x[j-1] > x[j]; j--) { t = x[j]; x[j] = x[j-1]; x[j-1] = t } return x[int((n + 1) / 2)] }
      END {
        mw = med(wr); lw = wr[1]; hw = wr[n]; mc = med(cr); lc = cr[1]; hc = cr[n]
        printf "| %s | %s | %.2f | %.2f | **%.2f×** (%.2f-%.2f) | **%.2f×** (%.2f-%.2f) |\n", name, godebug, med(tw), med(fw), mw, lw, hw, mc, lc, hc
      }'
  done
} | tee -a "$out/cloudtrail-results.md"
