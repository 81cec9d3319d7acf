#!/usr/bin/env python3
"""sync_load.py: push load generators and checkers for the sync end-to-end
tests (tests/e2e/sync_concurrency.bats, sync_crash.bats, nodes.bats,
pg_crash.bats, paging.bats).

URL may be several, comma-separated (the nodes of one store): client i then
talks to URL number i modulo their count. DB is the store: an SQLite file,
or a postgresql:// URI (read with psql; PG_BINDIR, default
/usr/lib/postgresql/15/bin).

  sync_load.py concurrent URL TOKEN COLLECTION OUT [--clients 8] [--pushes 30] [--follow]
      CLIENTS threads push batches to one collection at once: half of each
      batch on shared ids (base_version = the client's last view, sometimes
      force or delete), half on the client's own ids; every 4th push atomic.
      Checks every answer as it comes (status 200/409, or 503 with
      Retry-After; accepted + conflicts = sent; ...). With --follow one more
      thread pulls the collection incrementally (since = next_since) while the
      pushes run. Writes every answer to OUT (JSON lines).

  sync_load.py verify-concurrent DB USERNAME COLLECTION OUT HISTORY_DEPTH
      Checks the store against every accepted write of OUT.

  sync_load.py load URL TOKEN COLLECTIONS OUT STOPFILE [--clients 6]
      Pushes until STOPFILE exists, each client to COLLECTIONS[i % n]; new
      unique ids, updates and deletes of its own acknowledged records. Writes
      one JSON line per write acknowledged with 200, and one per id whose
      fate is unknown (a failed request or a conflict: "tainted").

  sync_load.py verify-acked DB USERNAME OUT
      Every acknowledged write is in the store (records or history) with its
      version and payload; an id no unknown write touched is current at
      exactly its last acknowledged version. Prints "checked N".

  sync_load.py paging URL TOKEN COLLECTION OUT [--writers 16] [--pushes 25] [--limits 1,2,3,5] [--pace 20]
                     [--min-heads 0]
      WRITERS threads push new records only (1 to 4 a push, never an
      update, a pause of 0 to PACE ms between pushes, so that the reader
      keeps up and reads at the head while versions commit), so every
      committed version stays current; one reader pulls
      with since = next_since and a small limit (drawn from LIMITS) the whole
      time, and once more after the last push ended. The reader must see
      every accepted version exactly once, in increasing order, and nothing
      else: a version that becomes visible after a later one was paged past
      is a skip. Writes the accepted versions and the reader's to OUT, and
      prints how often the reader reached the head while writers ran. With
      --min-heads N one writer goes on after the PUSHES, one push per 200
      ms, until the reader was at the head N times (120 s at most), so that
      a slow front end still gives the overlap the test wants.

Exit status 0 when every check passed; the failures are printed (at most 30).
"""
import base64
import hashlib
import http.client
import json
import os
import random
import sqlite3
import sys
import threading
import time
import urllib.parse

MAX_FAILURES_SHOWN = 30


class Failures:
    def __init__(self):
        self.lock = threading.Lock()
        self.items = []

    def add(self, msg):
        with self.lock:
            self.items.append(msg)

    def report(self):
        for m in self.items[:MAX_FAILURES_SHOWN]:
            print("FAIL: " + m)
        if len(self.items) > MAX_FAILURES_SHOWN:
            print("FAIL: ... and %d more" % (len(self.items) - MAX_FAILURES_SHOWN))
        return 1 if self.items else 0


class Client:
    """One keep-alive HTTP connection; reconnects after a failure."""

    def __init__(self, url, token, timeout=30, index=0):
        url = url.split(",")[index % len(url.split(","))]
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port or 80
        self.token = token
        self.timeout = timeout
        self.conn = None

    def request(self, method, path, body=None):
        """-> (status, headers dict lowercased, body bytes); raises OSError /
        http.client.HTTPException on a transport failure."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        hdrs = {"Authorization": "Bearer " + self.token}
        data = None
        if body is not None:
            data = json.dumps(body, separators=(",", ":")).encode()
            hdrs["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=data, headers=hdrs)
            resp = self.conn.getresponse()
            raw = resp.read()
            headers = {k.lower(): v for k, v in resp.getheaders()}
            if headers.get("connection", "").lower() == "close":
                self.close()
            return resp.status, headers, raw
        except Exception:
            self.close()
            raise

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:
                pass
            self.conn = None


def b64(data):
    return base64.b64encode(data).decode()


def payload_for(tag, rng, lo, hi):
    """A payload naming its writer, padded to a random size in [lo, hi]."""
    return tag.encode() + b"|" + rng.randbytes(rng.randint(lo, hi))


def sha(data):
    return hashlib.sha256(data).hexdigest() if data is not None else None


# ---------------------------------------------------------------- concurrent

def concurrent_client(i, args, out, out_lock, fails, stats):
    rng = random.Random(1000 + i)
    cl = Client(args["url"], args["token"], index=i)
    path = "/v1/collections/%s/push" % args["collection"]
    shared = ["s%02d" % n for n in range(args["shared"])]
    known = {}     # id -> the last version this client saw for it (0: absent)
    own = []       # this client's own ids, once created
    seq = 0
    for k in range(args["pushes"]):
        recs = []
        # half on shared ids: a guess of the base version, sometimes stale, sometimes forced
        for rid in rng.sample(shared, args["batch"] // 2):
            r = {"id": rid}
            roll = rng.random()
            if roll < 0.12:
                r["force"] = True
            else:
                base = known.get(rid, 0)
                if roll < 0.25 and base > 0:
                    base = rng.randint(0, base - 1)
                r["base_version"] = base
            if known.get(rid, 0) > 0 and rng.random() < 0.1:
                r["deleted"] = True
            recs.append(r)
        # half on own ids: new ones, or updates and deletes of earlier ones
        picks = [x for x in own if known.get(x, 0) > 0]
        rng.shuffle(picks)
        while len(recs) < args["batch"]:
            if picks and rng.random() < 0.35:
                rid = picks.pop()
                r = {"id": rid, "base_version": known[rid]}
                if rng.random() < 0.2:
                    r["deleted"] = True
            else:
                seq += 1
                rid = "c%d-%d" % (i, seq)
                own.append(rid)
                r = {"id": rid, "base_version": 0}
            recs.append(r)
        payloads = {}
        for r in recs:
            if not r.get("deleted"):
                p = payload_for("%d/%d/%s" % (i, k, r["id"]), rng, 8, 600)
                payloads[r["id"]] = p
                r["payload"] = b64(p)
        atomic = k % 4 == 3
        body = {"records": recs, "atomic": atomic}
        t0 = time.monotonic()
        try:
            st, hdrs, raw = cl.request("POST", path, body)
        except Exception as ex:
            fails.add("client %d push %d: transport failure: %r" % (i, k, ex))
            continue
        t1 = time.monotonic()
        entry = {"client": i, "push": k, "status": st, "atomic": atomic,
                 "start": round(t0 - args["t0"], 4), "end": round(t1 - args["t0"], 4),
                 "sent": [{"id": r["id"], "base_version": r.get("base_version"), "force": r.get("force", False),
                           "deleted": r.get("deleted", False), "sha": sha(payloads.get(r["id"]))}
                          for r in recs]}
        try:
            resp = json.loads(raw) if raw else None
        except ValueError:
            resp = None
        entry["response"] = resp
        with stats["lock"]:
            stats["status"][st] = stats["status"].get(st, 0) + 1
        with out_lock:
            out.write(json.dumps(entry) + "\n")
        sent_ids = [r["id"] for r in recs]
        byid = {r["id"]: r for r in recs}
        where = "client %d push %d (atomic=%s)" % (i, k, atomic)
        if st == 503:
            if "retry-after" not in hdrs:
                fails.add("%s: 503 without Retry-After" % where)
        elif st == 200:
            if not isinstance(resp, dict):
                fails.add("%s: 200 without a JSON body: %r" % (where, raw[:200]))
                continue
            acc = resp.get("accepted", [])
            con = resp.get("conflicts", [])
            rej = resp.get("rejected", [])
            acc_ids = [a["id"] for a in acc]
            con_ids = [c["id"] for c in con]
            if rej:
                fails.add("%s: rejected %r" % (where, rej))
            if sorted(acc_ids + con_ids) != sorted(sent_ids):
                fails.add("%s: accepted %r + conflicts %r != sent %r" % (where, acc_ids, con_ids, sent_ids))
            if atomic and con:
                fails.add("%s: an atomic push answered 200 with conflicts" % where)
            versions = [a["version"] for a in acc]
            if versions and resp.get("collection_version") != max(versions):
                fails.add("%s: collection_version %r is not the largest version given %r"
                          % (where, resp.get("collection_version"), versions))
            for a in acc:
                known[a["id"]] = a["version"]
            for c in con:
                r = byid.get(c["id"], {})
                if r.get("force"):
                    fails.add("%s: a forced record conflicts: %r" % (where, c))
                if r.get("base_version") is not None and c.get("server_version", -1) <= r["base_version"]:
                    fails.add("%s: conflict on %s with server_version %r <= base_version %r"
                              % (where, c["id"], c.get("server_version"), r["base_version"]))
                known[c["id"]] = c.get("server_version", 0)
        elif st == 409:
            if not atomic:
                fails.add("%s: 409 for a push that is not atomic" % where)
            if not isinstance(resp, dict) or resp.get("error", {}).get("code") != "conflict":
                fails.add("%s: 409 that is not a conflict error: %r" % (where, raw[:200]))
                continue
            con = resp.get("conflicts") or []
            if not con:
                fails.add("%s: 409 without conflicts" % where)
            if any(c["id"] not in byid for c in con):
                fails.add("%s: 409 conflicts name ids not sent: %r" % (where, con))
            for c in con:
                known[c["id"]] = c.get("server_version", 0)
        else:
            fails.add("%s: status %d: %r" % (where, st, raw[:300]))


def follower(args, stop, fails, result):
    """Pull with since = next_since while the pushes run; keep a replica."""
    # the last node: with two nodes, the follower reads where half the writers do not write
    cl = Client(args["url"], args["token"], timeout=60, index=-1)
    base = "/v1/collections/%s/pull" % args["collection"]
    since, last_seen, replica, pulls = 0, 0, {}, 0
    final_round = False
    while True:
        limit = random.choice([1, 7, 50, 1000])
        wait = "" if random.random() < 0.7 else "&wait=1"
        try:
            st, _, raw = cl.request("GET", "%s?since=%d&limit=%d%s" % (base, since, limit, wait))
        except Exception as ex:
            fails.add("follower: transport failure: %r" % (ex,))
            time.sleep(0.05)
            continue
        pulls += 1
        if st == 404 and since == 0:
            time.sleep(0.02)  # the collection is created by the first push
            continue
        if st == 503:
            time.sleep(0.05)
            continue
        if st != 200:
            fails.add("follower: pull since=%d: status %d: %r" % (since, st, raw[:200]))
            break
        page = json.loads(raw)
        recs = page["records"]
        for rec in recs:
            if rec["version"] <= last_seen:
                fails.add("follower: version %d after %d (since=%d): repeated or out of order"
                          % (rec["version"], last_seen, since))
            last_seen = rec["version"]
            replica[rec["id"]] = (rec["version"], rec["deleted"],
                                  sha(base64.b64decode(rec["payload"])) if rec["payload"] is not None else None)
        if len(recs) > limit:
            fails.add("follower: %d records for limit=%d" % (len(recs), limit))
        want_next = recs[-1]["version"] if recs else page["collection_version"]
        if page["next_since"] != want_next:
            fails.add("follower: next_since %r, expected %r" % (page["next_since"], want_next))
        if page["collection_version"] < page["next_since"]:
            fails.add("follower: collection_version %r < next_since %r"
                      % (page["collection_version"], page["next_since"]))
        since = page["next_since"]
        if not page["more"] and final_round:
            break
        if not page["more"] and stop.is_set():
            final_round = True  # one more page, begun after the last push ended
    result.update(replica=replica, pulls=pulls, since=since)


def cmd_concurrent(argv):
    url, token, collection, outpath = argv[:4]
    opts = argv[4:]
    args = {"url": url, "token": token, "collection": collection, "clients": 8, "pushes": 30,
            "batch": 8, "shared": 12}
    follow = "--follow" in opts
    for key in ("clients", "pushes", "batch", "shared"):
        if "--" + key in opts:
            args[key] = int(opts[opts.index("--" + key) + 1])
    fails = Failures()
    stats = {"lock": threading.Lock(), "status": {}}
    out_lock = threading.Lock()
    stop = threading.Event()
    fres = {}
    with open(outpath, "w") as out:
        ft = None
        if follow:
            ft = threading.Thread(target=follower, args=(args, stop, fails, fres))
            ft.start()
        barrier = threading.Barrier(args["clients"])

        def run(i):
            barrier.wait()  # all clients start at once
            concurrent_client(i, args, out, out_lock, fails, stats)

        ts = [threading.Thread(target=run, args=(i,)) for i in range(args["clients"])]
        t0 = args["t0"] = time.monotonic()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        secs = time.monotonic() - t0
        stop.set()
        if ft:
            ft.join()
    # how many pushes were in flight at once, at most
    events = []
    with open(outpath) as f:
        for line in f:
            e = json.loads(line)
            events += [(e["start"], 1), (e["end"], -1)]
    inflight = peak = 0
    for _, d in sorted(events, key=lambda x: (x[0], x[1])):
        inflight += d
        peak = max(peak, inflight)
    print("pushes: %d in %.1f s, at most %d in flight at once, statuses %s"
          % (sum(stats["status"].values()), secs, peak, json.dumps(stats["status"], sort_keys=True)))
    if follow:
        with open(outpath + ".replica", "w") as f:
            json.dump({k: list(v) for k, v in fres.get("replica", {}).items()}, f)
        print("follower: %d pulls, ended at since=%s, %d records in its replica"
              % (fres.get("pulls", 0), fres.get("since"), len(fres.get("replica", {}))))
    return fails.report()


def pg_query(uri, sql):
    """Rows of one query on PostgreSQL through psql, as lists of strings
    (NULL as None); values come from the tests, quoted by sql_str."""
    import csv
    import io
    import subprocess
    psql = os.path.join(os.environ.get("PG_BINDIR", "/usr/lib/postgresql/15/bin"), "psql")
    out = subprocess.run([psql, "-X", "-q", "--csv", "-v", "ON_ERROR_STOP=1", "-P", "null=\\N", "-d", uri, "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    rows = list(csv.reader(io.StringIO(out)))[1:]
    return [[None if v == "\\N" else v for v in r] for r in rows]


def sql_str(v):
    return "'" + v.replace("'", "''") + "'"


def store_rows(db, username, collection):
    """-> (collection row dict, {rid: (version, deleted, sha)}, [(rid, version, deleted, sha)] history)"""
    if db.startswith(("postgresql://", "postgres://")):
        return store_rows_pg(db, username, collection)
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
    try:
        col = con.execute(
            "SELECT c.id, c.version, c.records, c.bytes FROM collections c JOIN accounts a ON a.id = c.account_id "
            "WHERE a.username = ? AND c.name = ?", (username.lower(), collection)).fetchone()
        if col is None:
            return None, {}, []
        cid = col[0]
        cur = {r[0]: (r[1], bool(r[2]), sha(r[3]))
               for r in con.execute("SELECT rid, version, deleted, payload FROM records WHERE collection_id = ?", (cid,))}
        hist = [(r[0], r[1], bool(r[2]), sha(r[3]))
                for r in con.execute("SELECT rid, version, deleted, payload FROM history WHERE collection_id = ?", (cid,))]
        return {"id": cid, "version": col[1], "records": col[2], "bytes": col[3]}, cur, hist
    finally:
        con.close()


def store_rows_pg(uri, username, collection):
    """store_rows on PostgreSQL: the payloads come as hex."""
    col = pg_query(uri, "SELECT c.id, c.version, c.records, c.bytes FROM collections c JOIN accounts a "
                   "ON a.id = c.account_id WHERE a.username = %s AND c.name = %s"
                   % (sql_str(username.lower()), sql_str(collection)))
    if not col:
        return None, {}, []
    cid = int(col[0][0])

    def rows(table):
        for r in pg_query(uri, "SELECT rid, version, CAST(deleted AS INTEGER), encode(payload, 'hex') FROM %s "
                          "WHERE collection_id = %d" % (table, cid)):
            yield r[0], int(r[1]), bool(int(r[2])), sha(bytes.fromhex(r[3])) if r[3] is not None else None
    cur = {rid: (v, d, h) for rid, v, d, h in rows("records")}
    hist = list(rows("history"))
    return {"id": cid, "version": int(col[0][1]), "records": int(col[0][2]), "bytes": int(col[0][3])}, cur, hist


def cmd_verify_concurrent(argv):
    db, username, collection, outpath, depth = argv[0], argv[1], argv[2], argv[3], int(argv[4])
    fails = Failures()
    writes = {}    # version -> (rid, deleted, sha)
    byid = {}      # rid -> [versions]
    n_acc = 0
    with open(outpath) as f:
        for line in f:
            e = json.loads(line)
            if e["status"] != 200:
                continue
            sent = {s["id"]: s for s in e["sent"]}
            for a in e["response"]["accepted"]:
                n_acc += 1
                s = sent[a["id"]]
                v = a["version"]
                if v in writes:
                    fails.add("version %d given twice: to %s and to %s" % (v, writes[v][0], a["id"]))
                writes[v] = (a["id"], s["deleted"], s["sha"])
                byid.setdefault(a["id"], []).append(v)
    col, cur, hist = store_rows(db, username, collection)
    if col is None:
        fails.add("the collection %s does not exist" % collection)
        return fails.report()
    # versions: unique, and 1..N without a gap (every write of the collection is ours)
    if sorted(writes) != list(range(1, len(writes) + 1)):
        missing = sorted(set(range(1, max(writes or [0]) + 1)) - set(writes))[:10]
        fails.add("accepted versions are not 1..%d (missing e.g. %r)" % (len(writes), missing))
    if col["version"] != len(writes):
        fails.add("collection version %d != %d accepted writes" % (col["version"], len(writes)))
    stored = [v[0] for v in cur.values()] + [h[1] for h in hist]
    if len(stored) != len(set(stored)):
        fails.add("a version is stored twice in records + history")
    # every accepted id: current = the write with the largest version accepted for it
    for rid, vs in byid.items():
        top = max(vs)
        want = writes[top]
        got = cur.get(rid)
        if got is None:
            fails.add("%s: accepted (versions %r) but not in records" % (rid, sorted(vs)))
        elif got != (top, want[1], want[2]):
            fails.add("%s: current is (version %d, deleted %s, sha %s), the last accepted write is "
                      "(version %d, deleted %s, sha %s)" % (rid, got[0], got[1], (got[2] or "-")[:12],
                                                            top, want[1], (want[2] or "-")[:12]))
        # history: exactly the newest `depth` versions below the current one
        want_hist = sorted(vs, reverse=True)[1:1 + depth]
        got_hist = sorted((h[1] for h in hist if h[0] == rid), reverse=True)
        if got_hist != want_hist:
            fails.add("%s: history versions %r, expected %r" % (rid, got_hist, want_hist))
    for rid in cur:
        if rid not in byid:
            fails.add("%s is in records but no push accepted it" % rid)
    for h in hist:
        w = writes.get(h[1])
        if w is None or w != (h[0], h[2], h[3]):
            fails.add("history row %r does not match the accepted write %r" % (h, w))
    # the follower's replica, if any, equals the final records
    if os.path.exists(outpath + ".replica"):
        with open(outpath + ".replica") as f:
            rep = {k: tuple(v) for k, v in json.load(f).items()}
        if rep != cur:
            diff = sorted(set(rep.items()) ^ set(cur.items()), key=repr)[:5]
            fails.add("the follower's replica (%d) differs from the store (%d): e.g. %r" % (len(rep), len(cur), diff))
    print("accepted writes: %d on %d ids; collection version %d; %d current records, %d history rows"
          % (n_acc, len(byid), col["version"], len(cur), len(hist)))
    return fails.report()


# ---------------------------------------------------------------- crash load

def load_client(i, args, out, out_lock, stopfile, counts):
    rng = random.Random(os.getpid() * 100 + i)
    cl = Client(args["url"], args["token"], timeout=20, index=i)
    collection = args["collections"][i % len(args["collections"])]
    path = "/v1/collections/%s/push" % collection
    acked = {}      # rid -> last acknowledged version (its record exists)
    seq = 0

    def emit(obj):
        with out_lock:
            out.write(json.dumps(obj) + "\n")
            out.flush()

    while not os.path.exists(stopfile):
        n = rng.choice([1, 5, 20, 60])
        recs, payloads = [], {}
        upd = rng.sample(sorted(acked), min(len(acked), n // 3)) if acked else []
        for rid in upd:
            r = {"id": rid, "base_version": acked.pop(rid)}
            if rng.random() < 0.15:
                r["deleted"] = True
            recs.append(r)
        while len(recs) < n:
            seq += 1
            recs.append({"id": "w%d-%d" % (i, seq), "base_version": 0})
        for r in recs:
            if not r.get("deleted"):
                p = payload_for("%s/%s" % (collection, r["id"]), rng, 100, 2000)
                payloads[r["id"]] = p
                r["payload"] = b64(p)
        try:
            st, _, raw = cl.request("POST", path, {"records": recs})
            resp = json.loads(raw) if st == 200 else None
            ok = isinstance(resp, dict) and isinstance(resp.get("accepted"), list)
        except Exception:
            st, ok = -1, False
        with out_lock:
            counts[st] = counts.get(st, 0) + 1
        if not ok:
            # the fate of these writes is unknown: they may have committed
            for r in recs:
                emit({"tainted": r["id"], "collection": collection})
            time.sleep(0.05)
            continue
        byid = {r["id"]: r for r in recs}
        for a in resp["accepted"]:
            r = byid[a["id"]]
            emit({"collection": collection, "id": a["id"], "version": a["version"],
                  "deleted": bool(r.get("deleted")), "sha": sha(payloads.get(a["id"]))})
            if not r.get("deleted"):
                acked[a["id"]] = a["version"]
        for c in resp.get("conflicts", []):
            # an earlier write of ours whose answer was lost has landed
            emit({"tainted": c["id"], "collection": collection})


def cmd_load(argv):
    url, token, collections, outpath, stopfile = argv[:5]
    opts = argv[5:]
    clients = int(opts[opts.index("--clients") + 1]) if "--clients" in opts else 6
    args = {"url": url, "token": token, "collections": collections.split(",")}
    out_lock = threading.Lock()
    counts = {}
    with open(outpath, "w") as out:
        ts = [threading.Thread(target=load_client, args=(i, args, out, out_lock, stopfile, counts))
              for i in range(clients)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    print("push answers: %s" % json.dumps({str(k): v for k, v in sorted(counts.items())}))
    return 0


def cmd_verify_acked(argv):
    db, username, outpath = argv[:3]
    fails = Failures()
    acks, tainted = [], set()
    with open(outpath) as f:
        for line in f:
            e = json.loads(line)
            if "tainted" in e:
                tainted.add((e["collection"], e["tainted"]))
            else:
                acks.append(e)
    cols = sorted({a["collection"] for a in acks})
    checked = 0
    unknown_acked = 0
    for c in cols:
        col, cur, hist = store_rows(db, username, c)
        if col is None:
            fails.add("collection %s is missing" % c)
            continue
        everything = {}
        for rid, (v, d, s) in cur.items():
            everything[(rid, v)] = (d, s)
        for rid, v, d, s in hist:
            everything[(rid, v)] = (d, s)
        stored = [v for v, _, _ in cur.values()] + [h[1] for h in hist]
        if len(stored) != len(set(stored)):
            fails.add("%s: a version is stored twice in records + history" % c)
        if stored and max(stored) > col["version"]:
            fails.add("%s: a stored version %d is above the collection version %d" % (c, max(stored), col["version"]))
        last = {}
        seen_versions = {}
        for a in (x for x in acks if x["collection"] == c):
            checked += 1
            key = (a["id"], a["version"])
            if a["version"] in seen_versions:
                fails.add("%s: version %d acknowledged twice (%s and %s)" % (c, a["version"], seen_versions[a["version"]], a["id"]))
            seen_versions[a["version"]] = a["id"]
            got = everything.get(key)
            if got is None:
                fails.add("%s: acknowledged write %s version %d is lost" % (c, a["id"], a["version"]))
            elif got != (a["deleted"], a["sha"]):
                fails.add("%s: %s version %d holds (deleted %s, sha %s), acknowledged (deleted %s, sha %s)"
                          % (c, a["id"], a["version"], got[0], (got[1] or "-")[:12], a["deleted"], (a["sha"] or "-")[:12]))
            if a["version"] > last.get(a["id"], (0,))[0]:
                last[a["id"]] = (a["version"], a["deleted"], a["sha"])
        for rid, want in last.items():
            got = cur.get(rid)
            if got is None:
                fails.add("%s: %s is not in records" % (c, rid))
            elif (c, rid) in tainted:
                unknown_acked += 1
                if got[0] < want[0]:
                    fails.add("%s: %s is at version %d, below its acknowledged %d" % (c, rid, got[0], want[0]))
            elif got != want:
                fails.add("%s: %s is (version %d, deleted %s), its last acknowledged write (version %d, deleted %s)"
                          % (c, rid, got[0], got[1], want[0], want[1]))
    print("checked %d" % checked)
    print("ids with an unknown outcome (failed requests): %d; of them with an earlier acknowledged write "
          "(current version checked to be at least that one): %d" % (len(tainted), unknown_acked))
    return fails.report()


# ---------------------------------------------------------------- paging

def paging_writer(i, args, accepted, lock, fails, res):
    rng = random.Random(5000 + i)
    cl = Client(args["url"], args["token"], index=i)
    path = "/v1/collections/%s/push" % args["collection"]
    # its pushes; then writer 0 alone goes on, slowly (one push per 200 ms),
    # while the reader has not yet been at the head min_heads times (a slow
    # front end such as CGI makes the reader lag behind 16 writers): the
    # overlap the test wants comes from the outcome, not from speed; at
    # most 120 s more
    t_end = time.monotonic() + 120
    k = 0
    while k < args["pushes"] or (i == 0 and res.get("heads", 0) < args["min_heads"] and
                                 time.monotonic() < t_end):
        if k >= args["pushes"]:
            time.sleep(0.2)
        recs = [{"id": "p%d-%d-%d" % (i, k, n), "base_version": 0,
                 "payload": b64(payload_for("%d/%d/%d" % (i, k, n), rng, 8, 200))}
                for n in range(rng.randint(1, 4))]
        for attempt in range(20):
            try:
                st, hdrs, raw = cl.request("POST", path, {"records": recs})
            except Exception as ex:
                fails.add("writer %d push %d: transport failure: %r" % (i, k, ex))
                return
            if st != 503:
                break
            time.sleep(0.05 * (attempt + 1))
        if st != 200:
            fails.add("writer %d push %d: status %d: %r" % (i, k, st, raw[:200]))
            return
        resp = json.loads(raw)
        if resp.get("conflicts") or len(resp.get("accepted", [])) != len(recs):
            fails.add("writer %d push %d: not every new record accepted: %r" % (i, k, resp))
        with lock:
            for a in resp.get("accepted", []):
                accepted[a["version"]] = a["id"]
        time.sleep(rng.random() * args["pace"] / 1000)
        k += 1


def paging_reader(args, stop, fails, seen, res):
    cl = Client(args["url"], args["token"], timeout=60, index=-1)
    base = "/v1/collections/%s/pull" % args["collection"]
    since, final_round, pulls = 0, False, 0
    res["heads"] = 0
    rng = random.Random(77)
    while True:
        limit = rng.choice(args["limits"])
        try:
            st, _, raw = cl.request("GET", "%s?since=%d&limit=%d" % (base, since, limit))
        except Exception as ex:
            fails.add("reader: transport failure: %r" % (ex,))
            return pulls
        pulls += 1
        if st == 404 and since == 0:
            if stop.is_set() and final_round:
                return pulls
            final_round = final_round or stop.is_set()
            time.sleep(0.01)
            continue
        if st == 503:
            time.sleep(0.05)
            continue
        if st != 200:
            fails.add("reader: pull since=%d: status %d: %r" % (since, st, raw[:200]))
            return pulls
        page = json.loads(raw)
        recs = page["records"]
        if len(recs) > limit:
            fails.add("reader: %d records for limit=%d" % (len(recs), limit))
        for rec in recs:
            seen.append((rec["version"], rec["id"], since))
        since = page["next_since"]
        if not page["more"]:
            if not stop.is_set():
                res["heads"] += 1  # at the head while versions still commit
            if final_round:
                return pulls
            if stop.is_set():
                final_round = True  # one more page, begun after the last push ended


def cmd_paging(argv):
    url, token, collection, outpath = argv[:4]
    opts = argv[4:]
    args = {"url": url, "token": token, "collection": collection, "writers": 16, "pushes": 25,
            "limits": [1, 2, 3, 5], "min_heads": 0}
    args["pace"] = 20
    for key in ("writers", "pushes", "pace", "min_heads"):
        flag = "--" + key.replace("_", "-")
        if flag in opts:
            args[key] = int(opts[opts.index(flag) + 1])
    if "--limits" in opts:
        args["limits"] = [int(x) for x in opts[opts.index("--limits") + 1].split(",")]
    fails = Failures()
    accepted, lock, stop, seen, res = {}, threading.Lock(), threading.Event(), [], {}
    rt = threading.Thread(target=lambda: res.update(pulls=paging_reader(args, stop, fails, seen, res)))
    rt.start()
    ts = [threading.Thread(target=paging_writer, args=(i, args, accepted, lock, fails, res))
          for i in range(args["writers"])]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    stop.set()
    rt.join()
    secs = time.monotonic() - t0
    with open(outpath, "w") as f:
        json.dump({"accepted": sorted(accepted), "seen": [v for v, _, _ in seen]}, f)
    versions = [v for v, _, _ in seen]
    for n in range(1, len(seen)):
        if seen[n][0] <= seen[n - 1][0]:
            fails.add("reader: version %d after %d (since=%d): repeated or out of order"
                      % (seen[n][0], seen[n - 1][0], seen[n][2]))
    got = {}
    for v, rid, _ in seen:
        got[v] = got.get(v, 0) + 1
    skipped = sorted(set(accepted) - set(got))
    if skipped:
        fails.add("reader: %d committed versions never seen (a skip), e.g. %r" % (len(skipped), skipped[:10]))
    extra = sorted(set(got) - set(accepted))
    if extra:
        fails.add("reader: versions no push was answered with: %r" % extra[:10])
    twice = sorted(v for v, n in got.items() if n > 1)
    if twice:
        fails.add("reader: versions seen more than once: %r" % twice[:10])
    for v, rid, _ in seen:
        if v in accepted and accepted[v] != rid:
            fails.add("reader: version %d is %s, the push gave it to %s" % (v, rid, accepted[v]))
    if sorted(accepted) != list(range(1, len(accepted) + 1)):
        fails.add("accepted versions are not 1..%d" % len(accepted))
    print("paging: %d writers, %d versions committed in %.1f s; the reader saw %d in %d pulls, "
          "at the head %d times while writers ran"
          % (args["writers"], len(accepted), secs, len(versions), res.get("pulls", 0), res.get("heads", 0)))
    return fails.report()


def main():
    cmds = {"concurrent": cmd_concurrent, "verify-concurrent": cmd_verify_concurrent,
            "load": cmd_load, "verify-acked": cmd_verify_acked, "paging": cmd_paging}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        print(__doc__)
        return 2
    return cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
