#!/usr/bin/env bash
# e2e: the cvagent binary replays the Kraken v2 trade recording as a generic input would deliver it
# (legacy pair names, numbers and times as strings) through normalize -> ohlc -> outputs.file with
# --once, and the candles written must equal the independently computed golden file.
set -euo pipefail
: "${CVAGENT:?CVAGENT must point at the cvagent binary}"
data=$(cd "$(dirname "$0")/data" && pwd)
shared=$(cd "$(dirname "$0")/../../../../tests/data" && pwd)  # fixtures shared by plugins
work=$(mktemp -d /tmp/cvagent-ohlc-e2e.XXXXXX)
trap 'rm -rf "$work"' EXIT

/usr/bin/python3 - "$shared/kraken/ws_v2_session.jsonl" "$work/trades.jsonl" <<'PY'
import json, sys
with open(sys.argv[1]) as f, open(sys.argv[2], "w") as out:
    for line in f:
        frame = json.loads(line)
        if frame.get("channel") != "trade":
            continue
        for t in frame["data"]:
            pair = t["symbol"].replace("BTC/", "XBT/")  # v1 spelling, for normalize to fix
            out.write(json.dumps({
                "name": "trade",
                "tags": {"exchange": "kraken", "pair": pair, "side": t["side"]},
                "fields": {"price": repr(t["price"]), "volume": repr(t["qty"]),
                           "trade_id": str(t["trade_id"]), "ord_type": t["ord_type"],
                           "timestamp": t["timestamp"]},
                "time": 0}) + "\n")
PY

cat >"$work/p.yaml" <<YAML
agent: {http: "127.0.0.1:1", state_dir: $work/state}
inputs:
  - file: {path: $work/trades.jsonl, format: json}
processors:
  - normalize: {time_field: timestamp}
  - ohlc: {intervals: [1m, 5m], grace: 2s}
outputs:
  - file: {path: $work/out.jsonl}
YAML
"$CVAGENT" -c "$work/p.yaml" --once 2>"$work/agent.log" || {
  cat "$work/agent.log" >&2
  echo "FAIL: cvagent --once failed" >&2
  exit 1
}

/usr/bin/python3 - "$work/out.jsonl" "$data/ws_v2_session_candles.jsonl" "$work/trades.jsonl" <<'PY'
import json, sys
out = [json.loads(l) for l in open(sys.argv[1])]
golden = [json.loads(l) for l in open(sys.argv[2])]
n_in = sum(1 for _ in open(sys.argv[3]))
trades = [m for m in out if m["name"] == "trade"]
candles = {}
for m in out:
    if m["name"] == "candle":
        key = (m["tags"]["pair"], m["tags"]["interval"], m["time"])
        assert key not in candles, f"candle twice: {key}"
        candles[key] = m
errors = []
if len(trades) != n_in:
    errors.append(f"{len(trades)} trades out, {n_in} in")
for t in trades:
    if t["tags"]["pair"] not in ("BTC/USD", "ETH/USD", "SOL/USD") or not isinstance(t["fields"]["price"], float):
        errors.append(f"trade not normalized: {t}")
        break
for g in golden:
    key = (g["tags"]["pair"], g["tags"]["interval"], g["time"])
    c = candles.pop(key, None)
    if c is None:
        errors.append(f"missing candle {key}")
        continue
    for f in ("open", "high", "low", "close", "volume", "vwap"):
        want, got = float(g["fields"][f]), c["fields"][f]
        if abs(got - want) > 1e-9 * max(1.0, abs(want)):
            errors.append(f"{key} {f}: {got} != {want}")
    for f in ("trades", "partial"):
        if c["fields"][f] != g["fields"][f]:
            errors.append(f"{key} {f}: {c['fields'][f]} != {g['fields'][f]}")
if candles:
    errors.append(f"unexpected candles: {sorted(candles)}")
if errors:
    print("FAIL:\n" + "\n".join(errors[:20]), file=sys.stderr)
    sys.exit(1)
print(f"ohlc e2e: ok ({len(golden)} candles, {len(trades)} trades)")
PY
