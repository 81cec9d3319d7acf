/*
 * test_sync.c: unit tests of fcgi/lib/sync.c (push, collection put and
 * delete, plans and quotas) on a real store.
 *
 * Users are made with accounts_register(); everything is then checked
 * through the store's typed functions: collection version and counters,
 * account usage and account_version, record heads, history and pull. The
 * last test replays a few hundred random pushes (fixed seed) against a small
 * model of the rules of api.md §4 and compares every counter after each.
 * With $BS_TEST_PG (pgtest.h) every test runs once more with the store on
 * PostgreSQL, in a schema of its own.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accounts.h"
#include "config.h"
#include "log.h"
#include "store.h"
#include "sync.h"
#include "t.h"
#include "pgtest.h"
#include "storetest.h"

static char tmpdir[64], dbpath[1024];
static struct config cfg;
static struct store *st;

/* ---- helpers ---- */

static void
setup_config(void)
{
	config_defaults(&cfg);
	cfg.password_hash.iterations = 1000;
	cfg.plans[0].history_depth = 3;
	/* tiny: 100 bytes, 2 collections, no history */
	cfg.plans[1] = cfg.plans[0];
	snprintf(cfg.plans[1].name, sizeof cfg.plans[1].name, "tiny");
	cfg.plans[1].bytes = 100;
	cfg.plans[1].collections = 2;
	cfg.plans[1].history_depth = 0;
	/* nohist: no history, a large quota */
	cfg.plans[2] = cfg.plans[0];
	snprintf(cfg.plans[2].name, sizeof cfg.plans[2].name, "nohist");
	cfg.plans[2].history_depth = 0;
	cfg.n_plans = 3;
}

/* Register `name` (optionally on `plan`); its row id, or -1. */
static int64_t
new_user(const char *name, const char *plan)
{
	char pub[STORE_PUBLIC_ID_MAX + 1];
	struct store_account a;
	int64_t id = stt_register(st, &cfg, name, 0x33, pub);

	if (plan)
		T_EQ_INT(store_account_set_plan(st, name, plan), ERR_OK);
	if (store_account_by_name(st, name, &a) != ERR_OK) {
		T_OK(0);
		return -1;
	}
	T_EQ_INT(a.id, id);
	T_EQ_STR(a.public_id, pub);
	return a.id;
}

static uint8_t *
payload(size_t len, uint8_t seed)
{
	uint8_t *p = malloc(len ? len : 1);

	if (!p)
		abort();
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 13);
	return p;
}

/* A record to push; len bytes of a pattern unless deleted. */
static struct sync_rec
rec(const char *id, int64_t base, size_t len, int deleted, int force)
{
	struct sync_rec r;

	memset(&r, 0, sizeof r);
	r.id = id;
	r.base_version = base;
	r.force = force;
	r.deleted = deleted;
	if (!deleted) {
		r.payload = payload(len, (uint8_t)(id[0] + len));
		r.len = len;
	}
	r.version = -1;
	return r;
}

static void
free_recs(struct sync_rec *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].payload);
		r[i].payload = NULL;
	}
}

struct push_out {
	size_t nconf;
	int64_t cver;
	int64_t version; /* of the single record */
};

/* Push one record; frees its payload. */
static enum err
push1(int64_t acct, const char *coll, const char *id, int64_t base, size_t len, int deleted, int force,
    struct push_out *o)
{
	struct sync_rec r = rec(id, base, len, deleted, force);
	struct push_out dummy;

	if (!o)
		o = &dummy;
	enum err e = sync_push(st, &cfg, acct, coll, &r, 1, 0, &o->nconf, &o->cver);
	o->version = r.version;
	free_recs(&r, 1);
	return e;
}

/* Push one record that must be accepted; its new version. */
static int64_t
put(int64_t acct, const char *coll, const char *id, int64_t base, size_t len)
{
	struct push_out o;

	T_EQ_INT(push1(acct, coll, id, base, len, 0, 0, &o), ERR_OK);
	T_EQ_INT(o.nconf, 0);
	T_OK(o.version > 0);
	return o.version;
}

static int64_t
del(int64_t acct, const char *coll, const char *id, int64_t base)
{
	struct push_out o;

	T_EQ_INT(push1(acct, coll, id, base, 0, 1, 0, &o), ERR_OK);
	T_EQ_INT(o.nconf, 0);
	return o.version;
}

struct snap {
	int exists;
	int64_t cver, crecords, cbytes;
	int64_t ubytes, urecords, aver;
};

static struct snap
snap(int64_t acct, const char *coll)
{
	struct snap s;
	struct store_collection c;
	struct store_account a;

	memset(&s, 0, sizeof s);
	if (store_collection_get(st, acct, coll, &c) == ERR_OK) {
		s.exists = 1;
		s.cver = c.version;
		s.crecords = c.records;
		s.cbytes = c.bytes;
	}
	if (store_account_by_id(st, acct, &a) == ERR_OK) {
		s.ubytes = a.usage_bytes;
		s.urecords = a.usage_records;
		s.aver = a.account_version;
	}
	return s;
}

static int
snap_eq(struct snap a, struct snap b)
{
	return a.exists == b.exists && a.cver == b.cver && a.crecords == b.crecords && a.cbytes == b.cbytes &&
	    a.ubytes == b.ubytes && a.urecords == b.urecords && a.aver == b.aver;
}

static int
head(int64_t acct, const char *coll, const char *id, int64_t *version, int *deleted, int64_t *bytes)
{
	struct store_collection c;
	int64_t v = 0, b = 0;
	int d = 0;

	if (store_collection_get(st, acct, coll, &c) != ERR_OK)
		return ERR_NOT_FOUND;
	enum err e = store_record_head(st, c.id, id, &v, &d, &b);
	if (version)
		*version = v;
	if (deleted)
		*deleted = d;
	if (bytes)
		*bytes = b;
	return e;
}

static int64_t
coll_id(int64_t acct, const char *coll)
{
	struct store_collection c;

	return store_collection_get(st, acct, coll, &c) == ERR_OK ? c.id : -1;
}

struct vlist {
	int n;
	int64_t v[64];
	int64_t bytes[64];
	int deleted[64];
	int nullpay[64];
	char rid[64][32];
	const uint8_t *check;  /* optional: compare payloads with payload(len, seed) */
	int payload_ok;
};

static int
vcollect(void *ctx, const struct store_record *r)
{
	struct vlist *l = ctx;

	if (l->n < 64) {
		l->v[l->n] = r->version;
		l->bytes[l->n] = (int64_t)r->payload_len;
		l->deleted[l->n] = r->deleted;
		l->nullpay[l->n] = r->payload == NULL;
		snprintf(l->rid[l->n], sizeof l->rid[0], "%s", r->rid ? r->rid : "");
		if (r->payload && r->rid) {
			uint8_t *want = payload(r->payload_len, (uint8_t)(r->rid[0] + r->payload_len));
			if (memcmp(want, r->payload, r->payload_len) != 0)
				l->payload_ok = 0;
			free(want);
		}
	}
	l->n++;
	return 0;
}

static int
history(int64_t acct, const char *coll, const char *id, struct vlist *l)
{
	memset(l, 0, sizeof *l);
	l->payload_ok = 1;
	return store_history_list(st, coll_id(acct, coll), id, vcollect, l);
}

static int
pull(int64_t acct, const char *coll, int64_t since, int64_t limit, struct vlist *l)
{
	memset(l, 0, sizeof *l);
	l->payload_ok = 1;
	return store_record_pull(st, coll_id(acct, coll), since, limit, vcollect, l);
}

/* ---- tests ---- */

static void
test_push_creates(void)
{
	int64_t a = new_user("alice", NULL);
	struct store_collection c;
	struct push_out o;
	struct vlist l;

	/* login works on the registered user (the rest goes through the store) */
	struct accounts_session sess;
	uint8_t key[32];
	memset(key, 0x33, sizeof key);
	T_EQ_INT(accounts_login(st, &cfg, "alice", key, sizeof key, "laptop", "desktop", &sess), ERR_OK);
	T_EQ_INT(strlen(sess.access.text), AUTH_TOKEN_LEN);
	accounts_session_clear(&sess);

	T_EQ_INT(store_collection_get(st, a, "notes", &c), ERR_NOT_FOUND);
	struct snap before = snap(a, "notes");
	T_EQ_INT(push1(a, "notes", "r1", 0, 10, 0, 0, &o), ERR_OK);
	T_EQ_INT(o.nconf, 0);
	T_EQ_INT(o.cver, 1);
	T_EQ_INT(o.version, 1);
	T_EQ_INT(store_collection_get(st, a, "notes", &c), ERR_OK);
	T_EQ_INT(c.version, 1);
	T_EQ_INT(c.records, 1);
	T_EQ_INT(c.bytes, 10);
	struct snap after = snap(a, "notes");
	T_EQ_INT(after.ubytes, 10);
	T_EQ_INT(after.urecords, 1);
	T_EQ_INT(after.aver, before.aver + 1);
	/* the payload is stored as given */
	memset(&l, 0, sizeof l);
	l.payload_ok = 1;
	T_EQ_INT(store_record_get(st, c.id, "r1", vcollect, &l), ERR_OK);
	T_EQ_INT(l.n, 1);
	T_EQ_INT(l.bytes[0], 10);
	T_OK(l.payload_ok);
	/* another account's collection of the same name is another collection */
	int64_t b = new_user("bob", NULL);
	T_EQ_INT(push1(b, "notes", "r1", 0, 3, 0, 0, &o), ERR_OK);
	T_EQ_INT(o.cver, 1);
	T_OK(coll_id(a, "notes") != coll_id(b, "notes"));
	T_EQ_INT(snap(a, "notes").cver, 1);
}

static void
test_versions(void)
{
	int64_t a = new_user("versions", NULL);
	struct sync_rec r[3];
	size_t nconf = 9;
	int64_t cver = 0;

	T_EQ_INT(put(a, "v", "r1", 0, 5), 1);
	T_EQ_INT(put(a, "v", "r2", 0, 5), 2);
	T_EQ_INT(put(a, "v", "r1", 1, 6), 3);
	r[0] = rec("r3", 0, 1, 0, 0);
	r[1] = rec("r4", 0, 2, 0, 0);
	r[2] = rec("r2", 2, 0, 1, 0);
	T_EQ_INT(sync_push(st, &cfg, a, "v", r, 3, 0, &nconf, &cver), ERR_OK);
	T_EQ_INT(nconf, 0);
	T_EQ_INT(r[0].version, 4);
	T_EQ_INT(r[1].version, 5);
	T_EQ_INT(r[2].version, 6); /* a delete takes a version too */
	T_EQ_INT(cver, 6);
	free_recs(r, 3);
	T_EQ_INT(snap(a, "v").cver, 6);
	/* each collection counts on its own */
	T_EQ_INT(put(a, "w", "r1", 0, 5), 1);
	T_EQ_INT(put(a, "v", "r9", 0, 5), 7);
}

static void
test_conflicts(void)
{
	int64_t a = new_user("conflicts", NULL), v, t;
	struct push_out o;
	int d = -1;

	v = put(a, "c", "r1", 0, 5);
	v = put(a, "c", "r1", v, 6);              /* r1 at 2 */
	struct snap s0 = snap(a, "c");
	/* stale base: not written, not an error when not atomic */
	T_EQ_INT(push1(a, "c", "r1", 1, 7, 0, 0, &o), ERR_OK);
	T_EQ_INT(o.nconf, 1);
	T_EQ_INT(o.version, 0);
	T_EQ_INT(o.cver, 2);
	T_OK(snap_eq(snap(a, "c"), s0));
	/* base 0 means "must not exist" */
	T_EQ_INT(push1(a, "c", "r1", 0, 7, 0, 0, &o), ERR_OK);
	T_EQ_INT(o.nconf, 1);
	/* a base for a record that does not exist */
	T_EQ_INT(push1(a, "c", "nope", 5, 7, 0, 0, &o), ERR_OK);
	T_EQ_INT(o.nconf, 1);
	T_EQ_INT(head(a, "c", "nope", NULL, NULL, NULL), ERR_NOT_FOUND);
	/* a newer base than the server's is a conflict too */
	T_EQ_INT(push1(a, "c", "r1", 3, 7, 0, 0, &o), ERR_OK);
	T_EQ_INT(o.nconf, 1);
	T_OK(snap_eq(snap(a, "c"), s0));

	/* mixed, not atomic: the good ones are written */
	struct sync_rec r[3];
	size_t nconf;
	int64_t cver;
	r[0] = rec("r2", 0, 4, 0, 0);
	r[1] = rec("r1", 1, 4, 0, 0);
	r[2] = rec("r3", 0, 4, 0, 0);
	T_EQ_INT(sync_push(st, &cfg, a, "c", r, 3, 0, &nconf, &cver), ERR_OK);
	T_EQ_INT(nconf, 1);
	T_EQ_INT(r[0].version, 3);
	T_EQ_INT(r[1].version, 0);
	T_EQ_INT(r[2].version, 4);
	T_EQ_INT(cver, 4);
	free_recs(r, 3);

	/* tombstones keep their version and count for the check */
	t = del(a, "c", "r2", 3);
	T_EQ_INT(t, 5);
	T_EQ_INT(head(a, "c", "r2", &v, &d, NULL), ERR_OK);
	T_EQ_INT(v, 5);
	T_EQ_INT(d, 1);
	T_EQ_INT(push1(a, "c", "r2", 0, 3, 0, 0, &o), ERR_OK);
	T_EQ_INT(o.nconf, 1);
	T_EQ_INT(push1(a, "c", "r2", 3, 3, 0, 0, &o), ERR_OK);
	T_EQ_INT(o.nconf, 1);
	T_EQ_INT(push1(a, "c", "r2", 5, 3, 1, 0, &o), ERR_OK); /* delete again at the right base */
	T_EQ_INT(o.nconf, 0);
	T_EQ_INT(o.version, 6);
	T_EQ_INT(put(a, "c", "r2", 6, 3), 7);               /* revive */
	T_EQ_INT(head(a, "c", "r2", &v, &d, NULL), ERR_OK);
	T_EQ_INT(d, 0);
	/* a stale delete is a conflict */
	T_EQ_INT(push1(a, "c", "r3", 1, 0, 1, 0, &o), ERR_OK);
	T_EQ_INT(o.nconf, 1);
	T_EQ_INT(head(a, "c", "r3", &v, &d, NULL), ERR_OK);
	T_EQ_INT(d, 0);
	/* records counts live ones only: r1 r2 r3 */
	T_EQ_INT(snap(a, "c").crecords, 3);
	T_EQ_INT(snap(a, "c").urecords, 3);
}

static void
test_force(void)
{
	int64_t a = new_user("force", NULL), v;
	struct push_out o;
	int d;

	put(a, "f", "r1", 0, 5);
	put(a, "f", "r1", 1, 5);
	T_EQ_INT(push1(a, "f", "r1", 0, 8, 0, 1, &o), ERR_OK);
	T_EQ_INT(o.nconf, 0);
	T_EQ_INT(o.version, 3);
	T_EQ_INT(push1(a, "f", "r1", 99, 8, 1, 1, &o), ERR_OK);  /* forced delete */
	T_EQ_INT(o.version, 4);
	T_EQ_INT(push1(a, "f", "r1", 1, 2, 0, 1, &o), ERR_OK);   /* forced over a tombstone */
	T_EQ_INT(o.version, 5);
	T_EQ_INT(push1(a, "f", "new", 42, 2, 0, 1, &o), ERR_OK); /* forced create */
	T_EQ_INT(o.version, 6);
	T_EQ_INT(head(a, "f", "r1", &v, &d, NULL), ERR_OK);
	T_EQ_INT(v, 5);
	T_EQ_INT(d, 0);
	T_EQ_INT(snap(a, "f").crecords, 2);
}

static void
test_atomic(void)
{
	int64_t a = new_user("atomic", NULL), v;
	struct sync_rec r[3];
	size_t nconf;
	int64_t cver;

	v = put(a, "at", "r1", 0, 10);
	put(a, "at", "r1", v, 20);
	struct snap s0 = snap(a, "at");
	/* the good one first, the conflict after: nothing written */
	r[0] = rec("new", 0, 5, 0, 0);
	r[1] = rec("r1", 1, 5, 0, 0);
	r[2] = rec("r1b", 0, 5, 0, 0);
	T_EQ_INT(sync_push(st, &cfg, a, "at", r, 3, 1, &nconf, &cver), ERR_CONFLICT);
	T_EQ_INT(nconf, 1);
	T_EQ_INT(r[1].version, 0);
	/* the conflict flag marks exactly the conflicts (push.c lists those in
	 * the 409's "conflicts"), wherever they stand relative to each other */
	T_EQ_INT(r[0].conflict, 0);
	T_EQ_INT(r[1].conflict, 1);
	T_EQ_INT(r[2].conflict, 0);
	T_EQ_INT(r[0].conflict + r[1].conflict + r[2].conflict, nconf);
	free_recs(r, 3);
	T_OK(snap_eq(snap(a, "at"), s0));
	T_EQ_INT(head(a, "at", "new", NULL, NULL, NULL), ERR_NOT_FOUND);
	T_EQ_INT(head(a, "at", "r1b", NULL, NULL, NULL), ERR_NOT_FOUND);
	struct vlist l;
	T_EQ_INT(history(a, "at", "r1", &l), ERR_OK);
	T_EQ_INT(l.n, 2);
	/* the conflict first */
	r[0] = rec("r1", 0, 5, 0, 0);
	r[1] = rec("new", 0, 5, 0, 0);
	T_EQ_INT(sync_push(st, &cfg, a, "at", r, 2, 1, &nconf, &cver), ERR_CONFLICT);
	free_recs(r, 2);
	T_OK(snap_eq(snap(a, "at"), s0));
	/* into a collection that does not exist yet: not even created */
	int64_t ncoll = -1, ncoll2 = -1;
	T_EQ_INT(store_collection_count(st, a, &ncoll), ERR_OK);
	r[0] = rec("x", 0, 5, 0, 0);
	r[1] = rec("y", 7, 5, 0, 0);
	T_EQ_INT(sync_push(st, &cfg, a, "fresh", r, 2, 1, &nconf, &cver), ERR_CONFLICT);
	free_recs(r, 2);
	T_EQ_INT(coll_id(a, "fresh"), -1);
	T_EQ_INT(store_collection_count(st, a, &ncoll2), ERR_OK);
	T_EQ_INT(ncoll2, ncoll);
	T_OK(snap_eq(snap(a, "at"), s0));
	/* no conflict: all written */
	r[0] = rec("new", 0, 5, 0, 0);
	r[1] = rec("r1", 2, 5, 0, 0);
	T_EQ_INT(sync_push(st, &cfg, a, "at", r, 2, 1, &nconf, &cver), ERR_OK);
	T_EQ_INT(nconf, 0);
	T_EQ_INT(r[0].version, 3);
	T_EQ_INT(r[1].version, 4);
	T_EQ_INT(cver, 4);
	free_recs(r, 2);
}

static void
test_history_bytes(void)
{
	int64_t a = new_user("hist", NULL), v = 0;
	size_t sizes[6] = { 10, 20, 30, 40, 50, 60 };
	struct vlist l;
	int ok = 1;

	/* depth 3: the current version and the 3 before it count */
	for (int k = 0; k < 6; k++) {
		v = put(a, "h", "doc", v, sizes[k]);
		int64_t want = 0;
		for (int j = k; j >= 0 && j >= k - 3; j--)
			want += (int64_t)sizes[j];
		struct snap s = snap(a, "h");
		if (s.cbytes != want || s.ubytes != want) {
			ok = 0;
			fprintf(stderr, "after %d pushes: bytes %lld, usage %lld, want %lld\n", k + 1,
			    (long long)s.cbytes, (long long)s.ubytes, (long long)want);
		}
	}
	T_OK(ok);
	T_EQ_INT(history(a, "h", "doc", &l), ERR_OK);
	T_EQ_INT(l.n, 4);
	T_EQ_INT(l.v[0], 6);
	T_EQ_INT(l.v[3], 3);
	T_EQ_INT(l.bytes[0], 60);
	T_EQ_INT(l.bytes[3], 30);
	struct vlist g;
	memset(&g, 0, sizeof g);
	g.payload_ok = 1;
	T_EQ_INT(store_history_get(st, coll_id(a, "h"), "doc", 2, vcollect, &g), ERR_NOT_FOUND);
	T_EQ_INT(store_history_get(st, coll_id(a, "h"), "doc", 3, vcollect, &g), ERR_OK);
	T_EQ_INT(g.bytes[0], 30);
	T_OK(g.payload_ok);

	/* a tombstone counts 0; the version it replaced stays as history */
	v = del(a, "h", "doc", v);
	struct snap s = snap(a, "h");
	T_EQ_INT(s.cbytes, 60 + 50 + 40);
	T_EQ_INT(s.ubytes, 60 + 50 + 40);
	T_EQ_INT(s.crecords, 0);
	T_EQ_INT(s.urecords, 0);
	T_EQ_INT(history(a, "h", "doc", &l), ERR_OK);
	T_EQ_INT(l.n, 4);
	T_EQ_INT(l.deleted[0], 1);
	T_EQ_INT(l.bytes[0], 0);
	/* revived: the tombstone is history now (0 bytes) */
	v = put(a, "h", "doc", v, 5);
	s = snap(a, "h");
	T_EQ_INT(s.cbytes, 5 + 0 + 60 + 50);
	T_EQ_INT(s.ubytes, 5 + 0 + 60 + 50);
	T_EQ_INT(s.crecords, 1);

	/* depth 0: only the current version counts */
	int64_t b = new_user("nohist", "nohist");
	v = put(b, "h", "doc", 0, 10);
	v = put(b, "h", "doc", v, 20);
	v = put(b, "h", "doc", v, 30);
	s = snap(b, "h");
	T_EQ_INT(s.cbytes, 30);
	T_EQ_INT(s.ubytes, 30);
	T_EQ_INT(history(b, "h", "doc", &l), ERR_OK);
	T_EQ_INT(l.n, 1);
	v = del(b, "h", "doc", v);
	s = snap(b, "h");
	T_EQ_INT(s.cbytes, 0);
	T_EQ_INT(s.ubytes, 0);
	T_EQ_INT(s.urecords, 0);
}

/*
 * One push that replaces records, one of them three times (forced): the
 * history of each is pruned once for the whole push (store_history_prune_
 * many), to the same result as one record at a time: depth 3 keeps the
 * current version and the 3 before it, and the counters say so.
 */
static void
test_history_one_push(void)
{
	int64_t a = new_user("histpush", NULL), v = 0;
	struct vlist l;

	for (size_t k = 1; k <= 4; k++)
		v = put(a, "hp", "doc", v, 10 * k); /* 10 20 30 40 */
	put(a, "hp", "other", 0, 7);
	struct sync_rec r[4] = {
		rec("doc", 0, 50, 0, 1), rec("other", 0, 8, 0, 1), rec("doc", 0, 60, 0, 1), rec("doc", 0, 70, 0, 1)};
	size_t nconf = 0;
	int64_t cver = 0;
	T_EQ_INT(sync_push(st, &cfg, a, "hp", r, 4, 0, &nconf, &cver), ERR_OK);
	free_recs(r, 4);
	T_EQ_INT(nconf, 0);
	T_EQ_INT(history(a, "hp", "doc", &l), ERR_OK);
	T_EQ_INT(l.n, 4);
	T_EQ_INT(l.bytes[0], 70);
	T_EQ_INT(l.bytes[3], 40);
	T_EQ_INT(history(a, "hp", "other", &l), ERR_OK);
	T_EQ_INT(l.n, 2);
	struct snap sn = snap(a, "hp");
	T_EQ_INT(sn.cbytes, 70 + 60 + 50 + 40 + 8 + 7);
	T_EQ_INT(sn.ubytes, 70 + 60 + 50 + 40 + 8 + 7);
	T_EQ_INT(sn.crecords, 2);
}

static void
test_quota(void)
{
	int64_t a = new_user("quota", "tiny"), v1, v5;
	struct store_account acc;
	struct push_out o;
	struct sync_rec r[2];
	size_t nconf;
	int64_t cver;

	T_EQ_INT(store_account_by_id(st, a, &acc), ERR_OK);
	T_EQ_STR(sync_plan(&cfg, &acc)->name, "tiny");
	T_EQ_INT(sync_quota(&cfg, &acc), 100);

	v1 = put(a, "q", "r1", 0, 60);
	struct snap s0 = snap(a, "q");
	T_EQ_INT(push1(a, "q", "r2", 0, 41, 0, 0, &o), ERR_QUOTA_EXCEEDED);
	T_OK(snap_eq(snap(a, "q"), s0));
	T_EQ_INT(head(a, "q", "r2", NULL, NULL, NULL), ERR_NOT_FOUND);
	put(a, "q", "r2", 0, 40);                       /* exactly the quota */
	T_EQ_INT(snap(a, "q").ubytes, 100);
	s0 = snap(a, "q");
	T_EQ_INT(push1(a, "q", "r3", 0, 1, 0, 0, &o), ERR_QUOTA_EXCEEDED);
	T_OK(snap_eq(snap(a, "q"), s0));
	/* a smaller replacement is fine at the limit (no history on this plan) */
	v1 = put(a, "q", "r1", v1, 50);
	T_EQ_INT(snap(a, "q").ubytes, 90);
	/* several records: the sum counts, nothing is written */
	s0 = snap(a, "q");
	r[0] = rec("r3", 0, 5, 0, 0);
	r[1] = rec("r4", 0, 6, 0, 0);
	T_EQ_INT(sync_push(st, &cfg, a, "q", r, 2, 0, &nconf, &cver), ERR_QUOTA_EXCEEDED);
	free_recs(r, 2);
	T_OK(snap_eq(snap(a, "q"), s0));
	T_EQ_INT(head(a, "q", "r3", NULL, NULL, NULL), ERR_NOT_FOUND);
	r[0] = rec("r3", 0, 5, 0, 0);
	r[1] = rec("r4", 0, 5, 0, 0);
	T_EQ_INT(sync_push(st, &cfg, a, "q", r, 2, 0, &nconf, &cver), ERR_OK);
	free_recs(r, 2);
	T_EQ_INT(snap(a, "q").ubytes, 100);
	/* the quota counts the account, not the collection */
	T_EQ_INT(push1(a, "q2", "r1", 0, 1, 0, 0, &o), ERR_QUOTA_EXCEEDED);
	T_EQ_INT(coll_id(a, "q2"), -1);

	/* a per-account override */
	T_EQ_INT(store_account_set_quota(st, "quota", 1000), ERR_OK);
	T_EQ_INT(store_account_by_id(st, a, &acc), ERR_OK);
	T_EQ_INT(sync_quota(&cfg, &acc), 1000);
	v5 = put(a, "q", "r5", 0, 500);
	T_EQ_INT(snap(a, "q").ubytes, 600);
	/* back to the plan's 100: over quota, deletes still go through */
	T_EQ_INT(store_account_set_quota(st, "quota", -1), ERR_OK);
	T_EQ_INT(push1(a, "q", "r6", 0, 1, 0, 0, &o), ERR_QUOTA_EXCEEDED);
	del(a, "q", "r5", v5);
	T_EQ_INT(snap(a, "q").ubytes, 100);

	/* history counts against the quota */
	int64_t b = new_user("quotahist", NULL), v;
	T_EQ_INT(store_account_set_quota(st, "quotahist", 100), ERR_OK);
	v = put(b, "q", "r", 0, 40);
	v = put(b, "q", "r", v, 40);
	T_EQ_INT(snap(b, "q").ubytes, 80);
	s0 = snap(b, "q");
	T_EQ_INT(push1(b, "q", "r", v, 40, 0, 0, &o), ERR_QUOTA_EXCEEDED);
	T_OK(snap_eq(snap(b, "q"), s0));
	/* a delete adds nothing: accepted even at the limit */
	v = del(b, "q", "r", v);
	T_OK(v > 0);
	T_EQ_INT(snap(b, "q").ubytes, 80);

	/* an unknown plan name falls back to the default plan */
	T_EQ_INT(store_account_set_plan(st, "quotahist", "gone"), ERR_OK);
	T_EQ_INT(store_account_by_id(st, b, &acc), ERR_OK);
	T_EQ_STR(sync_plan(&cfg, &acc)->name, "default");
	T_EQ_INT(store_account_set_quota(st, "quotahist", -1), ERR_OK);
	T_EQ_INT(store_account_by_id(st, b, &acc), ERR_OK);
	T_EQ_INT(sync_quota(&cfg, &acc), cfg.plans[0].bytes);
}

static void
test_collection_limit(void)
{
	int64_t a = new_user("limits", "tiny"), n = -1;
	struct push_out o;
	struct store_collection c;
	int created = -1;

	put(a, "c1", "r", 0, 1);
	put(a, "c2", "r", 0, 1);
	struct snap s0 = snap(a, "c1");
	T_EQ_INT(push1(a, "c3", "r", 0, 1, 0, 0, &o), ERR_COLLECTION_LIMIT);
	T_EQ_INT(coll_id(a, "c3"), -1);
	T_EQ_INT(store_collection_count(st, a, &n), ERR_OK);
	T_EQ_INT(n, 2);
	T_OK(snap_eq(snap(a, "c1"), s0));
	T_EQ_INT(sync_collection_put(st, &cfg, a, "c3", NULL, 0, &created, &c), ERR_COLLECTION_LIMIT);
	T_EQ_INT(coll_id(a, "c3"), -1);
	/* existing ones still take writes */
	put(a, "c1", "r2", 0, 1);
	T_EQ_INT(sync_collection_put(st, &cfg, a, "c1", (const uint8_t *)"m", 1, &created, &c), ERR_OK);
	T_EQ_INT(created, 0);
	/* one freed, one more allowed */
	T_EQ_INT(sync_collection_delete(st, a, "c2"), ERR_OK);
	put(a, "c3", "r", 0, 1);
	T_EQ_INT(push1(a, "c4", "r", 0, 1, 0, 0, &o), ERR_COLLECTION_LIMIT);
}

struct mlist {
	int n;
	char name[8][STORE_NAME_MAX + 1];
	size_t meta_len[8];
	int meta_null[8];
	int meta_ok;
};

static int
mcollect(void *ctx, const struct store_collection *c)
{
	struct mlist *l = ctx;

	if (l->n < 8) {
		snprintf(l->name[l->n], sizeof l->name[0], "%s", c->name);
		l->meta_len[l->n] = c->meta_len;
		l->meta_null[l->n] = c->meta == NULL;
		if (c->meta && c->meta_len == 4 && memcmp(c->meta, "meta", 4) != 0)
			l->meta_ok = 0;
	}
	l->n++;
	return 0;
}

static void
test_collection_put(void)
{
	int64_t a = new_user("cput", NULL);
	struct store_collection c;
	struct mlist l;
	int created = -1;

	int64_t aver = snap(a, "x").aver;
	T_EQ_INT(sync_collection_put(st, &cfg, a, "m", (const uint8_t *)"meta", 4, &created, &c), ERR_OK);
	T_EQ_INT(created, 1);
	T_EQ_STR(c.name, "m");
	T_OK(c.id > 0);
	T_EQ_INT(c.version, 0);
	T_EQ_INT(snap(a, "x").aver, aver + 1);
	memset(&l, 0, sizeof l);
	l.meta_ok = 1;
	T_EQ_INT(store_collection_list(st, a, mcollect, &l), ERR_OK);
	T_EQ_INT(l.n, 1);
	T_EQ_INT(l.meta_len[0], 4);
	T_OK(l.meta_ok);
	T_EQ_INT(sync_collection_put(st, &cfg, a, "m", NULL, 0, &created, &c), ERR_OK);
	T_EQ_INT(created, 0);
	T_EQ_INT(snap(a, "x").aver, aver + 2);
	memset(&l, 0, sizeof l);
	T_EQ_INT(store_collection_list(st, a, mcollect, &l), ERR_OK);
	T_EQ_INT(l.meta_null[0], 1);
	/* a put keeps the records */
	put(a, "m", "r", 0, 3);
	T_EQ_INT(sync_collection_put(st, &cfg, a, "m", (const uint8_t *)"meta", 4, &created, &c), ERR_OK);
	T_EQ_INT(snap(a, "m").crecords, 1);
	T_EQ_INT(snap(a, "m").cver, 1);
}

static void
test_collection_delete(void)
{
	int64_t a = new_user("deleter", NULL), b = new_user("other", NULL), v;

	v = put(a, "c1", "r1", 0, 10);
	v = put(a, "c1", "r1", v, 20);   /* 10 kept as history */
	put(a, "c1", "r2", 0, 5);
	v = put(a, "c1", "r3", 0, 7);
	del(a, "c1", "r3", v);           /* 7 kept as history */
	put(a, "c2", "r1", 0, 3);
	put(b, "c1", "r1", 0, 11);
	struct snap c1 = snap(a, "c1"), c2 = snap(a, "c2"), ob = snap(b, "c1");
	T_EQ_INT(c1.cbytes, 10 + 20 + 5 + 7);
	T_EQ_INT(c1.crecords, 2);
	T_EQ_INT(c1.ubytes, c1.cbytes + c2.cbytes);
	T_EQ_INT(c1.urecords, c1.crecords + c2.crecords);

	T_EQ_INT(sync_collection_delete(st, a, "c1"), ERR_OK);
	struct snap after = snap(a, "c2");
	T_EQ_INT(after.ubytes, c2.cbytes);
	T_EQ_INT(after.urecords, c2.crecords);
	T_EQ_INT(after.aver, c1.aver + 1);
	T_EQ_INT(coll_id(a, "c1"), -1);
	T_EQ_INT(sync_collection_delete(st, a, "c1"), ERR_NOT_FOUND);
	T_EQ_INT(sync_collection_delete(st, a, "never"), ERR_NOT_FOUND);
	/* the other account's collection of that name is untouched */
	T_OK(snap_eq(snap(b, "c1"), ob));
	T_EQ_INT(sync_collection_delete(st, a, "c2"), ERR_OK);
	after = snap(a, "c2");
	T_EQ_INT(after.ubytes, 0);
	T_EQ_INT(after.urecords, 0);
}

static void
test_account_version(void)
{
	int64_t a = new_user("aver", NULL), v;
	struct sync_rec r[2];
	size_t nconf;
	int64_t cver;

	v = put(a, "c", "r1", 0, 3);
	put(a, "c", "r2", 0, 3);
	struct snap s0 = snap(a, "c");
	/* all conflicts: nothing changes, not even account_version */
	r[0] = rec("r1", v + 5, 3, 0, 0);
	r[1] = rec("r2", 0, 3, 0, 0);
	T_EQ_INT(sync_push(st, &cfg, a, "c", r, 2, 0, &nconf, &cver), ERR_OK);
	T_EQ_INT(nconf, 2);
	T_EQ_INT(cver, s0.cver);
	free_recs(r, 2);
	T_OK(snap_eq(snap(a, "c"), s0));
	/* an empty push changes nothing either */
	T_EQ_INT(sync_push(st, &cfg, a, "c", r, 0, 0, &nconf, &cver), ERR_OK);
	T_EQ_INT(cver, s0.cver);
	T_OK(snap_eq(snap(a, "c"), s0));
	/* one accepted among conflicts: one bump */
	r[0] = rec("r1", v, 3, 0, 0);
	r[1] = rec("r2", 0, 3, 0, 0);
	T_EQ_INT(sync_push(st, &cfg, a, "c", r, 2, 0, &nconf, &cver), ERR_OK);
	T_EQ_INT(nconf, 1);
	free_recs(r, 2);
	T_EQ_INT(snap(a, "c").aver, s0.aver + 1);
	/* failed pushes do not bump */
	s0 = snap(a, "c");
	r[0] = rec("r9", 0, 3, 0, 0);
	r[1] = rec("r2", 0, 3, 0, 0);
	T_EQ_INT(sync_push(st, &cfg, a, "c", r, 2, 1, &nconf, &cver), ERR_CONFLICT);
	free_recs(r, 2);
	T_OK(snap_eq(snap(a, "c"), s0));
}

static void
test_pull(void)
{
	int64_t a = new_user("puller", NULL);
	struct vlist l;

	put(a, "p", "a1", 0, 1);       /* 1 */
	put(a, "p", "b2", 0, 2);       /* 2 */
	put(a, "p", "c3", 0, 3);       /* 3 */
	put(a, "p", "d4", 0, 4);       /* 4 */
	put(a, "p", "e5", 0, 5);       /* 5 */
	put(a, "p", "b2", 2, 6);       /* 6 */
	del(a, "p", "c3", 3);          /* 7 */
	T_EQ_INT(pull(a, "p", 0, 100, &l), ERR_OK);
	T_EQ_INT(l.n, 5);
	T_EQ_STR(l.rid[0], "a1");
	T_EQ_STR(l.rid[1], "d4");
	T_EQ_STR(l.rid[2], "e5");
	T_EQ_STR(l.rid[3], "b2");
	T_EQ_STR(l.rid[4], "c3");
	T_EQ_INT(l.v[0], 1);
	T_EQ_INT(l.v[3], 6);
	T_EQ_INT(l.v[4], 7);
	T_EQ_INT(l.deleted[4], 1);
	T_EQ_INT(l.nullpay[4], 1);
	T_EQ_INT(l.bytes[3], 6);
	T_OK(l.payload_ok);
	T_EQ_INT(pull(a, "p", 0, 2, &l), ERR_OK);
	T_EQ_INT(l.n, 2);
	T_EQ_INT(l.v[1], 4);
	T_EQ_INT(pull(a, "p", 4, 100, &l), ERR_OK);
	T_EQ_INT(l.n, 3);
	T_EQ_INT(l.v[0], 5);
	T_EQ_INT(pull(a, "p", 7, 100, &l), ERR_OK);
	T_EQ_INT(l.n, 0);

	/* paging by the last version seen, with a write in between */
	int64_t since = 0, seen[32];
	int nseen = 0, pages = 0, ascending = 1;
	for (;;) {
		T_EQ_INT(pull(a, "p", since, 2, &l), ERR_OK);
		if (l.n == 0 || ++pages > 10)
			break;
		for (int i = 0; i < l.n; i++) {
			if (l.v[i] <= since)
				ascending = 0;
			since = l.v[i];
			if (nseen < 32)
				seen[nseen++] = l.v[i];
		}
		if (pages == 1)
			put(a, "p", "a1", 1, 9); /* a1 moves to version 8 */
	}
	T_OK(ascending);
	/* 1 4 | 5 6 | 7 8: nothing skipped or repeated; a1 once per version */
	T_EQ_INT(nseen, 6);
	T_EQ_INT(nseen >= 6 ? seen[4] : -1, 7);
	T_EQ_INT(nseen >= 6 ? seen[5] : -1, 8);
	T_EQ_INT(pull(a, "p", 0, 100, &l), ERR_OK);
	T_EQ_INT(l.n, 5);
	T_EQ_STR(l.rid[4], "a1");
	T_EQ_INT(l.v[4], 8);
}

/* ---- writers on several connections at once ---- */

struct writer {
	int64_t account;
	int idx;
	int ok, fail;
};

static void *
writer_main(void *p)
{
	struct writer *w = p;
	struct store *s = NULL;
	char err[512], id[32];

	if (store_open(dbpath, STORE_RW, &s, err, sizeof err) != 0) {
		w->fail = 1000;
		return NULL;
	}
	for (int i = 0; i < 25; i++) {
		struct sync_rec r[2];
		size_t nconf;
		int64_t cver;
		snprintf(id, sizeof id, "w%d-%d", w->idx, i);
		r[0] = rec(id, 0, 10, 0, 0);
		/* and one shared record, forced: last write wins */
		r[1] = rec("shared", 0, 1, 0, 1);
		enum err e = sync_push(s, &cfg, w->account, "busy", r, 2, 0, &nconf, &cver);
		if (e == ERR_OK && nconf == 0 && r[0].version > 0 && r[1].version > r[0].version)
			w->ok++;
		else
			w->fail++;
		free_recs(r, 2);
	}
	store_close(s);
	return NULL;
}

static void
test_concurrent_writers(void)
{
	enum { N = 4 };
	int64_t a = new_user("concurrent", NULL);
	struct writer w[N];
	pthread_t th[N];
	int ok = 0, fail = 0;

	for (int i = 0; i < N; i++) {
		w[i] = (struct writer){ a, i, 0, 0 };
		T_EQ_INT(pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
	}
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		ok += w[i].ok;
		fail += w[i].fail;
	}
	T_EQ_INT(fail, 0);
	T_EQ_INT(ok, N * 25);
	/* every write took its own version; counters add up */
	struct snap s = snap(a, "busy");
	T_EQ_INT(s.cver, 2 * N * 25);
	T_EQ_INT(s.crecords, N * 25 + 1);
	/* the shared record keeps its newest 3 older versions, 1 byte each */
	T_EQ_INT(s.cbytes, N * 25 * 10 + 1 + 3);
	T_EQ_INT(s.ubytes, s.cbytes);
	T_EQ_INT(s.urecords, s.crecords);
	struct vlist l;
	T_EQ_INT(pull(a, "busy", 0, 1000, &l), ERR_OK);
	T_EQ_INT(l.n, N * 25 + 1);
	int asc = 1;
	for (int i = 1; i < l.n && i < 64; i++)
		asc &= l.v[i] > l.v[i - 1];
	T_OK(asc);
}

/* ---- random pushes against a model ---- */

#define M_RIDS 10
#define M_COLLS 2
#define M_DEPTH 3

struct m_rec {
	int64_t version;      /* 0: absent */
	int deleted;
	int64_t sizes[M_DEPTH + 1]; /* newest first: current, then history */
	int nsizes;
};

struct m_coll {
	int64_t version;
	struct m_rec r[M_RIDS];
};

static int64_t
m_bytes(const struct m_coll *c, int64_t *records)
{
	int64_t b = 0;

	*records = 0;
	for (int i = 0; i < M_RIDS; i++) {
		for (int k = 0; k < c->r[i].nsizes; k++)
			b += c->r[i].sizes[k];
		*records += c->r[i].version && !c->r[i].deleted;
	}
	return b;
}

static void
test_random_model(void)
{
	static const char *colls[M_COLLS] = { "ca", "cb" };
	static const char *rids[M_RIDS] = { "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9" };
	struct m_coll model[M_COLLS], next;
	unsigned seed = 12345;
	int64_t a = new_user("random", NULL);
	int mismatches = 0, flag_mismatches = 0, pushes = 0, conflicts = 0, accepted = 0;

	memset(model, 0, sizeof model);
	for (int op = 0; op < 250 && mismatches < 5; op++) {
		int ci = rand_r(&seed) % M_COLLS;
		size_t n = 1 + (size_t)(rand_r(&seed) % 4);
		int atomic = rand_r(&seed) % 3 == 0;
		struct sync_rec r[4];
		int used[M_RIDS] = { 0 }, conflict[4] = { 0 };
		size_t nconf = 0, want_conf = 0;
		int64_t cver = 0;

		next = model[ci];
		for (size_t i = 0; i < n; i++) {
			int ri;
			do
				ri = rand_r(&seed) % M_RIDS;
			while (used[ri]);
			used[ri] = 1;
			struct m_rec *m = &next.r[ri];
			int64_t base = m->version;
			if (rand_r(&seed) % 5 == 0)
				base = base + 1 + rand_r(&seed) % 3; /* stale or invented */
			int force = rand_r(&seed) % 10 == 0;
			int deleted = rand_r(&seed) % 5 == 0;
			size_t len = (size_t)(rand_r(&seed) % 200);
			r[i] = rec(rids[ri], base, len, deleted, force);
			/* the model: api.md §4 */
			if (!force && base != m->version) {
				want_conf++;
				conflict[i] = 1;
				continue;
			}
			if (atomic && want_conf)
				continue;
			next.version++;
			memmove(m->sizes + 1, m->sizes, sizeof m->sizes[0] * M_DEPTH);
			m->sizes[0] = deleted ? 0 : (int64_t)len;
			m->nsizes = m->version ? (m->nsizes < M_DEPTH + 1 ? m->nsizes + 1 : M_DEPTH + 1) : 1;
			m->version = next.version;
			m->deleted = deleted;
		}
		enum err e = sync_push(st, &cfg, a, colls[ci], r, n, atomic, &nconf, &cver);
		enum err want_e = atomic && want_conf ? ERR_CONFLICT : ERR_OK;
		if (e != want_e || nconf != want_conf) {
			mismatches++;
			fprintf(stderr, "op %d: err %d (want %d), conflicts %zu (want %zu)\n", op, e, want_e, nconf,
			    want_conf);
		}
		if (want_e == ERR_OK) {
			model[ci] = next;
			if (cver != next.version) {
				mismatches++;
				fprintf(stderr, "op %d: collection_version %lld, want %lld\n", op, (long long)cver,
				    (long long)next.version);
			}
			accepted += (int)(n - want_conf);
		}
		for (size_t i = 0; i < n; i++)
			if (r[i].conflict != conflict[i] || (!atomic && (r[i].version == 0) != conflict[i])) {
				if (flag_mismatches++ < 3)
					fprintf(stderr, "op %d (%s): record %zu %s has version %lld\n", op,
					    atomic ? "atomic" : "not atomic", i, conflict[i] ? "conflicts but" : "does not conflict but",
					    (long long)r[i].version);
			}
		conflicts += (int)want_conf;
		pushes++;
		free_recs(r, n);

		/* compare every counter */
		int64_t tb = 0, trec = 0;
		for (int c = 0; c < M_COLLS; c++) {
			int64_t mrec, mb = m_bytes(&model[c], &mrec);
			struct snap s = snap(a, colls[c]);
			tb += mb;
			trec += mrec;
			if (s.exists && (s.cver != model[c].version || s.cbytes != mb || s.crecords != mrec)) {
				mismatches++;
				fprintf(stderr, "op %d coll %s: version %lld/%lld bytes %lld/%lld records %lld/%lld\n", op,
				    colls[c], (long long)s.cver, (long long)model[c].version, (long long)s.cbytes,
				    (long long)mb, (long long)s.crecords, (long long)mrec);
			}
			for (int i = 0; s.exists && i < M_RIDS; i++) {
				struct m_rec *m = &model[c].r[i];
				struct vlist l;
				enum err he = history(a, colls[c], rids[i], &l);
				if (!m->version) {
					if (he != ERR_NOT_FOUND)
						mismatches++;
					continue;
				}
				int bad = he != ERR_OK || l.n != m->nsizes || l.v[0] != m->version || l.deleted[0] != m->deleted;
				for (int k = 0; !bad && k < l.n; k++)
					bad = l.bytes[k] != m->sizes[k];
				if (bad) {
					mismatches++;
					fprintf(stderr, "op %d %s/%s: history differs from the model\n", op, colls[c], rids[i]);
				}
			}
		}
		struct snap s = snap(a, colls[0]);
		if (s.ubytes != tb || s.urecords != trec) {
			mismatches++;
			fprintf(stderr, "op %d: usage %lld/%lld records %lld/%lld\n", op, (long long)s.ubytes,
			    (long long)tb, (long long)s.urecords, (long long)trec);
		}
	}
	T_EQ_INT(mismatches, 0);
	/* each record's conflict flag says whether it conflicted; a record written
	 * by a non-atomic push has its version */
	T_EQ_INT(flag_mismatches, 0);
	/* the run exercised both outcomes */
	T_OK(pushes == 250);
	T_OK(conflicts > 20);
	T_OK(accepted > 200);
}

/* Every test against the store at dbpath (migrated and opened here as st). */
static void
run_all(void)
{
	char err[512];

	if (store_migrate(dbpath, err, sizeof err) != 0 || store_open(dbpath, STORE_RW, &st, err, sizeof err) != 0) {
		fprintf(stderr, "store: %s\n", err);
		T_OK(0);
		return;
	}
	T_RUN(test_push_creates);
	T_RUN(test_versions);
	T_RUN(test_conflicts);
	T_RUN(test_force);
	T_RUN(test_atomic);
	T_RUN(test_history_bytes);
	T_RUN(test_history_one_push);
	T_RUN(test_quota);
	T_RUN(test_collection_limit);
	T_RUN(test_collection_put);
	T_RUN(test_collection_delete);
	T_RUN(test_account_version);
	T_RUN(test_pull);
	T_RUN(test_concurrent_writers);
	T_RUN(test_random_model);
	store_close(st);
	st = NULL;
}

int
main(void)
{
	if (t_tmpdir(tmpdir, sizeof tmpdir, "sync") != 0)
		return 1;
	log_setup("test_sync", LOG_ERROR);
	setup_config();
	snprintf(dbpath, sizeof dbpath, "%s/sync.sqlite", tmpdir);
	run_all();
	/* the same once more with the store on PostgreSQL ($BS_TEST_PG): the
	 * push's row locks, its heads read at once and its batched writes */
	if (pgt_setup("test_sync") > 0) {
		pgt_new_uri(dbpath, sizeof dbpath);
		run_all();
		pgt_teardown();
	}
	t_tmpdir_remove(tmpdir);
	return t_done();
}
