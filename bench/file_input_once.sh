#!/usr/bin/env bash
# inputs.file (tail, delivery tracking, max_undelivered) -> outputs.file with --once: wall time,
# metrics/s and peak RSS over RUNS runs of LINES lines, median first.
#   bench/file_input_once.sh BUILD/bin/cvagent [LINES] [RUNS]
set -euo pipefail
cvagent=${1:?usage: file_input_once.sh CVAGENT [LINES] [RUNS]}
lines=${2:-300000}
runs=${3:-5}
work=$(mktemp -d /tmp/cvagent-bench-file.XXXXXX)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 - "$work/in.jsonl" "$lines" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for n in range(int(sys.argv[2])):
        f.write('{"name":"trade","tags":{"pair":"BTC/USD"},"fields":{"seq":%d,"price":95863.2},"time":%d}\n' % (n, n))
PY
cat >"$work/p.yaml" <<YAML
agent: {http: "", state_dir: $work/state}
inputs:
  - file: {path: $work/in.jsonl}
outputs:
  - file: {path: $work/out.jsonl, batch_size: 1000}
YAML
for ((i = 0; i < runs; i++)); do
  rm -rf "$work/state" "$work/out.jsonl"
  /usr/bin/time -f "%e %M" -o "$work/time" "$cvagent" -c "$work/p.yaml" --once 2>/dev/null
  [[ $(wc -l <"$work/out.jsonl") -eq $lines ]] || { echo "wrong line count" >&2; exit 1; }
  cat "$work/time"
done | sort -n | /usr/bin/python3 -c '
import sys
rows = [tuple(map(float, l.split())) for l in sys.stdin]
lines = int(sys.argv[1])
med = rows[len(rows) // 2]
print(f"{lines} lines, {len(rows)} runs: median {med[0]:.2f} s ({lines / med[0] / 1000:.0f} k metrics/s), "
      f"best {rows[0][0]:.2f} s ({lines / rows[0][0] / 1000:.0f} k/s), peak RSS {max(r[1] for r in rows) / 1024:.1f} MB")
' "$lines"
