#!/usr/bin/python3
"""A fake Kraken exchange on loopback for the inputs.kraken tests.

A WebSocket v2 server (plain, or TLS with --tls-cert/--tls-key) that replays a recording to whoever
subscribes, plus an HTTP server standing in for REST /0/public/Trades. Both bind port 0; the ports
are printed on stdout as one JSON line: {"ws_port": N, "http_port": M}.

The recording is a list of server frames (ws_v2_session.jsonl). Its status and ack lines are not
replayed: the server answers the client's own subscribe requests. Data frames are sent in order,
only for subscribed (channel, symbol) pairs. The position in the recording is shared by all
connections, as a real market's clock would be: what happens while a client is disconnected is
lost to it, except through REST and the trade snapshot a resubscribe brings.

Faults, on the first connection only:
  --drop-after N   after N data frames, abort the TCP connection; the next --gap frames "happen"
                   while the client is away (they go to history: REST and snapshots serve them)
  --stall-after N  after N data frames, go silent (no data, no heartbeats) and keep the socket
  --garbage FILE   before the data, send every line of FILE as a frame (binary if not UTF-8)
  --reject-pair P  answer subscribes for P with Kraken's error ack (any connection)
  --corrupt-checksum N  corrupt the checksum of the Nth book update (a resubscribe then gets a
                   snapshot of the server's current book)
The recording may also be a DepthCharge book capture ({"rx_ns":..,"frame":..} lines).
GET /_stats gives {"connections", "pings", "rest_requests"} for assertions.
"""

import argparse
import asyncio
import datetime
import http.server
import json
import ssl
import sys
import threading
import urllib.parse
import zlib

import websockets


def to_ns(text):
    # "2026-11-24T14:27:29.582396Z" -> ns; fractions of 0..9 digits.
    main, _, frac = text.rstrip("Z").partition(".")
    dt = datetime.datetime.strptime(main, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return int(dt.timestamp()) * 1_000_000_000 + int((frac + "000000000")[:9])


class Market:
    def __init__(self, recording, snapshot_size):
        self.status = None
        self.timeline = []  # (channel, symbol or None, raw line, parsed)
        for raw in open(recording, encoding="utf-8").read().split("\n"):
            if not raw.strip():
                continue
            if raw.startswith('{"rx_ns"'):
                # A DepthCharge capture line: {"rx_ns": N, ["dir": "tx",] "frame": <verbatim>}.
                if '"dir": "tx"' in raw:
                    continue
                raw = raw[raw.index('"frame": ') + 9:-1]
            elif '"frame"' not in raw and "captured_at" in raw:
                continue  # the capture's header line
            msg = json.loads(raw)
            if msg.get("channel") == "book":
                # Book numbers stay text: the checksum is defined on the text as sent.
                msg = json.loads(raw, parse_float=str, parse_int=str)
            channel = msg.get("channel")
            if channel == "status":
                self.status = raw
            elif channel is not None:
                data = msg.get("data") or []
                symbol = data[0].get("symbol") if data else None
                self.timeline.append((channel, symbol, raw, msg))
        self.cursor = 0
        self.history = {}  # symbol -> trade entries that have happened
        self.books = {}  # symbol -> {"bids": {price: qty}, "asks": {price: qty}}, as text
        self.book_depth = 10
        self.snapshot_size = snapshot_size
        self.lock = threading.Lock()
        self.stats = {"connections": 0, "pings": 0, "rest_requests": 0, "book_subscribes": 0}

    def advance(self):
        """Moves the market one frame on; returns the frame."""
        with self.lock:
            item = self.timeline[self.cursor]
            self.cursor += 1
            channel, _, _, msg = item
            if channel == "trade":
                for entry in msg["data"]:
                    self.history.setdefault(entry["symbol"], []).append(entry)
            elif channel == "book":
                for entry in msg["data"]:
                    self.apply_book(entry, msg.get("type") == "snapshot")
            return item

    def apply_book(self, entry, snapshot):
        book = self.books.setdefault(entry["symbol"], {"bids": {}, "asks": {}})
        if snapshot:
            book["bids"].clear()
            book["asks"].clear()
        for side in ("bids", "asks"):
            for level in entry.get(side, []):
                if float(level["qty"]) == 0:
                    book[side].pop(level["price"], None)
                else:
                    book[side][level["price"]] = level["qty"]
            ordered = sorted(book[side], key=float, reverse=(side == "bids"))
            for price in ordered[self.book_depth:]:
                del book[side][price]

    def book_snapshot(self, symbol):
        """The current book of `symbol` as a v2 snapshot frame, with its checksum."""
        with self.lock:
            book = self.books.get(symbol, {"bids": {}, "asks": {}})
            bids = sorted(book["bids"].items(), key=lambda kv: float(kv[0]), reverse=True)
            asks = sorted(book["asks"].items(), key=lambda kv: float(kv[0]))
        digits = lambda t: t.replace(".", "").lstrip("0")
        text = "".join(digits(p) + digits(q) for p, q in asks[:10] + bids[:10])
        levels = lambda side: ",".join('{"price":%s,"qty":%s}' % kv for kv in side)
        return ('{"channel":"book","type":"snapshot","data":[{"symbol":"%s","bids":[%s],'
                '"asks":[%s],"checksum":%d}]}' % (symbol, levels(bids), levels(asks),
                                                  zlib.crc32(text.encode())))

    def trades_since(self, rest_pair, since_ns):
        with self.lock:
            for symbol, entries in self.history.items():
                if symbol.replace("/", "") == rest_pair:
                    return [e for e in entries if to_ns(e["timestamp"]) >= since_ns]
            return None


def rest_row(e):
    ns = to_ns(e["timestamp"])
    time_text = "%d.%09d" % (ns // 1_000_000_000, ns % 1_000_000_000)
    return '["%r","%r",%s,"%s","%s","",%d]' % (
        e["price"], e["qty"], time_text, "b" if e["side"] == "buy" else "s",
        "m" if e["ord_type"] == "market" else "l", e["trade_id"])


def make_rest_handler(market):
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):
            sys.stderr.write("rest: " + fmt % args + "\n")

        def reply(self, status, body):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            url = urllib.parse.urlparse(self.path)
            query = urllib.parse.parse_qs(url.query)
            if url.path == "/_stats":
                return self.reply(200, json.dumps(market.stats))
            if url.path != "/0/public/Trades":
                return self.reply(404, '{"error":["EGeneral:Unknown method"]}')
            market.stats["rest_requests"] += 1
            pair = query.get("pair", [""])[0]
            since = int(query.get("since", ["0"])[0])
            trades = market.trades_since(pair, since)
            if trades is None:
                return self.reply(200, '{"error":["EQuery:Unknown asset pair"]}')
            last = to_ns(trades[-1]["timestamp"]) if trades else since
            body = '{"error":[],"result":{"%s":[%s],"last":"%d"}}' % (
                pair, ",".join(rest_row(e) for e in trades), last)
            return self.reply(200, body)

    return Handler


async def serve(args, market):
    subscribed_channels = {c for c, _, _, _ in market.timeline if c != "heartbeat"}
    garbage = open(args.garbage, "rb").read().split(b"\n") if args.garbage else []
    if garbage and garbage[-1] == b"":
        garbage.pop()

    async def handler(ws, path=None):
        market.stats["connections"] += 1
        connection = market.stats["connections"]
        subs = {}  # channel -> set of symbols
        all_requested = asyncio.Event()

        async def reader():
            async for text in ws:
                msg = json.loads(text)
                method = msg.get("method")
                now = datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                if method == "ping":
                    market.stats["pings"] += 1
                    await ws.send(json.dumps({"method": "pong", "req_id": msg.get("req_id"),
                                              "time_in": now, "time_out": now}))
                    continue
                params = msg.get("params", {})
                channel = params.get("channel")
                for symbol in params.get("symbol", []):
                    if method == "subscribe" and symbol in args.reject_pair:
                        await ws.send(json.dumps({
                            "error": "Currency pair not supported " + symbol,
                            "method": "subscribe", "req_id": msg.get("req_id"),
                            "success": False, "symbol": symbol, "time_in": now,
                            "time_out": now}))
                        continue
                    if method == "subscribe":
                        subs.setdefault(channel, set()).add(symbol)
                    elif method == "unsubscribe":
                        subs.get(channel, set()).discard(symbol)
                    await ws.send(json.dumps({
                        "method": method, "req_id": msg.get("req_id"),
                        "result": {"channel": channel, "snapshot": True, "symbol": symbol},
                        "success": True, "time_in": now, "time_out": now}))
                    if method == "subscribe" and channel == "book":
                        market.stats["book_subscribes"] += 1
                        if market.cursor > 0:
                            await ws.send(market.book_snapshot(symbol))
                    if method == "subscribe" and channel == "trade" and connection > 1:
                        with market.lock:
                            recent = market.history.get(symbol, [])[-market.snapshot_size:]
                        await ws.send(json.dumps({"channel": "trade", "type": "snapshot",
                                                  "data": recent}))
                if method == "subscribe":
                    subs.setdefault(channel, set())
                    if subscribed_channels <= set(subs):
                        all_requested.set()

        async def sender():
            await ws.send(market.status)
            try:
                # Generous: on a reconnect the client fetches REST trades before it subscribes.
                await asyncio.wait_for(all_requested.wait(), 30)
            except asyncio.TimeoutError:
                pass
            if connection == 1:
                for line in garbage:
                    try:
                        await ws.send(line.decode("utf-8"))
                    except UnicodeDecodeError:
                        await ws.send(line)
            sent = 0
            book_updates = 0
            while market.cursor < len(market.timeline):
                if connection == 1 and args.drop_after and sent == args.drop_after:
                    for _ in range(min(args.gap, len(market.timeline) - market.cursor)):
                        market.advance()
                    ws.transport.abort()
                    return
                if connection == 1 and args.stall_after and sent == args.stall_after:
                    await asyncio.sleep(3600)
                channel, symbol, raw, msg = market.advance()
                if channel == "heartbeat" or symbol in subs.get(channel, ()):
                    if (connection == 1 and channel == "book" and msg.get("type") == "update"
                            and args.corrupt_checksum):
                        book_updates += 1
                        if book_updates == args.corrupt_checksum:
                            raw = raw.replace('"checksum":', '"checksum":1', 1)
                    await ws.send(raw)
                    if channel != "heartbeat":
                        sent += 1
                if args.frame_delay:
                    await asyncio.sleep(args.frame_delay)
            while True:
                await ws.send('{"channel":"heartbeat"}')
                await asyncio.sleep(args.heartbeat)

        send_task = asyncio.ensure_future(sender())
        try:
            await reader()
        except websockets.ConnectionClosed:
            pass
        finally:
            send_task.cancel()
            try:
                await send_task
            except (asyncio.CancelledError, websockets.ConnectionClosed):
                pass

    tls = None
    if args.tls_cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.tls_cert, args.tls_key)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_rest_handler(market))
    if args.rest_tls:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    async with websockets.serve(handler, "127.0.0.1", 0, ssl=tls, max_size=None,
                                ping_interval=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(json.dumps({"ws_port": port, "http_port": httpd.server_address[1]}), flush=True)
        await asyncio.Future()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--recording", required=True)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--rest-tls", action="store_true", help="REST over TLS too (--tls-cert)")
    p.add_argument("--reject-pair", action="append", default=[])
    p.add_argument("--drop-after", type=int, default=0)
    p.add_argument("--gap", type=int, default=0)
    p.add_argument("--stall-after", type=int, default=0)
    p.add_argument("--garbage")
    p.add_argument("--snapshot-size", type=int, default=50)
    p.add_argument("--heartbeat", type=float, default=0.2)
    p.add_argument("--frame-delay", type=float, default=0)
    p.add_argument("--corrupt-checksum", type=int, default=0,
                   help="on the first connection, corrupt the checksum of the Nth book update")
    args = p.parse_args()
    asyncio.run(serve(args, Market(args.recording, args.snapshot_size)))


if __name__ == "__main__":
    main()
