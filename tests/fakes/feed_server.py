#!/usr/bin/python3
"""Local HTTP server for the tests of inputs.rss and processors.sentiment (Debian's python3, standard library only).

Usage: feed_server.py DATA_DIR  -> prints "PORT <n>" on stdout once listening on 127.0.0.1:0.

Routes (GET unless noted):
  /feeds/<rel>        fixture file DATA_DIR/feeds/<rel>, with ETag and Last-Modified; answers
                      304 to a matching If-None-Match / If-Modified-Since. In the authored
                      feeds "http://127.0.0.1/" becomes "http://127.0.0.1:<port>/site/".
  /plain/<rel>        the same file without validators (never 304)
  /gzip/<rel>         the same file gzip-encoded (Content-Encoding: gzip)
  /site/<rel>         article pages from DATA_DIR/feeds/crypto/site/<rel> (404 when absent)
  /dyn/<name>         what was last set with /set?name=<name>&file=<rel> (404 before)
  /set?name=&file=    sets /dyn/<name> to the fixture DATA_DIR/feeds/<rel>
  /slow/<seconds>     headers, then one byte per 100 ms for <seconds>
  /huge               about 64 MiB of XML-looking bytes, streamed
  /loop               redirects to /loop2, which redirects back to /loop
  /redirect/<rel>     301 to /feeds/<rel>
  /status/<code>      an empty response with that status
  /log                JSON list of [path, monotonic arrival time] of /site/ requests
"""
import gzip
import hashlib
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

DATA = sys.argv[1]
LAST_MODIFIED = "Fri, 12 Dec 2025 15:09:00 GMT"
dyn = {}
site_log = []
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep test output quiet
        pass

    def send_body(self, code, body, headers=None):
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def fixture(self, rel):
        path = os.path.normpath(os.path.join(DATA, "feeds", rel))
        if not path.startswith(os.path.join(DATA, "feeds")) or not os.path.isfile(path):
            return None
        with open(path, "rb") as f:
            body = f.read()
        base = ("http://127.0.0.1:%d/site/" % self.server.server_port).encode()
        return body.replace(b"http://127.0.0.1/", base)

    def do_GET(self):
        url = urlparse(self.path)
        path = url.path
        if path.startswith("/feeds/"):
            body = self.fixture(path[len("/feeds/"):])
            if body is None:
                return self.send_body(404, b"not found")
            etag = '"%s"' % hashlib.sha1(body).hexdigest()
            if self.headers.get("If-None-Match") == etag or (
                    self.headers.get("If-None-Match") is None and
                    self.headers.get("If-Modified-Since") == LAST_MODIFIED):
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                return self.end_headers()
            return self.send_body(200, body, {"Content-Type": "application/rss+xml",
                                              "ETag": etag, "Last-Modified": LAST_MODIFIED})
        if path.startswith("/plain/"):
            body = self.fixture(path[len("/plain/"):])
            return self.send_body(404, b"") if body is None else self.send_body(200, body)
        if path.startswith("/gzip/"):
            body = self.fixture(path[len("/gzip/"):])
            if body is None:
                return self.send_body(404, b"")
            return self.send_body(200, gzip.compress(body), {"Content-Encoding": "gzip"})
        if path.startswith("/site/"):
            with lock:
                site_log.append([path, time.monotonic()])
            body = self.fixture("crypto/site/" + path[len("/site/"):])
            if body is None:
                return self.send_body(404, b"<html><body>Not found</body></html>")
            return self.send_body(200, body, {"Content-Type": "text/html; charset=utf-8"})
        if path.startswith("/dyn/"):
            with lock:
                body = dyn.get(path[len("/dyn/"):])
            return self.send_body(404, b"") if body is None else self.send_body(200, body)
        if path == "/set":
            q = parse_qs(url.query)
            body = self.fixture(q["file"][0])
            with lock:
                dyn[q["name"][0]] = body
            return self.send_body(200 if body is not None else 404, b"ok")
        if path.startswith("/slow/"):
            seconds = float(path[len("/slow/"):])
            self.send_response(200)
            self.send_header("Content-Length", str(int(seconds * 10)))
            self.end_headers()
            try:
                for _ in range(int(seconds * 10)):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.1)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        if path == "/huge":
            chunk = b"<item><title>x</title></item>" * 2048
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.end_headers()  # no length: ends when the connection closes
            self.close_connection = True
            try:
                self.wfile.write(b"<rss><channel>")
                for _ in range(64 * 1024 * 1024 // len(chunk)):
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        if path in ("/loop", "/loop2"):
            return self.send_body(302, b"", {"Location": "/loop2" if path == "/loop" else "/loop"})
        if path.startswith("/redirect/"):
            return self.send_body(301, b"", {"Location": "/feeds/" + path[len("/redirect/"):]})
        if path.startswith("/status/"):
            return self.send_body(int(path[len("/status/"):]), b"")
        if path == "/log":
            with lock:
                return self.send_body(200, json.dumps(site_log).encode())
        return self.send_body(404, b"")


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print("PORT %d" % server.server_port, flush=True)
server.serve_forever()
