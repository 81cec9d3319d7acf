/*
 * share.c: sharing a collection between accounts (share.h,
 * docs/API-sharing.md) over the store's typed functions.
 *
 * Must never: let a non-member learn that a collection exists (404 as for
 * a missing one), answer before the commit, open or judge a sealed grant
 * (opaque bytes), or take locks out of the order of store.h ("sharing"):
 * the collection row first (store_share_members_bump/rotate_mark), then
 * members, invitations and grants, then accounts.
 */
#include "share.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

int share_ids_add(void *ctx, int64_t id)
{
	struct share_ids *ids = ctx;
	if (!ids)
		return 0;
	for (size_t i = 0; i < ids->n; i++)
		if (ids->v[i] == id)
			return 0;
	if (ids->n == ids->cap) {
		size_t cap = ids->cap ? ids->cap * 2 : 16;
		int64_t *v = realloc(ids->v, cap * sizeof *v);
		if (!v) {
			ids->oom = 1;
			return 0;
		}
		ids->v = v;
		ids->cap = cap;
	}
	ids->v[ids->n++] = id;
	return 0;
}

void share_ids_free(struct share_ids *ids)
{
	if (!ids)
		return;
	free(ids->v);
	memset(ids, 0, sizeof *ids);
}

/* Start again (a transaction that runs twice on PostgreSQL sets its outputs, never adds). */
static void ids_reset(struct share_ids *ids)
{
	if (ids)
		ids->n = 0;
}

static const char *const role_names[] = {"none", "read", "write", "admin", "owner"};

const char *share_role_name(int role)
{
	return role >= STORE_ROLE_NONE && role <= STORE_ROLE_OWNER ? role_names[role] : "none";
}

int share_role_parse(const char *s)
{
	for (int i = STORE_ROLE_READ; i <= STORE_ROLE_ADMIN; i++)
		if (s && strcmp(s, role_names[i]) == 0)
			return i;
	return 0;
}

/* Fill msg and return e (a 4xx with its sentence). */
static enum err fail(char *msg, enum err e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, ERR_MSG_MAX, fmt, ap);
	va_end(ap);
	return e;
}

/* The same answer for "no such collection" and "not a member". */
static enum err access_fail(char *msg, enum err e)
{
	if (e == ERR_NOT_FOUND)
		return fail(msg, e, "No such collection.");
	if (e == ERR_FORBIDDEN)
		return fail(msg, e, "Your role in this collection does not allow this.");
	return e;
}

enum err share_access(struct store *s, int64_t caller_id, const char *owner, const char *name, int need,
    struct store_collection *col, int *role)
{
	int64_t owner_id = caller_id;
	enum err e;
	if (owner) {
		struct store_account a;
		if ((e = store_account_by_name(s, owner, &a)))
			return e;
		owner_id = a.id;
	}
	if ((e = store_collection_get(s, owner_id, name, col)))
		return e;
	if (owner_id == caller_id) {
		*role = STORE_ROLE_OWNER;
		return ERR_OK;
	}
	if ((e = store_member_role(s, col->id, caller_id, role)))
		return e;
	return *role >= need ? ERR_OK : ERR_FORBIDDEN;
}

/* Bump the owner's and every member's account_version and collect them into ids. */
static enum err touch_all(struct store *s, const struct store_collection *col, struct share_ids *ids)
{
	enum err e = store_account_bump(s, col->account_id);
	if (e)
		return e;
	share_ids_add(ids, col->account_id);
	return store_share_accounts_bump(s, col->id, share_ids_add, ids);
}

enum err share_touch(struct store *s, int64_t collection_id, struct share_ids *ids)
{
	return store_share_accounts_bump(s, collection_id, ids ? share_ids_add : NULL, ids);
}

/* ---- keys ---- */

struct keys_ctx {
	int64_t account_id;
	const struct store_keys *k;
	const char *device;
	int64_t now;
};

static enum err keys_tx(struct store *s, void *arg)
{
	struct keys_ctx *x = arg;
	int changed = 0;
	enum err e = store_keys_put(s, x->account_id, x->k, x->now, &changed);
	if (e || !changed)
		return e;
	return store_event_add(s, x->account_id, "keys_changed", x->device, x->now);
}

enum err share_keys_put(struct store *s, int64_t account_id, const struct store_keys *k, const char *device,
    int64_t now)
{
	struct keys_ctx x = {account_id, k, device, now};
	return store_tx(s, keys_tx, &x);
}

enum err share_user_keys(struct store *s, const char *username, struct store_keys *k)
{
	struct store_account a;
	enum err e = store_account_by_name(s, username, &a);
	return e ? e : store_keys_get(s, a.id, k);
}

/* ---- invitations ---- */

struct invite_ctx {
	const struct config *c;
	struct share_invite *in;
	struct share_ids *ids;
	char *msg;
};

static enum err invite_tx(struct store *s, void *arg)
{
	struct invite_ctx *x = arg;
	struct share_invite *in = x->in;
	struct store_collection col;
	struct store_account to;
	struct store_keys keys;
	int role, pending = 0;
	int64_t n, version;
	enum err e;
	ids_reset(x->ids);
	if ((e = share_access(s, in->caller_id, in->owner, in->name, STORE_ROLE_ADMIN, &col, &role)))
		return access_fail(x->msg, e);
	if ((e = store_keys_get(s, in->caller_id, &keys)) == ERR_NOT_FOUND)
		return fail(x->msg, ERR_INVALID_REQUEST, "Publish your public keys first (PUT /v1/account/keys).");
	if (e)
		return e;
	if ((e = store_account_by_name(s, in->to, &to)) == ERR_NOT_FOUND ||
	    (e == ERR_OK && (e = store_keys_get(s, to.id, &keys)) == ERR_NOT_FOUND))
		return fail(x->msg, ERR_NOT_FOUND, "No such user, or the user has no public keys.");
	if (e)
		return e;
	if (to.id == in->caller_id || to.id == col.account_id)
		return fail(x->msg, ERR_INVALID_REQUEST, "to: the owner and the inviter cannot be invited.");
	if (in->key_version != col.key_version)
		return fail(x->msg, ERR_INVALID_REQUEST, "key_version: the collection's is %lld.",
		    (long long)col.key_version);
	if ((e = store_member_role(s, col.id, to.id, &role)) == ERR_OK)
		return fail(x->msg, ERR_CONFLICT, "%s is a member already.", in->to);
	if (e != ERR_NOT_FOUND)
		return e;
	if ((e = store_invitation_pending(s, col.id, to.id, in->now, &pending)))
		return e;
	if (pending)
		return fail(x->msg, ERR_CONFLICT, "%s has a pending invitation to this collection.", in->to);
	if ((e = store_member_count(s, col.id, &n)))
		return e;
	if (n >= x->c->sharing.max_members)
		return fail(x->msg, ERR_MEMBER_LIMIT, "The collection has %lld members, the most allowed.", (long long)n);
	if ((e = store_invitation_count_from(s, in->caller_id, in->now, &n)))
		return e;
	if (n >= x->c->sharing.max_pending_invitations)
		return fail(x->msg, ERR_INVITATION_LIMIT, "You have %lld pending invitations, the most allowed.",
		    (long long)n);
	/* writes: the collection row first (lock order) */
	if ((e = store_share_members_bump(s, col.id, &version)))
		return e;
	struct store_invitation i;
	memset(&i, 0, sizeof i);
	if (auth_public_id(i.public_id, sizeof i.public_id) != 0)
		return ERR_INTERNAL;
	i.collection_id = col.id;
	i.from_id = in->caller_id;
	i.to_id = to.id;
	i.role = in->role;
	i.key_version = in->key_version;
	i.sealed = in->sealed;
	i.sealed_len = in->sealed_len;
	i.signature = in->signature;
	i.signature_len = in->signature_len;
	i.created_at = in->now;
	i.expires_at = in->now + x->c->sharing.invitation_days * 86400;
	if ((e = store_invitation_insert(s, &i)) == ERR_CONFLICT)
		return fail(x->msg, e, "%s has a pending invitation to this collection.", in->to);
	if (e || (e = touch_all(s, &col, x->ids)) || (e = store_account_bump(s, to.id)))
		return e;
	share_ids_add(x->ids, to.id);
	memcpy(in->id, i.public_id, sizeof in->id);
	in->expires_at = i.expires_at;
	return ERR_OK;
}

enum err share_invite(struct store *s, const struct config *c, struct share_invite *in, struct share_ids *ids,
    char *msg)
{
	struct invite_ctx x = {c, in, ids, msg};
	msg[0] = '\0';
	return store_tx(s, invite_tx, &x);
}

static int emit_out(void *ctx, const struct store_invitation *i)
{
	struct jw *w = ctx;
	jw_obj_begin(w);
	jw_key(w, "id"); jw_str(w, i->public_id);
	jw_key(w, "to"); jw_str(w, i->to);
	jw_key(w, "role"); jw_str(w, share_role_name(i->role));
	jw_key(w, "from"); jw_str(w, i->from);
	jw_key(w, "key_version"); jw_int(w, i->key_version);
	jw_key(w, "created_at"); jw_time(w, i->created_at);
	jw_key(w, "expires_at"); jw_time(w, i->expires_at);
	jw_obj_end(w);
	return 0;
}

struct list_ctx {
	int64_t caller_id;
	const char *owner, *name;
	int64_t now, key_version;
	struct jw *w;
	int64_t *version;
	char *msg;
};

static enum err invitations_out_tx(struct store *s, void *arg)
{
	struct list_ctx *x = arg;
	struct store_collection col;
	int role;
	enum err e = share_access(s, x->caller_id, x->owner, x->name, STORE_ROLE_ADMIN, &col, &role);
	if (e)
		return access_fail(x->msg, e);
	jw_obj_begin(x->w);
	jw_key(x->w, "invitations");
	jw_arr_begin(x->w);
	if ((e = store_invitation_list_collection(s, col.id, x->now, emit_out, x->w)))
		return e;
	jw_arr_end(x->w);
	jw_obj_end(x->w);
	return ERR_OK;
}

enum err share_invitations_out(struct store *s, int64_t caller_id, const char *owner, const char *name,
    int64_t now, struct jw *w, char *msg)
{
	struct list_ctx x = {caller_id, owner, name, now, 0, w, NULL, msg};
	msg[0] = '\0';
	return store_read(s, invitations_out_tx, &x);
}

static void emit_keys(struct jw *w, const struct store_keys *k)
{
	jw_obj_begin(w);
	jw_key(w, "x25519"); jw_b64(w, k->x25519, STORE_KEY_LEN);
	jw_key(w, "ed25519"); jw_b64(w, k->ed25519, STORE_KEY_LEN);
	jw_obj_end(w);
}

static int emit_in(void *ctx, const struct store_invitation *i)
{
	struct jw *w = ctx;
	jw_obj_begin(w);
	jw_key(w, "id"); jw_str(w, i->public_id);
	jw_key(w, "collection"); jw_str(w, i->collection);
	jw_key(w, "owner"); jw_str(w, i->owner);
	jw_key(w, "from"); jw_str(w, i->from);
	jw_key(w, "from_keys");
	if (i->from_has_keys)
		emit_keys(w, &i->from_keys);
	else
		jw_null(w);
	jw_key(w, "role"); jw_str(w, share_role_name(i->role));
	jw_key(w, "key_version"); jw_int(w, i->key_version);
	jw_key(w, "sealed"); jw_b64(w, i->sealed, i->sealed_len);
	jw_key(w, "signature"); jw_b64(w, i->signature, i->signature_len);
	jw_key(w, "created_at"); jw_time(w, i->created_at);
	jw_key(w, "expires_at"); jw_time(w, i->expires_at);
	jw_obj_end(w);
	return 0;
}

static enum err invitations_in_tx(struct store *s, void *arg)
{
	struct list_ctx *x = arg;
	jw_obj_begin(x->w);
	jw_key(x->w, "invitations");
	jw_arr_begin(x->w);
	enum err e = store_invitation_list_to(s, x->caller_id, x->now, emit_in, x->w);
	jw_arr_end(x->w);
	jw_obj_end(x->w);
	return e;
}

enum err share_invitations_in(struct store *s, int64_t caller_id, int64_t now, struct jw *w)
{
	struct list_ctx x = {caller_id, NULL, NULL, now, 0, w, NULL, NULL};
	return store_read(s, invitations_in_tx, &x);
}

/* What an invitation callback copies out (the blobs only live during the call). */
struct inv_copy {
	struct store_invitation i;
	uint8_t sealed[STORE_SEALED_MAX];
	uint8_t signature[STORE_SIGNATURE_LEN];
	int ok;
};

static int copy_invitation(void *ctx, const struct store_invitation *i)
{
	struct inv_copy *c = ctx;
	c->i = *i;
	c->ok = i->sealed_len <= sizeof c->sealed && i->signature_len <= sizeof c->signature;
	if (c->ok) {
		memcpy(c->sealed, i->sealed, i->sealed_len);
		memcpy(c->signature, i->signature, i->signature_len);
	}
	c->i.sealed = c->sealed;
	c->i.signature = c->signature;
	return 0;
}

struct accept_ctx {
	const struct config *c;
	int64_t caller_id;
	const char *id;
	int64_t now;
	struct share_accepted *out;
	struct share_ids *ids;
	char *msg;
	struct inv_copy inv;
};

/* The collection of an invitation, read for the lock order and the counters. */
static enum err invitation_collection(struct store *s, const struct store_invitation *i,
    struct store_collection *col)
{
	return store_collection_get(s, i->owner_id, i->collection, col);
}

static enum err accept_tx(struct store *s, void *arg)
{
	struct accept_ctx *x = arg;
	struct store_collection col;
	struct store_grant g;
	int64_t n, version;
	enum err e;
	ids_reset(x->ids);
	memset(&x->inv, 0, sizeof x->inv);
	e = store_invitation_get(s, x->id, x->now, copy_invitation, &x->inv);
	if (e == ERR_OK && x->inv.i.to_id != x->caller_id)
		e = ERR_NOT_FOUND;
	if (e == ERR_NOT_FOUND)
		return fail(x->msg, e, "No such invitation (or it expired).");
	if (e)
		return e;
	if (!x->inv.ok || !x->inv.i.from_has_keys)
		return fail(x->msg, ERR_NOT_FOUND, "No such invitation (or it expired).");
	if ((e = invitation_collection(s, &x->inv.i, &col)))
		return e;
	if ((e = store_member_count(s, col.id, &n)))
		return e;
	if (n >= x->c->sharing.max_members)
		return fail(x->msg, ERR_MEMBER_LIMIT, "The collection has %lld members, the most allowed.", (long long)n);
	if ((e = store_share_members_bump(s, col.id, &version)) ||
	    (e = store_member_put(s, col.id, x->caller_id, x->inv.i.role, x->now)))
		return e;
	memset(&g, 0, sizeof g);
	g.collection_id = col.id;
	g.account_id = x->caller_id;
	g.key_version = x->inv.i.key_version;
	snprintf(g.from, sizeof g.from, "%s", x->inv.i.from);
	g.from_keys = x->inv.i.from_keys;
	g.sealed = x->inv.i.sealed;
	g.sealed_len = x->inv.i.sealed_len;
	g.signature = x->inv.i.signature;
	g.signature_len = x->inv.i.signature_len;
	g.created_at = x->now;
	if ((e = store_grant_put(s, &g)) || (e = store_invitation_delete(s, x->inv.i.id)) ||
	    (e = touch_all(s, &col, x->ids)))
		return e;
	snprintf(x->out->collection, sizeof x->out->collection, "%s", col.name);
	snprintf(x->out->owner, sizeof x->out->owner, "%s", x->inv.i.owner);
	x->out->role = x->inv.i.role;
	x->out->key_version = x->inv.i.key_version;
	return ERR_OK;
}

enum err share_accept(struct store *s, const struct config *c, int64_t caller_id, const char *id, int64_t now,
    struct share_accepted *out, struct share_ids *ids, char *msg)
{
	struct accept_ctx *x = calloc(1, sizeof *x); /* the copy holds a grant: off the stack */
	if (!x)
		return ERR_INTERNAL;
	x->c = c;
	x->caller_id = caller_id;
	x->id = id;
	x->now = now;
	x->out = out;
	x->ids = ids;
	x->msg = msg;
	msg[0] = '\0';
	enum err e = store_tx(s, accept_tx, x);
	free(x);
	return e;
}

/*
 * An invitation ends without a member (declined, withdrawn, expired): the
 * membership version moves, the invitation goes, and the owner's, the
 * members' and the invitee's status move (collected into ids to wake).
 */
static enum err invitation_end(struct store *s, const struct store_collection *col, int64_t invitation_id,
    int64_t to_id, struct share_ids *ids)
{
	int64_t version;
	enum err e;
	if ((e = store_share_members_bump(s, col->id, &version)) || (e = store_invitation_delete(s, invitation_id)) ||
	    (e = touch_all(s, col, ids)) || (e = store_account_bump(s, to_id)))
		return e;
	share_ids_add(ids, to_id);
	return ERR_OK;
}

static enum err decline_tx(struct store *s, void *arg)
{
	struct accept_ctx *x = arg;
	struct store_collection col;
	int role = STORE_ROLE_NONE;
	enum err e;
	ids_reset(x->ids);
	memset(&x->inv, 0, sizeof x->inv);
	if ((e = store_invitation_get(s, x->id, x->now, copy_invitation, &x->inv)) == ERR_NOT_FOUND)
		return fail(x->msg, e, "No such invitation (or it expired).");
	if (e || (e = invitation_collection(s, &x->inv.i, &col)))
		return e;
	const struct store_invitation *i = &x->inv.i;
	if (i->to_id != x->caller_id && i->from_id != x->caller_id && col.account_id != x->caller_id) {
		e = store_member_role(s, col.id, x->caller_id, &role);
		if (e && e != ERR_NOT_FOUND)
			return e;
		if (role < STORE_ROLE_ADMIN)
			return fail(x->msg, ERR_NOT_FOUND, "No such invitation (or it expired).");
	}
	if ((e = invitation_end(s, &col, i->id, i->to_id, x->ids)))
		return e;
	/* withdrawn: the invitee could open its grant, and is no member: a rotation is due
	 * (a decline is the invitee's own choice, as an acceptance would have been) */
	if (i->to_id != x->caller_id && (e = store_share_rotate_due(s, col.id)))
		return e;
	return ERR_OK;
}

enum err share_decline(struct store *s, int64_t caller_id, const char *id, int64_t now, struct share_ids *ids,
    char *msg)
{
	struct accept_ctx *x = calloc(1, sizeof *x);
	if (!x)
		return ERR_INTERNAL;
	x->caller_id = caller_id;
	x->id = id;
	x->now = now;
	x->ids = ids;
	x->msg = msg;
	msg[0] = '\0';
	enum err e = store_tx(s, decline_tx, x);
	free(x);
	return e;
}

/* ---- expiry ---- */

/* An expired invitation as share_expire() settles it (copied: no writes while the store walks). */
struct expired {
	int64_t id, owner_id, to_id, key_version;
	char collection[STORE_NAME_MAX + 1];
};

struct expired_list {
	struct expired *v;
	size_t n;
	int64_t cap;     /* the batch: the walk never yields more */
};

static int copy_expired(void *ctx, const struct store_invitation *i)
{
	struct expired_list *l = ctx;
	if ((int64_t)l->n >= l->cap)
		return 1;
	struct expired *x = &l->v[l->n++];
	x->id = i->id;
	x->owner_id = i->owner_id;
	x->to_id = i->to_id;
	x->key_version = i->key_version;
	snprintf(x->collection, sizeof x->collection, "%s", i->collection);
	return 0;
}

enum err share_expire(struct store *s, int64_t now, int64_t limit, int64_t *n, struct share_ids *ids)
{
	struct expired_list l = {NULL, 0, limit};
	enum err e = ERR_OK;
	*n = 0;
	ids_reset(ids);
	if (limit <= 0 || (size_t)limit > SIZE_MAX / sizeof *l.v || !(l.v = calloc((size_t)limit, sizeof *l.v)))
		return ERR_INTERNAL;
	if ((e = store_invitation_list_expired(s, now, limit, copy_expired, &l)))
		goto out;
	for (size_t k = 0; k < l.n; k++) {
		const struct expired *x = &l.v[k];
		struct store_collection col;
		/* as a withdrawal: the collection row first (lock order), the
		 * membership version moves, everyone's status with it */
		if ((e = store_collection_get(s, x->owner_id, x->collection, &col)) ||
		    (e = invitation_end(s, &col, x->id, x->to_id, ids)))
			goto out;
		/* the invitee could open the grant it carried: when that is of the
		 * current key, a rotation is due; an older one (a rotation already
		 * left it out) opens nothing newer */
		if (x->key_version == col.key_version && (e = store_share_rotate_due(s, col.id)))
			goto out;
	}
	*n = (int64_t)l.n;
out:
	free(l.v);
	return e;
}

/* ---- members ---- */

static int emit_member(void *ctx, const struct store_member *m)
{
	struct jw *w = ctx;
	jw_obj_begin(w);
	jw_key(w, "username"); jw_str(w, m->username);
	jw_key(w, "role"); jw_str(w, share_role_name(m->role));
	jw_key(w, "joined_at"); jw_time(w, m->joined_at);
	jw_obj_end(w);
	return 0;
}

static enum err members_tx(struct store *s, void *arg)
{
	struct list_ctx *x = arg;
	struct store_collection col;
	struct store_account o;
	int role;
	enum err e = share_access(s, x->caller_id, x->owner, x->name, STORE_ROLE_READ, &col, &role);
	if (e)
		return access_fail(x->msg, e);
	if ((e = store_account_by_id(s, col.account_id, &o)))
		return e;
	*x->version = col.members_version;
	jw_obj_begin(x->w);
	jw_key(x->w, "owner"); jw_str(x->w, o.username);
	jw_key(x->w, "version"); jw_int(x->w, col.members_version);
	jw_key(x->w, "key_version"); jw_int(x->w, col.key_version);
	jw_key(x->w, "rotate_due"); jw_bool(x->w, col.rotate_due);
	jw_key(x->w, "members");
	jw_arr_begin(x->w);
	struct store_member om = {o.id, "", STORE_ROLE_OWNER, col.created_at};
	snprintf(om.username, sizeof om.username, "%s", o.username);
	emit_member(x->w, &om);
	if ((e = store_member_list(s, col.id, emit_member, x->w)))
		return e;
	jw_arr_end(x->w);
	jw_obj_end(x->w);
	return ERR_OK;
}

enum err share_members(struct store *s, int64_t caller_id, const char *owner, const char *name, struct jw *w,
    int64_t *version, char *msg)
{
	struct list_ctx x = {caller_id, owner, name, 0, 0, w, version, msg};
	msg[0] = '\0';
	return store_read(s, members_tx, &x);
}

struct member_ctx {
	int64_t caller_id;
	const char *owner, *name, *username;
	int role;
	int64_t *version;
	struct share_ids *ids;
	char *msg;
};

static enum err member_role_tx(struct store *s, void *arg)
{
	struct member_ctx *x = arg;
	struct store_collection col;
	struct store_account t;
	int role, cur;
	ids_reset(x->ids);
	enum err e = share_access(s, x->caller_id, x->owner, x->name, STORE_ROLE_ADMIN, &col, &role);
	if (e)
		return access_fail(x->msg, e);
	if ((e = store_account_by_name(s, x->username, &t)) == ERR_OK && t.id == col.account_id)
		return fail(x->msg, ERR_FORBIDDEN, "The owner's role cannot be changed.");
	if (e == ERR_OK)
		e = store_member_role(s, col.id, t.id, &cur);
	if (e == ERR_NOT_FOUND)
		return fail(x->msg, e, "%s is no member of this collection.", x->username);
	if (e || (e = store_share_members_bump(s, col.id, x->version)) ||
	    (e = store_member_put(s, col.id, t.id, x->role, 0)))
		return e;
	return touch_all(s, &col, x->ids);
}

enum err share_member_role(struct store *s, int64_t caller_id, const char *owner, const char *name,
    const char *username, int role, int64_t *version, struct share_ids *ids, char *msg)
{
	struct member_ctx x = {caller_id, owner, name, username, role, version, ids, msg};
	msg[0] = '\0';
	return store_tx(s, member_role_tx, &x);
}

static enum err member_remove_tx(struct store *s, void *arg)
{
	struct member_ctx *x = arg;
	struct store_collection col;
	struct store_account t;
	int64_t version;
	int role;
	ids_reset(x->ids);
	enum err e = share_access(s, x->caller_id, x->owner, x->name, STORE_ROLE_READ, &col, &role);
	if (e)
		return access_fail(x->msg, e);
	if ((e = store_account_by_name(s, x->username, &t)) == ERR_NOT_FOUND)
		return fail(x->msg, e, "%s is no member of this collection.", x->username);
	if (e)
		return e;
	if (t.id == col.account_id)
		return fail(x->msg, ERR_FORBIDDEN, "The owner cannot be removed.");
	if (t.id != x->caller_id && role < STORE_ROLE_ADMIN)
		return access_fail(x->msg, ERR_FORBIDDEN);
	if ((e = store_share_members_bump(s, col.id, &version)))
		return e;
	if ((e = store_member_delete(s, col.id, t.id)) == ERR_NOT_FOUND)
		return fail(x->msg, e, "%s is no member of this collection.", x->username);
	if (e || (e = touch_all(s, &col, x->ids)) || (e = store_account_bump(s, t.id)))
		return e;
	share_ids_add(x->ids, t.id);
	return ERR_OK;
}

enum err share_member_remove(struct store *s, int64_t caller_id, const char *owner, const char *name,
    const char *username, struct share_ids *ids, char *msg)
{
	struct member_ctx x = {caller_id, owner, name, username, 0, NULL, ids, msg};
	msg[0] = '\0';
	return store_tx(s, member_remove_tx, &x);
}

/* ---- rotation ---- */

/* Who must get a grant: an account id and whether a grant names it; invitations carry their row id. */
struct due {
	int64_t account_id, invitation_id;
	char username[STORE_USERNAME_MAX + 1];
	int covered;
};

struct due_list {
	struct due *v;
	size_t n, cap;
	int64_t skip;    /* the caller */
	int oom;
};

static void due_add(struct due_list *d, int64_t id, int64_t inv, const char *username)
{
	if (id == d->skip)
		return;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct due *v = realloc(d->v, cap * sizeof *v);
		if (!v) {
			d->oom = 1;
			return;
		}
		d->v = v;
		d->cap = cap;
	}
	struct due *x = &d->v[d->n++];
	memset(x, 0, sizeof *x);
	x->account_id = id;
	x->invitation_id = inv;
	snprintf(x->username, sizeof x->username, "%s", username);
}

static int due_member(void *ctx, const struct store_member *m)
{
	due_add(ctx, m->account_id, 0, m->username);
	return 0;
}

static int due_invitation(void *ctx, const struct store_invitation *i)
{
	due_add(ctx, i->to_id, i->id, i->to);
	return 0;
}

/* Whether an invitation of the collection, expired ones included, names `to`. */
struct invited {
	const char *to;
	int found;
};

static int find_invited(void *ctx, const struct store_invitation *i)
{
	struct invited *v = ctx;
	if (strcmp(i->to, v->to) == 0)
		v->found = 1;
	return 0;
}

struct rotate_ctx {
	int64_t caller_id;
	const char *owner, *name;
	int64_t if_match, key_version;
	const struct share_grant_in *g;
	size_t n;
	int64_t now;
	int64_t *version;
	struct share_ids *ids;
	char *msg;
	struct due_list due;
};

static enum err rotate_tx(struct store *s, void *arg)
{
	struct rotate_ctx *x = arg;
	struct store_collection col;
	struct store_account me, o;
	struct store_grant g;
	int role;
	enum err e;
	ids_reset(x->ids);
	memset(&g, 0, sizeof g);
	x->due.n = 0;
	if ((e = share_access(s, x->caller_id, x->owner, x->name, STORE_ROLE_ADMIN, &col, &role)))
		return access_fail(x->msg, e);
	if (x->if_match != col.members_version) {
		*x->version = col.members_version;
		return fail(x->msg, ERR_PRECONDITION_FAILED, "The membership changed (version %lld); read it again.",
		    (long long)col.members_version);
	}
	if (x->key_version != col.key_version + 1)
		return fail(x->msg, ERR_INVALID_REQUEST, "key_version: must be %lld.", (long long)col.key_version + 1);
	if ((e = store_account_by_id(s, x->caller_id, &me)) || (e = store_account_by_id(s, col.account_id, &o)))
		return e;
	if ((e = store_keys_get(s, x->caller_id, &g.from_keys)) == ERR_NOT_FOUND)
		return fail(x->msg, ERR_INVALID_REQUEST, "Publish your public keys first (PUT /v1/account/keys).");
	if (e)
		return e;
	x->due.skip = x->caller_id;
	due_add(&x->due, o.id, 0, o.username);
	if ((e = store_member_list(s, col.id, due_member, &x->due)) ||
	    (e = store_invitation_list_collection(s, col.id, x->now, due_invitation, &x->due)))
		return e;
	if (x->due.oom)
		return ERR_INTERNAL;
	/* every grant names one due account, once; every due account is named */
	for (size_t i = 0; i < x->n; i++) {
		struct due *d = NULL;
		for (size_t j = 0; j < x->due.n && !d; j++)
			if (strcmp(x->due.v[j].username, x->g[i].to) == 0)
				d = &x->due.v[j];
		if (!d) {
			/* an invitation that expired since the client read the
			 * invitations (not purged yet, so the membership version
			 * has not moved): the client's view is out of date, and
			 * a 412 has it read again, as for any other change */
			struct invited v = {x->g[i].to, 0};
			if ((e = store_invitation_list_collection(s, col.id, INT64_MIN, find_invited, &v)))
				return e;
			if (v.found) {
				*x->version = col.members_version;
				return fail(x->msg, ERR_PRECONDITION_FAILED,
				    "grants[%zu].to: the invitation to %s has expired; read the members and invitations again.",
				    i, x->g[i].to);
			}
			return fail(x->msg, ERR_INVALID_REQUEST, "grants[%zu].to: %s is neither a member (but you) nor invited.",
			    i, x->g[i].to);
		}
		if (d->covered)
			return fail(x->msg, ERR_INVALID_REQUEST, "grants[%zu].to: %s has a grant already.", i, x->g[i].to);
		d->covered = 1;
	}
	for (size_t j = 0; j < x->due.n; j++)
		if (!x->due.v[j].covered)
			return fail(x->msg, ERR_INVALID_REQUEST, "grants: none for %s.", x->due.v[j].username);
	/* writes: the collection row first */
	int64_t version;
	if ((e = store_share_rotate_mark(s, col.id, x->if_match, col.key_version, &version))) {
		if (e == ERR_PRECONDITION_FAILED) {
			*x->version = version;
			return fail(x->msg, e, "The membership changed (version %lld); read it again.", (long long)version);
		}
		return e;
	}
	*x->version = version;
	g.collection_id = col.id;
	g.key_version = x->key_version;
	snprintf(g.from, sizeof g.from, "%s", me.username);
	g.created_at = x->now;
	for (size_t i = 0; i < x->n; i++) {
		struct due *d = NULL;
		for (size_t j = 0; j < x->due.n && !d; j++)
			if (strcmp(x->due.v[j].username, x->g[i].to) == 0)
				d = &x->due.v[j];
		if (d->invitation_id) {
			e = store_invitation_regrant(s, d->invitation_id, x->key_version, x->g[i].sealed,
			    x->g[i].sealed_len, x->g[i].signature, x->g[i].signature_len);
		} else {
			g.account_id = d->account_id;
			g.sealed = x->g[i].sealed;
			g.sealed_len = x->g[i].sealed_len;
			g.signature = x->g[i].signature;
			g.signature_len = x->g[i].signature_len;
			e = store_grant_put(s, &g);
		}
		if (e)
			return e;
	}
	return touch_all(s, &col, x->ids);
}

enum err share_rotate(struct store *s, int64_t caller_id, const char *owner, const char *name, int64_t if_match,
    int64_t key_version, const struct share_grant_in *g, size_t n, int64_t now, int64_t *version,
    struct share_ids *ids, char *msg)
{
	struct rotate_ctx x;
	memset(&x, 0, sizeof x);
	x.caller_id = caller_id;
	x.owner = owner;
	x.name = name;
	x.if_match = if_match;
	x.key_version = key_version;
	x.g = g;
	x.n = n;
	x.now = now;
	x.version = version;
	x.ids = ids;
	x.msg = msg;
	msg[0] = '\0';
	enum err e = store_tx(s, rotate_tx, &x);
	free(x.due.v);
	return e;
}

/* ---- grants ---- */

struct grant_ctx {
	int64_t caller_id;
	const char *owner, *name;
	int64_t key_version;
	int role;
	struct jw *w;
	char *msg;
};

static int emit_grant(void *ctx, const struct store_grant *g)
{
	struct grant_ctx *x = ctx;
	jw_obj_begin(x->w);
	jw_key(x->w, "key_version"); jw_int(x->w, g->key_version);
	jw_key(x->w, "from"); jw_str(x->w, g->from);
	jw_key(x->w, "from_keys"); emit_keys(x->w, &g->from_keys);
	jw_key(x->w, "role"); jw_str(x->w, share_role_name(x->role));
	jw_key(x->w, "sealed"); jw_b64(x->w, g->sealed, g->sealed_len);
	jw_key(x->w, "signature"); jw_b64(x->w, g->signature, g->signature_len);
	jw_obj_end(x->w);
	return 0;
}

static enum err grant_tx(struct store *s, void *arg)
{
	struct grant_ctx *x = arg;
	struct store_collection col;
	enum err e = share_access(s, x->caller_id, x->owner, x->name, STORE_ROLE_READ, &col, &x->role);
	if (e)
		return access_fail(x->msg, e);
	if ((e = store_grant_get(s, col.id, x->caller_id, x->key_version, emit_grant, x)) == ERR_NOT_FOUND)
		return fail(x->msg, e, "No grant of this key version for you.");
	return e;
}

enum err share_grant(struct store *s, int64_t caller_id, const char *owner, const char *name, int64_t key_version,
    struct jw *w, char *msg)
{
	struct grant_ctx x = {caller_id, owner, name, key_version, 0, w, msg};
	msg[0] = '\0';
	return store_read(s, grant_tx, &x);
}

/* ---- listings ---- */

struct shared_ctx {
	struct jw *w;
	int with_meta;
	const char *owner;
};

static int emit_shared(void *ctx, const struct store_collection *c, const char *owner, int role)
{
	struct shared_ctx *x = ctx;
	if (x->owner && strcmp(x->owner, owner) != 0)
		return 0;
	jw_obj_begin(x->w);
	jw_key(x->w, "name"); jw_str(x->w, c->name);
	jw_key(x->w, "owner"); jw_str(x->w, owner);
	jw_key(x->w, "role"); jw_str(x->w, share_role_name(role));
	jw_key(x->w, "version"); jw_int(x->w, c->version);
	jw_key(x->w, "key_version"); jw_int(x->w, c->key_version);
	if (role >= STORE_ROLE_ADMIN) { /* those who may rotate */
		jw_key(x->w, "rotate_due"); jw_bool(x->w, c->rotate_due);
	}
	jw_key(x->w, "records"); jw_int(x->w, c->records);
	jw_key(x->w, "bytes"); jw_int(x->w, c->bytes);
	jw_key(x->w, "modified_at"); jw_time(x->w, c->modified_at);
	if (x->with_meta) {
		jw_key(x->w, "meta");
		if (c->meta)
			jw_b64(x->w, c->meta, c->meta_len);
		else
			jw_null(x->w);
	}
	jw_obj_end(x->w);
	return 0;
}

enum err share_list(struct store *s, int64_t account_id, const char *owner, struct jw *w, int with_meta)
{
	struct shared_ctx x = {w, with_meta, owner};
	return store_shared_list(s, account_id, emit_shared, &x);
}
