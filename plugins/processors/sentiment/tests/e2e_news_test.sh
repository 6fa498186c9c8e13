#!/usr/bin/env bash
# e2e: cvagent --once with inputs.rss -> processors.sentiment -> outputs.file against the local
# feed server (tests/fakes/feed_server.py serving the authored crypto feeds and pages of tests/data).
set -euo pipefail
: "${CVAGENT:?}" "${FEED_SERVER:?}" "${FEED_DATA:?}"
WORK=$(mktemp -d /tmp/cvagent-e2e-news.XXXXXX)
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  [[ -f "$WORK/agent.log" ]] && tail -n 40 "$WORK/agent.log" >&2
  exit 1
}

/usr/bin/python3 "$FEED_SERVER" "$FEED_DATA" >"$WORK/server.out" 2>"$WORK/server.log" &
server_pid=$!
for _ in $(seq 100); do grep -q '^PORT ' "$WORK/server.out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/^PORT //p' "$WORK/server.out")
[[ -n "$port" ]] || fail "feed server did not start"
base="http://127.0.0.1:$port"

cat >"$WORK/news.yaml" <<YAML
agent: {http: "127.0.0.1:1", state_dir: $WORK/state}
inputs:
  - rss:
      feeds:
        - $base/feeds/crypto/cryptowire-daily.rss
        - $base/feeds/crypto/chainledger-news.rss
        - $base/feeds/broken/derived-truncated-coindesk.rss
      fetch_article: true
      article_host_delay: 0s
      jitter: 0s
processors:
  - sentiment: {window: 1h}
outputs:
  - file: {path: $WORK/out.jsonl}
YAML

"$CVAGENT" -c "$WORK/news.yaml" --once 2>"$WORK/agent.log" || fail "cvagent --once failed"
grep -q "derived-truncated-coindesk.rss: XML parse error at byte offset 7041" "$WORK/agent.log" ||
  fail "the broken feed's error is not logged"

/usr/bin/python3 - "$WORK/out.jsonl" "$FEED_DATA" <<'PY' || fail "unexpected output"
import json, sys
metrics = [json.loads(l) for l in open(sys.argv[1])]
articles = [m for m in metrics if m["name"] == "article"]
sentiment = [m for m in metrics if m["name"] == "sentiment"]
assert len(articles) == 40, len(articles)
for a in articles:
    f = a["fields"]
    for k in ("id", "title", "url", "summary", "coins", "sentiment", "sentiment_label",
              "sentiment_score", "receive_time"):
        assert k in f, (k, f)
    assert -1 <= f["sentiment"] <= 1 and 0 <= f["sentiment_score"] <= 1
    assert f["sentiment_label"] in ("positive", "neutral", "negative")
    assert 1 / 3 <= f["sentiment_confidence"] <= 1 and -1 <= f["vader_compound"] <= 1, f
    assert a["time"] < f["receive_time"], "time must be the publish time"
with_text = [a for a in articles if "text" in a["fields"]]
assert len(with_text) == 5, len(with_text)
etf = next(a for a in articles if a["fields"]["id"] == "a2fc69e3-800c-56f6-bed5-b586fdc3511f")
expected = open(sys.argv[2] + "/feeds/crypto/site/cryptowire/2025/03/bitcoin-etf-inflows-record.expected.txt").read().rstrip("\n")
assert etf["fields"]["text"] == expected
assert etf["fields"]["coins"] == "BTC,ETH", etf["fields"]["coins"]
assert etf["fields"]["sentiment_label"] == "positive"
assert etf["tags"]["source"] == "CryptoWire Daily: Bitcoin, Ethereum & Altcoin News"
exploit = next(a for a in articles if "OrbitBridge" in a["fields"]["title"])
assert exploit["fields"]["sentiment_label"] == "negative", exploit["fields"]
symbols = {m["tags"]["symbol"] for m in sentiment}
assert {"BTC", "ETH", "XRP"} <= symbols, symbols
for m in sentiment:
    f = m["fields"]
    assert set(f) == {"score", "label", "confidence", "articles"}, f
    assert f["articles"] >= 1 and 0 <= f["confidence"] <= 1
print("articles", len(articles), "sentiment", len(sentiment))
PY

# A second run: the state survives, nothing is emitted again.
lines_before=$(wc -l <"$WORK/out.jsonl")
"$CVAGENT" -c "$WORK/news.yaml" --once 2>"$WORK/agent.log" || fail "second --once failed"
[[ "$(wc -l <"$WORK/out.jsonl")" -eq "$lines_before" ]] || fail "articles emitted twice"
echo "e2e news: ok"
