/*
 * test_share.c: unit tests of sharing (fcgi/lib/share.c over the store
 * functions of store.h, "sharing"): keys, invitations with their refusals,
 * limits and expiry (the store compares with the `now` it is given, so no
 * clock is waited for), members and roles, share_access for every role,
 * rotation with its preconditions, grants per key version, pushes by a
 * member (quota and counters the owner's, every member's account_version
 * moved), and deletion of collections and accounts. With $BS_TEST_PG
 * (pgtest.h) every test runs once more with the store on PostgreSQL, in a
 * schema of its own: the same calls, the same answers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts.h"
#include "config.h"
#include "json.h"
#include "log.h"
#include "share.h"
#include "store.h"
#include "sync.h"
#include "t.h"
#include "pgtest.h"
#include "storetest.h"

static char tmpdir[64], dbpath[1024];
static struct config cfg;
static struct store *st;
static int64_t now;
static int seq;

/* ---- helpers ---- */

/* Register a fresh account named PREFIX-N and, with keys, publish keys; its row id and name. */
static int64_t user(const char *prefix, int keys, char name[STORE_USERNAME_MAX + 1])
{
	snprintf(name, STORE_USERNAME_MAX + 1, "%s-%d", prefix, ++seq);
	int64_t id = stt_register(st, &cfg, name, 0x44, NULL);
	if (id < 0)
		return -1;
	if (keys) {
		struct store_keys k;
		memset(k.x25519, seq, sizeof k.x25519);
		memset(k.ed25519, seq + 1, sizeof k.ed25519);
		T_EQ_INT(share_keys_put(st, id, &k, NULL, now), ERR_OK);
	}
	return id;
}

static int64_t account_version(int64_t id)
{
	struct store_account a;
	T_EQ_INT(store_account_by_id(st, id, &a), ERR_OK);
	return a.account_version;
}

/* A collection of account id with one record. */
static void collection(int64_t id, const char *name)
{
	struct sync_rec r;
	size_t nconf;
	int64_t cv;
	uint8_t *p = malloc(8);
	memset(&r, 0, sizeof r);
	memcpy(p, "payload!", 8);
	r.id = "r1";
	r.force = 1;
	r.payload = p;
	r.len = 8;
	T_EQ_INT(sync_push(st, &cfg, id, name, &r, 1, 0, &nconf, &cv), ERR_OK);
	free(p);
}

static const uint8_t sealed[40] = {1, 2, 3};
static const uint8_t sig[STORE_SIGNATURE_LEN] = {9, 8, 7};

/* Invite `to` into owner's collection `name` by caller_id (owner NULL: the caller's own); the error, id in out. */
static enum err invite(int64_t caller_id, const char *owner, const char *name, const char *to, int role,
    int64_t kv, int64_t at, char out[STORE_INVITATION_ID_LEN + 1])
{
	struct share_invite in;
	struct share_ids ids = {0};
	char msg[ERR_MSG_MAX];
	memset(&in, 0, sizeof in);
	in.caller_id = caller_id;
	in.owner = owner;
	in.name = name;
	in.to = to;
	in.role = role;
	in.key_version = kv;
	in.sealed = sealed;
	in.sealed_len = sizeof sealed;
	in.signature = sig;
	in.signature_len = sizeof sig;
	in.now = at;
	enum err e = share_invite(st, &cfg, &in, &ids, msg);
	if (e == ERR_OK && out)
		memcpy(out, in.id, STORE_INVITATION_ID_LEN + 1);
	T_OK(e == ERR_OK || e == ERR_INTERNAL || msg[0]); /* every refusal has its sentence */
	share_ids_free(&ids);
	return e;
}

static enum err accept_(int64_t caller_id, const char *id, int64_t at)
{
	struct share_accepted out;
	struct share_ids ids = {0};
	char msg[ERR_MSG_MAX];
	enum err e = share_accept(st, &cfg, caller_id, id, at, &out, &ids, msg);
	share_ids_free(&ids);
	return e;
}

/* Invite and accept. */
static void share(int64_t owner_id, const char *name, const char *to, int64_t to_id, int role)
{
	char id[STORE_INVITATION_ID_LEN + 1];
	T_EQ_INT(invite(owner_id, NULL, name, to, role, 1, now, id), ERR_OK);
	T_EQ_INT(accept_(to_id, id, now), ERR_OK);
}

static int access_role(int64_t caller, const char *owner, const char *name, int need, enum err *e)
{
	struct store_collection col;
	int role = 0;
	*e = share_access(st, caller, owner, name, need, &col, &role);
	return role;
}

/* ---- tests ---- */

static void test_keys(void)
{
	char a[STORE_USERNAME_MAX + 1];
	int64_t id = user("keys", 0, a);
	struct store_keys k, got;
	int changed = 0;
	T_EQ_INT(store_keys_get(st, id, &got), ERR_NOT_FOUND);
	T_EQ_INT(share_user_keys(st, a, &got), ERR_NOT_FOUND);
	T_EQ_INT(share_user_keys(st, "nobody-at-all", &got), ERR_NOT_FOUND);
	memset(&k, 0x5a, sizeof k);
	T_EQ_INT(share_keys_put(st, id, &k, "dev1", now), ERR_OK);
	T_EQ_INT(share_user_keys(st, a, &got), ERR_OK);
	T_OK(memcmp(&got, &k, sizeof k) == 0);
	T_EQ_INT(store_keys_put(st, id, &k, now, &changed), ERR_OK);
	T_EQ_INT(changed, 0);
	k.ed25519[0] ^= 1;
	T_EQ_INT(store_keys_put(st, id, &k, now, &changed), ERR_OK);
	T_EQ_INT(changed, 1);
}

static void test_invite_accept(void)
{
	char o[STORE_USERNAME_MAX + 1], m[STORE_USERNAME_MAX + 1], x[STORE_USERNAME_MAX + 1];
	char nk[STORE_USERNAME_MAX + 1], id[STORE_INVITATION_ID_LEN + 1];
	int64_t oid = user("own", 1, o), mid = user("mem", 1, m), xid = user("other", 1, x);
	int64_t nkid = user("nokeys", 0, nk);
	(void)nkid;
	collection(oid, "c");
	/* refusals */
	T_EQ_INT(invite(oid, NULL, "missing", m, STORE_ROLE_READ, 1, now, id), ERR_NOT_FOUND);
	T_EQ_INT(invite(oid, NULL, "c", nk, STORE_ROLE_READ, 1, now, id), ERR_NOT_FOUND);
	T_EQ_INT(invite(oid, NULL, "c", "nobody-here", STORE_ROLE_READ, 1, now, id), ERR_NOT_FOUND);
	T_EQ_INT(invite(oid, NULL, "c", o, STORE_ROLE_READ, 1, now, id), ERR_INVALID_REQUEST);
	T_EQ_INT(invite(oid, NULL, "c", m, STORE_ROLE_READ, 2, now, id), ERR_INVALID_REQUEST);
	T_EQ_INT(invite(xid, o, "c", m, STORE_ROLE_READ, 1, now, id), ERR_NOT_FOUND);
	/* the invitation and the invitee's account_version */
	int64_t vm = account_version(mid);
	T_EQ_INT(invite(oid, NULL, "c", m, STORE_ROLE_WRITE, 1, now, id), ERR_OK);
	T_EQ_INT((int)strlen(id), STORE_INVITATION_ID_LEN);
	T_OK(account_version(mid) > vm);
	T_EQ_INT(invite(oid, NULL, "c", m, STORE_ROLE_READ, 1, now, NULL), ERR_CONFLICT);
	/* only the invitee accepts; it expires */
	T_EQ_INT(accept_(xid, id, now), ERR_NOT_FOUND);
	T_EQ_INT(accept_(mid, id, now + cfg.sharing.invitation_days * 86400), ERR_NOT_FOUND);
	T_EQ_INT(accept_(mid, "AAAAAAAAAAAAAAAAAAAAAA", now), ERR_NOT_FOUND);
	T_EQ_INT(access_role(mid, o, "c", STORE_ROLE_READ, &(enum err){0}), 0);
	T_EQ_INT(accept_(mid, id, now + 60), ERR_OK);
	T_EQ_INT(accept_(mid, id, now + 60), ERR_NOT_FOUND);
	/* the membership and the grant */
	enum err e;
	T_EQ_INT(access_role(mid, o, "c", STORE_ROLE_WRITE, &e), STORE_ROLE_WRITE);
	T_EQ_INT(e, ERR_OK);
	access_role(mid, o, "c", STORE_ROLE_ADMIN, &e);
	T_EQ_INT(e, ERR_FORBIDDEN);
	access_role(mid, o, "nope", STORE_ROLE_READ, &e);
	T_EQ_INT(e, ERR_NOT_FOUND);
	access_role(xid, o, "c", STORE_ROLE_READ, &e);
	T_EQ_INT(e, ERR_NOT_FOUND);
	access_role(mid, "nobody-here", "c", STORE_ROLE_READ, &e);
	T_EQ_INT(e, ERR_NOT_FOUND);
	T_EQ_INT(access_role(oid, NULL, "c", STORE_ROLE_OWNER, &e), STORE_ROLE_OWNER);
	T_EQ_INT(access_role(oid, o, "c", STORE_ROLE_OWNER, &e), STORE_ROLE_OWNER);
	struct store_collection col;
	int role;
	T_EQ_INT(share_access(st, oid, NULL, "c", STORE_ROLE_OWNER, &col, &role), ERR_OK);
	T_EQ_INT(store_member_role(st, col.id, mid, &role), ERR_OK);
	T_EQ_INT(role, STORE_ROLE_WRITE);
	int64_t n = -1;
	T_EQ_INT(store_member_count(st, col.id, &n), ERR_OK);
	T_EQ_INT(n, 1);
	T_EQ_INT(invite(oid, NULL, "c", m, STORE_ROLE_READ, 1, now, NULL), ERR_CONFLICT);
	struct buf b;
	struct jw w;
	char msg[ERR_MSG_MAX];
	buf_init(&b, 1 << 20);
	jw_init(&w, &b);
	T_EQ_INT(share_grant(st, mid, o, "c", 0, &w, msg), ERR_OK);
	buf_addc(&b, '\0');
	T_OK(strstr(b.p, "\"key_version\":1") != NULL);
	T_OK(strstr(b.p, "\"role\":\"write\"") != NULL);
	buf_reset(&b, 0);
	jw_init(&w, &b);
	T_EQ_INT(share_grant(st, mid, o, "c", 2, &w, msg), ERR_NOT_FOUND);
	buf_free(&b);
}

static void test_roles_removal(void)
{
	char o[STORE_USERNAME_MAX + 1], a[STORE_USERNAME_MAX + 1], r[STORE_USERNAME_MAX + 1];
	int64_t oid = user("own", 1, o), aid = user("adm", 1, a), rid = user("rd", 1, r);
	struct share_ids ids = {0};
	char msg[ERR_MSG_MAX];
	int64_t v = 0;
	collection(oid, "c");
	share(oid, "c", a, aid, STORE_ROLE_ADMIN);
	share(oid, "c", r, rid, STORE_ROLE_READ);
	/* the admin changes roles, never the owner's; a read member nothing */
	T_EQ_INT(share_member_role(st, aid, o, "c", r, STORE_ROLE_WRITE, &v, &ids, msg), ERR_OK);
	T_OK(v > 1);
	T_EQ_INT(share_member_role(st, aid, o, "c", o, STORE_ROLE_READ, &v, &ids, msg), ERR_FORBIDDEN);
	T_EQ_INT(share_member_role(st, rid, o, "c", a, STORE_ROLE_READ, &v, &ids, msg), ERR_FORBIDDEN);
	T_EQ_INT(share_member_remove(st, aid, o, "c", o, &ids, msg), ERR_FORBIDDEN);
	T_EQ_INT(share_member_remove(st, oid, NULL, "c", o, &ids, msg), ERR_FORBIDDEN);
	T_EQ_INT(share_member_remove(st, rid, o, "c", a, &ids, msg), ERR_FORBIDDEN);
	/* the owner and every member are told of a removal, the removed one too */
	int64_t vo = account_version(oid), va = account_version(aid), vr = account_version(rid);
	T_EQ_INT(share_member_remove(st, aid, o, "c", r, &ids, msg), ERR_OK);
	T_OK(account_version(oid) > vo && account_version(aid) > va && account_version(rid) > vr);
	T_EQ_INT((int)ids.n, 3);
	enum err e;
	access_role(rid, o, "c", STORE_ROLE_READ, &e);
	T_EQ_INT(e, ERR_NOT_FOUND);
	T_EQ_INT(share_member_remove(st, aid, o, "c", r, &ids, msg), ERR_NOT_FOUND);
	/* leaving */
	T_EQ_INT(share_member_remove(st, aid, o, "c", a, &ids, msg), ERR_OK);
	access_role(aid, o, "c", STORE_ROLE_READ, &e);
	T_EQ_INT(e, ERR_NOT_FOUND);
	share_ids_free(&ids);
}

static void test_rotate(void)
{
	char o[STORE_USERNAME_MAX + 1], a[STORE_USERNAME_MAX + 1], b[STORE_USERNAME_MAX + 1];
	char p[STORE_USERNAME_MAX + 1], q[STORE_USERNAME_MAX + 1], id[STORE_INVITATION_ID_LEN + 1];
	int64_t oid = user("own", 1, o), aid = user("adm", 1, a), bid = user("b", 1, b);
	user("p", 1, p);
	user("q", 1, q);
	struct share_ids ids = {0};
	struct store_collection col;
	char msg[ERR_MSG_MAX];
	int role;
	collection(oid, "c");
	share(oid, "c", a, aid, STORE_ROLE_ADMIN);
	share(oid, "c", b, bid, STORE_ROLE_READ);
	T_EQ_INT(invite(oid, NULL, "c", p, STORE_ROLE_READ, 1, now, id), ERR_OK);
	T_EQ_INT(share_access(st, oid, NULL, "c", STORE_ROLE_OWNER, &col, &role), ERR_OK);
	int64_t mv = col.members_version, v = 0;
	struct share_grant_in g[4] = {
		{a, sealed, sizeof sealed, sig, sizeof sig}, {b, sealed, sizeof sealed, sig, sizeof sig},
		{p, sealed, sizeof sealed, sig, sizeof sig}, {o, sealed, sizeof sealed, sig, sizeof sig},
	};
	T_EQ_INT(share_rotate(st, oid, NULL, "c", mv, 2, g, 2, now, &v, &ids, msg), ERR_INVALID_REQUEST);
	T_EQ_INT(share_rotate(st, oid, NULL, "c", mv, 2, g, 4, now, &v, &ids, msg), ERR_INVALID_REQUEST);
	T_EQ_INT(share_rotate(st, oid, NULL, "c", mv, 3, g, 3, now, &v, &ids, msg), ERR_INVALID_REQUEST);
	T_EQ_INT(share_rotate(st, oid, NULL, "c", mv - 1, 2, g, 3, now, &v, &ids, msg), ERR_PRECONDITION_FAILED);
	T_EQ_INT(v, mv);
	/* a concurrent invitation: stale */
	T_EQ_INT(invite(aid, o, "c", q, STORE_ROLE_READ, 1, now, NULL), ERR_OK);
	T_EQ_INT(share_rotate(st, oid, NULL, "c", mv, 2, g, 3, now, &v, &ids, msg), ERR_PRECONDITION_FAILED);
	T_OK(v > mv);
	struct share_grant_in g2[4] = {g[0], g[1], g[2], {q, sealed, sizeof sealed, sig, sizeof sig}};
	int64_t cur = v;
	T_EQ_INT(share_rotate(st, oid, NULL, "c", cur, 2, g2, 4, now, &v, &ids, msg), ERR_OK);
	T_OK(v > cur);
	T_EQ_INT(share_access(st, oid, NULL, "c", STORE_ROLE_OWNER, &col, &role), ERR_OK);
	T_EQ_INT(col.key_version, 2);
	T_EQ_INT(col.members_version, v);
	/* the pending invitation carries the new key version; accepting gives that grant */
	T_EQ_INT(accept_(bid, id, now), ERR_NOT_FOUND);
	char pn[STORE_USERNAME_MAX + 1];
	snprintf(pn, sizeof pn, "%s", p);
	struct store_account pa;
	T_EQ_INT(store_account_by_name(st, pn, &pa), ERR_OK);
	T_EQ_INT(accept_(pa.id, id, now), ERR_OK);
	struct buf bf;
	struct jw w;
	buf_init(&bf, 1 << 20);
	jw_init(&w, &bf);
	T_EQ_INT(share_grant(st, pa.id, o, "c", 0, &w, msg), ERR_OK);
	buf_addc(&bf, '\0');
	T_OK(strstr(bf.p, "\"key_version\":2") != NULL);
	/* old grants stay */
	buf_reset(&bf, 0);
	jw_init(&w, &bf);
	T_EQ_INT(share_grant(st, bid, o, "c", 1, &w, msg), ERR_OK);
	buf_free(&bf);
	share_ids_free(&ids);
}

/* A grant for an invitee whose invitation expired after the client read
 * the invitations (not purged: the membership version did not move) is a
 * stale view, 412 with that version; a name never invited stays a 400. */
static void test_rotate_expired(void)
{
	char o[STORE_USERNAME_MAX + 1], m[STORE_USERNAME_MAX + 1], x[STORE_USERNAME_MAX + 1];
	int64_t oid = user("exo", 1, o);
	user("exm", 1, m);
	user("exx", 1, x);
	struct share_ids ids = {0};
	struct store_collection col;
	char msg[ERR_MSG_MAX];
	int role;
	collection(oid, "e");
	T_EQ_INT(invite(oid, NULL, "e", m, STORE_ROLE_READ, 1, now, NULL), ERR_OK);
	T_EQ_INT(share_access(st, oid, NULL, "e", STORE_ROLE_OWNER, &col, &role), ERR_OK);
	int64_t mv = col.members_version, v = 0;
	int64_t later = now + (cfg.sharing.invitation_days + 1) * 86400;
	struct share_grant_in gm = {m, sealed, sizeof sealed, sig, sizeof sig};
	struct share_grant_in gx = {x, sealed, sizeof sealed, sig, sizeof sig};
	/* in time the invitee is due a grant */
	T_EQ_INT(share_rotate(st, oid, NULL, "e", mv, 2, &gm, 0, now, &v, &ids, msg), ERR_INVALID_REQUEST);
	T_EQ_INT(share_rotate(st, oid, NULL, "e", mv, 2, &gm, 1, later, &v, &ids, msg), ERR_PRECONDITION_FAILED);
	T_EQ_INT(v, mv);
	T_OK(strstr(msg, "has expired") != NULL);
	T_EQ_INT(share_rotate(st, oid, NULL, "e", mv, 2, &gx, 1, later, &v, &ids, msg), ERR_INVALID_REQUEST);
	T_EQ_INT(share_access(st, oid, NULL, "e", STORE_ROLE_OWNER, &col, &role), ERR_OK);
	T_EQ_INT(col.key_version, 1);
	T_EQ_INT(share_rotate(st, oid, NULL, "e", mv, 2, &gm, 0, later, &v, &ids, msg), ERR_OK);
	T_EQ_INT(share_access(st, oid, NULL, "e", STORE_ROLE_OWNER, &col, &role), ERR_OK);
	T_EQ_INT(col.key_version, 2);
	share_ids_free(&ids);
}

static void test_limits(void)
{
	char o[STORE_USERNAME_MAX + 1], u[4][STORE_USERNAME_MAX + 1];
	int64_t oid = user("own", 1, o), uid[4];
	for (int i = 0; i < 4; i++)
		uid[i] = user("lim", 1, u[i]);
	collection(oid, "c");
	collection(oid, "d");
	int64_t mm = cfg.sharing.max_members, mp = cfg.sharing.max_pending_invitations;
	cfg.sharing.max_members = 2;
	cfg.sharing.max_pending_invitations = 2;
	share(oid, "c", u[0], uid[0], STORE_ROLE_READ);
	share(oid, "c", u[1], uid[1], STORE_ROLE_READ);
	T_EQ_INT(invite(oid, NULL, "c", u[2], STORE_ROLE_READ, 1, now, NULL), ERR_MEMBER_LIMIT);
	T_EQ_INT(invite(oid, NULL, "d", u[2], STORE_ROLE_READ, 1, now, NULL), ERR_OK);
	T_EQ_INT(invite(oid, NULL, "d", u[3], STORE_ROLE_READ, 1, now, NULL), ERR_OK);
	T_EQ_INT(invite(oid, NULL, "d", u[0], STORE_ROLE_READ, 1, now, NULL), ERR_INVITATION_LIMIT);
	/* expired ones do not count */
	T_EQ_INT(invite(oid, NULL, "d", u[0], STORE_ROLE_READ, 1, now + 8 * 86400, NULL), ERR_OK);
	cfg.sharing.max_members = mm;
	cfg.sharing.max_pending_invitations = mp;
}

static void test_member_push(void)
{
	char o[STORE_USERNAME_MAX + 1], w[STORE_USERNAME_MAX + 1], r[STORE_USERNAME_MAX + 1];
	int64_t oid = user("own", 1, o), wid = user("wr", 1, w), rid = user("rd", 1, r);
	collection(oid, "c");
	share(oid, "c", w, wid, STORE_ROLE_WRITE);
	share(oid, "c", r, rid, STORE_ROLE_READ);
	struct sync_rec rec;
	struct share_ids ids = {0};
	size_t nconf;
	int64_t cv;
	uint8_t *p = malloc(100);
	memset(p, 'z', 100);
	memset(&rec, 0, sizeof rec);
	rec.id = "m1";
	rec.force = 1;
	rec.payload = p;
	rec.len = 100;
	struct store_account before, after, wb, wa;
	T_EQ_INT(store_account_by_id(st, oid, &before), ERR_OK);
	T_EQ_INT(store_account_by_id(st, wid, &wb), ERR_OK);
	int64_t vr = account_version(rid);
	T_EQ_INT(sync_push_as(st, &cfg, rid, o, "c", &rec, 1, 0, &nconf, &cv, &ids), ERR_FORBIDDEN);
	T_EQ_INT(sync_push_as(st, &cfg, wid, o, "nope", &rec, 1, 0, &nconf, &cv, &ids), ERR_NOT_FOUND);
	T_EQ_INT(account_version(rid), vr);
	T_EQ_INT(sync_push_as(st, &cfg, wid, o, "c", &rec, 1, 0, &nconf, &cv, &ids), ERR_OK);
	T_EQ_INT(store_account_by_id(st, oid, &after), ERR_OK);
	T_EQ_INT(store_account_by_id(st, wid, &wa), ERR_OK);
	T_EQ_INT(after.usage_bytes, before.usage_bytes + 100);
	T_EQ_INT(wa.usage_bytes, wb.usage_bytes);
	T_OK(account_version(rid) > vr);
	T_OK(wa.account_version > wb.account_version);
	T_EQ_INT((int)ids.n, 3);
	T_EQ_INT(ids.v[0], oid);
	/* the owner's quota */
	int64_t q = cfg.plans[0].bytes;
	cfg.plans[0].bytes = after.usage_bytes + 50;
	rec.id = "m2";
	T_EQ_INT(sync_push_as(st, &cfg, wid, o, "c", &rec, 1, 0, &nconf, &cv, &ids), ERR_QUOTA_EXCEEDED);
	cfg.plans[0].bytes = q;
	/* meta and deletion: the owner's only */
	int created;
	struct store_collection col;
	T_EQ_INT(sync_collection_put_as(st, &cfg, wid, o, "c", NULL, 0, &created, &col, &ids), ERR_FORBIDDEN);
	T_EQ_INT(sync_collection_delete_as(st, wid, o, "c", &ids), ERR_FORBIDDEN);
	T_EQ_INT(sync_collection_delete_as(st, user("x", 1, (char[STORE_USERNAME_MAX + 1]){0}), o, "c", &ids),
	    ERR_NOT_FOUND);
	/* the owner deletes it: the members see it go */
	vr = account_version(rid);
	T_EQ_INT(sync_collection_delete_as(st, oid, NULL, "c", &ids), ERR_OK);
	T_OK(account_version(rid) > vr);
	enum err e;
	access_role(rid, o, "c", STORE_ROLE_READ, &e);
	T_EQ_INT(e, ERR_NOT_FOUND);
	free(p);
	share_ids_free(&ids);
}

static int count_shared(void *ctx, const struct store_collection *c, const char *owner, int role)
{
	(void)c;
	(void)owner;
	(void)role;
	(*(int *)ctx)++;
	return 0;
}

static void test_account_delete(void)
{
	char o[STORE_USERNAME_MAX + 1], m[STORE_USERNAME_MAX + 1], p[STORE_USERNAME_MAX + 1];
	int64_t oid = user("own", 1, o), mid = user("mem", 1, m), pid = user("pen", 1, p);
	collection(oid, "c");
	collection(mid, "mine");
	share(oid, "c", m, mid, STORE_ROLE_WRITE);
	share(mid, "mine", o, oid, STORE_ROLE_READ);
	T_EQ_INT(invite(oid, NULL, "c", p, STORE_ROLE_READ, 1, now, NULL), ERR_OK);
	int n = 0;
	T_EQ_INT(store_shared_list(st, mid, count_shared, &n), ERR_OK);
	T_EQ_INT(n, 1);
	struct share_ids ids = {0};
	int64_t vm = account_version(mid);
	T_EQ_INT(store_share_account_peers(st, oid, share_ids_add, &ids), ERR_OK);
	T_OK(account_version(mid) > vm);
	T_EQ_INT((int)ids.n, 1);
	T_EQ_INT(store_account_delete(st, oid), ERR_OK);
	n = 0;
	T_EQ_INT(store_shared_list(st, mid, count_shared, &n), ERR_OK);
	T_EQ_INT(n, 0);
	struct buf b;
	struct jw w;
	buf_init(&b, 1 << 20);
	jw_init(&w, &b);
	T_EQ_INT(share_invitations_in(st, pid, now, &w), ERR_OK);
	buf_addc(&b, '\0');
	T_EQ_STR(b.p, "{\"invitations\":[]}");
	buf_free(&b);
	/* the member's own collection lost its member */
	struct store_collection col;
	int role;
	int64_t cnt = -1;
	T_EQ_INT(share_access(st, mid, NULL, "mine", STORE_ROLE_OWNER, &col, &role), ERR_OK);
	T_EQ_INT(store_member_count(st, col.id, &cnt), ERR_OK);
	T_EQ_INT(cnt, 0);
	share_ids_free(&ids);
}

/* Every test against the store at dbpath (migrated and opened here as st). */
static void run_all(void)
{
	char err[512];
	if (store_migrate(dbpath, err, sizeof err) != 0 || store_open(dbpath, STORE_RW, &st, err, sizeof err) != 0) {
		fprintf(stderr, "store: %s\n", err);
		T_OK(0);
		return;
	}
	T_RUN(test_keys);
	T_RUN(test_invite_accept);
	T_RUN(test_roles_removal);
	T_RUN(test_rotate);
	T_RUN(test_rotate_expired);
	T_RUN(test_limits);
	T_RUN(test_member_push);
	T_RUN(test_account_delete);
	store_close(st);
	st = NULL;
}

int main(void)
{
	if (t_tmpdir(tmpdir, sizeof tmpdir, "share") != 0)
		return 1;
	log_setup("test_share", LOG_ERROR);
	config_defaults(&cfg);
	cfg.password_hash.iterations = 1000;
	now = (int64_t)time(NULL);
	snprintf(dbpath, sizeof dbpath, "%s/share.sqlite", tmpdir);
	run_all();
	if (pgt_setup("test_share") > 0) {
		pgt_new_uri(dbpath, sizeof dbpath);
		run_all();
		pgt_teardown();
	}
	t_tmpdir_remove(tmpdir);
	return t_done();
}
