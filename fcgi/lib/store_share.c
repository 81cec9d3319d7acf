/*
 * store_share.c: sharing a collection between accounts (store.h,
 * "sharing"), SQLite's implementations (lite_keys_*, lite_member_*,
 * lite_share_*, lite_invitation_*, lite_grant_*, reached through
 * store_ops.h). Part of the store module. Keys, sealed grants and
 * signatures are opaque bytes: bound and returned, never looked into.
 * Callers (share.c, sync.c) compose these inside store_tx()/store_read().
 *
 * Must never: return or count an expired invitation, loop over members
 * with one statement each where one statement does (the account_version
 * bumps), or log a bound value.
 */
#include <string.h>

#include "store_impl.h"
#include "store_ops.h"

/* Copy a blob column of exactly n bytes into dst; 0, or -1 when its length differs. */
static int col_fixed(sqlite3_stmt *st, int i, uint8_t *dst, size_t n)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL || (size_t)sqlite3_column_bytes(st, i) != n)
		return -1;
	memcpy(dst, sqlite3_column_blob(st, i), n);
	return 0;
}

enum err lite_keys_put(struct store *s, int64_t account_id, const struct store_keys *k, int64_t now, int *changed)
{
	struct store_keys old;
	enum err e = lite_keys_get(s, account_id, &old);
	if (e && e != ERR_NOT_FOUND)
		return e;
	*changed = e == ERR_NOT_FOUND || memcmp(&old, k, sizeof old) != 0;
	if (!*changed)
		return ERR_OK;
	sqlite3_stmt *st = store_stmt(s, STMT_KEYS_PUT);
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_blob(st, 2, k->x25519, STORE_KEY_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, k->ed25519, STORE_KEY_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	return store_exec(s, st, "keys put");
}

enum err lite_keys_get(struct store *s, int64_t account_id, struct store_keys *k)
{
	sqlite3_stmt *st = store_stmt(s, STMT_KEYS_GET);
	sqlite3_bind_int64(st, 1, account_id);
	enum err e = store_one_row(s, st, "keys get");
	if (e == ERR_OK && (col_fixed(st, 0, k->x25519, STORE_KEY_LEN) || col_fixed(st, 1, k->ed25519, STORE_KEY_LEN)))
		e = ERR_NOT_FOUND; /* never written by us: treated as none */
	sqlite3_reset(st);
	return e;
}

enum err lite_member_role(struct store *s, int64_t collection_id, int64_t account_id, int *role)
{
	sqlite3_stmt *st = store_stmt(s, STMT_MEMBER_ROLE);
	sqlite3_bind_int64(st, 1, collection_id);
	sqlite3_bind_int64(st, 2, account_id);
	enum err e = store_one_row(s, st, "member role");
	if (e == ERR_OK)
		*role = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return e;
}

enum err lite_member_list(struct store *s, int64_t collection_id,
    int (*fn)(void *ctx, const struct store_member *m), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, STMT_MEMBER_LIST);
	sqlite3_bind_int64(st, 1, collection_id);
	struct store_member m;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&m, 0, sizeof m);
		m.account_id = sqlite3_column_int64(st, 0);
		store_col_text(st, 1, m.username, sizeof m.username);
		m.role = sqlite3_column_int(st, 2);
		m.joined_at = sqlite3_column_int64(st, 3);
		if (fn(ctx, &m) != 0)
			break;
	}
	return store_rows_end(s, st, rc, "member list");
}

enum err lite_member_count(struct store *s, int64_t collection_id, int64_t *n)
{
	sqlite3_stmt *st = store_stmt(s, STMT_MEMBER_COUNT);
	sqlite3_bind_int64(st, 1, collection_id);
	enum err e = store_one_row(s, st, "member count");
	if (e == ERR_OK)
		*n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return e;
}

enum err lite_member_put(struct store *s, int64_t collection_id, int64_t account_id, int role, int64_t now)
{
	sqlite3_stmt *st = store_stmt(s, STMT_MEMBER_PUT);
	sqlite3_bind_int64(st, 1, collection_id);
	sqlite3_bind_int64(st, 2, account_id);
	sqlite3_bind_int(st, 3, role);
	sqlite3_bind_int64(st, 4, now);
	return store_exec(s, st, "member put");
}

enum err lite_member_delete(struct store *s, int64_t collection_id, int64_t account_id)
{
	sqlite3_stmt *st = store_stmt(s, STMT_MEMBER_DELETE);
	sqlite3_bind_int64(st, 1, collection_id);
	sqlite3_bind_int64(st, 2, account_id);
	enum err e = store_one_change(s, st, ERR_NOT_FOUND, "member delete");
	if (e)
		return e;
	st = store_stmt(s, STMT_MEMBER_GRANTS_DELETE);
	sqlite3_bind_int64(st, 1, collection_id);
	sqlite3_bind_int64(st, 2, account_id);
	if ((e = store_exec(s, st, "member grants delete")))
		return e;
	return lite_share_rotate_due(s, collection_id);
}

enum err lite_share_rotate_due(struct store *s, int64_t collection_id)
{
	sqlite3_stmt *st = store_stmt(s, STMT_SHARE_ROTATE_DUE);
	sqlite3_bind_int64(st, 1, collection_id);
	return store_one_change(s, st, ERR_NOT_FOUND, "rotate due");
}

enum err lite_shared_list(struct store *s, int64_t account_id,
    int (*fn)(void *ctx, const struct store_collection *c, const char *owner, int role), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, STMT_SHARED_LIST);
	sqlite3_bind_int64(st, 1, account_id);
	struct store_collection c;
	char owner[STORE_USERNAME_MAX + 1];
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		store_read_collection_meta(st, &c);
		store_col_text(st, 13, owner, sizeof owner);
		if (fn(ctx, &c, owner, sqlite3_column_int(st, 14)) != 0)
			break;
	}
	return store_rows_end(s, st, rc, "shared list");
}

enum err lite_share_members_bump(struct store *s, int64_t collection_id, int64_t *version)
{
	sqlite3_stmt *st = store_stmt(s, STMT_SHARE_MEMBERS_BUMP);
	sqlite3_bind_int64(st, 1, collection_id);
	int64_t v = -1;
	enum err e = store_returning_int(s, st, &v, "members bump");
	if (e == ERR_OK && v < 0)
		e = ERR_NOT_FOUND;
	if (e == ERR_OK)
		*version = v;
	return e;
}

enum err lite_share_rotate_mark(struct store *s, int64_t collection_id, int64_t expected_members_version,
    int64_t expected_key_version, int64_t *members_version)
{
	sqlite3_stmt *st = store_stmt(s, STMT_SHARE_ROTATE_MARK);
	sqlite3_bind_int64(st, 1, collection_id);
	sqlite3_bind_int64(st, 2, expected_members_version);
	sqlite3_bind_int64(st, 3, expected_key_version);
	int64_t v = -1;
	enum err e = store_returning_int(s, st, &v, "rotate mark");
	if (e)
		return e;
	if (v >= 0) {
		*members_version = v;
		return ERR_OK;
	}
	/* stale: say what it is now */
	st = store_stmt(s, STMT_SHARE_MEMBERS_VERSION);
	sqlite3_bind_int64(st, 1, collection_id);
	e = store_one_row(s, st, "members version");
	if (e == ERR_OK) {
		*members_version = sqlite3_column_int64(st, 0);
		e = ERR_PRECONDITION_FAILED;
	}
	sqlite3_reset(st);
	return e;
}

/* Step st (one account id per row) and call fn with each; fn may be NULL. */
static enum err each_id(struct store *s, sqlite3_stmt *st, int (*fn)(void *ctx, int64_t id), void *ctx,
    const char *what)
{
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (fn && fn(ctx, sqlite3_column_int64(st, 0)) != 0)
			break;
	return store_rows_end(s, st, rc, what);
}

enum err lite_share_accounts_bump(struct store *s, int64_t collection_id,
    int (*fn)(void *ctx, int64_t account_id), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, STMT_SHARE_ACCOUNTS_BUMP);
	sqlite3_bind_int64(st, 1, collection_id);
	enum err e = store_exec(s, st, "members accounts bump");
	if (e || !fn)
		return e;
	st = store_stmt(s, STMT_SHARE_MEMBER_IDS);
	sqlite3_bind_int64(st, 1, collection_id);
	return each_id(s, st, fn, ctx, "member ids");
}

enum err lite_share_account_peers(struct store *s, int64_t account_id,
    int (*fn)(void *ctx, int64_t account_id), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, STMT_SHARE_PEERS_BUMP);
	sqlite3_bind_int64(st, 1, account_id);
	enum err e = store_exec(s, st, "peers bump");
	if (e)
		return e;
	st = store_stmt(s, STMT_SHARE_PEERS_MEMBERS_BUMP);
	sqlite3_bind_int64(st, 1, account_id);
	if ((e = store_exec(s, st, "peers members bump")) || !fn)
		return e;
	st = store_stmt(s, STMT_SHARE_PEER_IDS);
	sqlite3_bind_int64(st, 1, account_id);
	return each_id(s, st, fn, ctx, "peer ids");
}

enum err lite_invitation_insert(struct store *s, struct store_invitation *i)
{
	sqlite3_stmt *st = store_stmt(s, STMT_INVITATION_PRUNE_PAIR);
	sqlite3_bind_int64(st, 1, i->collection_id);
	sqlite3_bind_int64(st, 2, i->to_id);
	sqlite3_bind_int64(st, 3, i->created_at);
	enum err e = store_exec(s, st, "invitation prune");
	if (e)
		return e;
	st = store_stmt(s, STMT_INVITATION_INSERT);
	sqlite3_bind_text(st, 1, i->public_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, i->collection_id);
	sqlite3_bind_int64(st, 3, i->from_id);
	sqlite3_bind_int64(st, 4, i->to_id);
	sqlite3_bind_int(st, 5, i->role);
	sqlite3_bind_int64(st, 6, i->key_version);
	sqlite3_bind_blob64(st, 7, i->sealed, i->sealed_len, SQLITE_STATIC);
	sqlite3_bind_blob64(st, 8, i->signature, i->signature_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, i->created_at);
	sqlite3_bind_int64(st, 10, i->expires_at);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_CONSTRAINT)
		return ERR_CONFLICT; /* a pending one for the pair (or, never in practice, the same public id) */
	if (rc != SQLITE_DONE)
		return store_sqlite_err(s, rc, "invitation insert");
	i->id = sqlite3_last_insert_rowid(s->db);
	return ERR_OK;
}

/* Fill *i from a row of INV_COLS (stmt.c); the blobs point into st. */
static void read_invitation(sqlite3_stmt *st, struct store_invitation *i)
{
	memset(i, 0, sizeof *i);
	i->id = sqlite3_column_int64(st, 0);
	store_col_text(st, 1, i->public_id, sizeof i->public_id);
	i->collection_id = sqlite3_column_int64(st, 2);
	store_col_text(st, 3, i->collection, sizeof i->collection);
	i->owner_id = sqlite3_column_int64(st, 4);
	store_col_text(st, 5, i->owner, sizeof i->owner);
	i->from_id = sqlite3_column_int64(st, 6);
	store_col_text(st, 7, i->from, sizeof i->from);
	i->from_has_keys = col_fixed(st, 8, i->from_keys.x25519, STORE_KEY_LEN) == 0 &&
	    col_fixed(st, 9, i->from_keys.ed25519, STORE_KEY_LEN) == 0;
	i->to_id = sqlite3_column_int64(st, 10);
	store_col_text(st, 11, i->to, sizeof i->to);
	i->role = sqlite3_column_int(st, 12);
	i->key_version = sqlite3_column_int64(st, 13);
	i->sealed = sqlite3_column_blob(st, 14);
	i->sealed_len = (size_t)sqlite3_column_bytes(st, 14);
	i->signature = sqlite3_column_blob(st, 15);
	i->signature_len = (size_t)sqlite3_column_bytes(st, 15);
	i->created_at = sqlite3_column_int64(st, 16);
	i->expires_at = sqlite3_column_int64(st, 17);
}

/* Step st (rows of INV_COLS), calling fn with each; *count rows seen. */
static enum err walk_invitations(struct store *s, sqlite3_stmt *st,
    int (*fn)(void *ctx, const struct store_invitation *i), void *ctx, int *count, const char *what)
{
	struct store_invitation i;
	int rc;
	*count = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_invitation(st, &i);
		(*count)++;
		if (fn(ctx, &i) != 0)
			break;
	}
	return store_rows_end(s, st, rc, what);
}

enum err lite_invitation_get(struct store *s, const char *public_id, int64_t now,
    int (*fn)(void *ctx, const struct store_invitation *i), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, STMT_INVITATION_GET);
	sqlite3_bind_text(st, 1, public_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	int n;
	enum err e = walk_invitations(s, st, fn, ctx, &n, "invitation get");
	return e ? e : n ? ERR_OK : ERR_NOT_FOUND;
}

enum err lite_invitation_list_to(struct store *s, int64_t to_id, int64_t now,
    int (*fn)(void *ctx, const struct store_invitation *i), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, STMT_INVITATION_LIST_TO);
	sqlite3_bind_int64(st, 1, to_id);
	sqlite3_bind_int64(st, 2, now);
	int n;
	return walk_invitations(s, st, fn, ctx, &n, "invitation list to");
}

enum err lite_invitation_list_collection(struct store *s, int64_t collection_id, int64_t now,
    int (*fn)(void *ctx, const struct store_invitation *i), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, STMT_INVITATION_LIST_COLLECTION);
	sqlite3_bind_int64(st, 1, collection_id);
	sqlite3_bind_int64(st, 2, now);
	int n;
	return walk_invitations(s, st, fn, ctx, &n, "invitation list collection");
}

enum err lite_invitation_list_expired(struct store *s, int64_t now, int64_t limit,
    int (*fn)(void *ctx, const struct store_invitation *i), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, STMT_INVITATION_LIST_EXPIRED);
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, limit);
	int n;
	return walk_invitations(s, st, fn, ctx, &n, "invitation list expired");
}

enum err lite_invitation_count_from(struct store *s, int64_t from_id, int64_t now, int64_t *n)
{
	sqlite3_stmt *st = store_stmt(s, STMT_INVITATION_COUNT_FROM);
	sqlite3_bind_int64(st, 1, from_id);
	sqlite3_bind_int64(st, 2, now);
	enum err e = store_one_row(s, st, "invitation count");
	if (e == ERR_OK)
		*n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return e;
}

enum err lite_invitation_pending(struct store *s, int64_t collection_id, int64_t to_id, int64_t now, int *pending)
{
	sqlite3_stmt *st = store_stmt(s, STMT_INVITATION_PENDING);
	sqlite3_bind_int64(st, 1, collection_id);
	sqlite3_bind_int64(st, 2, to_id);
	sqlite3_bind_int64(st, 3, now);
	enum err e = store_one_row(s, st, "invitation pending");
	sqlite3_reset(st);
	*pending = e == ERR_OK;
	return e == ERR_NOT_FOUND ? ERR_OK : e;
}

enum err lite_invitation_delete(struct store *s, int64_t id)
{
	sqlite3_stmt *st = store_stmt(s, STMT_INVITATION_DELETE);
	sqlite3_bind_int64(st, 1, id);
	return store_one_change(s, st, ERR_NOT_FOUND, "invitation delete");
}

enum err lite_invitation_regrant(struct store *s, int64_t id, int64_t key_version, const uint8_t *sealed,
    size_t sealed_len, const uint8_t *signature, size_t signature_len)
{
	sqlite3_stmt *st = store_stmt(s, STMT_INVITATION_REGRANT);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, key_version);
	sqlite3_bind_blob64(st, 3, sealed, sealed_len, SQLITE_STATIC);
	sqlite3_bind_blob64(st, 4, signature, signature_len, SQLITE_STATIC);
	return store_one_change(s, st, ERR_NOT_FOUND, "invitation regrant");
}

enum err lite_grant_put(struct store *s, const struct store_grant *g)
{
	sqlite3_stmt *st = store_stmt(s, STMT_GRANT_PUT);
	sqlite3_bind_int64(st, 1, g->collection_id);
	sqlite3_bind_int64(st, 2, g->account_id);
	sqlite3_bind_int64(st, 3, g->key_version);
	sqlite3_bind_text(st, 4, g->from, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, g->from_keys.x25519, STORE_KEY_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 6, g->from_keys.ed25519, STORE_KEY_LEN, SQLITE_STATIC);
	sqlite3_bind_blob64(st, 7, g->sealed, g->sealed_len, SQLITE_STATIC);
	sqlite3_bind_blob64(st, 8, g->signature, g->signature_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, g->created_at);
	return store_exec(s, st, "grant put");
}

enum err lite_grant_get(struct store *s, int64_t collection_id, int64_t account_id, int64_t key_version,
    int (*fn)(void *ctx, const struct store_grant *g), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, key_version > 0 ? STMT_GRANT_GET : STMT_GRANT_GET_NEWEST);
	sqlite3_bind_int64(st, 1, collection_id);
	sqlite3_bind_int64(st, 2, account_id);
	if (key_version > 0)
		sqlite3_bind_int64(st, 3, key_version);
	enum err e = store_one_row(s, st, "grant get");
	if (e == ERR_OK) {
		struct store_grant g;
		memset(&g, 0, sizeof g);
		g.collection_id = sqlite3_column_int64(st, 0);
		g.account_id = sqlite3_column_int64(st, 1);
		g.key_version = sqlite3_column_int64(st, 2);
		store_col_text(st, 3, g.from, sizeof g.from);
		if (col_fixed(st, 4, g.from_keys.x25519, STORE_KEY_LEN) || col_fixed(st, 5, g.from_keys.ed25519, STORE_KEY_LEN))
			e = store_sqlite_err(s, SQLITE_CORRUPT, "grant keys");
		else {
			g.sealed = sqlite3_column_blob(st, 6);
			g.sealed_len = (size_t)sqlite3_column_bytes(st, 6);
			g.signature = sqlite3_column_blob(st, 7);
			g.signature_len = (size_t)sqlite3_column_bytes(st, 7);
			g.created_at = sqlite3_column_int64(st, 8);
			fn(ctx, &g);
		}
	}
	sqlite3_reset(st);
	return e;
}
