/*
 * test_pg_share.c: unit tests of sharing on the PostgreSQL store
 * (fcgi/lib/store_pg_share.c, sql/pg/005_sharing.sql) through store.h,
 * against the database named by $BS_TEST_PG (pgtest.h: a schema per test);
 * without it the program says it skips and passes.
 *
 * Every function of store.h's "sharing" section once, with the cascades of
 * a collection's and an account's deletion; a store made before sharing
 * migrated to it (sql/pg/005_sharing.sql). Then what SQLite's single
 * writer gave for free, under real concurrency, each thread on a
 * connection of its own:
 * - a rotation and an invitation of one collection at once: exactly one of
 *   them wins, the rotation that comes second is ERR_PRECONDITION_FAILED
 *   (412) with the version the invitation left, the invitation that comes
 *   second finds the new key version (400 upstream); forced both ways (the
 *   first holds its locks while the second starts), then raced freely;
 * - an acceptance during a rotation reads the invitation the rotation left
 *   (the member's grant is of the new key version, never the replaced one);
 * - pushes to two collections with the same members, and with each owner a
 *   member of the other's collection, bump every member's account_version
 *   once per push (none lost), none failing, and PostgreSQL breaks no
 *   deadlock meanwhile (pg_stat_database): the bumps wait in no cycle;
 * - the same through sync_push_as (the routes' push): each of two owners
 *   pushes into its own collection and, as a member, into the other's, all
 *   at once: versions unique, every status moved once per push, the quota
 *   the owner's, no deadlock;
 * - invitations from one account to several collections at once never pass
 *   its pending-invitation limit.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accounts.h"
#include "config.h"
#include "log.h"
#include "share.h"
#include "store.h"
#include "sync.h"

#include "t.h"
#include "pgtest.h"
#include "storetest.h"

static struct config cfg;

/* ---- helpers ---- */

/* A new account `name` (storetest.h); its id, or -1. */
static int64_t add_account(struct store *s, const char *name)
{
	return stt_register(s, &cfg, name, 0x33, NULL);
}

/* A new collection `name` of account; its id, or -1. */
static int64_t add_collection(struct store *s, int64_t account, const char *name)
{
	struct store_collection c;
	enum err e = store_collection_create(s, account, name, NULL, 0, 1000, &c);
	T_EQ_INT(e, ERR_OK);
	return e == ERR_OK ? c.id : -1;
}

static int64_t account_version(struct store *s, int64_t id)
{
	struct store_account a;
	T_EQ_INT(store_account_by_id(s, id, &a), ERR_OK);
	return a.account_version;
}

/* The collection's row (by its owner and name). */
static struct store_collection collection(struct store *s, int64_t owner, const char *name)
{
	struct store_collection c;
	memset(&c, 0, sizeof c);
	T_EQ_INT(store_collection_get(s, owner, name, &c), ERR_OK);
	return c;
}

/* A 22-character public id from n. */
static void public_id(char out[STORE_INVITATION_ID_LEN + 1], unsigned n)
{
	snprintf(out, STORE_INVITATION_ID_LEN + 1, "inv%019u", n);
}

/* An invitation of collection_id from -> to with sealed bytes of `fill`. */
static struct store_invitation invitation(unsigned n, int64_t collection_id, int64_t from, int64_t to,
    int64_t key_version, int64_t now, uint8_t fill)
{
	static uint8_t sealed[256][48], sig[256][STORE_SIGNATURE_LEN];
	struct store_invitation i;
	memset(&i, 0, sizeof i);
	public_id(i.public_id, n);
	i.collection_id = collection_id;
	i.from_id = from;
	i.to_id = to;
	i.role = STORE_ROLE_WRITE;
	i.key_version = key_version;
	memset(sealed[n % 256], fill, sizeof sealed[0]);
	memset(sig[n % 256], fill ^ 0xff, sizeof sig[0]);
	i.sealed = sealed[n % 256];
	i.sealed_len = sizeof sealed[0];
	i.signature = sig[n % 256];
	i.signature_len = sizeof sig[0];
	i.created_at = now;
	i.expires_at = now + 7 * 86400;
	return i;
}

/* fn of the invitation readers: a copy of the fixed fields, and the first sealed byte */
struct inv_seen {
	int n;
	struct store_invitation last;
	uint8_t sealed0;
	size_t sealed_len, signature_len;
	char ids[8][STORE_INVITATION_ID_LEN + 1];
};

static int inv_collect(void *ctx, const struct store_invitation *i)
{
	struct inv_seen *x = ctx;
	if (x->n < 8)
		snprintf(x->ids[x->n], sizeof x->ids[0], "%s", i->public_id);
	x->n++;
	x->last = *i;
	x->last.sealed = x->last.signature = NULL;
	x->sealed0 = i->sealed_len ? i->sealed[0] : 0;
	x->sealed_len = i->sealed_len;
	x->signature_len = i->signature_len;
	return 0;
}

struct grant_seen {
	int n;
	struct store_grant g;
	uint8_t sealed0;
	size_t sealed_len;
};

static int grant_collect(void *ctx, const struct store_grant *g)
{
	struct grant_seen *x = ctx;
	x->n++;
	x->g = *g;
	x->g.sealed = x->g.signature = NULL;
	x->sealed0 = g->sealed_len ? g->sealed[0] : 0;
	x->sealed_len = g->sealed_len;
	return 0;
}

/* A grant of collection_id to account for key_version, sealed bytes of `fill`. */
static enum err put_grant(struct store *s, int64_t collection_id, int64_t account, int64_t key_version, uint8_t fill)
{
	uint8_t sealed[40], sig[STORE_SIGNATURE_LEN];
	struct store_grant g;
	memset(&g, 0, sizeof g);
	memset(sealed, fill, sizeof sealed);
	memset(sig, fill, sizeof sig);
	g.collection_id = collection_id;
	g.account_id = account;
	g.key_version = key_version;
	snprintf(g.from, sizeof g.from, "giver");
	memset(g.from_keys.x25519, 0x11, STORE_KEY_LEN);
	memset(g.from_keys.ed25519, 0x22, STORE_KEY_LEN);
	g.sealed = sealed;
	g.sealed_len = sizeof sealed;
	g.signature = sig;
	g.signature_len = sizeof sig;
	g.created_at = 2000 + key_version;
	return store_grant_put(s, &g);
}

struct member_seen {
	int n;
	char names[8][STORE_USERNAME_MAX + 1];
	int roles[8];
};

static int member_collect(void *ctx, const struct store_member *m)
{
	struct member_seen *x = ctx;
	if (x->n < 8) {
		snprintf(x->names[x->n], sizeof x->names[0], "%s", m->username);
		x->roles[x->n] = m->role;
	}
	x->n++;
	return 0;
}

struct shared_seen {
	int n;
	char owner[8][STORE_USERNAME_MAX + 1];
	char name[8][STORE_NAME_MAX + 1];
	int role[8];
	int64_t key_version[8], members_version[8];
	int rotate_due[8];
};

static int shared_collect(void *ctx, const struct store_collection *c, const char *owner, int role)
{
	struct shared_seen *x = ctx;
	if (x->n < 8) {
		snprintf(x->owner[x->n], sizeof x->owner[0], "%s", owner);
		snprintf(x->name[x->n], sizeof x->name[0], "%s", c->name);
		x->role[x->n] = role;
		x->key_version[x->n] = c->key_version;
		x->members_version[x->n] = c->members_version;
		x->rotate_due[x->n] = c->rotate_due;
	}
	x->n++;
	return 0;
}

struct ids_seen {
	int n;
	int64_t ids[16];
};

static int id_collect(void *ctx, int64_t id)
{
	struct ids_seen *x = ctx;
	if (x->n < 16)
		x->ids[x->n] = id;
	x->n++;
	return 0;
}

static int has_id(const struct ids_seen *x, int64_t id)
{
	for (int i = 0; i < x->n && i < 16; i++)
		if (x->ids[i] == id)
			return 1;
	return 0;
}

/*
 * The deadlocks PostgreSQL has broken in this database so far, once every
 * other connection of ours has gone (a backend reports its count when it
 * ends at the latest); -1 if they would not go within 20 s.
 */
static long long deadlocks(void)
{
	for (int i = 0; i < 200; i++) {
		PGresult *r = PQexec(pgt_admin,
		    "SELECT (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
		    "AND application_name = 'blindsync'), pg_stat_clear_snapshot() IS NULL, "
		    "(SELECT deadlocks FROM pg_stat_database WHERE datname = current_database())");
		long long others = PQresultStatus(r) == PGRES_TUPLES_OK ? atoll(PQgetvalue(r, 0, 0)) : -1;
		long long n = others == 0 ? atoll(PQgetvalue(r, 0, 2)) : -1;
		PQclear(r);
		if (others == 0)
			return n;
		struct timespec ts = {0, 100 * 1000000L};
		nanosleep(&ts, NULL);
	}
	return -1;
}

/* Run SQL on the admin connection inside the schema of the store at uri; 0, or -1 (a failure counted). */
static int schema_sql(const char *uri, const char *sql)
{
	const char *sp = strstr(uri, "search_path%3D");
	char set[128];
	if (!sp) {
		T_OK(0);
		return -1;
	}
	snprintf(set, sizeof set, "SET search_path TO %s", sp + strlen("search_path%3D"));
	int rc = pgt_sql(set);
	if (rc == 0)
		rc = pgt_sql(sql);
	pgt_sql("RESET search_path");
	return rc;
}

/*
 * A store made before sharing (schema 4, with an account and a collection)
 * migrated to 5 (then 6, rotate_due, and 7, the floors' members_version):
 * its collections get key_version 1, members_version 1 and rotate_due 0,
 * and sharing works on them; a store at 4 is refused until migrated.
 */
static void test_upgrade(void)
{
	char uri[1024], err[512];
	struct store *s = stt_fresh_pg(uri, sizeof uri);
	if (!s)
		return;
	int64_t own = add_account(s, "uowner"), mem = add_account(s, "umember");
	store_close(s);
	s = NULL;
	/* back to what sql/pg/001..004 left, the collection made there */
	schema_sql(uri,
	    "DROP TABLE account_keys, members, invitations, grants, share_bumps; "
	    "ALTER TABLE collections DROP COLUMN key_version, DROP COLUMN members_version, "
	    "DROP COLUMN rotate_due; "
	    "ALTER TABLE collection_floors DROP COLUMN members_version; "
	    "DELETE FROM schema_migrations WHERE version >= 5; "
	    "INSERT INTO collections (account_id, name, version, created_at, modified_at) "
	    "SELECT id, 'old', 7, 1, 1 FROM accounts WHERE username = 'uowner'");
	T_EQ_INT(store_open(uri, STORE_RW, &s, err, sizeof err), -1);
	T_OK(strstr(err, "schema version 4") != NULL);
	T_EQ_INT(store_migrate(uri, err, sizeof err), 0);
	T_EQ_INT(store_open(uri, STORE_RW, &s, err, sizeof err), 0);
	if (!s)
		return;
	struct store_collection c = collection(s, own, "old");
	T_EQ_INT(c.version, 7);
	T_EQ_INT(c.key_version, 1);
	T_EQ_INT(c.members_version, 1);
	T_EQ_INT(c.rotate_due, 0);
	int64_t v = 0;
	T_EQ_INT(store_member_put(s, c.id, mem, STORE_ROLE_READ, 5), ERR_OK);
	T_EQ_INT(store_share_members_bump(s, c.id, &v), ERR_OK);
	T_EQ_INT(v, 2);
	int64_t before = account_version(s, mem);
	T_EQ_INT(store_share_accounts_bump(s, c.id, NULL, NULL), ERR_OK);
	T_EQ_INT(account_version(s, mem), before + 1);
	store_close(s);
}

/* ---- every function once ---- */

static void test_keys(void)
{
	char uri[1024];
	struct store *s = stt_fresh_pg(uri, sizeof uri);
	if (!s)
		return;
	int64_t ann = add_account(s, "ann");
	struct store_keys k, got;
	int changed = -1;
	T_EQ_INT(store_keys_get(s, ann, &got), ERR_NOT_FOUND);
	memset(k.x25519, 1, STORE_KEY_LEN);
	memset(k.ed25519, 2, STORE_KEY_LEN);
	T_EQ_INT(store_keys_put(s, ann, &k, 100, &changed), ERR_OK);
	T_EQ_INT(changed, 1);
	T_EQ_INT(store_keys_get(s, ann, &got), ERR_OK);
	T_OK(memcmp(&got, &k, sizeof k) == 0);
	/* the same again: no change; another: a change */
	T_EQ_INT(store_keys_put(s, ann, &k, 101, &changed), ERR_OK);
	T_EQ_INT(changed, 0);
	k.ed25519[31] = 9;
	T_EQ_INT(store_keys_put(s, ann, &k, 102, &changed), ERR_OK);
	T_EQ_INT(changed, 1);
	T_EQ_INT(store_keys_get(s, ann, &got), ERR_OK);
	T_EQ_INT(got.ed25519[31], 9);
	T_EQ_INT(store_account_delete(s, ann), ERR_OK);
	T_EQ_INT(store_keys_get(s, ann, &got), ERR_NOT_FOUND);
	store_close(s);
}

static void test_members_invitations_grants(void)
{
	char uri[1024];
	struct store *s = stt_fresh_pg(uri, sizeof uri);
	if (!s)
		return;
	int64_t own = add_account(s, "owner"), bob = add_account(s, "bob"), cat = add_account(s, "cat");
	int64_t c = add_collection(s, own, "notes");
	struct store_collection col = collection(s, own, "notes");
	T_EQ_INT(col.key_version, 1);
	T_EQ_INT(col.members_version, 1);

	/* members */
	int role = -1;
	int64_t n = -1, v = 0;
	T_EQ_INT(store_member_role(s, c, bob, &role), ERR_NOT_FOUND);
	T_EQ_INT(store_member_put(s, c, bob, STORE_ROLE_READ, 500), ERR_OK);
	T_EQ_INT(store_member_put(s, c, cat, STORE_ROLE_ADMIN, 501), ERR_OK);
	T_EQ_INT(store_member_role(s, c, bob, &role), ERR_OK);
	T_EQ_INT(role, STORE_ROLE_READ);
	T_EQ_INT(store_member_put(s, c, bob, STORE_ROLE_WRITE, 999), ERR_OK); /* a role change */
	T_EQ_INT(store_member_role(s, c, bob, &role), ERR_OK);
	T_EQ_INT(role, STORE_ROLE_WRITE);
	T_EQ_INT(store_member_count(s, c, &n), ERR_OK);
	T_EQ_INT(n, 2);
	struct member_seen ms = {0};
	T_EQ_INT(store_member_list(s, c, member_collect, &ms), ERR_OK);
	T_EQ_INT(ms.n, 2);
	T_EQ_STR(ms.names[0], "bob");
	T_EQ_INT(ms.roles[0], STORE_ROLE_WRITE);
	T_EQ_STR(ms.names[1], "cat");
	struct shared_seen sh = {0};
	T_EQ_INT(store_shared_list(s, bob, shared_collect, &sh), ERR_OK);
	T_EQ_INT(sh.n, 1);
	T_EQ_STR(sh.owner[0], "owner");
	T_EQ_STR(sh.name[0], "notes");
	T_EQ_INT(sh.role[0], STORE_ROLE_WRITE);
	T_EQ_INT(sh.key_version[0], 1);

	/* the counters */
	T_EQ_INT(store_share_members_bump(s, c, &v), ERR_OK);
	T_EQ_INT(v, 2);
	T_EQ_INT(store_share_rotate_mark(s, c, 1, 1, &v), ERR_PRECONDITION_FAILED);
	T_EQ_INT(v, 2);
	T_EQ_INT(store_share_rotate_mark(s, c, 2, 2, &v), ERR_PRECONDITION_FAILED);
	T_EQ_INT(store_share_rotate_mark(s, c, 2, 1, &v), ERR_OK);
	T_EQ_INT(v, 3);
	col = collection(s, own, "notes");
	T_EQ_INT(col.key_version, 2);
	T_EQ_INT(col.members_version, 3);
	T_EQ_INT(col.rotate_due, 0);
	T_EQ_INT(store_share_rotate_mark(s, c + 1000, 3, 2, &v), ERR_NOT_FOUND);
	T_EQ_INT(store_share_members_bump(s, c + 1000, &v), ERR_NOT_FOUND);
	int64_t bob_v = account_version(s, bob), cat_v = account_version(s, cat), own_v = account_version(s, own);
	struct ids_seen ids = {0};
	T_EQ_INT(store_share_accounts_bump(s, c, id_collect, &ids), ERR_OK);
	T_EQ_INT(ids.n, 2);
	T_OK(has_id(&ids, bob) && has_id(&ids, cat));
	T_EQ_INT(account_version(s, bob), bob_v + 1);
	T_EQ_INT(account_version(s, cat), cat_v + 1);
	T_EQ_INT(account_version(s, own), own_v); /* the owner is not a member */
	T_EQ_INT(store_share_accounts_bump(s, c, NULL, NULL), ERR_OK);
	T_EQ_INT(account_version(s, bob), bob_v + 2);

	/* grants: per key version, the newest or the one asked for */
	struct grant_seen gs = {0};
	T_EQ_INT(store_grant_get(s, c, bob, 0, grant_collect, &gs), ERR_NOT_FOUND);
	T_EQ_INT(put_grant(s, c, bob, 1, 0xa1), ERR_OK);
	T_EQ_INT(put_grant(s, c, bob, 2, 0xa2), ERR_OK);
	T_EQ_INT(put_grant(s, c, cat, 2, 0xc2), ERR_OK);
	T_EQ_INT(store_grant_get(s, c, bob, 0, grant_collect, &gs), ERR_OK);
	T_EQ_INT(gs.g.key_version, 2);
	T_EQ_INT(gs.sealed0, 0xa2);
	T_EQ_INT(gs.sealed_len, 40);
	T_EQ_STR(gs.g.from, "giver");
	T_EQ_INT(gs.g.from_keys.ed25519[0], 0x22);
	T_EQ_INT(store_grant_get(s, c, bob, 1, grant_collect, &gs), ERR_OK);
	T_EQ_INT(gs.g.key_version, 1);
	T_EQ_INT(gs.sealed0, 0xa1);
	T_EQ_INT(store_grant_get(s, c, bob, 3, grant_collect, &gs), ERR_NOT_FOUND);
	T_EQ_INT(put_grant(s, c, bob, 2, 0xb2), ERR_OK); /* replaced */
	T_EQ_INT(store_grant_get(s, c, bob, 2, grant_collect, &gs), ERR_OK);
	T_EQ_INT(gs.sealed0, 0xb2);

	/* invitations */
	int64_t dan = add_account(s, "dan");
	struct store_keys k;
	int changed;
	memset(k.x25519, 5, STORE_KEY_LEN);
	memset(k.ed25519, 6, STORE_KEY_LEN);
	T_EQ_INT(store_keys_put(s, cat, &k, 100, &changed), ERR_OK);
	struct store_invitation i = invitation(1, c, cat, dan, 2, 1000, 0x51);
	T_EQ_INT(store_invitation_insert(s, &i), ERR_OK);
	T_OK(i.id > 0);
	int64_t first_id = i.id;
	struct store_invitation again = invitation(2, c, own, dan, 2, 1001, 0x52);
	T_EQ_INT(store_invitation_insert(s, &again), ERR_CONFLICT); /* one pending per (collection, to) */
	struct store_invitation dup = invitation(1, c, cat, bob, 2, 1001, 0x53);
	T_EQ_INT(store_invitation_insert(s, &dup), ERR_CONFLICT);  /* a taken public id */
	int pending = -1;
	T_EQ_INT(store_invitation_pending(s, c, dan, 1000, &pending), ERR_OK);
	T_EQ_INT(pending, 1);
	T_EQ_INT(store_invitation_pending(s, c, bob, 1000, &pending), ERR_OK);
	T_EQ_INT(pending, 0);
	T_EQ_INT(store_invitation_count_from(s, cat, 1000, &n), ERR_OK);
	T_EQ_INT(n, 1);
	struct inv_seen is = {0};
	char pid[STORE_INVITATION_ID_LEN + 1];
	public_id(pid, 1);
	T_EQ_INT(store_invitation_get(s, pid, 1000, inv_collect, &is), ERR_OK);
	T_EQ_INT(is.n, 1);
	T_EQ_INT(is.last.id, first_id);
	T_EQ_STR(is.last.public_id, pid);
	T_EQ_INT(is.last.collection_id, c);
	T_EQ_STR(is.last.collection, "notes");
	T_EQ_INT(is.last.owner_id, own);
	T_EQ_STR(is.last.owner, "owner");
	T_EQ_INT(is.last.from_id, cat);
	T_EQ_STR(is.last.from, "cat");
	T_EQ_INT(is.last.from_has_keys, 1);
	T_EQ_INT(is.last.from_keys.ed25519[0], 6);
	T_EQ_INT(is.last.to_id, dan);
	T_EQ_STR(is.last.to, "dan");
	T_EQ_INT(is.last.role, STORE_ROLE_WRITE);
	T_EQ_INT(is.last.key_version, 2);
	T_EQ_INT(is.sealed0, 0x51);
	T_EQ_INT(is.sealed_len, 48);
	T_EQ_INT(is.signature_len, STORE_SIGNATURE_LEN);
	T_EQ_INT(is.last.created_at, 1000);
	memset(&is, 0, sizeof is);
	T_EQ_INT(store_invitation_get(s, "no-such-invitation-id", 1000, inv_collect, &is), ERR_NOT_FOUND);
	T_EQ_INT(store_invitation_get(s, pid, i.expires_at, inv_collect, &is), ERR_NOT_FOUND); /* expired by then */
	T_EQ_INT(is.n, 0);
	/* an inviter without keys reads as such */
	struct store_invitation j = invitation(3, c, own, bob, 2, 1002, 0x61);
	T_EQ_INT(store_invitation_insert(s, &j), ERR_OK);
	memset(&is, 0, sizeof is);
	T_EQ_INT(store_invitation_list_collection(s, c, 1002, inv_collect, &is), ERR_OK);
	T_EQ_INT(is.n, 2);
	public_id(pid, 3);
	T_EQ_STR(is.ids[1], pid);
	T_EQ_INT(is.last.from_has_keys, 0);
	memset(&is, 0, sizeof is);
	T_EQ_INT(store_invitation_list_to(s, dan, 1002, inv_collect, &is), ERR_OK);
	T_EQ_INT(is.n, 1);
	/* a rotation replaces a pending invitation's grant */
	uint8_t sealed2[30], sig2[STORE_SIGNATURE_LEN];
	memset(sealed2, 0x77, sizeof sealed2);
	memset(sig2, 0x78, sizeof sig2);
	T_EQ_INT(store_invitation_regrant(s, first_id, 3, sealed2, sizeof sealed2, sig2, sizeof sig2), ERR_OK);
	memset(&is, 0, sizeof is);
	T_EQ_INT(store_invitation_list_to(s, dan, 1002, inv_collect, &is), ERR_OK);
	T_EQ_INT(is.last.key_version, 3);
	T_EQ_INT(is.sealed0, 0x77);
	T_EQ_INT(is.sealed_len, 30);
	T_EQ_INT(store_invitation_regrant(s, first_id + 1000, 3, sealed2, sizeof sealed2, sig2, sizeof sig2), ERR_NOT_FOUND);
	/* an expired invitation is as good as gone, and makes room for a new one */
	int64_t later = i.expires_at + 1;
	memset(&is, 0, sizeof is);
	T_EQ_INT(store_invitation_list_to(s, dan, later, inv_collect, &is), ERR_OK);
	T_EQ_INT(is.n, 0);
	T_EQ_INT(store_invitation_count_from(s, cat, later, &n), ERR_OK);
	T_EQ_INT(n, 0);
	struct store_invitation renewed = invitation(4, c, own, dan, 2, later, 0x81);
	T_EQ_INT(store_invitation_insert(s, &renewed), ERR_OK);
	T_EQ_INT(store_invitation_delete(s, renewed.id), ERR_OK);
	T_EQ_INT(store_invitation_delete(s, renewed.id), ERR_NOT_FOUND);

	/* a member removed: its grants go with it, and the key is due a rotation */
	T_EQ_INT(collection(s, own, "notes").rotate_due, 0);
	T_EQ_INT(store_member_delete(s, c, bob), ERR_OK);
	T_EQ_INT(store_member_delete(s, c, bob), ERR_NOT_FOUND);
	T_EQ_INT(store_grant_get(s, c, bob, 0, grant_collect, &gs), ERR_NOT_FOUND);
	T_EQ_INT(store_grant_get(s, c, cat, 0, grant_collect, &gs), ERR_OK);
	col = collection(s, own, "notes");
	T_EQ_INT(col.rotate_due, 1);
	memset(&sh, 0, sizeof sh);
	T_EQ_INT(store_shared_list(s, cat, shared_collect, &sh), ERR_OK);
	T_EQ_INT(sh.n, 1);
	T_EQ_INT(sh.rotate_due[0], 1);
	T_EQ_INT(store_share_rotate_mark(s, c, col.members_version, col.key_version, &v), ERR_OK);
	T_EQ_INT(collection(s, own, "notes").rotate_due, 0);
	/* a withdrawn invitation's mark (share.c), on a collection that exists only */
	T_EQ_INT(store_share_rotate_due(s, c), ERR_OK);
	T_EQ_INT(collection(s, own, "notes").rotate_due, 1);
	T_EQ_INT(store_share_rotate_due(s, c + 1000), ERR_NOT_FOUND);

	/* the peers of an account that goes: bumped, and the collections it is in */
	int64_t c2 = add_collection(s, dan, "dans");
	T_EQ_INT(store_member_put(s, c2, cat, STORE_ROLE_READ, 600), ERR_OK);
	T_EQ_INT(store_member_put(s, c2, bob, STORE_ROLE_READ, 600), ERR_OK);
	/* cat: a member of owner's notes (with nobody else now) and of dan's dans (with bob) */
	own_v = account_version(s, own);
	bob_v = account_version(s, bob);
	int64_t dan_v = account_version(s, dan);
	int64_t mv1 = collection(s, own, "notes").members_version, mv2 = collection(s, dan, "dans").members_version;
	memset(&ids, 0, sizeof ids);
	T_EQ_INT(store_share_account_peers(s, cat, id_collect, &ids), ERR_OK);
	T_OK(has_id(&ids, own) && has_id(&ids, dan) && has_id(&ids, bob) && !has_id(&ids, cat));
	T_EQ_INT(account_version(s, own), own_v + 1);
	T_EQ_INT(account_version(s, dan), dan_v + 1);
	T_EQ_INT(account_version(s, bob), bob_v + 1);
	T_EQ_INT(collection(s, own, "notes").members_version, mv1 + 1);
	T_EQ_INT(collection(s, dan, "dans").members_version, mv2 + 1);
	/* and of an owner: its members */
	memset(&ids, 0, sizeof ids);
	T_EQ_INT(store_share_account_peers(s, dan, id_collect, &ids), ERR_OK);
	T_EQ_INT(ids.n, 2);
	T_OK(has_id(&ids, cat) && has_id(&ids, bob));

	/* cascades: the account goes with its keys, memberships, invitations, grants */
	T_EQ_INT(store_account_delete(s, cat), ERR_OK);
	T_EQ_INT(store_member_count(s, c, &n), ERR_OK);
	T_EQ_INT(n, 0);
	T_EQ_INT(store_member_count(s, c2, &n), ERR_OK);
	T_EQ_INT(n, 1);
	T_EQ_INT(store_grant_get(s, c, cat, 0, grant_collect, &gs), ERR_NOT_FOUND);
	memset(&is, 0, sizeof is);
	T_EQ_INT(store_invitation_list_collection(s, c, 1002, inv_collect, &is), ERR_OK);
	T_EQ_INT(is.n, 1); /* owner -> bob stays; cat -> dan went with cat */
	/* the collection goes with its members, invitations and grants */
	T_EQ_INT(put_grant(s, c2, bob, 1, 0x99), ERR_OK);
	T_EQ_INT(store_collection_delete(s, c), ERR_OK);
	memset(&is, 0, sizeof is);
	T_EQ_INT(store_invitation_list_to(s, bob, 1002, inv_collect, &is), ERR_OK);
	T_EQ_INT(is.n, 0);
	T_EQ_INT(store_account_delete(s, dan), ERR_OK);
	T_EQ_INT(store_grant_get(s, c2, bob, 0, grant_collect, &gs), ERR_NOT_FOUND);
	memset(&sh, 0, sizeof sh);
	T_EQ_INT(store_shared_list(s, bob, shared_collect, &sh), ERR_OK);
	T_EQ_INT(sh.n, 0);
	store_close(s);
}

/* ---- a rotation against an invitation ---- */

/*
 * Two transactions of one collection, as share.c runs them: an invitation
 * (its key version checked under the collection's lock, then inserted and
 * the membership version bumped) and a rotation (the versions the client
 * read, checked and moved on under the same lock). `hold` makes one of
 * them keep its locks a while after taking them, signalling `go` first.
 */
struct race {
	const char *uri;
	int64_t collection_id, owner, from, to;
	int64_t seen_members, seen_key;  /* what the client read before (the ETag) */
	unsigned inv_no;
	pthread_barrier_t *start;
	int hold_inv, hold_rot;          /* 1: hold the locks ~100 ms, after signalling */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int locked;                      /* the holder has its locks */
	enum err inv, rot;               /* the outcomes */
	int64_t rot_version;
};

static void race_signal(struct race *r)
{
	pthread_mutex_lock(&r->mu);
	r->locked = 1;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

static void race_wait(struct race *r)
{
	pthread_mutex_lock(&r->mu);
	while (!r->locked)
		pthread_cond_wait(&r->cv, &r->mu);
	pthread_mutex_unlock(&r->mu);
}

static void hold(void)
{
	struct timespec ts = {0, 100 * 1000000L};
	nanosleep(&ts, NULL);
}

static enum err inv_tx(struct store *s, void *arg)
{
	struct race *r = arg;
	int64_t v;
	struct store_collection c;
	struct store_account o;
	enum err e;
	/* as a push takes them: the owner's row, then the collection's */
	if ((e = store_account_by_id(s, r->owner, &o)) || (e = store_share_members_bump(s, r->collection_id, &v)))
		return e;
	if (r->hold_inv) {
		race_signal(r);
		hold();
	}
	if ((e = store_collection_get(s, r->owner, "shared", &c)))
		return e;
	if (c.key_version != r->seen_key)
		return ERR_INVALID_REQUEST; /* sealed under a key version that is not current: 400 */
	struct store_invitation i = invitation(r->inv_no, r->collection_id, r->from, r->to, r->seen_key, 1000, 0x10);
	return store_invitation_insert(s, &i);
}

static enum err rot_tx(struct store *s, void *arg)
{
	struct race *r = arg;
	enum err e = store_share_rotate_mark(s, r->collection_id, r->seen_members, r->seen_key, &r->rot_version);
	if (e)
		return e;
	if (r->hold_rot) {
		race_signal(r);
		hold();
	}
	/* the members' new grants would go here */
	return ERR_OK;
}

static void *inv_run(void *p)
{
	struct race *r = p;
	struct store *s = stt_open(r->uri);
	if (r->start)
		pthread_barrier_wait(r->start);
	if (r->hold_rot)
		race_wait(r);
	r->inv = s ? store_tx(s, inv_tx, r) : ERR_INTERNAL;
	store_close(s);
	return NULL;
}

static void *rot_run(void *p)
{
	struct race *r = p;
	struct store *s = stt_open(r->uri);
	if (r->start)
		pthread_barrier_wait(r->start);
	if (r->hold_inv)
		race_wait(r);
	r->rot = s ? store_tx(s, rot_tx, r) : ERR_INTERNAL;
	store_close(s);
	return NULL;
}

/* One round: both at once (forced one way by hold_inv / hold_rot, or free). Checks the outcome. */
static void race_round(struct store *s, const char *uri, int64_t owner, int64_t from, int64_t to, int64_t cid,
    unsigned no, int hold_inv, int hold_rot, int *inv_won, int *rot_won)
{
	struct store_collection c = collection(s, owner, "shared");
	struct race r;
	memset(&r, 0, sizeof r);
	r.uri = uri;
	r.collection_id = cid;
	r.owner = owner;
	r.from = from;
	r.to = to;
	r.seen_members = c.members_version;
	r.seen_key = c.key_version;
	r.inv_no = no;
	r.hold_inv = hold_inv;
	r.hold_rot = hold_rot;
	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.cv, NULL);
	pthread_barrier_t start;
	pthread_barrier_init(&start, NULL, 2);
	r.start = &start;
	pthread_t a, b;
	T_EQ_INT(pthread_create(&a, NULL, inv_run, &r), 0);
	T_EQ_INT(pthread_create(&b, NULL, rot_run, &r), 0);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	pthread_barrier_destroy(&start);
	pthread_mutex_destroy(&r.mu);
	pthread_cond_destroy(&r.cv);
	struct store_collection after = collection(s, owner, "shared");
	int pending = 0;
	T_EQ_INT(store_invitation_pending(s, cid, to, 1000, &pending), ERR_OK);
	/* exactly one of them won */
	if (r.inv == ERR_OK) {
		T_EQ_INT(r.rot, ERR_PRECONDITION_FAILED);
		T_EQ_INT(r.rot_version, c.members_version + 1); /* the version the invitation left */
		T_EQ_INT(after.key_version, c.key_version);
		T_EQ_INT(after.members_version, c.members_version + 1);
		T_EQ_INT(pending, 1);
		(*inv_won)++;
	} else {
		T_EQ_INT(r.inv, ERR_INVALID_REQUEST);
		T_EQ_INT(r.rot, ERR_OK);
		T_EQ_INT(after.key_version, c.key_version + 1);
		T_EQ_INT(after.members_version, c.members_version + 1);
		T_EQ_INT(pending, 0);
		(*rot_won)++;
	}
	/* ready for the next round: no invitation pending */
	struct inv_seen is = {0};
	T_EQ_INT(store_invitation_list_to(s, to, 1000, inv_collect, &is), ERR_OK);
	if (is.n == 1)
		T_EQ_INT(store_invitation_delete(s, is.last.id), ERR_OK);
}

static void test_rotate_vs_invite(void)
{
	char uri[1024];
	struct store *s = stt_fresh_pg(uri, sizeof uri);
	if (!s)
		return;
	int64_t own = add_account(s, "rowner"), adm = add_account(s, "radmin"), guest = add_account(s, "rguest");
	int64_t cid = add_collection(s, own, "shared");
	T_EQ_INT(store_member_put(s, cid, adm, STORE_ROLE_ADMIN, 10), ERR_OK);
	int inv_won = 0, rot_won = 0;
	/* the invitation holds the lock while the rotation starts: the rotation waits, then finds it stale */
	race_round(s, uri, own, adm, guest, cid, 1, 1, 0, &inv_won, &rot_won);
	T_EQ_INT(inv_won, 1);
	/* the rotation holds it while the invitation starts: the invitation finds the new key version */
	race_round(s, uri, own, adm, guest, cid, 2, 0, 1, &inv_won, &rot_won);
	T_EQ_INT(rot_won, 1);
	/* free races: whoever is first, exactly one wins each round */
	for (unsigned i = 0; i < 20; i++)
		race_round(s, uri, own, adm, guest, cid, 10 + i, 0, 0, &inv_won, &rot_won);
	T_EQ_INT(inv_won + rot_won, 22);
	printf("test_rotate_vs_invite: 20 free rounds: the invitation first %d, the rotation first %d\n", inv_won - 1,
	    rot_won - 1);
	store_close(s);
}

/* ---- an acceptance during a rotation ---- */

struct accept {
	const char *uri;
	int64_t cid, owner, member, invitee;
	char pid[STORE_INVITATION_ID_LEN + 1];
	int64_t inv_row, seen_members;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int locked;
	enum err rot, acc;
	int64_t accepted_kv;
};

struct accept_read {
	struct store_invitation i;
	uint8_t sealed[64], sig[STORE_SIGNATURE_LEN];
	size_t sealed_len;
};

static int accept_copy(void *ctx, const struct store_invitation *i)
{
	struct accept_read *x = ctx;
	x->i = *i;
	x->sealed_len = i->sealed_len < sizeof x->sealed ? i->sealed_len : sizeof x->sealed;
	memcpy(x->sealed, i->sealed, x->sealed_len);
	memcpy(x->sig, i->signature, sizeof x->sig);
	return 0;
}

/* The rotation of share.c: versions checked and moved, then the grants (the member's, the invitee's). */
static enum err rotate_tx(struct store *s, void *arg)
{
	struct accept *x = arg;
	int64_t v;
	enum err e = store_share_rotate_mark(s, x->cid, x->seen_members, 1, &v);
	if (e)
		return e;
	pthread_mutex_lock(&x->mu);
	x->locked = 1;
	pthread_cond_broadcast(&x->cv);
	pthread_mutex_unlock(&x->mu);
	hold();
	uint8_t sealed[20], sig[STORE_SIGNATURE_LEN];
	memset(sealed, 0x22, sizeof sealed);
	memset(sig, 0x22, sizeof sig);
	if ((e = put_grant(s, x->cid, x->member, 2, 0x22)))
		return e;
	return store_invitation_regrant(s, x->inv_row, 2, sealed, sizeof sealed, sig, sizeof sig);
}

/* The acceptance of share.c: the invitation read, the membership and its grant stored, the invitation gone. */
static enum err accept_tx(struct store *s, void *arg)
{
	struct accept *x = arg;
	struct accept_read rd;
	int64_t v;
	memset(&rd, 0, sizeof rd);
	enum err e = store_invitation_get(s, x->pid, 1000, accept_copy, &rd);
	if (e)
		return e;
	struct store_grant g;
	memset(&g, 0, sizeof g);
	g.collection_id = x->cid;
	g.account_id = x->invitee;
	g.key_version = rd.i.key_version;
	snprintf(g.from, sizeof g.from, "%s", rd.i.from);
	g.sealed = rd.sealed;
	g.sealed_len = rd.sealed_len;
	g.signature = rd.sig;
	g.signature_len = sizeof rd.sig;
	if ((e = store_member_put(s, x->cid, x->invitee, rd.i.role, 1000)) || (e = store_grant_put(s, &g)) ||
	    (e = store_invitation_delete(s, rd.i.id)) || (e = store_share_members_bump(s, x->cid, &v)))
		return e;
	x->accepted_kv = rd.i.key_version;
	return ERR_OK;
}

static void *rotate_run(void *p)
{
	struct accept *x = p;
	struct store *s = stt_open(x->uri);
	x->rot = s ? store_tx(s, rotate_tx, x) : ERR_INTERNAL;
	store_close(s);
	return NULL;
}

static void *accept_run(void *p)
{
	struct accept *x = p;
	struct store *s = stt_open(x->uri);
	pthread_mutex_lock(&x->mu);
	while (!x->locked)
		pthread_cond_wait(&x->cv, &x->mu);
	pthread_mutex_unlock(&x->mu);
	x->acc = s ? store_tx(s, accept_tx, x) : ERR_INTERNAL;
	store_close(s);
	return NULL;
}

static void test_accept_during_rotation(void)
{
	char uri[1024];
	struct store *s = stt_fresh_pg(uri, sizeof uri);
	if (!s)
		return;
	struct accept x;
	memset(&x, 0, sizeof x);
	x.uri = uri;
	x.owner = add_account(s, "aowner");
	x.member = add_account(s, "amember");
	x.invitee = add_account(s, "ainvitee");
	x.cid = add_collection(s, x.owner, "shared");
	T_EQ_INT(store_member_put(s, x.cid, x.member, STORE_ROLE_WRITE, 10), ERR_OK);
	T_EQ_INT(put_grant(s, x.cid, x.member, 1, 0x11), ERR_OK);
	struct store_invitation i = invitation(7, x.cid, x.owner, x.invitee, 1, 1000, 0x11);
	T_EQ_INT(store_invitation_insert(s, &i), ERR_OK);
	snprintf(x.pid, sizeof x.pid, "%s", i.public_id);
	x.inv_row = i.id;
	x.seen_members = collection(s, x.owner, "shared").members_version;
	pthread_mutex_init(&x.mu, NULL);
	pthread_cond_init(&x.cv, NULL);
	pthread_t a, b;
	T_EQ_INT(pthread_create(&a, NULL, rotate_run, &x), 0);
	T_EQ_INT(pthread_create(&b, NULL, accept_run, &x), 0);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	pthread_mutex_destroy(&x.mu);
	pthread_cond_destroy(&x.cv);
	/* the rotation began first and committed; the acceptance then read its invitation */
	T_EQ_INT(x.rot, ERR_OK);
	T_EQ_INT(x.acc, ERR_OK);
	T_EQ_INT(x.accepted_kv, 2);
	struct grant_seen gs = {0};
	T_EQ_INT(store_grant_get(s, x.cid, x.invitee, 0, grant_collect, &gs), ERR_OK);
	T_EQ_INT(gs.g.key_version, 2);
	T_EQ_INT(gs.sealed0, 0x22);
	int role = 0;
	T_EQ_INT(store_member_role(s, x.cid, x.invitee, &role), ERR_OK);
	T_EQ_INT(role, STORE_ROLE_WRITE);
	struct store_collection c = collection(s, x.owner, "shared");
	T_EQ_INT(c.key_version, 2);
	T_EQ_INT(c.members_version, x.seen_members + 2);
	store_close(s);
}

/* ---- pushes bump every member ---- */

#define MEMBERS 6
#define BUMPERS 4
#define BUMPS 15

struct bumper {
	const char *uri;
	int64_t owner;
	const char *name;
	int failures;
};

/* A push's locks and counters, as sync.c takes them, and the members' bump. */
static enum err bump_tx(struct store *s, void *arg)
{
	struct bumper *b = arg;
	struct store_account o;
	struct store_collection c;
	enum err e;
	if ((e = store_account_by_id(s, b->owner, &o)) || (e = store_collection_get(s, b->owner, b->name, &c)) ||
	    (e = store_collection_update(s, c.id, c.version + 1, 1, 10, 1000)) ||
	    (e = store_account_usage_add(s, b->owner, 10, 1)))
		return e;
	return store_share_accounts_bump(s, c.id, NULL, NULL);
}

static void *bumper_run(void *p)
{
	struct bumper *b = p;
	struct store *s = stt_open(b->uri);
	for (int i = 0; s && i < BUMPS; i++) {
		enum err e = store_tx(s, bump_tx, b);
		if (e) {
			fprintf(stderr, "bumper %s: %d\n", b->name, (int)e);
			b->failures++;
		}
	}
	if (!s)
		b->failures++;
	store_close(s);
	return NULL;
}

static void test_push_bumps_members(void)
{
	char uri[1024];
	struct store *s = stt_fresh_pg(uri, sizeof uri);
	if (!s)
		return;
	/* two owners, each a member of the other's collection, and MEMBERS
	 * members of both, made in an order unlike their ids' */
	int64_t o1 = add_account(s, "owner1"), o2 = add_account(s, "owner2");
	int64_t m[MEMBERS];
	for (int i = 0; i < MEMBERS; i++) {
		char name[16];
		snprintf(name, sizeof name, "m%d", i);
		m[i] = add_account(s, name);
	}
	int64_t c1 = add_collection(s, o1, "one"), c2 = add_collection(s, o2, "two");
	for (int i = 0; i < MEMBERS; i++) {
		T_EQ_INT(store_member_put(s, c1, m[i], STORE_ROLE_WRITE, 10), ERR_OK);
		T_EQ_INT(store_member_put(s, c2, m[MEMBERS - 1 - i], STORE_ROLE_WRITE, 10), ERR_OK);
	}
	T_EQ_INT(store_member_put(s, c1, o2, STORE_ROLE_WRITE, 10), ERR_OK);
	T_EQ_INT(store_member_put(s, c2, o1, STORE_ROLE_WRITE, 10), ERR_OK);
	int64_t before[MEMBERS], o1v = account_version(s, o1), o2v = account_version(s, o2);
	for (int i = 0; i < MEMBERS; i++)
		before[i] = account_version(s, m[i]);
	store_close(s);
	long long dl = deadlocks();
	T_OK(dl >= 0);
	struct bumper bs[BUMPERS];
	pthread_t th[BUMPERS];
	for (int i = 0; i < BUMPERS; i++) {
		memset(&bs[i], 0, sizeof bs[i]);
		bs[i].uri = uri;
		bs[i].owner = i % 2 ? o2 : o1;
		bs[i].name = i % 2 ? "two" : "one";
		T_EQ_INT(pthread_create(&th[i], NULL, bumper_run, &bs[i]), 0);
	}
	int failures = 0;
	for (int i = 0; i < BUMPERS; i++) {
		pthread_join(th[i], NULL);
		failures += bs[i].failures;
	}
	T_EQ_INT(failures, 0);
	/* none of them waited in a cycle: PostgreSQL broke no deadlock */
	T_EQ_INT(deadlocks(), dl);
	s = stt_open(uri);
	if (!s)
		return;
	/* every push bumped every member once: none lost, none doubled */
	for (int i = 0; i < MEMBERS; i++)
		T_EQ_INT(account_version(s, m[i]), before[i] + BUMPERS * BUMPS);
	/* an owner: its own pushes (usage) and, as a member, the other's */
	T_EQ_INT(account_version(s, o1), o1v + BUMPERS * BUMPS);
	T_EQ_INT(account_version(s, o2), o2v + BUMPERS * BUMPS);
	T_EQ_INT(collection(s, o1, "one").version, BUMPERS / 2 * BUMPS);
	T_EQ_INT(collection(s, o2, "two").version, BUMPERS / 2 * BUMPS);
	store_close(s);
}

/*
 * The same through sync_push_as, the push of the routes: each owner pushes
 * into its own collection and, as a member, into the other's, all at once.
 */
#define SPUSHERS 4
#define SPUSHES 12

struct spusher {
	const char *uri;
	int64_t caller;
	const char *owner;   /* NULL: its own collection */
	const char *name;
	int idx, failures, woke_owner, woke_members;
	int64_t versions[SPUSHES];
};

static void *spusher_run(void *p)
{
	struct spusher *x = p;
	struct store *s = stt_open(x->uri);
	uint8_t pay[16];
	memset(pay, 'a' + x->idx, sizeof pay);
	struct share_ids ids = {0};
	for (int i = 0; s && i < SPUSHES; i++) {
		char id[32];
		snprintf(id, sizeof id, "p%d-%d", x->idx, i);
		struct sync_rec r;
		memset(&r, 0, sizeof r);
		r.id = id;
		r.payload = pay;
		r.len = sizeof pay;
		size_t nconf = 0;
		int64_t cv = 0;
		enum err e = sync_push_as(s, &cfg, x->caller, x->owner, x->name, &r, 1, 1, &nconf, &cv, &ids);
		if (e != ERR_OK || nconf) {
			fprintf(stderr, "spusher %d: push %d: %d\n", x->idx, i, (int)e);
			x->failures++;
			continue;
		}
		x->versions[i] = r.version;
		/* the accounts to wake: the owner first, then every member */
		x->woke_owner += ids.n >= 1;
		x->woke_members += ids.n >= 1 ? (int)ids.n - 1 : 0;
	}
	share_ids_free(&ids);
	if (!s)
		x->failures++;
	store_close(s);
	return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static void test_sync_push_as(void)
{
	char uri[1024];
	struct store *s = stt_fresh_pg(uri, sizeof uri);
	if (!s)
		return;
	int64_t o1 = add_account(s, "sowner1"), o2 = add_account(s, "sowner2"), m = add_account(s, "smember");
	int64_t c1 = add_collection(s, o1, "one"), c2 = add_collection(s, o2, "two");
	T_EQ_INT(store_member_put(s, c1, o2, STORE_ROLE_WRITE, 10), ERR_OK);
	T_EQ_INT(store_member_put(s, c2, o1, STORE_ROLE_WRITE, 10), ERR_OK);
	T_EQ_INT(store_member_put(s, c1, m, STORE_ROLE_WRITE, 10), ERR_OK);
	T_EQ_INT(store_member_put(s, c2, m, STORE_ROLE_WRITE, 10), ERR_OK);
	int64_t v1 = account_version(s, o1), v2 = account_version(s, o2), vm = account_version(s, m);
	store_close(s);
	long long dl = deadlocks();
	T_OK(dl >= 0);
	/* 0: o1 into its own; 1: o2 into its own; 2: o1 into o2's; 3: o2 into o1's */
	struct spusher xs[SPUSHERS] = {
	    {uri, o1, NULL, "one", 0, 0, 0, 0, {0}}, {uri, o2, NULL, "two", 1, 0, 0, 0, {0}},
	    {uri, o1, "sowner2", "two", 2, 0, 0, 0, {0}}, {uri, o2, "sowner1", "one", 3, 0, 0, 0, {0}},
	};
	pthread_t th[SPUSHERS];
	for (int i = 0; i < SPUSHERS; i++)
		T_EQ_INT(pthread_create(&th[i], NULL, spusher_run, &xs[i]), 0);
	int failures = 0;
	for (int i = 0; i < SPUSHERS; i++) {
		pthread_join(th[i], NULL);
		failures += xs[i].failures;
		T_EQ_INT(xs[i].woke_owner, SPUSHES);
		T_EQ_INT(xs[i].woke_members, 2 * SPUSHES); /* the other owner and smember */
	}
	T_EQ_INT(failures, 0);
	T_EQ_INT(deadlocks(), dl);
	s = stt_open(uri);
	if (!s)
		return;
	/* each collection: 2 x SPUSHES versions, unique */
	int64_t all[2][2 * SPUSHES];
	for (int c = 0; c < 2; c++) {
		memcpy(all[c], xs[c].versions, sizeof xs[c].versions);
		memcpy(all[c] + SPUSHES, xs[c == 0 ? 3 : 2].versions, sizeof xs[0].versions);
		qsort(all[c], 2 * SPUSHES, sizeof all[c][0], cmp_i64);
		for (int i = 1; i < 2 * SPUSHES; i++)
			T_OK(all[c][i] > all[c][i - 1]);
	}
	T_EQ_INT(collection(s, o1, "one").version, 2 * SPUSHES);
	T_EQ_INT(collection(s, o2, "two").version, 2 * SPUSHES);
	/* every push moved the owner's status and every member's: once each */
	T_EQ_INT(account_version(s, o1), v1 + 4 * SPUSHES);
	T_EQ_INT(account_version(s, o2), v2 + 4 * SPUSHES);
	T_EQ_INT(account_version(s, m), vm + 4 * SPUSHES);
	/* the quota is the owner's: o1's usage counts the records of "one" only */
	struct store_account a;
	T_EQ_INT(store_account_by_id(s, o1, &a), ERR_OK);
	T_EQ_INT(a.usage_records, 2 * SPUSHES);
	store_close(s);
}

/* ---- the pending-invitation limit across collections ---- */

#define INVITERS 6
#define INV_LIMIT 3

struct inviter {
	const char *uri;
	int64_t owner, from, to, cid;
	int idx;
	pthread_barrier_t *start;
	enum err e;
};

static enum err limited_tx(struct store *s, void *arg)
{
	struct inviter *x = arg;
	int64_t v, n;
	enum err e;
	struct store_account o;
	if ((e = store_account_by_id(s, x->owner, &o)) || (e = store_share_members_bump(s, x->cid, &v)) ||
	    (e = store_invitation_count_from(s, x->from, 1000, &n)))
		return e;
	if (n >= INV_LIMIT)
		return ERR_FORBIDDEN;
	struct store_invitation i = invitation(100 + (unsigned)x->idx, x->cid, x->from, x->to, 1, 1000, 0x30);
	return store_invitation_insert(s, &i);
}

static void *inviter_run(void *p)
{
	struct inviter *x = p;
	struct store *s = stt_open(x->uri);
	pthread_barrier_wait(x->start);
	x->e = s ? store_tx(s, limited_tx, x) : ERR_INTERNAL;
	store_close(s);
	return NULL;
}

static void test_invitation_limit(void)
{
	char uri[1024];
	struct store *s = stt_fresh_pg(uri, sizeof uri);
	if (!s)
		return;
	/* one admin of INVITERS collections of INVITERS owners invites one guest to each, all at once */
	int64_t adm = add_account(s, "ladmin"), guest = add_account(s, "lguest");
	struct inviter xs[INVITERS];
	pthread_t th[INVITERS];
	pthread_barrier_t start;
	pthread_barrier_init(&start, NULL, INVITERS);
	for (int i = 0; i < INVITERS; i++) {
		char name[32];
		snprintf(name, sizeof name, "lowner%d", i);
		memset(&xs[i], 0, sizeof xs[i]);
		xs[i].uri = uri;
		xs[i].owner = add_account(s, name);
		xs[i].cid = add_collection(s, xs[i].owner, "c");
		T_EQ_INT(store_member_put(s, xs[i].cid, adm, STORE_ROLE_ADMIN, 10), ERR_OK);
		xs[i].from = adm;
		xs[i].to = guest;
		xs[i].idx = i;
		xs[i].start = &start;
	}
	for (int i = 0; i < INVITERS; i++)
		T_EQ_INT(pthread_create(&th[i], NULL, inviter_run, &xs[i]), 0);
	int ok = 0, refused = 0;
	for (int i = 0; i < INVITERS; i++) {
		pthread_join(th[i], NULL);
		ok += xs[i].e == ERR_OK;
		refused += xs[i].e == ERR_FORBIDDEN;
	}
	pthread_barrier_destroy(&start);
	T_EQ_INT(ok, INV_LIMIT);
	T_EQ_INT(refused, INVITERS - INV_LIMIT);
	int64_t n = 0;
	T_EQ_INT(store_invitation_count_from(s, adm, 1000, &n), ERR_OK);
	T_EQ_INT(n, INV_LIMIT);
	store_close(s);
}

int main(void)
{
	log_setup("test_pg_share", LOG_ERROR);
	config_defaults(&cfg);
	cfg.password_hash.iterations = 1000;
	if (pgt_setup("test_pg_share") > 0) {
		T_RUN(test_keys);
		T_RUN(test_upgrade);
		T_RUN(test_members_invitations_grants);
		T_RUN(test_rotate_vs_invite);
		T_RUN(test_accept_during_rotation);
		T_RUN(test_push_bumps_members);
		T_RUN(test_sync_push_as);
		T_RUN(test_invitation_limit);
		pgt_teardown();
	}
	return t_done();
}
