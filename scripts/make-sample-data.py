#!/usr/bin/python3
"""Turns a Kraken WebSocket v2 recording (one server frame per line) into cvagent JSON-lines metrics.

    scripts/make-sample-data.py --channels trade \
        /work/shared/fixtures/kraken/ws_v2_session.jsonl > configs/data/sample-trades.jsonl

Emits `trade` and `ticker` metrics (--channels narrows them) in the project's data contract (architecture.md section 7),
in frame order, timed with the exchange's event time. Recordings of server frames carry no
receive time, so `receive_time` is left out rather than invented. Control frames (status,
subscribe acks, heartbeats) are skipped.
"""

import argparse
import json
import sys
from datetime import datetime, timezone


def event_time_ns(rfc3339: str) -> int:
    """Kraken prints microseconds with a Z suffix; convert exactly, without a float."""
    whole, _, frac = rfc3339.rstrip("Z").partition(".")
    seconds = int(datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp())
    return seconds * 1_000_000_000 + int((frac + "000000000")[:9])


def trade_metric(t: dict) -> dict:
    return {
        "name": "trade",
        "tags": {"exchange": "kraken", "pair": t["symbol"], "side": t["side"]},
        "fields": {
            "price": float(t["price"]),
            "volume": float(t["qty"]),
            "trade_id": int(t["trade_id"]),
            "ord_type": t["ord_type"],
        },
        "time": event_time_ns(t["timestamp"]),
    }


def ticker_metric(t: dict) -> dict:
    fields = {
        "last": t["last"],
        "bid": t["bid"],
        "ask": t["ask"],
        "bid_qty": t["bid_qty"],
        "ask_qty": t["ask_qty"],
        "volume_24h": t["volume"],
        "vwap": t["vwap"],
        "low": t["low"],
        "high": t["high"],
        "change": t["change"],
        "change_pct": t["change_pct"],
    }
    return {
        "name": "ticker",
        "tags": {"exchange": "kraken", "pair": t["symbol"]},
        "fields": {k: float(v) for k, v in fields.items()},
        "time": event_time_ns(t["timestamp"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("recording", help="Kraken WebSocket v2 frames, one per line")
    parser.add_argument("--channels", default="trade,ticker",
                        help="comma-separated channels to convert (default: trade,ticker)")
    args = parser.parse_args()
    all_converters = {"trade": trade_metric, "ticker": ticker_metric}
    wanted = args.channels.split(",")
    unknown = [c for c in wanted if c not in all_converters]
    if unknown:
        parser.error(f"unknown channel(s) {', '.join(unknown)}; known: trade, ticker")
    convert = {c: all_converters[c] for c in wanted}
    with open(args.recording, encoding="utf-8") as recording:
        for line_number, line in enumerate(recording, 1):
            try:
                frame = json.loads(line)
            except json.JSONDecodeError as e:
                print(f"{args.recording}:{line_number}: skipped, not JSON: {e}", file=sys.stderr)
                continue
            to_metric = convert.get(frame.get("channel"))
            if to_metric is None or "data" not in frame:
                continue
            for entry in frame["data"]:
                print(json.dumps(to_metric(entry), separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
