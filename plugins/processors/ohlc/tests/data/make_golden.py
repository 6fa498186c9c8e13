#!/usr/bin/python3
"""Writes ws_v2_session_candles.jsonl: the candles processors.ohlc must produce from the trades in
ws_v2_session.jsonl, computed independently of the C++ code with exact decimals.

Definitions (Kraken's OHLC): open = price of the earliest trade in the window, close = the latest,
high/low = max/min price, volume = sum(qty), vwap = sum(price * qty) / sum(qty), trades = count;
windows are [start, start + interval) aligned to multiples of the interval since the epoch, UTC.
A window is final (partial=false) when the pair has a later trade at or past the window's end;
otherwise the shutdown flush sends it with partial=true.

Run: /usr/bin/python3 make_golden.py > ws_v2_session_candles.jsonl
"""
import datetime
import json
import sys
from decimal import Decimal

INTERVALS = [("1m", 60), ("5m", 300)]


def ns(text):
    # RFC 3339 with up to 9 fractional digits and a Z suffix, exactly.
    base, frac = text.rstrip("Z").split(".")
    dt = datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return int(dt.timestamp()) * 10**9 + int(frac.ljust(9, "0"))


trades = {}
with open(sys.argv[1] if len(sys.argv) > 1 else "ws_v2_session.jsonl") as f:
    for line in f:
        frame = json.loads(line, parse_float=Decimal)
        if frame.get("channel") != "trade":
            continue
        for t in frame["data"]:
            trades.setdefault(t["symbol"], []).append((ns(t["timestamp"]), t["price"], t["qty"]))

out = []
for pair in sorted(trades):
    ts = trades[pair]
    latest = max(t for t, _, _ in ts)
    for label, seconds in INTERVALS:
        width = seconds * 10**9
        windows = {}
        for t, price, qty in ts:  # arrival order; times never go backwards per pair here
            windows.setdefault(t // width * width, []).append((t, price, qty))
        for start in sorted(windows):
            w = windows[start]
            first = min(w, key=lambda x: x[0])
            last = max(reversed(w), key=lambda x: x[0])
            volume = sum(q for _, _, q in w)
            vwap = sum(p * q for _, p, q in w) / volume
            out.append({"name": "candle",
                        "tags": {"exchange": "kraken", "interval": label, "pair": pair},
                        "fields": {"open": str(first[1]), "high": str(max(p for _, p, _ in w)),
                                   "low": str(min(p for _, p, _ in w)), "close": str(last[1]),
                                   "volume": str(volume), "vwap": str(vwap), "trades": len(w),
                                   "partial": not (latest >= start + width)},
                        "time": start})
for c in out:
    print(json.dumps(c, sort_keys=True))
