#!/usr/bin/env bash
# e2e: the cvagent binary, kraken -> file, against the fake exchange, which drops the connection
# mid-stream (and 60 frames happen while the agent is away). Every trade of the recording must
# arrive in the output exactly once: what the resubscribe snapshot lacks comes from REST.
set -euo pipefail
: "${CVAGENT:?CVAGENT must point at the cvagent binary}"
here=$(cd "$(dirname "$0")" && pwd)
session="$(cd "$here/../../../../tests/data/kraken" && pwd)/ws_v2_session.jsonl"  # shared fixture
WORK=$(mktemp -d /tmp/cvagent-kraken-e2e.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]:-}"; do [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  for f in "$WORK"/*.log; do [[ -f "$f" ]] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }; done
  exit 1
}
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

/usr/bin/python3 "$here/fake_exchange.py" --recording "$session" \
  --drop-after 150 --gap 60 --snapshot-size 5 >"$WORK/fx.out" 2>"$WORK/fx.log" &
pids+=($!)
wait_for 20 test -s "$WORK/fx.out" || fail "fake exchange did not start"
read -r ws_port http_port < <(/usr/bin/python3 -c \
  'import json,sys; d=json.load(open(sys.argv[1])); print(d["ws_port"], d["http_port"])' "$WORK/fx.out")
agent_port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

cat >"$WORK/p.yaml" <<YAML
agent: {http: "127.0.0.1:$agent_port", state_dir: $WORK/state}
inputs:
  - kraken:
      url: ws://127.0.0.1:$ws_port/v2
      rest_url: http://127.0.0.1:$http_port
      pairs: [BTC/USD, ETH/USD, SOL/USD]
      channels: [ticker, trade]
      reconnect_initial: 50ms
outputs:
  - file: {path: $WORK/out.jsonl, flush_interval: 100ms, namepass: [trade]}
YAML
"$CVAGENT" -c "$WORK/p.yaml" 2>"$WORK/agent.log" &
agent=$!
pids+=("$agent")

expected=$(/usr/bin/python3 - "$session" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m.get("channel") == "trade":
        n += len(m["data"])
print(n)
PY
)
trades() { [[ -f "$WORK/out.jsonl" ]] && wc -l <"$WORK/out.jsonl" || echo 0; }
all_arrived() { [[ "$(trades)" -ge "$expected" ]]; }
wait_for 60 all_arrived || fail "only $(trades) of $expected trades arrived"
metrics=$(/usr/bin/python3 -c 'import sys,urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())' \
  "http://127.0.0.1:$agent_port/metrics") || fail "no /metrics"
sleep 0.5 # a duplicate, if any, would be written by now
kill -TERM "$agent"
wait "$agent" || fail "agent exit code $? after SIGTERM"

/usr/bin/python3 - "$session" "$WORK/out.jsonl" <<'PY' || fail "trades differ"
import collections, json, sys
want = collections.Counter()
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m.get("channel") == "trade":
        for e in m["data"]:
            want[(e["symbol"], e["trade_id"])] += 1
got = collections.Counter()
for line in open(sys.argv[2]):
    m = json.loads(line)
    assert m["name"] == "trade", m
    got[(m["tags"]["pair"], m["fields"]["trade_id"])] += 1
dups = [k for k, n in got.items() if n > 1]
missing = [k for k in want if k not in got]
extra = [k for k in got if k not in want]
assert not dups and not missing and not extra, (dups[:5], missing[:5], extra[:5])
print("kraken e2e: %d trades, each exactly once" % len(got))
PY
grep -qE '^cvagent_reconnects_total\{[^}]*plugin="inputs.kraken"[^}]*\} [1-9]' <<<"$metrics" ||
  fail "reconnects_total not counted: $(grep reconnects <<<"$metrics")"
grep -q "backfilled" "$WORK/agent.log" || fail "no REST backfill logged"
echo "kraken e2e: ok"
