/*
 * bs_sync.c: records and the sync loop of the client (client.md sections
 * 4 and 7): put and delete queue a change; push sends the queue with the
 * base version each change was made on, hands conflicts to the merge
 * function and retries; pull pages until more is false, answering a 410
 * with a pull from 0; get, list and collections read the local copy. The
 * server sees opaque names and kind-2/3 envelopes only (watch, which
 * calls the sync, is bs_watch.c). Every page pulled
 * and every push answer is applied to the state in one transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sqlite3.h>

#include "bs_impl.h"

#define PUSH_BATCH 100
#define PULL_LIMIT 100
#define MAX_ROUNDS 20    /* push rounds with nothing accepted (merges that keep losing) */

/* The server names of (A, a): collection and record id (a may be NULL);
 * *shared (may be NULL) tells a collection shared with this account. */
static int
names(struct bs_client *c, const char *A, const char *a, char sname[BS1_NAME_LEN + 1],
    char rid[BS1_NAME_LEN + 1], int *shared)
{
	struct bs__coll x;
	int rc, e = BS1_OK;

	if ((rc = bs__need_session(c)) || (rc = bs__coll_by_name(c, A, &x)))
		return rc;
	memcpy(sname, x.sname, BS1_NAME_LEN + 1);
	if (shared)
		*shared = x.owner[0] != '\0';
	if (a)
		e = bs1_record_id(&x.cid, a, rid);
	bs__coll_clear(&x);
	return e ? bs__fail(c, BS_LOCAL, "bad_name", "the record id is not usable") : BS_OK;
}

/* Make sure the collection sname (A) is in the local table. */
static int
know_collection(struct bs_client *c, const char *sname, const char *A)
{
	sqlite3_stmt *st = bs__prep(c, "INSERT INTO collections (sname, name) VALUES (?1, ?2) "
	    "ON CONFLICT (sname) DO UPDATE SET name = COALESCE(excluded.name, name)");

	if (!st)
		return BS_LOCAL;
	sqlite3_bind_text(st, 1, sname, -1, SQLITE_STATIC);
	if (A)
		sqlite3_bind_text(st, 2, A, -1, SQLITE_STATIC);
	return bs__run(c, st);
}

/* Queue a change inside the caller's transaction; the base version is the
 * one the record had when the first queued change of it was made. */
static int
queue_in(struct bs_client *c, const char *A, const char *a, const void *data, size_t n, int deleted)
{
	char sname[BS1_NAME_LEN + 1], rid[BS1_NAME_LEN + 1];
	sqlite3_stmt *st;
	int rc, shared = 0;

	/* a shared collection's row carries no name: its meta is the owner's */
	if ((rc = names(c, A, a, sname, rid, &shared)) || (rc = know_collection(c, sname, shared ? NULL : A)))
		return rc;
	st = bs__prep(c, "INSERT INTO queue (sname, rid, app_id, deleted, data, base_version) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, COALESCE((SELECT version FROM records WHERE sname = ?1 AND rid = ?2), 0)) "
	    "ON CONFLICT (sname, rid) DO UPDATE SET deleted = excluded.deleted, data = excluded.data");
	if (!st)
		return BS_LOCAL;
	sqlite3_bind_text(st, 1, sname, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, rid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, a, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, deleted);
	if (!deleted)
		sqlite3_bind_blob(st, 5, n ? data : "", (int)n, SQLITE_STATIC);
	return bs__run(c, st);
}

/* Queue one change in its own transaction. */
static int
queue(struct bs_client *c, const char *A, const char *a, const void *data, size_t n, int deleted)
{
	int rc;

	if ((rc = bs__begin(c)))
		return rc;
	if ((rc = queue_in(c, A, a, data, n, deleted))) {
		bs__rollback(c);
		return rc;
	}
	return bs__commit(c);
}

int
bs_put(struct bs_client *c, const char *coll, const char *id, const void *data, size_t n)
{
	if (n > BS1_MAX_PLAINTEXT - 65536)
		return bs__fail(c, BS_LOCAL, "too_large", "the record is too large");
	return queue(c, coll, id, data, n, 0);
}

int
bs_put_many(struct bs_client *c, const char *coll, const struct bs_put_item *items, size_t count)
{
	int rc;

	for (size_t i = 0; i < count; i++)
		if (items[i].n > BS1_MAX_PLAINTEXT - 65536)
			return bs__fail(c, BS_LOCAL, "too_large", "the record is too large");
	if ((rc = bs__begin(c)))
		return rc;
	for (size_t i = 0; i < count; i++)
		if ((rc = queue_in(c, coll, items[i].id, items[i].data, items[i].n, 0))) {
			bs__rollback(c);
			return rc;
		}
	return bs__commit(c);
}

int
bs_delete(struct bs_client *c, const char *coll, const char *id)
{
	return queue(c, coll, id, NULL, 0, 1);
}

void
bs_free(void *p, size_t n)
{
	bs1_free(p, n);
}

void
bs_set_merge(struct bs_client *c, bs_merge_fn fn, void *arg)
{
	c->merge = fn;
	c->merge_arg = arg;
}

void
bs_set_sync_progress(struct bs_client *c, bs_sync_progress_fn fn, void *arg)
{
	c->sync_progress = fn;
	c->sync_progress_arg = arg;
}

/* Tell the sync progress function (if any) the counts so far. */
static void
tell(struct bs_client *c, const struct bs_sync_result *res)
{
	if (c->sync_progress)
		c->sync_progress(c->sync_progress_arg, res);
}

/* Write the record row (data NULL: a tombstone; app_id NULL: keep). */
static int
store_record(struct bs_client *c, const char *sname, const char *rid, const char *app_id,
    int64_t version, const uint8_t *data, size_t n, int deleted)
{
	sqlite3_stmt *st = bs__prep(c, "INSERT INTO records (sname, rid, app_id, version, deleted, data) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (sname, rid) DO UPDATE SET "
	    "app_id = COALESCE(excluded.app_id, app_id), version = excluded.version, "
	    "deleted = excluded.deleted, data = excluded.data");

	if (!st)
		return BS_LOCAL;
	sqlite3_bind_text(st, 1, sname, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, rid, -1, SQLITE_STATIC);
	if (app_id)
		sqlite3_bind_text(st, 3, app_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, version);
	sqlite3_bind_int(st, 5, deleted);
	if (!deleted)
		sqlite3_bind_blob(st, 6, n ? (const void *)data : "", (int)n, SQLITE_STATIC);
	return bs__run(c, st);
}

/*
 * Open a record envelope from the server (b64 text) into app id + data:
 * the key is picked by the envelope's key version (an own collection's
 * derived or, for a version an admin's rotation made, from its grant; a
 * shared one's from its grants).
 */
static int
open_record(struct bs_client *c, const struct bs__coll *x, const char *rid, struct json_object *o,
    const char *key, uint8_t **pt, size_t *ptlen, char **app_id, const uint8_t **data, size_t *n)
{
	const char *sname = x->sname;
	uint8_t *env = NULL, *ctx = NULL;
	size_t envlen = 0, alen, ctxlen = 0;
	const uint8_t *a;
	struct bs1_key ck;
	uint32_t kv = 0;
	int rc, e;

	*pt = NULL;
	*app_id = NULL;
	if ((rc = bs__get_b64(c, o, key, &env, &envlen)))
		return rc;
	/* an own collection's key too may come from an admin's rotation (bs__coll_key) */
	if ((e = bs1_envelope_kv(env, envlen, &kv)) == BS1_OK) {
		if ((rc = bs__coll_key(c, x, kv, &ck))) {
			free(env);
			return rc;
		}
		if ((e = bs1_ctx_record(sname, rid, &ctx, &ctxlen)) == BS1_OK)
			e = bs1_open(BS1_KIND_RECORD, &ck, ctx, ctxlen, env, envlen, pt, ptlen);
		bs1_wipe(&ck, sizeof ck);
		free(ctx);
	}
	if (e != BS1_OK || bs1_record_split(*pt, *ptlen, &a, &alen, data, n) != BS1_OK) {
		free(env);
		bs1_free(*pt, *ptlen);
		*pt = NULL;
		return bs__fail(c, BS_DECRYPT, "cannot_decrypt", "cannot decrypt record %s of collection %s "
		    "(tampered data?)", rid, sname);
	}
	free(env);
	if (!(*app_id = strndup((const char *)a, alen))) {
		bs1_free(*pt, *ptlen);
		*pt = NULL;
		return bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
	}
	return BS_OK;
}

/* PUT /v1/collections/{sname} with the sealed meta {"name": A}, once. */
static int
send_meta(struct bs_client *c, const char *sname, const char *A)
{
	sqlite3_stmt *st = bs__prep(c, "SELECT meta_sent FROM collections WHERE sname = ?1");
	struct json_object *body = NULL, *m = NULL;
	struct bs_resp r = {0};
	struct bs1_key ck;
	uint8_t *env = NULL;
	size_t envlen = 0;
	char *pt = NULL;
	int sent = 1, rc = BS_OK;

	if (!st)
		return BS_LOCAL;
	sqlite3_bind_text(st, 1, sname, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		sent = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (sent || !A)
		return BS_OK;
	if (!(m = json_object_new_object()) ||
	    json_object_object_add(m, "name", json_object_new_string(A)) ||
	    !(pt = strdup(json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN)))) {
		rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
		goto out;
	}
	if (bs1_ck(&c->data_key, sname, 1, &ck) != BS1_OK ||
	    bs1_meta_seal(&ck, 1, sname, (const uint8_t *)pt, strlen(pt), &env, &envlen) != BS1_OK) {
		rc = bs__fail(c, BS_LOCAL, "crypto", "cannot seal the collection's meta");
		goto out;
	}
	if (!(body = json_object_new_object()) || json_object_object_add(body, "meta", bs__json_b64(env, envlen))) {
		rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
		goto out;
	}
	{
		char path[64];
		snprintf(path, sizeof path, "/v1/collections/%s", sname);
		if ((rc = bs__request(c, "PUT", path, body, 1, &r)))
			goto out;
	}
	if (r.status != 200 && r.status != 201) {
		rc = bs__refused(c, &r);
		goto out;
	}
	if ((st = bs__prep(c, "UPDATE collections SET meta_sent = 1 WHERE sname = ?1"))) {
		sqlite3_bind_text(st, 1, sname, -1, SQLITE_STATIC);
		rc = bs__run(c, st);
	} else
		rc = BS_LOCAL;
out:
	bs1_wipe(&ck, sizeof ck);
	bs__resp_clear(&r);
	json_object_put(body);
	json_object_put(m);
	if (pt) {
		bs1_wipe(pt, strlen(pt));
		free(pt);
	}
	free(env);
	return rc;
}

/* One queued change as read for a push. */
struct change {
	char rid[BS1_NAME_LEN + 1];
	char *app_id;
	int deleted;
	uint8_t *data;
	size_t n;
	int64_t base;
};

static void
changes_free(struct change *ch, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(ch[i].app_id);
		bs1_free(ch[i].data, ch[i].n);
	}
	free(ch);
}

/* Read up to PUSH_BATCH queued changes of sname (only rid when given). */
static int
load_changes(struct bs_client *c, const char *sname, const char *only, struct change **out, size_t *count)
{
	sqlite3_stmt *st = bs__prep(c, "SELECT rid, app_id, deleted, data, base_version FROM queue "
	    "WHERE sname = ?1 AND (?2 IS NULL OR rid = ?2) ORDER BY rid LIMIT ?3");
	struct change *ch = NULL;
	size_t n = 0;
	int rc = BS_OK;

	*out = NULL;
	*count = 0;
	if (!st)
		return BS_LOCAL;
	if (!(ch = calloc(PUSH_BATCH, sizeof *ch))) {
		sqlite3_finalize(st);
		return bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
	}
	sqlite3_bind_text(st, 1, sname, -1, SQLITE_STATIC);
	if (only)
		sqlite3_bind_text(st, 2, only, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, PUSH_BATCH);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct change *x = &ch[n++];
		size_t len = (size_t)sqlite3_column_bytes(st, 3);
		snprintf(x->rid, sizeof x->rid, "%s", (const char *)sqlite3_column_text(st, 0));
		x->app_id = strdup((const char *)sqlite3_column_text(st, 1));
		x->deleted = sqlite3_column_int(st, 2);
		x->base = sqlite3_column_int64(st, 4);
		x->n = len;
		if (!x->deleted && (x->data = malloc(len + 1)))
			memcpy(x->data, sqlite3_column_blob(st, 3) ? sqlite3_column_blob(st, 3) : "", len);
		if (!x->app_id || (!x->deleted && !x->data)) {
			rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
			break;
		}
	}
	sqlite3_finalize(st);
	if (rc || n == 0) {
		changes_free(ch, n);
		return rc;
	}
	*out = ch;
	*count = n;
	return BS_OK;
}

/* The change of ch[] with record id rid (NULL if none). */
static struct change *
find_change(struct change *ch, size_t n, const char *rid)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(ch[i].rid, rid) == 0)
			return &ch[i];
	return NULL;
}

/* Delete the queue row of (sname, rid). */
static int
dequeue(struct bs_client *c, const char *sname, const char *rid)
{
	sqlite3_stmt *st = bs__prep(c, "DELETE FROM queue WHERE sname = ?1 AND rid = ?2");

	if (!st)
		return BS_LOCAL;
	sqlite3_bind_text(st, 1, sname, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, rid, -1, SQLITE_STATIC);
	return bs__run(c, st);
}

/*
 * Whether a conflict is this device's own write met again (a push whose
 * answer was lost and that was sent twice): the server's copy is the local
 * change, byte for byte. Then it counts as accepted at *sv.
 */
static int
own_write(struct bs_client *c, const struct bs__coll *k, struct json_object *o, const struct change *x,
    int64_t *sv)
{
	struct json_object *v;
	uint8_t *pt = NULL;
	size_t ptlen = 0, n = 0;
	const uint8_t *data = NULL;
	char *app_id = NULL;
	int deleted = 0, same = 0;
	char code[sizeof c->code], msg[sizeof c->msg];

	if (!json_object_object_get_ex(o, "server_version", &v))
		return 0;
	*sv = json_object_get_int64(v);
	if (json_object_object_get_ex(o, "deleted", &v))
		deleted = json_object_get_boolean(v);
	if (deleted || x->deleted)
		return deleted && x->deleted;
	memcpy(code, c->code, sizeof code);
	memcpy(msg, c->msg, sizeof msg);
	if (open_record(c, k, x->rid, o, "payload", &pt, &ptlen, &app_id, &data, &n) == BS_OK)
		same = n == x->n && strcmp(app_id, x->app_id) == 0 && (n == 0 || memcmp(data, x->data, n) == 0);
	else {      /* the merge reports it; this was only a look */
		memcpy(c->code, code, sizeof code);
		memcpy(c->msg, msg, sizeof msg);
	}
	bs1_free(pt, ptlen);
	free(app_id);
	return same;
}

/* A conflict: hand it to the merge, apply the outcome to the state (inside
 * the caller's transaction). *again is set when the change stays queued
 * for another push. */
static int
conflict(struct bs_client *c, const struct bs__coll *k, const char *A, struct json_object *o,
    struct change *x, struct bs_sync_result *res, int *again)
{
	const char *sname = k->sname;
	struct json_object *v;
	int64_t sv = 0;
	int deleted = 0, rc, how = BS_MERGE_SERVER;
	uint8_t *pt = NULL, *merged = NULL;
	size_t ptlen = 0, mlen = 0, n = 0;
	const uint8_t *data = NULL;
	char *app_id = NULL;
	sqlite3_stmt *st;

	if (json_object_object_get_ex(o, "server_version", &v))
		sv = json_object_get_int64(v);
	if (json_object_object_get_ex(o, "deleted", &v))
		deleted = json_object_get_boolean(v);
	if (!deleted && (rc = open_record(c, k, x->rid, o, "payload", &pt, &ptlen, &app_id, &data, &n)))
		return rc;
	res->conflicts++;
	if (c->merge)
		how = c->merge(c->merge_arg, A ? A : sname, x->app_id, x->deleted ? NULL : x->data,
		    x->n, deleted ? NULL : data, n, &merged, &mlen);
	/* the server's copy is what this device has now seen */
	if ((rc = store_record(c, sname, x->rid, app_id ? app_id : x->app_id, sv, data, n, deleted)))
		goto out;
	if (how == BS_MERGE_LOCAL || (how == BS_MERGE_NEW && merged)) {
		st = bs__prep(c, how == BS_MERGE_NEW ?
		    "UPDATE queue SET base_version = ?3, deleted = 0, data = ?4 WHERE sname = ?1 AND rid = ?2" :
		    "UPDATE queue SET base_version = ?3 WHERE sname = ?1 AND rid = ?2");
		if (!st) {
			rc = BS_LOCAL;
			goto out;
		}
		sqlite3_bind_text(st, 1, sname, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, x->rid, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, sv);
		if (how == BS_MERGE_NEW)
			sqlite3_bind_blob(st, 4, mlen ? (const void *)merged : "", (int)mlen, SQLITE_STATIC);
		rc = bs__run(c, st);
		*again = 1;
		goto out;
	}
	/* the default: keep the server's, set the local change aside and report it */
	res->kept_server++;
	if (!(st = bs__prep(c, "INSERT INTO conflicts (sname, rid, app_id, server_version, data) "
	    "VALUES (?1, ?2, ?3, ?4, ?5)"))) {
		rc = BS_LOCAL;
		goto out;
	}
	sqlite3_bind_text(st, 1, sname, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, x->rid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, x->app_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, sv);
	if (!x->deleted)
		sqlite3_bind_blob(st, 5, x->n ? (const void *)x->data : "", (int)x->n, SQLITE_STATIC);
	if ((rc = bs__run(c, st)) == BS_OK)
		rc = dequeue(c, sname, x->rid);
out:
	bs1_free(merged, mlen);
	bs1_free(pt, ptlen);
	free(app_id);
	return rc;
}

/* Move every queued change of sname into the conflicts (server version
 * 0), in one transaction; the failure recorded before is kept. */
static void
set_aside(struct bs_client *c, const char *sname)
{
	char code[sizeof c->code], msg[sizeof c->msg];
	sqlite3_stmt *st;
	int rc;

	memcpy(code, c->code, sizeof code);
	memcpy(msg, c->msg, sizeof msg);
	if (bs__begin(c) == BS_OK) {
		st = bs__prep(c, "INSERT INTO conflicts (sname, rid, app_id, server_version, data) "
		    "SELECT sname, rid, app_id, 0, CASE WHEN deleted THEN NULL ELSE data END FROM queue "
		    "WHERE sname = ?1");
		if (st)
			sqlite3_bind_text(st, 1, sname, -1, SQLITE_STATIC);
		rc = bs__run(c, st);
		if (!rc && (st = bs__prep(c, "DELETE FROM queue WHERE sname = ?1"))) {
			sqlite3_bind_text(st, 1, sname, -1, SQLITE_STATIC);
			rc = bs__run(c, st);
		}
		if (rc)
			bs__rollback(c);
		else
			rc = bs__commit(c);
	} else
		rc = BS_LOCAL;
	memcpy(c->code, code, sizeof code);
	memcpy(c->msg, msg, sizeof msg);
	if (rc == BS_OK)
		snprintf(c->msg + strlen(c->msg), sizeof c->msg - strlen(c->msg),
		    " (the change was set aside: see conflicts)");
}

/*
 * Push the queue of collection sname (A its application name, NULL if not
 * known): batches, each answer applied in one transaction. With only, just
 * that record, and a conflict is BS_CONFLICT with the change left queued.
 * With ask (an own collection that no listing of this run described: put,
 * rm, a named sync), its key version and rotate_due are asked first when
 * something is queued for it.
 */
static int
push(struct bs_client *c, const char *sname, const char *A, const char *only, int ask,
    struct bs_sync_result *res)
{
	struct change *ch = NULL;
	size_t n = 0;
	int rc, round, fresh = 0;
	char path[640];
	struct bs__coll k;

	if (ask && bs__state_int(c, "SELECT EXISTS (SELECT 1 FROM queue WHERE sname = ?1)", sname) &&
	    (rc = bs__own_learn(c, sname)))
		return rc;
	/* a member removed or gone since the last rotation: the new key first,
	 * so that nothing new is sealed under a key that member holds */
	if ((rc = bs__rotate_due(c, sname, A)) || (rc = bs__coll_by_sname(c, sname, &k)))
		return rc;
	/* the meta of a shared collection is its owner's */
	if (!k.owner[0] && (rc = send_meta(c, sname, A))) {
		bs__coll_clear(&k);
		return rc;
	}
	snprintf(path, sizeof path, "/v1/collections/%s/push%s%s", sname, k.q[0] ? "?" : "", k.q);
	/* batches go on while the server accepts; rounds that only merged are bounded */
	for (round = 0; round < MAX_ROUNDS;) {
		struct json_object *body = NULL, *arr = NULL, *acc, *con, *rej;
		struct bs_resp r = {0};
		int again = 0, progress = 0;
		size_t pushed = res->pushed;

		if ((rc = load_changes(c, sname, only, &ch, &n)) || n == 0)
			break;
		/* a member seals under the newest key version the owner granted */
		if (!fresh && (fresh = 1) && (rc = bs__coll_refresh(c, &k)))
			goto round_out;
		if (!(body = json_object_new_object()) || !(arr = json_object_new_array()) ||
		    json_object_object_add(body, "records", arr)) {
			json_object_put(arr);
			rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
			goto round_out;
		}
		for (size_t i = 0; i < n; i++) {
			struct json_object *o = json_object_new_object();
			uint8_t *env = NULL;
			size_t envlen = 0;
			if (!o || json_object_array_add(arr, o)) {
				json_object_put(o);
				rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
				goto round_out;
			}
			json_object_object_add(o, "id", json_object_new_string(ch[i].rid));
			json_object_object_add(o, "base_version", json_object_new_int64(ch[i].base));
			if (ch[i].deleted)
				json_object_object_add(o, "deleted", json_object_new_boolean(1));
			else if (bs1_record_seal(&k.ck, k.kv, sname, ch[i].rid, ch[i].app_id, ch[i].data, ch[i].n,
			    &env, &envlen) != BS1_OK ||
			    json_object_object_add(o, "payload", bs__json_b64(env, envlen))) {
				free(env);
				rc = bs__fail(c, BS_LOCAL, "crypto", "cannot seal a record");
				goto round_out;
			} else
				free(env);
		}
		if ((rc = bs__request(c, "POST", path, body, 1, &r)))
			goto round_out;
		if (r.status == 403 && k.owner[0]) {
			/* a member without the write role: these changes can never be
			 * pushed; set them aside (bs_conflicts) rather than block the queue */
			rc = bs__refused(c, &r);
			set_aside(c, sname);
			goto round_out;
		}
		if (r.status != 200) {
			rc = bs__refused(c, &r);
			goto round_out;
		}
		if (!json_object_object_get_ex(r.json, "accepted", &acc) ||
		    !json_object_object_get_ex(r.json, "conflicts", &con) ||
		    !json_object_object_get_ex(r.json, "rejected", &rej)) {
			rc = bs__fail(c, BS_UNREACHABLE, "bad_answer", "the server's push answer is malformed");
			goto round_out;
		}
		if ((rc = bs__begin(c)))
			goto round_out;
		for (size_t i = 0; !rc && i < json_object_array_length(acc); i++) {
			struct json_object *o = json_object_array_get_idx(acc, i), *v;
			const char *id = bs__get_str(o, "id");
			struct change *x = id ? find_change(ch, n, id) : NULL;
			if (!x || !json_object_object_get_ex(o, "version", &v))
				continue;
			if (!(rc = store_record(c, sname, x->rid, x->app_id, json_object_get_int64(v),
			    x->data, x->n, x->deleted)))
				rc = dequeue(c, sname, x->rid);
			res->pushed++;
			progress = 1;
		}
		for (size_t i = 0; !rc && i < json_object_array_length(con); i++) {
			struct json_object *o = json_object_array_get_idx(con, i);
			const char *id = bs__get_str(o, "id");
			struct change *x = id ? find_change(ch, n, id) : NULL;
			int64_t sv = 0;
			if (!x)
				continue;
			if (own_write(c, &k, o, x, &sv)) {
				if (!(rc = store_record(c, sname, x->rid, x->app_id, sv, x->data, x->n, x->deleted)))
					rc = dequeue(c, sname, x->rid);
				res->pushed++;
				progress = 1;
				continue;
			}
			if (only) {
				rc = bs__fail(c, BS_CONFLICT, "conflict", "%s/%s changed on the server: nothing "
				    "was overwritten; the change stays queued (sync merges it)", A ? A : sname,
				    x->app_id);
				break;
			}
			rc = conflict(c, &k, A, o, x, res, &again);
			progress = 1;
		}
		if (!rc && json_object_array_length(rej) > 0) {
			struct json_object *o = json_object_array_get_idx(rej, 0), *e, *m;
			const char *msg = json_object_object_get_ex(o, "error", &e) &&
			    json_object_object_get_ex(e, "message", &m) ? json_object_get_string(m) : "";
			rc = bs__fail(c, BS_REFUSED, "rejected", "the server rejected a record: %s", msg);
		}
		if (rc == BS_OK || rc == BS_CONFLICT || rc == BS_REFUSED) {
			int keep = rc;
			char code[sizeof c->code], msg[sizeof c->msg];
			memcpy(code, c->code, sizeof code);
			memcpy(msg, c->msg, sizeof msg);
			/* the accepted records are kept whatever else happened */
			if ((rc = bs__commit(c)) == BS_OK)
				tell(c, res);
			if (rc == BS_OK && keep) {
				rc = keep;
				memcpy(c->code, code, sizeof c->code);
				memcpy(c->msg, msg, sizeof c->msg);
			}
		} else
			bs__rollback(c);
round_out:
		bs__resp_clear(&r);
		json_object_put(body);
		changes_free(ch, n);
		ch = NULL;
		if (rc || (!progress && !again))
			break;
		if (res->pushed == pushed)
			round++;
	}
	bs__coll_clear(&k);
	return rc;
}

/* The collection's pulled version (0 if unknown). */
static int64_t
coll_version(struct bs_client *c, const char *sname)
{
	return bs__state_int(c, "SELECT version FROM collections WHERE sname = ?1", sname);
}

/*
 * Fetch (outside any transaction: a request may refresh the tokens) the
 * grants of the key versions a page of a shared collection needs that are
 * not kept yet.
 */
static int
page_keys(struct bs_client *c, const struct bs__coll *x, struct json_object *recs)
{
	int rc = BS_OK;

	for (size_t i = 0; !rc && x->owner[0] && i < json_object_array_length(recs); i++) {
		struct json_object *o = json_object_array_get_idx(recs, i);
		uint8_t *env = NULL;
		size_t envlen = 0;
		uint32_t kv;
		struct bs1_key ck;
		if (!bs__get_str(o, "payload") || bs__get_b64(c, o, "payload", &env, &envlen) != BS_OK) {
			free(env);
			continue;   /* opening it reports the problem */
		}
		if (bs1_envelope_kv(env, envlen, &kv) == BS1_OK && kv != x->kv)
			rc = bs__coll_key(c, x, kv, &ck);
		bs1_wipe(&ck, sizeof ck);
		free(env);
	}
	return rc;
}

/*
 * Pull sname until more is false; a 410 restarts from 0. A shared
 * collection the server does not know (any more) for us is BS_REFUSED
 * not_found, or, when gone_ok, forgotten here (the share ended).
 */
static int
pull(struct bs_client *c, const char *sname, struct bs_sync_result *res, int gone_ok)
{
	int64_t since = coll_version(c, sname);
	int rc = BS_OK, resynced = 0;
	struct bs__coll x;

	if ((rc = bs__coll_by_sname(c, sname, &x)))
		return rc;
	for (;;) {
		struct bs_resp r = {0};
		struct json_object *recs, *more, *next;
		char path[640];

		snprintf(path, sizeof path, "/v1/collections/%s/pull?since=%lld&limit=%d%s%s", sname,
		    (long long)since, PULL_LIMIT, x.q[0] ? "&" : "", x.q);
		if ((rc = bs__request(c, "GET", path, NULL, 1, &r)))
			goto done;
		if (r.status == 404 && x.owner[0]) {   /* removed, or the owner deleted it */
			bs__resp_clear(&r);
			rc = gone_ok ? bs__share_forget(c, sname) : bs__fail(c, BS_REFUSED, "not_found",
			    "the collection %s of %s is not shared with you (any more) (not_found)", sname,
			    x.owner);
			goto done;
		}
		if (r.status == 404) {          /* not on the server (yet) */
			bs__resp_clear(&r);
			goto done;
		}
		if (r.status == 410 && !resynced) {
			/* purged tombstones: forget the copy, pull everything again */
			bs__resp_clear(&r);
			resynced = 1;
			res->resyncs++;
			sqlite3_stmt *st;
			if ((rc = bs__begin(c)))
				goto done;
			if (!(st = bs__prep(c, "DELETE FROM records WHERE sname = ?1")))
				rc = BS_LOCAL;
			else {
				sqlite3_bind_text(st, 1, sname, -1, SQLITE_STATIC);
				rc = bs__run(c, st);
			}
			if (!rc && (st = bs__prep(c, "UPDATE collections SET version = 0 WHERE sname = ?1"))) {
				sqlite3_bind_text(st, 1, sname, -1, SQLITE_STATIC);
				rc = bs__run(c, st);
			}
			if (rc || (rc = bs__commit(c))) {
				bs__rollback(c);
				goto done;
			}
			since = 0;
			continue;
		}
		if (r.status != 200) {
			rc = bs__refused(c, &r);
			bs__resp_clear(&r);
			goto done;
		}
		if (!json_object_object_get_ex(r.json, "records", &recs) ||
		    !json_object_is_type(recs, json_type_array) ||
		    !json_object_object_get_ex(r.json, "more", &more) ||
		    !json_object_object_get_ex(r.json, "next_since", &next)) {
			bs__resp_clear(&r);
			rc = bs__fail(c, BS_UNREACHABLE, "bad_answer", "the server's pull answer is malformed");
			goto done;
		}
		if ((rc = page_keys(c, &x, recs)) || (rc = bs__begin(c))) {
			bs__resp_clear(&r);
			goto done;
		}
		for (size_t i = 0; !rc && i < json_object_array_length(recs); i++) {
			struct json_object *o = json_object_array_get_idx(recs, i), *v, *d;
			const char *rid = bs__get_str(o, "id");
			int deleted = json_object_object_get_ex(o, "deleted", &d) && json_object_get_boolean(d);
			uint8_t *pt = NULL;
			size_t ptlen = 0, n = 0;
			const uint8_t *data = NULL;
			char *app_id = NULL;
			if (!rid || strlen(rid) > BS1_NAME_LEN || !json_object_object_get_ex(o, "version", &v)) {
				rc = bs__fail(c, BS_UNREACHABLE, "bad_answer", "a pulled record is malformed");
				break;
			}
			if (!deleted && (rc = open_record(c, &x, rid, o, "payload", &pt, &ptlen, &app_id,
			    &data, &n)))
				break;
			rc = store_record(c, sname, rid, app_id, json_object_get_int64(v), data, n, deleted);
			bs1_free(pt, ptlen);
			free(app_id);
			res->pulled++;
		}
		if (!rc) {
			sqlite3_stmt *st = bs__prep(c, "UPDATE collections SET version = ?2 WHERE sname = ?1");
			since = json_object_get_int64(next);
			if (!st)
				rc = BS_LOCAL;
			else {
				sqlite3_bind_text(st, 1, sname, -1, SQLITE_STATIC);
				sqlite3_bind_int64(st, 2, since);
				rc = bs__run(c, st);
			}
		}
		if (rc || (rc = bs__commit(c))) {
			bs__rollback(c);
			bs__resp_clear(&r);
			goto done;
		}
		int go = json_object_get_boolean(more);
		bs__resp_clear(&r);
		tell(c, res);
		if (!go)
			break;
	}
done:
	bs__coll_clear(&x);
	return rc;
}

int
bs_push_one(struct bs_client *c, const char *coll, const char *id)
{
	char sname[BS1_NAME_LEN + 1], rid[BS1_NAME_LEN + 1];
	struct bs_sync_result res = {0};
	int rc, shared = 0;

	if ((rc = names(c, coll, id, sname, rid, &shared)))
		return rc;
	return push(c, sname, coll, rid, !shared, &res);
}

/* Learn the server's collections (their names from their meta). */
static int
learn_collections(struct bs_client *c)
{
	struct bs_resp r = {0};
	struct json_object *arr;
	int rc;

	if ((rc = bs__request(c, "GET", "/v1/collections", NULL, 1, &r)))
		return rc;
	if (r.status != 200) {
		rc = bs__refused(c, &r);
		goto out;
	}
	if (!json_object_object_get_ex(r.json, "collections", &arr) || !json_object_is_type(arr, json_type_array)) {
		rc = bs__fail(c, BS_UNREACHABLE, "bad_answer", "the collections answer is malformed");
		goto out;
	}
	if ((rc = bs__begin(c)))
		goto out;
	for (size_t i = 0; !rc && i < json_object_array_length(arr); i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);
		const char *sname = bs__get_str(o, "name");
		char *A = NULL;
		uint8_t *env = NULL, *pt = NULL;
		size_t envlen = 0, ptlen = 0;
		if (!sname || strlen(sname) != BS1_NAME_LEN)
			continue;   /* not one of ours (another client's plain names) */
		if (bs__get_str(o, "owner") && (!c->user || strcmp(bs__get_str(o, "owner"), c->user) != 0))
			continue;   /* shared with us: bs__share_learn below */
		if (bs__get_str(o, "meta") && bs__get_b64(c, o, "meta", &env, &envlen) == BS_OK &&
		    bs1_meta_open(&c->data_key, sname, env, envlen, &pt, &ptlen) == BS1_OK) {
			struct json_object *m = bs__json_object(pt, ptlen, 8, 65536);
			const char *name = bs__get_str(m, "name");
			char check[BS1_NAME_LEN + 1];
			/* the name must map back to this collection */
			if (name && bs__coll_name(c, name, check) == BS_OK && strcmp(check, sname) == 0)
				A = strdup(name);
			json_object_put(m);
		}
		bs1_free(pt, ptlen);
		free(env);
		rc = know_collection(c, sname, A);
		if (!rc && A) {
			sqlite3_stmt *st = bs__prep(c, "UPDATE collections SET meta_sent = 1 WHERE sname = ?1");
			if (st) {
				sqlite3_bind_text(st, 1, sname, -1, SQLITE_STATIC);
				rc = bs__run(c, st);
			}
		}
		free(A);
	}
	if (rc)
		bs__rollback(c);
	else if ((rc = bs__commit(c)) == BS_OK)
		rc = bs__share_learn(c, r.json);
out:
	bs__resp_clear(&r);
	return rc;
}

/* Push then pull one collection. */
static int
sync_one(struct bs_client *c, const char *sname, const char *A, int ask, struct bs_sync_result *res)
{
	int rc = push(c, sname, A, NULL, ask, res);

	if (rc == BS_OK)
		rc = pull(c, sname, res, 0);
	return rc;
}

int
bs__ensure_collection(struct bs_client *c, const char *sname, const char *A)
{
	int rc = know_collection(c, sname, A);

	return rc ? rc : send_meta(c, sname, A);
}

/* 1 if nothing waits to be sent: no queued change, no collection meta unsent. */
static int
nothing_to_send(struct bs_client *c)
{
	sqlite3_stmt *st = bs__prep(c, "SELECT EXISTS (SELECT 1 FROM queue) OR EXISTS (SELECT 1 FROM "
	    "collections WHERE meta_sent = 0 AND name IS NOT NULL)");
	int none = 0;

	if (!st)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		none = sqlite3_column_int(st, 0) == 0;
	sqlite3_finalize(st);
	return none;
}

/*
 * GET /v1/status with If-None-Match of the ETag stored by the last complete
 * sync of every collection. A 304 sets *same. A 200 leaves its answer in r
 * and its ETag in etag ("" if the server sent none).
 */
static int
status_check(struct bs_client *c, int *same, struct bs_resp *r, char etag[40])
{
	struct bs_xfer x = {0};
	const char *headers[2] = {NULL, NULL};
	char cond[64];
	void *old = NULL;
	size_t oldlen = 0;
	int rc;

	*same = 0;
	etag[0] = '\0';
	if (bs__get_setting(c, "status_etag", &old, &oldlen) == BS_OK && old && oldlen > 0 &&
	    oldlen < 40) {
		snprintf(cond, sizeof cond, "If-None-Match: \"%.*s\"", (int)oldlen, (const char *)old);
		headers[0] = cond;
	}
	free(old);
	x.headers = headers;
	if ((rc = bs__request_x(c, "GET", "/v1/status", NULL, 1, &x, r)))
		return rc;
	if (r->status == 304 && headers[0]) {
		*same = 1;
		return BS_OK;
	}
	if (r->status != 200)
		return bs__refused(c, r);
	snprintf(etag, 40, "%s", x.etag);
	return BS_OK;
}

/* The version of sname in a status answer's collections; -1 if not listed. */
static int64_t
status_version(struct json_object *status, const char *sname)
{
	struct json_object *arr, *v;

	if (!json_object_object_get_ex(status, "collections", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return -1;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);
		const char *name = bs__get_str(o, "name");
		if (name && strcmp(name, sname) == 0 && json_object_object_get_ex(o, "version", &v))
			return json_object_get_int64(v);
	}
	return -1;
}

/* 1 if the status lists a collection of ours (bs1 name) not known here by name. */
static int
status_has_new(struct bs_client *c, struct json_object *status)
{
	struct json_object *arr;
	sqlite3_stmt *st;
	int found = 0;

	if (!json_object_object_get_ex(status, "collections", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return 1;       /* cannot tell: learn them */
	if (!(st = bs__prep(c, "SELECT 1 FROM collections WHERE sname = ?1 AND name IS NOT NULL "
	    "UNION ALL SELECT 1 FROM shared WHERE sname = ?1")))
		return 1;
	for (size_t i = 0; !found && i < json_object_array_length(arr); i++) {
		const char *name = bs__get_str(json_object_array_get_idx(arr, i), "name");
		if (!name || strlen(name) != BS1_NAME_LEN)
			continue;
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
		found = sqlite3_step(st) != SQLITE_ROW;
	}
	sqlite3_finalize(st);
	return found;
}

int
bs_sync(struct bs_client *c, const char *const *colls, size_t n, struct bs_sync_result *res)
{
	struct bs_sync_result dummy;
	struct bs_resp sr = {0};
	char sname[BS1_NAME_LEN + 1], etag[40] = "";
	int rc, same = 0;

	if (!res)
		res = &dummy;
	memset(res, 0, sizeof *res);
	if ((rc = bs__need_session(c)))
		return rc;
	if (n > 0) {
		for (size_t i = 0; i < n; i++) {
			int shared = 0;
			if ((rc = names(c, colls[i], NULL, sname, NULL, &shared)) || (rc = bs__begin(c)))
				return rc;
			if ((rc = know_collection(c, sname, shared ? NULL : colls[i]))) {
				bs__rollback(c);
				return rc;
			}
			if ((rc = bs__commit(c)) || (rc = sync_one(c, sname, shared ? NULL : colls[i], !shared, res)))
				return rc;
		}
		return BS_OK;
	}
	/* every collection: one status request first; a 304 with nothing to send is the whole sync */
	if ((rc = status_check(c, &same, &sr, etag))) {
		bs__resp_clear(&sr);
		return rc;
	}
	if (same && nothing_to_send(c)) {
		bs__resp_clear(&sr);
		return BS_OK;
	}
	if (!same && status_has_new(c, sr.json) && (rc = learn_collections(c))) {
		bs__resp_clear(&sr);
		return rc;
	}
	/* key versions: the own collections' newest, shared ones' new grants */
	if (!same && (rc = bs__share_learn(c, sr.json))) {
		bs__resp_clear(&sr);
		return rc;
	}
	sqlite3_stmt *st = bs__prep(c, "SELECT sname, name, version FROM collections ORDER BY sname");
	char (*list)[BS1_NAME_LEN + 1] = NULL;
	char **anames = NULL;
	int *moved = NULL;
	size_t count = 0, cap = 0;
	if (!st) {
		bs__resp_clear(&sr);
		return BS_LOCAL;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (count == cap) {
			size_t nc = cap ? cap * 2 : 16;
			void *a = realloc(list, nc * sizeof *list), *b = NULL, *m = NULL;
			if (a)
				list = a;
			if (a && (b = realloc(anames, nc * sizeof *anames)))
				anames = b;
			if (b && (m = realloc(moved, nc * sizeof *moved)))
				moved = m;
			if (!m) {
				rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
				break;
			}
			cap = nc;
		}
		snprintf(list[count], sizeof list[count], "%s", (const char *)sqlite3_column_text(st, 0));
		anames[count] = sqlite3_column_type(st, 1) == SQLITE_NULL ? NULL :
		    strdup((const char *)sqlite3_column_text(st, 1));
		/* pull only what moved: after a 304 nothing did; unlisted means deleted (pull sees 404) */
		moved[count] = !same && status_version(sr.json, list[count]) != sqlite3_column_int64(st, 2);
		count++;
	}
	sqlite3_finalize(st);
	bs__resp_clear(&sr);
	for (size_t i = 0; !rc && i < count; i++) {
		size_t pushed = res->pushed;
		if (!(rc = push(c, list[i], anames[i], NULL, 0, res)) && (moved[i] || res->pushed != pushed))
			rc = pull(c, list[i], res, 1);
	}
	for (size_t i = 0; i < count; i++)
		free(anames[i]);
	free(anames);
	free(list);
	free(moved);
	/* the tag seen before this sync's pulls: a change after it shows at the next status */
	if (!rc && !same && etag[0])
		rc = bs__set(c, "status_etag", etag, strlen(etag));
	return rc;
}

int
bs_get(struct bs_client *c, const char *coll, const char *id, uint8_t **data, size_t *n)
{
	char sname[BS1_NAME_LEN + 1], rid[BS1_NAME_LEN + 1];
	sqlite3_stmt *st;
	int rc;

	*data = NULL;
	*n = 0;
	if ((rc = names(c, coll, id, sname, rid, NULL)))
		return rc;
	if (!(st = bs__prep(c, "SELECT data FROM records WHERE sname = ?1 AND rid = ?2 AND deleted = 0")))
		return BS_LOCAL;
	sqlite3_bind_text(st, 1, sname, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, rid, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		size_t len = (size_t)sqlite3_column_bytes(st, 0);
		if (!(*data = malloc(len + 1)))
			rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
		else {
			if (len)
				memcpy(*data, sqlite3_column_blob(st, 0), len);
			*n = len;
		}
	} else
		rc = bs__fail(c, BS_REFUSED, "not_found", "no record %s in %s (not_found)", id, coll);
	sqlite3_finalize(st);
	return rc;
}

int
bs_list(struct bs_client *c, const char *coll, bs_name_fn fn, void *arg)
{
	char sname[BS1_NAME_LEN + 1];
	sqlite3_stmt *st;
	int rc;

	if ((rc = names(c, coll, NULL, sname, NULL, NULL)))
		return rc;
	if (!(st = bs__prep(c, "SELECT app_id, version, length(data) FROM records WHERE sname = ?1 "
	    "AND deleted = 0 AND app_id IS NOT NULL ORDER BY app_id")))
		return BS_LOCAL;
	sqlite3_bind_text(st, 1, sname, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		fn(arg, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1),
		    (size_t)sqlite3_column_int64(st, 2));
	sqlite3_finalize(st);
	return BS_OK;
}

int
bs_collections(struct bs_client *c, bs_name_fn fn, void *arg)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = bs__need_session(c)))
		return rc;
	if (c->owner) {     /* the collections that owner shared with this account */
		if (!(st = bs__prep(c, "SELECT s.name, COALESCE(c.version, 0), (SELECT COALESCE(SUM(length(data)), 0) "
		    "FROM records r WHERE r.sname = s.sname AND r.deleted = 0) FROM shared s LEFT JOIN "
		    "collections c ON c.sname = s.sname WHERE s.owner = ?1 ORDER BY s.name")))
			return BS_LOCAL;
		sqlite3_bind_text(st, 1, c->owner, -1, SQLITE_STATIC);
	} else if (!(st = bs__prep(c, "SELECT c.name, c.version, (SELECT COALESCE(SUM(length(data)), 0) FROM records r "
	    "WHERE r.sname = c.sname AND r.deleted = 0) FROM collections c WHERE c.name IS NOT NULL "
	    "ORDER BY c.name")))
		return BS_LOCAL;
	while (sqlite3_step(st) == SQLITE_ROW)
		fn(arg, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1),
		    (size_t)sqlite3_column_int64(st, 2));
	sqlite3_finalize(st);
	return BS_OK;
}

int
bs_conflicts(struct bs_client *c, bs_conflict_fn fn, void *arg, int clear)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = bs__need_session(c)))
		return rc;
	if (!(st = bs__prep(c, "SELECT COALESCE(c.name, k.sname), k.app_id, k.server_version, k.data "
	    "FROM conflicts k LEFT JOIN collections c ON c.sname = k.sname ORDER BY k.seq")))
		return BS_LOCAL;
	while (sqlite3_step(st) == SQLITE_ROW)
		fn(arg, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
		    sqlite3_column_int64(st, 2), sqlite3_column_blob(st, 3),
		    (size_t)sqlite3_column_bytes(st, 3));
	sqlite3_finalize(st);
	if (clear && sqlite3_exec(c->db, "DELETE FROM conflicts", NULL, NULL, NULL) != SQLITE_OK)
		return bs__fail(c, BS_LOCAL, "state", "cannot clear the conflicts");
	return BS_OK;
}

int
bs_history(struct bs_client *c, const char *coll, const char *id, bs_version_fn fn, void *arg)
{
	char sname[BS1_NAME_LEN + 1], rid[BS1_NAME_LEN + 1], path[640];
	struct bs_resp r = {0};
	struct json_object *arr;
	struct bs__coll x;
	int rc;

	if ((rc = names(c, coll, id, sname, rid, NULL)))
		return rc;
	if ((rc = bs__coll_by_sname(c, sname, &x)))
		return rc;
	snprintf(path, sizeof path, "/v1/collections/%s/records/%s/history%s%s", sname, rid,
	    x.q[0] ? "?" : "", x.q);
	if ((rc = bs__request(c, "GET", path, NULL, 1, &r)))
		return rc;
	if (r.status != 200) {
		rc = bs__refused(c, &r);
		goto out;
	}
	if (!json_object_object_get_ex(r.json, "versions", &arr) || !json_object_is_type(arr, json_type_array)) {
		rc = bs__fail(c, BS_UNREACHABLE, "bad_answer", "the history answer is malformed");
		goto out;
	}
	for (size_t i = 0; !rc && i < json_object_array_length(arr); i++) {
		struct json_object *o = json_object_array_get_idx(arr, i), *v, *d;
		struct bs_version ver = {0};
		struct bs_resp one = {0};
		uint8_t *pt = NULL;
		size_t ptlen = 0;
		char *app_id = NULL;
		if (!json_object_object_get_ex(o, "version", &v))
			continue;
		ver.version = json_object_get_int64(v);
		ver.modified_at = bs__get_str(o, "modified_at");
		ver.deleted = json_object_object_get_ex(o, "deleted", &d) && json_object_get_boolean(d);
		if (!ver.deleted) {
			snprintf(path, sizeof path, "/v1/collections/%s/records/%s/history/%lld%s%s", sname, rid,
			    (long long)ver.version, x.q[0] ? "?" : "", x.q);
			if ((rc = bs__request(c, "GET", path, NULL, 1, &one)))
				break;
			if (one.status == 200)
				rc = open_record(c, &x, rid, one.json, "payload", &pt, &ptlen, &app_id,
				    &ver.data, &ver.n);
			else if (one.status != 404)
				rc = bs__refused(c, &one);
		}
		if (!rc)
			fn(arg, &ver);
		bs1_free(pt, ptlen);
		free(app_id);
		bs__resp_clear(&one);
	}
out:
	bs__resp_clear(&r);
	bs__coll_clear(&x);
	return rc;
}
