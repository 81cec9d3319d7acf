/*
 * store_pg_admin.c: the store's maintenance functions on PostgreSQL, for
 * blindsync-admin (the counterparts of store_admin.c): recounting the
 * counters of collections and accounts and setting them right, purging
 * what has expired, and the invites, sessions and totals of the admin
 * tool. The file-level operations of store_sqlite.h (backup, restore,
 * integrity check) have no counterpart: blindsync-admin says so and points
 * to pg_dump.
 *
 * What SQLite's single writer gave for free is had with locks, taken in
 * the order every writer takes them (account, then collection): a repair
 * locks the counters' tables for its transaction, a purge each account's
 * and collection's row before it reads what to remove.
 *
 * Must never: write outside the caller's store_tx(), leave a counter out of
 * step with the data it counts, or log a bound value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_impl.h"

/* ---- recount and repair ---- */

enum err pg_recount_collections(struct store *s,
    int (*fn)(void *ctx, const struct store_recount_collection *c), void *ctx)
{
	PGresult *r = NULL;
	enum err e;
	/* a repair (a write transaction) holds the counters still until it commits */
	if (pg_in_write_tx(s) && (e = pg_run(s, PG_ADMIN_LOCK_COUNTERS, NULL, NULL, "lock the counters")))
		return e;
	if ((e = pg_run(s, PG_ADMIN_RECOUNT_COLLECTIONS, NULL, &r, "recount collections")))
		return e;
	struct store_recount_collection c;
	for (int i = 0, n = PQntuples(r); i < n; i++) {
		memset(&c, 0, sizeof c);
		c.id = pg_int(r, i, 0);
		c.account_id = pg_int(r, i, 1);
		pg_text(r, i, 2, c.username, sizeof c.username);
		pg_text(r, i, 3, c.name, sizeof c.name);
		c.records = pg_int(r, i, 4);
		c.bytes = pg_int(r, i, 5);
		c.version = pg_int(r, i, 6);
		c.real_records = pg_int(r, i, 7);
		c.real_bytes = pg_int(r, i, 8);
		c.real_version = pg_int(r, i, 9);
		if (fn(ctx, &c) != 0)
			break;
	}
	PQclear(r);
	return ERR_OK;
}

enum err pg_recount_accounts(struct store *s,
    int (*fn)(void *ctx, const struct store_recount_account *a), void *ctx)
{
	PGresult *r = NULL;
	enum err e;
	if (pg_in_write_tx(s) && (e = pg_run(s, PG_ADMIN_LOCK_COUNTERS, NULL, NULL, "lock the counters")))
		return e;
	if ((e = pg_run(s, PG_ADMIN_RECOUNT_ACCOUNTS, NULL, &r, "recount accounts")))
		return e;
	struct store_recount_account a;
	for (int i = 0, n = PQntuples(r); i < n; i++) {
		memset(&a, 0, sizeof a);
		a.id = pg_int(r, i, 0);
		pg_text(r, i, 1, a.username, sizeof a.username);
		a.usage_bytes = pg_int(r, i, 2);
		a.usage_records = pg_int(r, i, 3);
		a.real_bytes = pg_int(r, i, 4);
		a.real_records = pg_int(r, i, 5);
		if (fn(ctx, &a) != 0)
			break;
	}
	PQclear(r);
	return ERR_OK;
}

enum err pg_collection_set_counters(struct store *s, int64_t id, int64_t records, int64_t bytes, int64_t version)
{
	struct pg_args a = {0};
	pg_arg_int(&a, id);
	pg_arg_int(&a, records);
	pg_arg_int(&a, bytes);
	pg_arg_int(&a, version);
	return pg_one_change(s, PG_ADMIN_COLLECTION_SET_COUNTERS, &a, ERR_NOT_FOUND, "collection set counters");
}

enum err pg_account_set_usage(struct store *s, int64_t id, int64_t bytes, int64_t records)
{
	struct pg_args a = {0};
	pg_arg_int(&a, id);
	pg_arg_int(&a, bytes);
	pg_arg_int(&a, records);
	return pg_one_change(s, PG_ADMIN_ACCOUNT_SET_USAGE, &a, ERR_NOT_FOUND, "account set usage");
}

/* ---- purge ---- */

/* One purge batch of a row kind: $1 the time bound, $2 the batch size; *n removed. */
static enum err purge_rows(struct store *s, enum pgstmt id, int64_t bound, int64_t limit, int64_t *n, const char *what)
{
	struct pg_args a = {0};
	pg_arg_int(&a, bound);
	pg_arg_int(&a, limit);
	return pg_changes(s, id, &a, n, what);
}

enum err pg_purge_tokens(struct store *s, int64_t now, int64_t limit, int64_t *n)
{
	return purge_rows(s, PG_PURGE_TOKENS, now, limit, n, "purge tokens");
}

enum err pg_purge_invites(struct store *s, int64_t now, int64_t limit, int64_t *n)
{
	return purge_rows(s, PG_PURGE_INVITES, now, limit, n, "purge invites");
}

enum err pg_purge_events(struct store *s, int64_t before, int64_t limit, int64_t *n)
{
	return purge_rows(s, PG_PURGE_EVENTS, before, limit, n, "purge events");
}

enum err pg_purge_slots(struct store *s, int64_t before, int64_t limit, int64_t *n)
{
	return purge_rows(s, PG_PURGE_SLOTS, before, limit, n, "purge slots");
}

/*
 * As store_admin.c's reversion_below: the records left at or below the new
 * horizon get versions above the collection's, and the collection's
 * version follows, so that no cursor handed out from 0 is below it.
 */
static enum err reversion_below(struct store *s, int64_t collection_id, int64_t horizon)
{
	struct pg_args a = {0};
	PGresult *r = NULL;
	pg_arg_int(&a, collection_id);
	pg_arg_int(&a, horizon);
	enum err e = pg_one_row(s, PG_PURGE_REVERSION_SCAN, &a, &r, "purge reversion scan");
	if (e)
		return e == ERR_NOT_FOUND ? ERR_INTERNAL : e;
	int64_t cv = pg_int(r, 0, 0), top = pg_int(r, 0, 1);
	PQclear(r);
	if (top == 0)
		return ERR_OK;
	struct pg_args b = {0};
	pg_arg_int(&b, collection_id);
	pg_arg_int(&b, horizon);
	pg_arg_int(&b, cv);
	if ((e = pg_run(s, PG_PURGE_REVERSION, &b, NULL, "purge reversion")))
		return e;
	struct pg_args c = {0};
	pg_arg_int(&c, collection_id);
	pg_arg_int(&c, cv + top);
	return pg_run(s, PG_PURGE_REVERSION_COLLECTION, &c, NULL, "purge reversion collection");
}

/*
 * Purge the old tombstones of one collection of account_id, under the
 * account's and the collection's row locks (a push in between waits, and
 * one that came first is seen). Adds to *out.
 */
static enum err purge_collection(struct store *s, int64_t collection_id, int64_t account_id, int64_t before,
    struct store_purged_tombstones *out)
{
	PGresult *r = NULL;
	struct pg_args a = {0};
	pg_arg_int(&a, collection_id);
	pg_arg_int(&a, account_id);
	enum err e = pg_one_row(s, PG_PURGE_COLLECTION_LOCK, &a, &r, "purge lock");
	PQclear(r);
	r = NULL;
	if (e == ERR_NOT_FOUND)
		return ERR_OK; /* deleted meanwhile */
	if (e)
		return e;
	struct pg_args c = {0};
	pg_arg_int(&c, collection_id);
	pg_arg_int(&c, before);
	if ((e = pg_one_row(s, PG_PURGE_TOMBSTONE_STAT, &c, &r, "purge tombstones scan")))
		return e == ERR_NOT_FOUND ? ERR_INTERNAL : e;
	int64_t max_version = pg_int(r, 0, 0), count = pg_int(r, 0, 1), bytes = pg_int(r, 0, 2);
	PQclear(r);
	if (count == 0)
		return ERR_OK; /* a push rewrote them meanwhile */
	int64_t n = 0;
	if ((e = pg_run(s, PG_PURGE_TOMBSTONE_HISTORY, &c, NULL, "purge tombstones history")) ||
	    (e = pg_changes(s, PG_PURGE_TOMBSTONE_RECORDS, &c, &n, "purge tombstones")))
		return e;
	struct pg_args u = {0};
	pg_arg_int(&u, collection_id);
	pg_arg_int(&u, bytes);
	pg_arg_int(&u, max_version);
	if ((e = pg_one_change(s, PG_PURGE_TOMBSTONE_COLLECTION, &u, ERR_INTERNAL, "purge tombstones collection")) ||
	    (e = reversion_below(s, collection_id, max_version)))
		return e;
	/* the account gives the bytes back and its account_version moves */
	if ((e = pg_account_usage_add(s, account_id, -bytes, 0)))
		return e == ERR_NOT_FOUND ? ERR_INTERNAL : e;
	out->tombstones += n;
	out->collections++;
	out->bytes += bytes;
	return ERR_OK;
}

enum err pg_purge_tombstones(struct store *s, int64_t before, int64_t limit, struct store_purged_tombstones *out)
{
	PGresult *r = NULL;
	struct pg_args a = {0};
	memset(out, 0, sizeof *out);
	pg_arg_int(&a, before);
	pg_arg_int(&a, limit);
	enum err e = pg_run(s, PG_PURGE_TOMBSTONE_SCAN, &a, &r, "purge tombstones find");
	if (e)
		return e;
	/* the candidates are read whole (at most `limit`); each is locked and read again */
	for (int i = 0, n = PQntuples(r); e == ERR_OK && i < n; i++)
		e = purge_collection(s, pg_int(r, i, 0), pg_int(r, i, 1), before, out);
	PQclear(r);
	return e;
}

/* ---- blindsync-admin: invites, sessions, stats ---- */

enum err pg_invite_revoke(struct store *s, int64_t id)
{
	PGresult *r = NULL;
	struct pg_args a = {0};
	pg_arg_int(&a, id);
	enum err e = pg_one_row(s, PG_ADMIN_INVITE_STATE, &a, &r, "invite state");
	if (e)
		return e;
	int used = pg_int(r, 0, 0) != 0;
	PQclear(r);
	if (used)
		return ERR_CONFLICT;
	return pg_one_change(s, PG_ADMIN_INVITE_REVOKE, &a, ERR_NOT_FOUND, "invite revoke");
}

enum err pg_session_revoke_account(struct store *s, int64_t account_id, int64_t *devices, int64_t *tokens)
{
	struct pg_args a = {0};
	*devices = *tokens = 0;
	pg_arg_int(&a, account_id);
	/* the tokens first, to count them: the devices' cascade would take them uncounted */
	enum err e = pg_changes(s, PG_TOKEN_DELETE_ACCOUNT, &a, tokens, "revoke tokens");
	return e ? e : pg_changes(s, PG_ADMIN_DEVICE_DELETE_ACCOUNT, &a, devices, "revoke devices");
}

enum err pg_collections_total(struct store *s, int64_t *n)
{
	PGresult *r = NULL;
	enum err e = pg_one_row(s, PG_ADMIN_COLLECTIONS_TOTAL, NULL, &r, "collections total");
	*n = e ? 0 : pg_int(r, 0, 0);
	PQclear(r);
	return e;
}

enum err pg_top_accounts(struct store *s, int64_t limit,
    int (*fn)(void *ctx, const char *username, int64_t bytes, int64_t records), void *ctx)
{
	PGresult *r = NULL;
	struct pg_args a = {0};
	char name[STORE_USERNAME_MAX + 1];
	pg_arg_int(&a, limit);
	enum err e = pg_run(s, PG_ADMIN_TOP_ACCOUNTS, &a, &r, "top accounts");
	if (e)
		return e;
	for (int i = 0, n = PQntuples(r); i < n; i++) {
		pg_text(r, i, 0, name, sizeof name);
		if (fn(ctx, name, pg_int(r, i, 1), pg_int(r, i, 2)) != 0)
			break;
	}
	PQclear(r);
	return ERR_OK;
}
