#!/usr/bin/env python3
"""faulty_proxy.py PORT UPSTREAM FAULTS: a hostile network between the
blindsync CLI and the real stack, for tests/client/faults.bats. PORT 0 lets
the kernel choose a free port, written to FAULTS.port once it listens (so
no other test can take it between a choice and the bind). It forwards
every request to UPSTREAM (http://127.0.0.1:N) unless the file FAULTS holds
a line "SUBSTRING MODE COUNT": then the next COUNT requests whose path holds
SUBSTRING get MODE instead (COUNT -1: all of them):
  500        a 500 internal error
  503        a 503 with Retry-After: 1
  garbage    a 200 whose body is not JSON
  close      the connection closed without an answer
  lost       forwarded, then the connection closed without the answer
  expired    a 401 token_expired (as an expired access token gets)
  exec       forwarded after running `bash FAULTS.cmd` (a change made by
             someone else just before the request lands: sharing.bats)
Each request is appended to FAULTS.log as "METHOD PATH -> what"."""
import http.client
import http.server
import os
import subprocess
import sys
import threading

PORT, UPSTREAM, FAULTS = int(sys.argv[1]), sys.argv[2], sys.argv[3]
HOST, UPORT = UPSTREAM.split("//")[1].split(":")
lock = threading.Lock()


def take_fault(path):
    with lock:
        try:
            with open(FAULTS) as f:
                line = f.read().split()
        except FileNotFoundError:
            return None
        if len(line) != 3 or line[0] not in path or line[2] == "0":
            return None
        n = int(line[2])
        if n > 0:
            with open(FAULTS, "w") as f:
                f.write("%s %s %d\n" % (line[0], line[1], n - 1))
        return line[1]


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def note(self, what):
        with lock, open(FAULTS + ".log", "a") as f:
            f.write("%s %s -> %s\n" % (self.command, self.path.split("?")[0], what))

    def answer(self, status, body, extra=()):
        self.send_response(status)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        fault = take_fault(self.path)
        self.note(fault or "forwarded")
        if fault == "close":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if fault == "500":
            return self.answer(500, b'{"error":{"code":"internal","message":"injected"}}')
        if fault == "503":
            return self.answer(503, b'{"error":{"code":"unavailable","message":"injected"}}',
                               [("Retry-After", "1")])
        if fault == "garbage":
            return self.answer(200, b'<html>not json</html>')
        if fault == "expired":
            return self.answer(401, b'{"error":{"code":"token_expired","message":"injected"}}',
                               [("WWW-Authenticate", 'Bearer realm="blindsync"')])
        if fault == "exec":
            subprocess.run(["bash", FAULTS + ".cmd"], check=False, timeout=60)
        up = http.client.HTTPConnection(HOST, int(UPORT), timeout=120)
        if fault == "lost":
            up.request(self.command, self.path, body=body,
                       headers={k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")})
            up.getresponse().read()
            up.close()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        hdrs = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        up.request(self.command, self.path, body=body, headers=hdrs)
        r = up.getresponse()
        data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("content-length", "connection", "transfer-encoding", "server", "date"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        up.close()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any


server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Proxy)
with open(FAULTS + ".port.tmp", "w") as f:
    f.write("%d\n" % server.server_address[1])
os.replace(FAULTS + ".port.tmp", FAULTS + ".port")
server.serve_forever()
