#!/usr/bin/env python3
"""live_client.py: a small WebSocket client of blindsync-live for the tests
(RFC 6455 over the standard library only; loopback, bounded in time).

    live_client.py URL [--ticket T] [--timeout S] [--max-messages N]
                   [--send-text TEXT] [--send-binary] [--send-raw HEX]
                   [--no-read S] [--unix PATH]

URL is http://host:port[/prefix]; the client opens GET <prefix>/v1/live?ticket=T
(no ticket argument without --ticket). One line per event on stdout,
flushed at once, so that a test can wait for them in the output file:
    http STATUS BODY           the upgrade was refused (then exit 0)
    open                       the upgrade completed
    msg JSON                   a text message (its type first: hello, changed)
    ping                       a ping from the server (answered with a pong)
    pong                       a pong from the server (to a ping of --send-raw)
    close CODE REASON          the server closed the socket (then exit 0)
    eof                        the connection ended without a close frame
    timeout                    --timeout seconds passed (then exit 0)
After --max-messages text messages it closes with 1000 itself. With
--send-text or --send-binary it sends that data frame once open; with
--send-raw the bytes HEX as they are (a frame of our own making: a bad
opcode, an unmasked frame, a length beyond what follows). With --no-read S
it is a slow reader: a receive buffer of 1 KiB, and once open it reads
nothing for S seconds ("stalled" when they begin), then reads on.
"""
import argparse
import base64
import os
import socket
import struct
import sys
import time
from urllib.parse import urlsplit


def out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def send_frame(sock, opcode, payload):
    mask = os.urandom(4)
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    sock.sendall(head + mask + masked)


def read_frame(sock):
    b0, b1 = recv_exact(sock, 2)
    opcode = b0 & 0x0F
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", recv_exact(sock, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", recv_exact(sock, 8))[0]
    if b1 & 0x80:
        mask = recv_exact(sock, 4)
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(recv_exact(sock, n)))
    else:
        payload = recv_exact(sock, n)
    return opcode, payload


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--ticket")
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--max-messages", type=int, default=0)
    ap.add_argument("--send-text")
    ap.add_argument("--send-binary", action="store_true")
    ap.add_argument("--send-raw")
    ap.add_argument("--no-read", type=float, default=0)
    ap.add_argument("--unix")
    a = ap.parse_args()

    u = urlsplit(a.url)
    path = (u.path.rstrip("/") or "") + "/v1/live"
    if a.ticket is not None:
        path += "?ticket=" + a.ticket
    deadline = time.monotonic() + a.timeout
    if a.unix:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(a.timeout)
        sock.connect(a.unix)
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if a.no_read:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
        sock.settimeout(a.timeout)
        sock.connect((u.hostname, u.port or 80))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((
        "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, u.netloc, key)).encode())
    head = b""
    try:
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                break
            head += chunk
    except socket.timeout:
        out("timeout")
        return 0
    head, _, rest = head.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else 0
    if status != 101:
        headers = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
        body = rest
        want = int(headers.get("content-length", "0") or 0)
        try:
            while len(body) < want:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                body += chunk
        except socket.timeout:
            pass
        out("http %d %s" % (status, body.decode("utf-8", "replace")))
        return 0
    out("open")

    class Buffered:
        """the bytes after the handshake first, then the socket"""
        def __init__(self, s, pre):
            self.s, self.pre = s, pre

        def recv(self, n):
            if self.pre:
                d, self.pre = self.pre[:n], self.pre[n:]
                return d
            return self.s.recv(n)

    bs = Buffered(sock, rest)
    if a.send_text is not None:
        send_frame(sock, 0x1, a.send_text.encode())
    if a.send_binary:
        send_frame(sock, 0x2, b"\x00\x01\x02")
    if a.send_raw:
        sock.sendall(bytes.fromhex(a.send_raw))
    if a.no_read:
        out("stalled")
        time.sleep(a.no_read)
    count = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            out("timeout")
            return 0
        sock.settimeout(left)
        try:
            opcode, payload = read_frame(bs)
        except socket.timeout:
            out("timeout")
            return 0
        except (EOFError, ConnectionError):
            out("eof")
            return 0
        if opcode == 0x1:
            out("msg " + payload.decode())
            count += 1
            if a.max_messages and count >= a.max_messages:
                send_frame(sock, 0x8, struct.pack("!H", 1000))
                return 0
        elif opcode == 0xA:
            out("pong")
        elif opcode == 0x9:
            out("ping")
            send_frame(sock, 0xA, payload)
        elif opcode == 0x8:
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            out("close %d %s" % (code, payload[2:].decode("utf-8", "replace")))
            try:
                send_frame(sock, 0x8, payload[:2])
            except OSError:
                pass
            return 0


if __name__ == "__main__":
    sys.exit(main())
