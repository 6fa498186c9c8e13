#!/usr/bin/python3
"""The replaced stack's Kraken producer, reduced to its hot path, for bench/throughput.py.

Same libraries and settings as data_producers/kraken_producer.py (see docs/seed-system.md):
websocket-client's WebSocketApp, one json.loads per frame, one confluent-kafka produce per trade
to `rawtrade` keyed by pair, acks=1, retries=3, lz4, linger 10 ms, batch 32 KiB, 5 in flight,
queue up to 100 000 messages / 64 MiB. The fake exchange speaks WebSocket v2 (the old producer
spoke v1), so the frame is read as v2 and the trade time parsed from RFC 3339; the message is the
old rawtrade shape. Prints `done <monotonic ns> <delivered>` once TRADES deliveries are confirmed.

Usage: old_kraken_producer.py WS_URL BROKERS TRADES
Debian packages: python3-websocket, python3-confluent-kafka.
"""
import json
import sys
import time
from datetime import datetime

import websocket
from confluent_kafka import Producer

url, brokers, wanted = sys.argv[1], sys.argv[2], int(sys.argv[3])
producer = Producer({
    "bootstrap.servers": brokers,
    "acks": "1",
    "retries": 3,
    "compression.type": "lz4",
    "linger.ms": 10,
    "batch.size": 32768,
    "max.in.flight.requests.per.connection": 5,
    "socket.keepalive.enable": True,
    "queue.buffering.max.messages": 100000,
    "queue.buffering.max.kbytes": 65536,
})
produced = 0
delivered = 0
done_ns = None


def on_delivery(err, _msg):
    global delivered, done_ns
    if err is not None:
        print(f"delivery failed: {err}", file=sys.stderr)
        return
    delivered += 1
    if delivered == wanted:
        done_ns = time.monotonic_ns()


def on_open(ws):
    ws.send(json.dumps({"method": "subscribe",
                        "params": {"channel": "trade", "symbol": ["BTC/USD", "ETH/USD", "SOL/USD"]},
                        "req_id": 2}))


def on_message(ws, message):
    global produced
    data = json.loads(message)
    if data.get("channel") != "trade":
        return
    for trade in data.get("data", []):
        value = {
            "pair": trade["symbol"],
            "price": float(trade["price"]),
            "volume": float(trade["qty"]),
            "timestamp": datetime.fromisoformat(trade["timestamp"].replace("Z", "+00:00")).timestamp(),
            "side": "b" if trade["side"] == "buy" else "s",
        }
        while True:
            try:
                producer.produce("rawtrade", key=trade["symbol"], value=json.dumps(value),
                                 callback=on_delivery)
                break
            except BufferError:  # the local queue is full: serve reports, try again
                producer.poll(0.01)
        producer.poll(0)
        produced += 1
    if produced >= wanted:  # the rest is waiting for the reports
        ws.close()


def on_error(_ws, error):
    print(f"websocket error: {error}", file=sys.stderr)


app = websocket.WebSocketApp(url, on_open=on_open, on_message=on_message, on_error=on_error)
app.run_forever()
deadline = time.monotonic() + 60
while done_ns is None and time.monotonic() < deadline:
    producer.poll(0.05)
if done_ns is None:
    print(f"only {delivered} of {wanted} trades confirmed", file=sys.stderr)
    sys.exit(1)
print(f"done {done_ns} {delivered}", flush=True)
