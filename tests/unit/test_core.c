/*
 * test_core.c: the core library driven with no FastCGI and no HTTP in
 * sight, as the coming live daemon will drive it: a store in a scratch
 * directory, an account registered and logged in through accounts.c, its
 * access token checked (valid, unknown, malformed, expired), a push, backup
 * writes under If-Match / If-None-Match (matching, stale, missing), the plan
 * limit, a body that ends early, a read, a delete, and slot writes under
 * their key; an export into memory imported into a second account (and a
 * cut-short one refused); then the shared context (struct core) of limits, long-poll
 * wake-ups and metrics. Bodies come from an in-memory reader, reads go to an
 * in-memory writer. It links libblindsync.a without libfcgi (its own rule in
 * the Makefile) and uses nothing of http.c or serve.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts.h"
#include "auth.h"
#include "blobs.h"
#include "config.h"
#include "core.h"
#include "bsc.h"
#include "log.h"
#include "store.h"
#include "sync.h"
#include "t.h"
#include "storetest.h"
#include "transfer.h"

static char tmpdir[64], dbpath[128];
static struct config cfg;
static struct store *st;
static struct accounts_session sess;
static int64_t account_id;

/* ---- an in-memory reader and writer ---- */

struct mem {
	const uint8_t *data;
	size_t len, at;
	uint8_t got[65536];
	size_t ngot;
};

static long mem_read(void *ctx, void *buf, size_t n)
{
	struct mem *m = ctx;
	size_t left = m->len - m->at;
	if (n > left)
		n = left;
	memcpy(buf, m->data + m->at, n);
	m->at += n;
	return (long)n;
}

static int mem_write(void *ctx, const void *data, size_t n)
{
	struct mem *m = ctx;
	if (n > sizeof m->got - m->ngot)
		return -1;
	memcpy(m->got + m->ngot, data, n);
	m->ngot += n;
	return 0;
}

/* A write of the first len bytes of data (declared: declared bytes) under the given preconditions. */
static struct blobs_write body(struct mem *m, const uint8_t *data, size_t len, int64_t declared, int if_match,
    int64_t version, int none_match)
{
	memset(m, 0, sizeof *m);
	m->data = data;
	m->len = len;
	struct blobs_write w = {{if_match, version, none_match}, declared, {mem_read, m}};
	return w;
}

/* Check then put a backup, as the handler does. */
static enum err backup_write(const char *name, struct blobs_write *w, struct blobs_result *res)
{
	enum err e = blobs_backup_check(st, &cfg, account_id, name, w, res);
	return e ? e : blobs_backup_put(st, &cfg, account_id, name, w, res);
}

/* A read's begin(): remember what was found, ask for the bytes. */
static int read_begin(void *ctx, const struct blobs_info *b)
{
	*(struct blobs_info *)ctx = *b;
	return 1;
}

/* ---- tests ---- */

static void test_account_and_tokens(void)
{
	uint8_t key[32];
	struct auth a;

	memset(key, 0x44, sizeof key); /* the key stt_register sends */
	T_OK(stt_register(st, &cfg, "core-user", 0x44, NULL) > 0);
	T_EQ_INT(accounts_login(st, &cfg, "core-user", key, sizeof key, "test", "cli", &sess), ERR_OK);

	/* the header form, then the token itself */
	char header[128];
	const char *tok;
	size_t len;
	snprintf(header, sizeof header, "bearer  %s ", sess.access.text);
	T_EQ_INT(auth_bearer_token(header, &tok, &len), 0);
	T_EQ_INT(len, AUTH_TOKEN_LEN);
	T_EQ_INT(auth_bearer_token("Basic abc", &tok, &len), -1);
	T_EQ_INT(auth_bearer_token(NULL, &tok, &len), -1);

	T_EQ_INT(auth_token_check(st, tok, len, &a), ERR_OK);
	T_OK(a.account_id > 0);
	T_EQ_STR(a.device_public_id, sess.device_id);
	account_id = a.account_id;

	/* unknown (well-formed), malformed, the refresh token used as an access token */
	struct auth_token other;
	T_EQ_INT(auth_token_new(&other), 0);
	T_EQ_INT(auth_token_check(st, other.text, AUTH_TOKEN_LEN, &a), ERR_UNAUTHORIZED);
	T_EQ_INT(a.account_id, 0);
	T_EQ_INT(auth_token_check(st, "short", 5, &a), ERR_UNAUTHORIZED);
	T_EQ_INT(auth_token_check(st, sess.refresh.text, AUTH_TOKEN_LEN, &a), ERR_UNAUTHORIZED);

	/* an access token of the same device that expired a second ago */
	struct auth ok;
	T_EQ_INT(auth_token_check(st, sess.access.text, AUTH_TOKEN_LEN, &ok), ERR_OK);
	T_EQ_INT(store_token_insert(st, other.hash, STORE_TOKEN_ACCESS, ok.account_id, ok.device_id,
	    (int64_t)time(NULL) - 1), ERR_OK);
	T_EQ_INT(auth_token_check(st, other.text, AUTH_TOKEN_LEN, &a), ERR_TOKEN_EXPIRED);
	T_EQ_INT(a.account_id, 0);
	bsc_wipe(&other, sizeof other);
}

static void test_push(void)
{
	uint8_t payload[48];
	memset(payload, 0xab, sizeof payload);
	struct sync_rec r = {"rec-1", 0, 0, 0, payload, sizeof payload, -1, 0};
	size_t nconf = 9;
	int64_t cver = 0;
	T_EQ_INT(sync_push(st, &cfg, account_id, "notes", &r, 1, 0, &nconf, &cver), ERR_OK);
	T_EQ_INT(nconf, 0);
	T_EQ_INT(r.version, 1);
	T_EQ_INT(cver, 1);
	/* a stale base version is a conflict, nothing written */
	r.base_version = 0;
	T_EQ_INT(sync_push(st, &cfg, account_id, "notes", &r, 1, 0, &nconf, &cver), ERR_OK);
	T_EQ_INT(nconf, 1);
	T_EQ_INT(r.conflict, 1);
	T_EQ_INT(cver, 1);
}

static void test_backups(void)
{
	uint8_t a[200], b[300];
	struct mem m;
	struct blobs_write w;
	struct blobs_result res;
	int64_t min, max;
	memset(a, 'a', sizeof a);
	memset(b, 'b', sizeof b);

	T_EQ_INT(blobs_backup_bounds(st, &cfg, account_id, &min, &max), ERR_OK);
	T_EQ_INT(min, cfg.plans[0].min_backup_bytes);
	T_EQ_INT(max, cfg.plans[0].backup_bytes);
	T_EQ_INT(blobs_backup_bounds(st, &cfg, account_id + 1000, &min, &max), ERR_UNAUTHORIZED);

	/* create: If-Match on a missing backup is 412, none is a create */
	w = body(&m, a, sizeof a, sizeof a, 1, 1, 0);
	T_EQ_INT(backup_write("main", &w, &res), ERR_PRECONDITION_FAILED);
	T_EQ_INT(res.why, BLOBS_WHY_MISSING);
	T_EQ_INT(res.current, 0);
	w = body(&m, a, sizeof a, sizeof a, 0, 0, 1);
	T_EQ_INT(backup_write("main", &w, &res), ERR_OK);
	T_EQ_INT(res.created, 1);
	T_EQ_INT(res.bytes, sizeof a);
	int64_t v1 = res.version;
	T_OK(v1 > 0);
	uint8_t sha[32];
	bsc_sha256(a, sizeof a, sha);
	T_OK(memcmp(res.sha256, sha, 32) == 0);

	/* overwrite: If-Match naming the version is 200 ... */
	w = body(&m, b, sizeof b, sizeof b, 1, v1, 0);
	T_EQ_INT(backup_write("main", &w, &res), ERR_OK);
	T_EQ_INT(res.created, 0);
	int64_t v2 = res.version;
	T_OK(v2 > v1);
	/* ... a stale one 412 with the current version, checked again by put alone */
	w = body(&m, a, sizeof a, sizeof a, 1, v1, 0);
	T_EQ_INT(blobs_backup_check(st, &cfg, account_id, "main", &w, &res), ERR_PRECONDITION_FAILED);
	T_EQ_INT(res.why, BLOBS_WHY_CHANGED);
	T_EQ_INT(res.current, v2);
	T_EQ_INT(blobs_backup_put(st, &cfg, account_id, "main", &w, &res), ERR_PRECONDITION_FAILED);
	T_EQ_INT(res.current, v2);
	/* without If-Match 428, with If-None-Match: * 412 */
	w = body(&m, a, sizeof a, sizeof a, 0, 0, 0);
	T_EQ_INT(backup_write("main", &w, &res), ERR_PRECONDITION_REQUIRED);
	T_EQ_INT(res.current, v2);
	w = body(&m, a, sizeof a, sizeof a, 0, 0, 1);
	T_EQ_INT(backup_write("main", &w, &res), ERR_PRECONDITION_FAILED);
	T_EQ_INT(res.why, BLOBS_WHY_EXISTS);

	/* the default plan allows one backup: a second name is 403 with the count */
	w = body(&m, a, sizeof a, sizeof a, 0, 0, 0);
	T_EQ_INT(backup_write("other", &w, &res), ERR_BACKUP_LIMIT);
	T_EQ_INT(res.count, 1);
	/* a body that ends early stores nothing */
	w = body(&m, a, 50, sizeof a, 1, v2, 0);
	T_EQ_INT(backup_write("main", &w, &res), ERR_INVALID_REQUEST);
	T_EQ_INT(res.received, 50);

	/* read it back */
	struct blobs_info info;
	memset(&m, 0, sizeof m);
	struct blobs_reply rp = {read_begin, {mem_write, &m}, &info};
	T_EQ_INT(blobs_backup_get(st, account_id, "main", &rp), ERR_OK);
	T_EQ_INT(info.version, v2);
	T_EQ_INT(m.ngot, sizeof b);
	T_OK(memcmp(m.got, b, sizeof b) == 0);
	T_EQ_INT(blobs_backup_get(st, account_id, "other", &rp), ERR_NOT_FOUND);

	/* delete: a stale If-Match is 412, then gone, with the usage given back */
	struct blobs_cond stale = {1, v1, 0}, none = {0, 0, 0};
	T_EQ_INT(blobs_backup_delete(st, account_id, "main", &stale, &res), ERR_PRECONDITION_FAILED);
	T_EQ_INT(res.current, v2);
	T_EQ_INT(blobs_backup_delete(st, account_id, "main", &none, &res), ERR_OK);
	T_EQ_INT(blobs_backup_delete(st, account_id, "main", &none, &res), ERR_NOT_FOUND);
	struct store_account acc;
	T_EQ_INT(store_account_by_id(st, account_id, &acc), ERR_OK);
	T_EQ_INT(store_backup_count(st, account_id, &min), ERR_OK);
	T_EQ_INT(min, 0);
}

/*
 * Issue 9 point 7: a create judged while the name was free, whose
 * transaction finds the name taken by another create, is a 412 (judged by
 * If-None-Match), never the plan's 403.
 */
static void test_create_race(void)
{
	uint8_t a[100];
	struct mem m1, m2;
	struct blobs_result r1, r2;
	memset(a, 'r', sizeof a);
	struct blobs_write w1 = body(&m1, a, sizeof a, sizeof a, 0, 0, 1);
	struct blobs_write w2 = body(&m2, a, sizeof a, sizeof a, 0, 0, 1);
	T_EQ_INT(blobs_backup_check(st, &cfg, account_id, "last", &w1, &r1), ERR_OK);
	T_EQ_INT(blobs_backup_check(st, &cfg, account_id, "last", &w2, &r2), ERR_OK);
	T_EQ_INT(r2.created, 1);
	T_EQ_INT(blobs_backup_put(st, &cfg, account_id, "last", &w1, &r1), ERR_OK);
	T_EQ_INT(blobs_backup_put(st, &cfg, account_id, "last", &w2, &r2), ERR_PRECONDITION_FAILED);
	T_EQ_INT(r2.why, BLOBS_WHY_EXISTS);
	T_EQ_INT(r2.current, r1.version);
	/* and judged afresh, the same */
	w2 = body(&m2, a, sizeof a, sizeof a, 0, 0, 1);
	T_EQ_INT(blobs_backup_check(st, &cfg, account_id, "last", &w2, &r2), ERR_PRECONDITION_FAILED);
	struct blobs_cond none = {0, 0, 0};
	T_EQ_INT(blobs_backup_delete(st, account_id, "last", &none, &r2), ERR_OK);
}

static void test_slots(void)
{
	uint8_t a[100], key[32], wrong[32];
	struct mem m;
	struct blobs_write w;
	struct blobs_result res;
	memset(a, 's', sizeof a);
	bsc_sha256((const uint8_t *)"the key", 7, key);
	bsc_sha256((const uint8_t *)"another", 7, wrong);
	const char *id = "slot-0123456789abcdef0123456789ab";

	w = body(&m, a, sizeof a, sizeof a, 0, 0, 0);
	T_EQ_INT(blobs_slot_check(st, id, key, &w, &res), ERR_OK);
	T_EQ_INT(res.created, 1);
	T_EQ_INT(blobs_slot_put(st, &cfg, id, key, &w, &res), ERR_OK);
	T_EQ_INT(res.created, 1);
	int64_t v = res.version;
	/* a wrong key learns nothing of the versions */
	w = body(&m, a, sizeof a, sizeof a, 1, v + 7, 0);
	T_EQ_INT(blobs_slot_check(st, id, wrong, &w, &res), ERR_BAD_SLOT_KEY);
	T_EQ_INT(res.current, 0);
	T_EQ_INT(blobs_slot_check(st, id, key, &w, &res), ERR_PRECONDITION_FAILED);
	T_EQ_INT(res.current, v);
	w = body(&m, a, sizeof a, sizeof a, 1, v, 0);
	T_EQ_INT(blobs_slot_put(st, &cfg, id, key, &w, &res), ERR_OK);
	T_EQ_INT(res.created, 0);
	T_OK(res.version > v);

	struct blobs_info info;
	memset(&m, 0, sizeof m);
	struct blobs_reply rp = {read_begin, {mem_write, &m}, &info};
	T_EQ_INT(blobs_slot_get(st, id, &rp), ERR_OK);
	T_EQ_INT(info.version, res.version);
	T_EQ_INT(m.ngot, sizeof a);
	T_EQ_INT(blobs_slot_delete(st, id, wrong), ERR_BAD_SLOT_KEY);
	T_EQ_INT(blobs_slot_delete(st, id, key), ERR_OK);
	T_EQ_INT(blobs_slot_get(st, id, &rp), ERR_NOT_FOUND);
}

/* An export's begin(): remember the name, ask for the document. */
static int export_begin(void *ctx, const char *username)
{
	snprintf(ctx, 64, "%s", username);
	return 1;
}

/*
 * Export and import through a writer and a reader: the account's document
 * into memory, then into a second account, which then has its collection.
 */
static void test_transfer(void)
{
	struct mem doc;
	char who[64] = "";
	int started = 0;
	memset(&doc, 0, sizeof doc);
	struct transfer_reply rp = {export_begin, {mem_write, &doc}, who};
	T_EQ_INT(transfer_export_write(st, account_id, &rp, &started), ERR_OK);
	T_EQ_INT(started, 1);
	T_EQ_STR(who, "core-user");
	T_OK(doc.ngot > 100 && doc.ngot < sizeof doc.got);
	T_OK(memmem(doc.got, doc.ngot, "\"notes\"", 7) != NULL);

	char msg[ERR_MSG_MAX];
	int64_t copy = stt_register(st, &cfg, "core-copy", 0x55, NULL);
	struct auth who2 = {copy, 0, ""};

	/* a document cut short is refused with its sentence, and nothing is imported */
	struct mem rd = {doc.got, doc.ngot / 2, 0, {0}, 0};
	struct transfer_import_in imp = {&who2, (int64_t)doc.ngot, {mem_read, &rd}, NULL};
	T_EQ_INT(transfer_import_read(st, &cfg, &imp, msg, sizeof msg), ERR_INVALID_REQUEST);
	T_OK(strstr(msg, "The body ended") != NULL);
	int64_t n = -1;
	T_EQ_INT(store_collection_count(st, copy, &n), ERR_OK);
	T_EQ_INT(n, 0);
	/* the whole document */
	rd.len = doc.ngot;
	rd.at = 0;
	T_EQ_INT(transfer_import_read(st, &cfg, &imp, msg, sizeof msg), ERR_OK);
	T_EQ_INT(store_collection_count(st, copy, &n), ERR_OK);
	T_EQ_INT(n, 1);
	/* a second import into an account that now has data: 409 */
	rd.at = 0;
	T_EQ_INT(transfer_import_read(st, &cfg, &imp, msg, sizeof msg), ERR_CONFLICT);
	T_OK(msg[0] != '\0');
}

/*
 * The shared context, as a second program builds it: its tables beside the
 * store, a per-account limit, a change seen by a waiter's sequence, the
 * bound on waiters, a poll that times out, the metrics.
 */
static void test_context(void)
{
	struct core c;
	char err[512];
	memset(&c, 0, sizeof c);
	c.wait_max = 1;
	T_EQ_INT(core_open(&c, dbpath, err, sizeof err), 0);

	struct config lc = cfg;
	struct rate_rule *rule = &lc.rate_limits[0];
	memset(rule, 0, sizeof *rule);
	snprintf(rule->route, sizeof rule->route, "sync.push");
	rule->per = PER_ACCOUNT;
	rule->limit = 2;
	rule->window = 3600;
	lc.n_rate_limits = 1;
	int retry = 0;
	T_EQ_INT(core_limit(&c, &lc, "sync.push", NULL, NULL, account_id, &retry), ERR_OK);
	T_EQ_INT(core_limit(&c, &lc, "sync.push", NULL, NULL, account_id, &retry), ERR_OK);
	T_EQ_INT(core_limit(&c, &lc, "sync.push", NULL, NULL, account_id, &retry), ERR_RATE_LIMITED);
	T_OK(retry >= 1);
	/* another account has its own budget */
	T_EQ_INT(core_limit(&c, &lc, "sync.push", NULL, NULL, account_id + 1, &retry), ERR_OK);

	uint32_t seq = core_seq(&c, account_id, "notes");
	struct core_watch cw;
	core_watch_init(&c, &cw, account_id, "notes", account_id + 1);
	core_changed(&c, account_id, "notes");
	T_OK(core_seq(&c, account_id, "notes") != seq);
	/* the collection moved, the caller's (another account: a member) did not */
	T_EQ_INT(core_watch(&c, &cw, core_now_ms() + 1000), CORE_WATCH_DATA);
	T_OK(cw.seq != seq);
	/* nothing new: the deadline ends the wait */
	double t0 = t_now_ms();
	T_EQ_INT(core_watch(&c, &cw, core_now_ms() + 30), 0);
	T_OK(t_now_ms() - t0 >= 25);
	/* the caller's account moved (a session ended): seen while waiting on the collection */
	core_changed(&c, account_id + 1, NULL);
	T_EQ_INT(core_watch(&c, &cw, core_now_ms() + 5000), CORE_WATCH_SESSION);
	/* the account itself waited on: both at once */
	core_watch_init(&c, &cw, account_id, NULL, account_id);
	core_changed(&c, account_id, NULL);
	T_EQ_INT(core_watch(&c, &cw, core_now_ms() + 1000), CORE_WATCH_DATA | CORE_WATCH_SESSION);
	T_EQ_INT(core_wait_begin(&c), 0);
	T_EQ_INT(core_wait_begin(&c), -1);
	core_wait_end(&c);

	core_observe(&c, "sync.push", 200, 1.5);
	struct buf out;
	buf_init(&out, 1 << 20);
	core_metrics(&c, &out);
	T_OK(out.len > 0);
	buf_free(&out);
	core_close(&c);
	core_close(NULL);
}

int main(void)
{
	char err[512];

	if (t_tmpdir(tmpdir, sizeof tmpdir, "core") != 0)
		return 1;
	log_setup("test_core", LOG_ERROR);
	config_defaults(&cfg);
	cfg.password_hash.iterations = 1000;
	snprintf(dbpath, sizeof dbpath, "%s/core.sqlite", tmpdir);
	snprintf(cfg.database, sizeof cfg.database, "%s", dbpath);
	if (store_migrate(dbpath, err, sizeof err) != 0 || store_open(dbpath, STORE_RW, &st, err, sizeof err) != 0) {
		fprintf(stderr, "store: %s\n", err);
		t_tmpdir_remove(tmpdir);
		return 1;
	}
	T_RUN(test_account_and_tokens);
	T_RUN(test_push);
	T_RUN(test_backups);
	T_RUN(test_create_race);
	T_RUN(test_slots);
	T_RUN(test_transfer);
	T_RUN(test_context);
	accounts_session_clear(&sess);
	store_close(st);
	t_tmpdir_remove(tmpdir);
	return t_done();
}
