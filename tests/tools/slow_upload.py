#!/usr/bin/env python3
"""slow_upload.py: hostile slow uploaders, for tests/e2e/slow_uploads.bats.

Usage: slow_upload.py PORT N METHOD PATH LENGTH FIRST GAP SECONDS READY OUT [HEADER...]

Opens N connections at once, each sending METHOD PATH with Content-Length:
LENGTH and the HEADERs ("Name: value"; "{i}" in a value becomes the
connection's number), then FIRST body bytes, then one byte every GAP seconds
(0: never again); the body starts as {"format":" so that an import,
which checks the document as it streams, keeps reading. After the first bytes of every connection are sent (and
one more second for quick refusals), touches the file READY. Each
connection ends when the server answers or SECONDS passed. Writes one line
per connection to OUT: "i status seconds retry_after code", seconds since
the start until the answer ("-" fields when none came).
"""
import json
import os
import selectors
import socket
import sys
import time

port, n, method, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
length, first, gap, seconds = int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7]), float(sys.argv[8])
ready, out, headers = sys.argv[9], sys.argv[10], sys.argv[11:]

t0 = time.monotonic()
sel = selectors.DefaultSelector()
conns = {}
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    head = "%s %s HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n" % (method, path, length)
    for h in headers:
        head += h.replace("{i}", str(i)) + "\r\n"
    # a JSON-looking start (an import checks the document as it streams),
    # then "x"s inside its open string: opaque bytes for backups and slots
    s.sendall((head + "\r\n").encode() + (b'{"format":"' + b"x" * first)[:first])
    s.setblocking(False)
    conns[s] = {"i": i, "data": b"", "sent": first, "next": time.monotonic() + gap, "done": None}
    sel.register(s, selectors.EVENT_READ)


def answered(c):
    head, sep, body = c["data"].partition(b"\r\n\r\n")
    if not sep:
        return False
    lens = [l.split(b":", 1)[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
    return bool(lens) and len(body) >= int(lens[0])


ready_at = time.monotonic() + 1.0
while time.monotonic() - t0 < seconds and any(c["done"] is None for c in conns.values()):
    if ready and time.monotonic() >= ready_at:
        open(ready, "w").close()
        ready = None
    for key, _ in sel.select(timeout=0.1):
        s, c = key.fileobj, conns[key.fileobj]
        try:
            d = s.recv(65536)
        except (ConnectionResetError, BlockingIOError):
            d = b""
        c["data"] += d
        if not d or answered(c):
            c["done"] = time.monotonic() - t0
            sel.unregister(s)
    now = time.monotonic()
    for s, c in conns.items():
        if c["done"] is None and gap > 0 and now >= c["next"] and c["sent"] < length:
            try:
                s.send(b"x")
                c["sent"] += 1
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                pass
            c["next"] = now + gap
if ready:
    open(ready, "w").close()
with open(out, "w") as f:
    for s, c in sorted(conns.items(), key=lambda kv: kv[1]["i"]):
        head, _, body = c["data"].partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = lines[0].split(" ")[1] if c["data"] and " " in lines[0] else "-"
        retry = "-"
        for l in lines[1:]:
            if l.lower().startswith("retry-after:"):
                retry = l.split(":", 1)[1].strip()
        try:
            code = json.loads(body)["error"]["code"]
        except Exception:
            code = "-"
        when = "%.2f" % c["done"] if c["done"] is not None and c["data"] else "-"
        f.write("%d %s %s %s %s\n" % (c["i"], status, when, retry, code))
        s.close()
