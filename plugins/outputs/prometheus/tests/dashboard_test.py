#!/usr/bin/env python3
"""deploy/grafana/dashboards/cvagent-live.json: valid JSON Grafana can load, every panel on the
Prometheus datasource (uid `prometheus`), ids unique, and every series it queries one that
outputs.prometheus produces from the data contract (a renamed field breaks this test, not the
dashboard silently)."""
import json
import re
import sys

# <metric>_<field> of configs/stack.yaml's live-prices instance (docs: plugins/outputs/prometheus).
PRODUCED = {
    "ticker_last", "ticker_bid", "ticker_ask", "ticker_change_pct", "ticker_volume_24h",
    "sentiment_score", "sentiment_articles", "sentiment_confidence",
}
PROMQL_WORDS = {"sum", "by", "label_values", "job", "pair", "symbol", "rate", "avg", "max", "min"}


def fail(message):
    print("FAIL:", message)
    sys.exit(1)


def main(path):
    with open(path, encoding="utf-8") as f:
        dash = json.load(f)
    for key in ("uid", "title", "panels", "schemaVersion", "templating"):
        if key not in dash:
            fail(f"missing {key}")
    ids = [p["id"] for p in dash["panels"]]
    if len(ids) != len(set(ids)):
        fail(f"duplicate panel ids: {ids}")
    exprs = []
    for panel in dash["panels"]:
        if "gridPos" not in panel:
            fail(f"panel {panel['id']} has no gridPos")
        if panel["type"] == "row":
            continue
        if panel["datasource"] != {"type": "prometheus", "uid": "prometheus"}:
            fail(f"panel {panel['title']}: datasource {panel['datasource']}")
        if not panel.get("targets"):
            fail(f"panel {panel['title']} has no query")
        for t in panel["targets"]:
            if t["datasource"]["uid"] != "prometheus":
                fail(f"panel {panel['title']}: target datasource {t['datasource']}")
            exprs.append(t["expr"])
    for var in dash["templating"]["list"]:
        exprs.append(var["definition"])
    for expr in exprs:
        # Names outside label matchers and strings.
        bare = re.sub(r"\{[^}]*\}|\"[^\"]*\"", "", expr)
        for name in re.findall(r"[a-zA-Z_][a-zA-Z0-9_]*", bare):
            if name not in PRODUCED and name not in PROMQL_WORDS:
                fail(f"`{expr}` queries {name}, which outputs.prometheus does not produce")
        if "job=\"cvagent-live\"" not in expr:
            fail(f"`{expr}` is not limited to job cvagent-live")
    print(f"dashboard ok: {len(ids)} panels, {len(exprs)} queries")


if __name__ == "__main__":
    main(sys.argv[1])
