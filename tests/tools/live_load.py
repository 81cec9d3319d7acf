#!/usr/bin/env python3
"""live_load.py: the load generator of the blindsync-live benchmark
(tests/bench/live.sh): many idle WebSockets through the front end, then
the latency from a push to the "changed" message on subscribed sockets.
Standard library only (asyncio); loopback only; every phase bounded in time.

    live_load.py URL TOKENS_FILE --sockets N [--samples M] [--live-pid P]
                 [--nginx-pids P,P] [--timeout S] [--hold-until FILE]

With --hold-until it prints "ready" once the sockets are open and holds
them until FILE exists (the benchmark measures the latency meanwhile from a
second process, with --samples and a socket per account of its own, so that
the figures are not this process's time to read ten thousand sockets).

TOKENS_FILE holds one access token per line (one account each); the
sockets are spread evenly over them. Prints "key value" lines:
rss_before_kib, opened, failed, rss_live_kib, rss_nginx_kib, then the
latencies: latency_answer_ms_p50/p99 (from the push's answer, i.e. after
its commit, to each subscribed socket's message), latency_first_ms_p50/p99
(to the first socket's), latency_request_ms_p50/p99 (from sending the
push). The client is one Python thread: with many sockets per account,
the later sockets' figures include its own time to read the others.
"""
import argparse
import asyncio
import base64
import json
import os
import random
import struct
import sys
import time
from urllib.parse import urlsplit


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Http:
    """one keep-alive HTTP/1.1 connection (Content-Length or chunked answers)"""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.r = self.w = None

    async def request(self, method, path, token=None, body=None):
        if self.w is None:
            self.r, self.w = await asyncio.open_connection(self.host, self.port)
        data = body.encode() if body is not None else b""
        head = "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n" % (method, path, self.host, len(data))
        if token:
            head += "Authorization: Bearer %s\r\n" % token
        if body is not None:
            head += "Content-Type: application/json\r\n"
        self.w.write((head + "\r\n").encode() + data)
        await self.w.drain()
        status_line = await self.r.readline()
        status = int(status_line.split()[1])
        headers = {}
        while True:
            line = await self.r.readline()
            if line in (b"\r\n", b""):
                break
            k, _, v = line.decode("latin-1").partition(":")
            headers[k.strip().lower()] = v.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            out = b""
            while True:
                n = int((await self.r.readline()).strip(), 16)
                if n == 0:
                    await self.r.readline()
                    break
                out += await self.r.readexactly(n)
                await self.r.readline()
        else:
            out = await self.r.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            self.w.close()
            self.w = None
        return status, out


class Sock:
    """one WebSocket: answers pings, stamps each changed message"""

    def __init__(self, account):
        self.account = account
        self.r = self.w = None
        self.hello = asyncio.Event()
        self.closed = None
        self.reason = b""

    async def open(self, host, port, path, ticket):
        self.r, self.w = await asyncio.open_connection(host, port)
        key = base64.b64encode(os.urandom(16)).decode()
        self.w.write(("GET %s?ticket=%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
                      % (path, ticket, host, key)).encode())
        await self.w.drain()
        head = await self.r.readuntil(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n")[0]:
            self.w.close()
            raise ConnectionError(head.split(b"\r\n")[0].decode("latin-1"))

    async def send(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode, 0x80 | n])
        self.w.write(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    async def run(self, on_changed):
        try:
            while True:
                b0, b1 = await self.r.readexactly(2)
                n = b1 & 0x7F
                if n == 126:
                    n = struct.unpack("!H", await self.r.readexactly(2))[0]
                elif n == 127:
                    n = struct.unpack("!Q", await self.r.readexactly(8))[0]
                payload = await self.r.readexactly(n)
                op = b0 & 0x0F
                if op == 0x1:
                    if b'"type":"hello"' in payload:
                        self.hello.set()
                    else:
                        on_changed(self, time.monotonic())
                elif op == 0x9:
                    await self.send(0xA, payload)
                elif op == 0x8:
                    self.closed = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                    self.reason = payload[2:]
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            self.closed = self.closed or -1


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("tokens")
    ap.add_argument("--sockets", type=int, default=10000)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--live-pid", type=int, default=0)
    ap.add_argument("--nginx-pids", default="")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--hold-until", help="after opening, print ready and hold the sockets until this file exists")
    ap.add_argument("--reconnect", action="store_true",
                    help="while holding: a closed socket comes back, after the delay of a 1012's reason "
                         "(else a random 1 to 30 s)")
    a = ap.parse_args()
    u = urlsplit(a.url)
    host, port = u.hostname, u.port or 80
    path = (u.path.rstrip("/") or "") + "/v1/live"
    tokens = [t.strip() for t in open(a.tokens) if t.strip()]
    deadline = time.monotonic() + a.timeout
    print("rss_before_kib %d" % rss_kib(a.live_pid), flush=True)

    # a pool of keep-alive connections for the tickets (each ticket is
    # fetched just before its socket opens: it lives 30 s)
    pool = asyncio.Queue()
    for _ in range(16):
        pool.put_nowait(Http(host, port))
    async def get_ticket(i):
        h = await pool.get()
        try:
            st, body = await h.request("POST", "/v1/live/ticket", tokens[i % len(tokens)])
            return json.loads(body)["ticket"] if st == 200 else None
        except (OSError, ValueError, asyncio.IncompleteReadError):
            h.w = None
            return None
        finally:
            pool.put_nowait(h)

    # the sockets, 200 handshakes at a time
    socks, tasks, failed = [], [], 0
    reasons = {}
    changed = {}
    def on_changed(s, t):
        changed.setdefault(s.account, []).append(t)
    sem = asyncio.Semaphore(200)
    async def open_one(i):
        nonlocal failed
        s = Sock(i % len(tokens))
        async with sem:
            ticket = await get_ticket(i)
            if ticket is None:
                failed += 1
                reasons["no ticket"] = reasons.get("no ticket", 0) + 1
                return
            try:
                await s.open(host, port, path, ticket)
            except (OSError, ConnectionError, asyncio.IncompleteReadError) as e:
                failed += 1
                reasons[str(e)[:60]] = reasons.get(str(e)[:60], 0) + 1
                return
            socks.append(s)
            tasks.append(asyncio.ensure_future(s.run(on_changed)))
            await asyncio.wait_for(s.hello.wait(), 60)
    t0 = time.monotonic()
    await asyncio.wait_for(asyncio.gather(*(open_one(i) for i in range(a.sockets)), return_exceptions=True),
                           deadline - time.monotonic())
    print("opened %d" % sum(1 for s in socks if s.hello.is_set() and s.closed is None), flush=True)
    print("failed %d" % failed, flush=True)
    for k, n in sorted(reasons.items()):
        print("failure %d %s" % (n, k), file=sys.stderr, flush=True)
    print("open_seconds %.1f" % (time.monotonic() - t0), flush=True)
    await asyncio.sleep(2)
    print("rss_live_kib %d" % rss_kib(a.live_pid), flush=True)
    print("rss_nginx_kib %d" % sum(rss_kib(int(p)) for p in a.nginx_pids.split(",") if p), flush=True)

    # a socket closed with 1012 (a restart) comes back after the delay the
    # server gave: a new ticket, a new socket; a 5xx (the program not back
    # yet) is counted and retried a second later
    back, fivexx, first_close, codes = [], 0, [None], {}
    async def come_back(k, s):
        nonlocal fivexx
        codes[s.closed] = codes.get(s.closed, 0) + 1
        try:
            delay = json.loads(s.reason.decode())["retry_after_ms"] / 1000.0
        except (ValueError, KeyError):
            delay = 1 + random.random() * 29  # no delay given: full jitter over the same 30 s
        if first_close[0] is None:
            first_close[0] = time.monotonic()
        await asyncio.sleep(delay)
        while time.monotonic() < deadline:
            ticket = await get_ticket(k)
            n = Sock(s.account)
            try:
                if ticket is None:
                    raise ConnectionError("no ticket")
                await n.open(host, port, path, ticket)
            except (OSError, ConnectionError, asyncio.IncompleteReadError) as e:
                if str(e).split(" ")[1:2] and str(e).split(" ")[1].startswith("5"):
                    fivexx += 1
                await asyncio.sleep(1)
                continue
            back.append(time.monotonic())
            socks[k] = n
            tasks.append(asyncio.ensure_future(n.run(on_changed)))
            return
    if a.hold_until:
        print("ready", flush=True)
        pending = set()
        while not os.path.exists(a.hold_until) and time.monotonic() < deadline:
            if a.reconnect:
                for k, s in enumerate(socks):
                    if s.closed is not None and k not in pending:
                        pending.add(k)
                        asyncio.ensure_future(come_back(k, s))
            await asyncio.sleep(0.2)
        if a.reconnect and first_close[0] is not None:
            t0 = first_close[0]
            secs = {}
            for t in back:
                secs[int(t - t0)] = secs.get(int(t - t0), 0) + 1
            rel = [t - t0 for t in back]
            print("reconnected %d" % len(back))
            print("reconnect_5xx %d" % fivexx)
            print("reconnect_codes %s" % ",".join("%s:%d" % (c, n) for c, n in sorted(codes.items())))
            print("reconnect_s_p50 %.1f" % pct(rel, 50))
            print("reconnect_s_p99 %.1f" % pct(rel, 99))
            print("reconnect_s_max %.1f" % (max(rel) if rel else float("nan")))
            print("reconnect_busiest_second %d" % (max(secs.values()) if secs else 0), flush=True)
    if a.samples <= 0:
        print("still_open %d" % sum(1 for s in socks if s.closed is None), flush=True)
        return 0

    # latency: push to the accounts in turn, each at most every 500 ms (over
    # the 250 ms coalescing, so no sample waits for it)
    per_account = {}
    for s in socks:
        per_account[s.account] = per_account.get(s.account, 0) + 1
    accounts = sorted(per_account)[:10]
    h = Http(host, port)
    lat_answer, lat_request, lat_first, missing = [], [], [], 0
    payload = base64.b64encode(b"x" * 32).decode()
    for k in range(a.samples):
        acc = accounts[k % len(accounts)]
        changed.pop(acc, None)
        body = json.dumps({"records": [{"id": "r%d" % k, "base_version": 0, "payload": payload}]})
        t_req = time.monotonic()
        st, _ = await h.request("POST", "/v1/collections/bench/push", tokens[acc], body)
        t_ans = time.monotonic()
        want = per_account[acc]
        end = time.monotonic() + 10
        while len(changed.get(acc, [])) < want and time.monotonic() < end:
            await asyncio.sleep(0.001)
        got = changed.get(acc, [])
        missing += want - len(got)
        lat_answer += [(t - t_ans) * 1000 for t in got]
        lat_request += [(t - t_req) * 1000 for t in got]
        if got:
            lat_first.append((min(got) - t_ans) * 1000)
        await asyncio.sleep(max(0, 0.05 - (time.monotonic() - t_req)))
    print("latency_messages %d" % len(lat_answer))
    print("latency_missing %d" % missing)
    print("latency_answer_ms_p50 %.1f" % pct(lat_answer, 50))
    print("latency_answer_ms_p99 %.1f" % pct(lat_answer, 99))
    print("latency_first_ms_p50 %.1f" % pct(lat_first, 50))
    print("latency_first_ms_p99 %.1f" % pct(lat_first, 99))
    print("latency_request_ms_p50 %.1f" % pct(lat_request, 50))
    print("latency_request_ms_p99 %.1f" % pct(lat_request, 99), flush=True)
    print("still_open %d" % sum(1 for s in socks if s.closed is None), flush=True)
    for s in socks:
        s.w.close()
    for t in tasks:
        t.cancel()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
