/*
 * store_pg_share.c: sharing a collection between accounts on PostgreSQL
 * (store.h, "sharing"), the counterpart of store_share.c: public keys,
 * members, invitations, grants, and the counters and accounts a change of
 * them concerns. The helpers (pg_run, pg_args, the column readers) are in
 * store_pg_impl.h, the SQL in stmt_pg.c (PG_KEYS_* ... PG_GRANT_*).
 *
 * What SQLite's single writer gives for free is had here with row locks,
 * in the order every writer of a collection takes them (store_pg_impl.h:
 * account, then collection):
 * - a collection's membership version and key version change only under
 *   its row lock, taken after its owner's account row
 *   (store_share_members_bump, store_share_rotate_mark; and inside a write
 *   transaction store_invitation_get takes both before it reads the
 *   invitation, so that an acceptance or a withdrawal follows a rotation
 *   in progress instead of reading the invitation it is replacing). A
 *   rotation's expected versions are re-checked under that lock: of a
 *   rotation and a concurrent invitation, exactly one commits first, and a
 *   rotation that comes second changes nothing (ERR_PRECONDITION_FAILED,
 *   412), an invitation that comes second finds the new key version;
 * - store_share_accounts_bump bumps every member's account_version in one
 *   statement, in ascending id order, and not in their accounts rows: in
 *   share_bumps, which account_version is read with (stmt_pg.c,
 *   ACCOUNT_VERSION). A push holds its owner's accounts row to its commit
 *   (the quota); were members' accounts rows bumped, two accounts that
 *   each are a member of the other's collection, pushing at once, would
 *   wait for each other (a deadlock, broken after deadlock_timeout: a
 *   second lost per push). share_bumps rows are taken after any accounts
 *   row and in one order, so pushes never wait in a cycle;
 * - the pending invitations an account has sent are counted under an
 *   advisory lock of the inviter (store_invitation_count_from inside a
 *   write transaction): two invitations to two collections cannot both
 *   pass the limit, on any node.
 *
 * Must never: build SQL from input, open or log a key, a sealed grant or a
 * signature (they are opaque bytes here), or let a conflict abort the
 * caller's transaction (a pending invitation returns no row: ON CONFLICT
 * DO NOTHING).
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "store_pg_impl.h"

/* ---- keys ---- */

enum err pg_keys_put(struct store *s, int64_t account_id, const struct store_keys *k, int64_t now, int *changed)
{
	struct pg_args a = {0};
	pg_arg_int(&a, account_id);
	pg_arg_bytes(&a, k->x25519, STORE_KEY_LEN);
	pg_arg_bytes(&a, k->ed25519, STORE_KEY_LEN);
	pg_arg_int(&a, now);
	PGresult *r = NULL;
	*changed = 0;
	enum err e = pg_run(s, PG_KEYS_PUT, &a, &r, "keys put");
	if (e == ERR_OK)
		*changed = PQntuples(r) > 0;
	PQclear(r);
	return e;
}

enum err pg_keys_get(struct store *s, int64_t account_id, struct store_keys *k)
{
	struct pg_args a = {0};
	pg_arg_int(&a, account_id);
	PGresult *r = NULL;
	memset(k, 0, sizeof *k);
	enum err e = pg_one_row(s, PG_KEYS_GET, &a, &r, "keys get");
	if (e == ERR_OK && (pg_bytes_fixed(r, 0, 0, k->x25519, STORE_KEY_LEN) != 0 ||
	                       pg_bytes_fixed(r, 0, 1, k->ed25519, STORE_KEY_LEN) != 0)) {
		log_msg(LOG_ERROR, "store: keys get: a stored key has the wrong length");
		e = ERR_INTERNAL;
	}
	PQclear(r);
	return e;
}

/* ---- members ---- */

enum err pg_member_role(struct store *s, int64_t collection_id, int64_t account_id, int *role)
{
	struct pg_args a = {0};
	pg_arg_int(&a, collection_id);
	pg_arg_int(&a, account_id);
	PGresult *r = NULL;
	*role = STORE_ROLE_NONE;
	enum err e = pg_one_row(s, PG_MEMBER_ROLE, &a, &r, "member role");
	if (e == ERR_OK)
		*role = (int)pg_int(r, 0, 0);
	PQclear(r);
	return e;
}

enum err pg_member_list(struct store *s, int64_t collection_id,
    int (*fn)(void *ctx, const struct store_member *m), void *ctx)
{
	struct pg_args a = {0};
	pg_arg_int(&a, collection_id);
	PGresult *r = NULL;
	/* members are few (sharing.max_members bounds them): one result */
	enum err e = pg_run(s, PG_MEMBER_LIST, &a, &r, "member list");
	if (e)
		return e;
	struct store_member m;
	for (int i = 0, n = PQntuples(r); i < n; i++) {
		memset(&m, 0, sizeof m);
		m.account_id = pg_int(r, i, 0);
		pg_text(r, i, 1, m.username, sizeof m.username);
		m.role = (int)pg_int(r, i, 2);
		m.joined_at = pg_int(r, i, 3);
		if (fn(ctx, &m) != 0)
			break;
	}
	PQclear(r);
	return ERR_OK;
}

enum err pg_member_count(struct store *s, int64_t collection_id, int64_t *n)
{
	struct pg_args a = {0};
	pg_arg_int(&a, collection_id);
	return pg_count(s, PG_MEMBER_COUNT, &a, n, "member count");
}

enum err pg_member_put(struct store *s, int64_t collection_id, int64_t account_id, int role, int64_t now)
{
	struct pg_args a = {0};
	pg_arg_int(&a, collection_id);
	pg_arg_int(&a, account_id);
	pg_arg_int(&a, role);
	pg_arg_int(&a, now);
	return pg_run(s, PG_MEMBER_PUT, &a, NULL, "member put");
}

enum err pg_member_delete(struct store *s, int64_t collection_id, int64_t account_id)
{
	struct pg_args a = {0};
	pg_arg_int(&a, collection_id);
	pg_arg_int(&a, account_id);
	int64_t n = 0;
	enum err e = pg_count(s, PG_MEMBER_DELETE, &a, &n, "member delete");
	return e ? e : n == 1 ? ERR_OK : ERR_NOT_FOUND;
}

enum err pg_shared_list(struct store *s, int64_t account_id,
    int (*fn)(void *ctx, const struct store_collection *c, const char *owner, int role), void *ctx)
{
	struct pg_args a = {0};
	pg_arg_int(&a, account_id);
	PGresult *r = NULL;
	enum err e = pg_run(s, PG_SHARED_LIST, &a, &r, "shared list");
	if (e)
		return e;
	struct store_collection c;
	char owner[STORE_USERNAME_MAX + 1];
	for (int i = 0, n = PQntuples(r); i < n; i++) {
		pg_read_collection_meta(r, i, &c);
		pg_text(r, i, 13, owner, sizeof owner);
		if (fn(ctx, &c, owner, (int)pg_int(r, i, 14)) != 0)
			break;
	}
	PQclear(r);
	return ERR_OK;
}

/* ---- the collection's counters, and the accounts a change concerns ---- */

enum err pg_share_members_bump(struct store *s, int64_t collection_id, int64_t *version)
{
	struct pg_args a = {0};
	pg_arg_int(&a, collection_id);
	PGresult *r = NULL;
	enum err e = pg_one_row(s, PG_SHARE_MEMBERS_BUMP, &a, &r, "members bump");
	*version = e == ERR_OK ? pg_int(r, 0, 0) : 0;
	PQclear(r);
	return e;
}

enum err pg_share_rotate_due(struct store *s, int64_t collection_id)
{
	struct pg_args a = {0};
	pg_arg_int(&a, collection_id);
	int64_t n = 0;
	enum err e = pg_changes(s, PG_SHARE_ROTATE_DUE, &a, &n, "rotate due");
	return e ? e : n == 1 ? ERR_OK : ERR_NOT_FOUND;
}

enum err pg_share_rotate_mark(struct store *s, int64_t collection_id, int64_t expected_members_version,
    int64_t expected_key_version, int64_t *members_version)
{
	struct pg_args a = {0};
	pg_arg_int(&a, collection_id);
	pg_arg_int(&a, expected_members_version);
	pg_arg_int(&a, expected_key_version);
	PGresult *r = NULL;
	*members_version = 0;
	/* the row locked, its versions compared and moved on, in one statement */
	enum err e = pg_one_row(s, PG_SHARE_ROTATE_MARK, &a, &r, "rotate mark");
	if (e == ERR_OK) {
		*members_version = pg_int(r, 0, 0);
		PQclear(r);
		return ERR_OK;
	}
	if (e != ERR_NOT_FOUND)
		return e;
	/* stale (the row is locked by us now: this reads what made it so), or gone */
	struct pg_args b = {0};
	pg_arg_int(&b, collection_id);
	e = pg_one_row(s, PG_SHARE_MEMBERS_VERSION, &b, &r, "members version");
	if (e == ERR_OK)
		*members_version = pg_int(r, 0, 0);
	PQclear(r);
	return e == ERR_OK ? ERR_PRECONDITION_FAILED : e;
}

/* Run a statement whose rows are account ids, and call fn (may be NULL) with each. */
static enum err each_account(struct store *s, enum pgstmt id, int64_t arg, int (*fn)(void *ctx, int64_t account_id),
    void *ctx, const char *what)
{
	struct pg_args a = {0};
	pg_arg_int(&a, arg);
	PGresult *r = NULL;
	enum err e = pg_run(s, id, &a, &r, what);
	if (e)
		return e;
	pg_rows_each(r, fn, ctx);
	PQclear(r);
	return ERR_OK;
}

enum err pg_share_accounts_bump(struct store *s, int64_t collection_id,
    int (*fn)(void *ctx, int64_t account_id), void *ctx)
{
	/* a push's last write: sent without waiting, its members (whom to wake
	 * after the commit) read with the COMMIT's answer */
	if (pg_batch_tail_bump(s, collection_id, fn, ctx))
		return ERR_OK; /* the last part of the push's one statement of writes */
	struct pg_args a = {0};
	pg_arg_int(&a, collection_id);
	return pg_run_deferred_rows(s, PG_SHARE_ACCOUNTS_BUMP, &a, fn, ctx, "accounts bump");
}

enum err pg_share_account_peers(struct store *s, int64_t account_id,
    int (*fn)(void *ctx, int64_t account_id), void *ctx)
{
	/* the peers' account rows first (owners among them), then the
	 * collections: account, then collection, as every writer takes them */
	enum err e = each_account(s, PG_SHARE_PEERS_BUMP, account_id, fn, ctx, "peers bump");
	if (e)
		return e;
	struct pg_args a = {0};
	pg_arg_int(&a, account_id);
	return pg_run(s, PG_SHARE_PEERS_COLLECTIONS, &a, NULL, "peers collections");
}

/* ---- invitations ---- */

enum err pg_invitation_insert(struct store *s, struct store_invitation *i)
{
	struct pg_args a = {0};
	pg_arg_int(&a, i->collection_id);
	pg_arg_int(&a, i->to_id);
	pg_arg_int(&a, i->created_at);
	enum err e = pg_run(s, PG_INVITATION_EXPIRED_DELETE, &a, NULL, "invitation expired delete");
	if (e)
		return e;
	struct pg_args b = {0};
	pg_arg_text(&b, i->public_id);
	pg_arg_int(&b, i->collection_id);
	pg_arg_int(&b, i->from_id);
	pg_arg_int(&b, i->to_id);
	pg_arg_int(&b, i->role);
	pg_arg_int(&b, i->key_version);
	pg_arg_bytes(&b, i->sealed ? i->sealed : (const uint8_t *)"", i->sealed_len);
	pg_arg_bytes(&b, i->signature ? i->signature : (const uint8_t *)"", i->signature_len);
	pg_arg_int(&b, i->created_at);
	pg_arg_int(&b, i->expires_at);
	PGresult *r = NULL;
	e = pg_one_row(s, PG_INVITATION_INSERT, &b, &r, "invitation insert");
	if (e == ERR_OK)
		i->id = pg_int(r, 0, 0);
	PQclear(r);
	return e == ERR_NOT_FOUND ? ERR_CONFLICT : e;
}

/* Row `row` of an INVITATION_SELECT result (stmt_pg.c) into *i, valid until PQclear. */
static void read_invitation(const PGresult *r, int row, struct store_invitation *i)
{
	memset(i, 0, sizeof *i);
	i->id = pg_int(r, row, 0);
	pg_text(r, row, 1, i->public_id, sizeof i->public_id);
	i->collection_id = pg_int(r, row, 2);
	pg_text(r, row, 3, i->collection, sizeof i->collection);
	i->owner_id = pg_int(r, row, 4);
	pg_text(r, row, 5, i->owner, sizeof i->owner);
	i->from_id = pg_int(r, row, 6);
	pg_text(r, row, 7, i->from, sizeof i->from);
	/* the inviter may have no keys (any more): LEFT JOIN, NULLs */
	i->from_has_keys = !pg_is_null(r, row, 8) && pg_bytes_fixed(r, row, 8, i->from_keys.x25519, STORE_KEY_LEN) == 0 &&
	                   pg_bytes_fixed(r, row, 9, i->from_keys.ed25519, STORE_KEY_LEN) == 0;
	i->to_id = pg_int(r, row, 10);
	pg_text(r, row, 11, i->to, sizeof i->to);
	i->role = (int)pg_int(r, row, 12);
	i->key_version = pg_int(r, row, 13);
	i->sealed_len = pg_bytes(r, row, 14, &i->sealed);
	i->signature_len = pg_bytes(r, row, 15, &i->signature);
	i->created_at = pg_int(r, row, 16);
	i->expires_at = pg_int(r, row, 17);
}

/* Run an INVITATION_SELECT statement with (arg, now) and call fn with each row. */
static enum err each_invitation(struct store *s, enum pgstmt id, int64_t arg, int64_t now,
    int (*fn)(void *ctx, const struct store_invitation *i), void *ctx, const char *what)
{
	struct pg_args a = {0};
	pg_arg_int(&a, arg);
	pg_arg_int(&a, now);
	PGresult *r = NULL;
	/* pending invitations are bounded (sharing.max_pending_invitations,
	 * sharing.max_members): one result */
	enum err e = pg_run(s, id, &a, &r, what);
	if (e)
		return e;
	struct store_invitation i;
	for (int k = 0, n = PQntuples(r); k < n; k++) {
		read_invitation(r, k, &i);
		if (fn(ctx, &i) != 0)
			break;
	}
	PQclear(r);
	return ERR_OK;
}

enum err pg_invitation_get(struct store *s, const char *public_id, int64_t now,
    int (*fn)(void *ctx, const struct store_invitation *i), void *ctx)
{
	enum err e;
	PGresult *r = NULL;
	if (pg_in_write_tx(s)) {
		/* an acceptance, a decline or a withdrawal: the collection's owner
		 * row and its own row first, as a rotation and a push hold them;
		 * the invitation is then read as the last of them left it */
		struct pg_args a = {0};
		pg_arg_text(&a, public_id);
		if ((e = pg_one_row(s, PG_INVITATION_COLLECTION, &a, &r, "invitation collection")))
			return e;
		int64_t collection_id = pg_int(r, 0, 0);
		PQclear(r);
		r = NULL;
		struct pg_args b = {0};
		pg_arg_int(&b, collection_id);
		if ((e = pg_one_row(s, PG_SHARE_COLLECTION_LOCK, &b, &r, "invitation lock")))
			return e;
		PQclear(r);
		r = NULL;
	}
	struct pg_args c = {0};
	pg_arg_text(&c, public_id);
	pg_arg_int(&c, now);
	if ((e = pg_one_row(s, PG_INVITATION_GET, &c, &r, "invitation get")))
		return e;
	struct store_invitation i;
	read_invitation(r, 0, &i);
	fn(ctx, &i);
	PQclear(r);
	return ERR_OK;
}

enum err pg_invitation_list_to(struct store *s, int64_t to_id, int64_t now,
    int (*fn)(void *ctx, const struct store_invitation *i), void *ctx)
{
	return each_invitation(s, PG_INVITATION_LIST_TO, to_id, now, fn, ctx, "invitation list to");
}

enum err pg_invitation_list_collection(struct store *s, int64_t collection_id, int64_t now,
    int (*fn)(void *ctx, const struct store_invitation *i), void *ctx)
{
	return each_invitation(s, PG_INVITATION_LIST_COLLECTION, collection_id, now, fn, ctx,
	    "invitation list collection");
}

enum err pg_invitation_list_expired(struct store *s, int64_t now, int64_t limit,
    int (*fn)(void *ctx, const struct store_invitation *i), void *ctx)
{
	return each_invitation(s, PG_INVITATION_LIST_EXPIRED, now, limit, fn, ctx, "invitation list expired");
}

enum err pg_invitation_count_from(struct store *s, int64_t from_id, int64_t now, int64_t *n)
{
	struct pg_args a = {0};
	pg_arg_int(&a, from_id);
	*n = 0;
	/* the lock first, in a statement of its own: the count's snapshot is
	 * then taken after the previous inviter's commit */
	if (pg_in_write_tx(s)) {
		enum err e = pg_run(s, PG_INVITATION_FROM_LOCK, &a, NULL, "invitation from lock");
		if (e)
			return e;
	}
	pg_arg_int(&a, now);
	return pg_count(s, PG_INVITATION_COUNT_FROM, &a, n, "invitation count from");
}

enum err pg_invitation_pending(struct store *s, int64_t collection_id, int64_t to_id, int64_t now, int *pending)
{
	struct pg_args a = {0};
	pg_arg_int(&a, collection_id);
	pg_arg_int(&a, to_id);
	pg_arg_int(&a, now);
	int64_t n = 0;
	enum err e = pg_count(s, PG_INVITATION_PENDING, &a, &n, "invitation pending");
	*pending = n != 0;
	return e;
}

enum err pg_invitation_delete(struct store *s, int64_t id)
{
	struct pg_args a = {0};
	pg_arg_int(&a, id);
	return pg_one_change(s, PG_INVITATION_DELETE, &a, ERR_NOT_FOUND, "invitation delete");
}

enum err pg_invitation_regrant(struct store *s, int64_t id, int64_t key_version, const uint8_t *sealed,
    size_t sealed_len, const uint8_t *signature, size_t signature_len)
{
	struct pg_args a = {0};
	pg_arg_int(&a, id);
	pg_arg_int(&a, key_version);
	pg_arg_bytes(&a, sealed ? sealed : (const uint8_t *)"", sealed_len);
	pg_arg_bytes(&a, signature ? signature : (const uint8_t *)"", signature_len);
	return pg_one_change(s, PG_INVITATION_REGRANT, &a, ERR_NOT_FOUND, "invitation regrant");
}

/* ---- grants ---- */

enum err pg_grant_put(struct store *s, const struct store_grant *g)
{
	struct pg_args a = {0};
	pg_arg_int(&a, g->collection_id);
	pg_arg_int(&a, g->account_id);
	pg_arg_int(&a, g->key_version);
	pg_arg_text(&a, g->from);
	pg_arg_bytes(&a, g->from_keys.x25519, STORE_KEY_LEN);
	pg_arg_bytes(&a, g->from_keys.ed25519, STORE_KEY_LEN);
	pg_arg_bytes(&a, g->sealed ? g->sealed : (const uint8_t *)"", g->sealed_len);
	pg_arg_bytes(&a, g->signature ? g->signature : (const uint8_t *)"", g->signature_len);
	pg_arg_int(&a, g->created_at);
	return pg_run(s, PG_GRANT_PUT, &a, NULL, "grant put");
}

enum err pg_grant_get(struct store *s, int64_t collection_id, int64_t account_id, int64_t key_version,
    int (*fn)(void *ctx, const struct store_grant *g), void *ctx)
{
	struct pg_args a = {0};
	pg_arg_int(&a, collection_id);
	pg_arg_int(&a, account_id);
	pg_arg_int(&a, key_version);
	PGresult *r = NULL;
	enum err e = pg_one_row(s, PG_GRANT_GET, &a, &r, "grant get");
	if (e)
		return e;
	struct store_grant g;
	memset(&g, 0, sizeof g);
	g.collection_id = collection_id;
	g.account_id = account_id;
	g.key_version = pg_int(r, 0, 0);
	pg_text(r, 0, 1, g.from, sizeof g.from);
	if (pg_bytes_fixed(r, 0, 2, g.from_keys.x25519, STORE_KEY_LEN) != 0 ||
	    pg_bytes_fixed(r, 0, 3, g.from_keys.ed25519, STORE_KEY_LEN) != 0) {
		log_msg(LOG_ERROR, "store: grant get: a stored key has the wrong length");
		PQclear(r);
		return ERR_INTERNAL;
	}
	g.sealed_len = pg_bytes(r, 0, 4, &g.sealed);
	g.signature_len = pg_bytes(r, 0, 5, &g.signature);
	g.created_at = pg_int(r, 0, 6);
	fn(ctx, &g);
	PQclear(r);
	return ERR_OK;
}
