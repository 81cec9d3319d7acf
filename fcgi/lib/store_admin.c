/*
 * store_admin.c: the store's maintenance functions for blindsync-admin:
 * the integrity check, recounting the counters of collections and accounts
 * (and setting them right), purging what has expired, and the SQLite file
 * operations of store_sqlite.h (backup, restore, inspect, in-use). Part of the store
 * module: the statements are in stmt.c, values are bound, SQL is never built.
 *
 * Must never: write outside the caller's store_tx(), leave a counter out of
 * step with the data it counts (a purge moves the counters in the same
 * transaction as the rows), or log a bound value.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_impl.h"
#include "store_sqlite.h"

/* Step a DELETE and put the number of rows it removed in *n. */
static enum err admin_delete(struct store *s, sqlite3_stmt *st, int64_t *n, const char *what)
{
	enum err e = store_exec(s, st, what);
	*n = e == ERR_OK ? (int64_t)sqlite3_changes64(s->db) : 0;
	return e;
}

enum err store_integrity_check(struct store *s, int (*fn)(void *ctx, const char *line), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ADMIN_INTEGRITY);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		if (fn(ctx, t ? (const char *)t : "") != 0)
			break;
	}
	return store_rows_end(s, st, rc, "integrity check");
}

enum err lite_recount_collections(struct store *s,
    int (*fn)(void *ctx, const struct store_recount_collection *c), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ADMIN_RECOUNT_COLLECTIONS);
	struct store_recount_collection c;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&c, 0, sizeof c);
		c.id = sqlite3_column_int64(st, 0);
		c.account_id = sqlite3_column_int64(st, 1);
		store_col_text(st, 2, c.username, sizeof c.username);
		store_col_text(st, 3, c.name, sizeof c.name);
		c.records = sqlite3_column_int64(st, 4);
		c.bytes = sqlite3_column_int64(st, 5);
		c.version = sqlite3_column_int64(st, 6);
		c.real_records = sqlite3_column_int64(st, 7);
		c.real_bytes = sqlite3_column_int64(st, 8);
		c.real_version = sqlite3_column_int64(st, 9);
		if (fn(ctx, &c) != 0)
			break;
	}
	return store_rows_end(s, st, rc, "recount collections");
}

enum err lite_recount_accounts(struct store *s,
    int (*fn)(void *ctx, const struct store_recount_account *a), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ADMIN_RECOUNT_ACCOUNTS);
	struct store_recount_account a;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&a, 0, sizeof a);
		a.id = sqlite3_column_int64(st, 0);
		store_col_text(st, 1, a.username, sizeof a.username);
		a.usage_bytes = sqlite3_column_int64(st, 2);
		a.usage_records = sqlite3_column_int64(st, 3);
		a.real_bytes = sqlite3_column_int64(st, 4);
		a.real_records = sqlite3_column_int64(st, 5);
		if (fn(ctx, &a) != 0)
			break;
	}
	return store_rows_end(s, st, rc, "recount accounts");
}

enum err lite_collection_set_counters(struct store *s, int64_t id, int64_t records, int64_t bytes,
    int64_t version)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ADMIN_COLLECTION_SET_COUNTERS);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, records);
	sqlite3_bind_int64(st, 3, bytes);
	sqlite3_bind_int64(st, 4, version);
	return store_one_change(s, st, ERR_NOT_FOUND, "collection set counters");
}

enum err lite_account_set_usage(struct store *s, int64_t id, int64_t bytes, int64_t records)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ADMIN_ACCOUNT_SET_USAGE);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, bytes);
	sqlite3_bind_int64(st, 3, records);
	return store_one_change(s, st, ERR_NOT_FOUND, "account set usage");
}

/* ---- purge ---- */

/* One purge batch of a row kind: ?1 the time bound, ?2 the batch size. */
static enum err purge_rows(struct store *s, enum stmt id, int64_t bound, int64_t limit, int64_t *n, const char *what)
{
	sqlite3_stmt *st = store_stmt(s, id);
	sqlite3_bind_int64(st, 1, bound);
	sqlite3_bind_int64(st, 2, limit);
	return admin_delete(s, st, n, what);
}

enum err lite_purge_tokens(struct store *s, int64_t now, int64_t limit, int64_t *n)
{
	return purge_rows(s, STMT_PURGE_TOKENS, now, limit, n, "purge tokens");
}

enum err lite_purge_invites(struct store *s, int64_t now, int64_t limit, int64_t *n)
{
	return purge_rows(s, STMT_PURGE_INVITES, now, limit, n, "purge invites");
}

enum err lite_purge_events(struct store *s, int64_t before, int64_t limit, int64_t *n)
{
	return purge_rows(s, STMT_PURGE_EVENTS, before, limit, n, "purge events");
}

enum err lite_purge_slots(struct store *s, int64_t before, int64_t limit, int64_t *n)
{
	return purge_rows(s, STMT_SLOT_PURGE, before, limit, n, "purge slots");
}

/* One collection that has tombstones to purge, as STMT_PURGE_TOMBSTONE_SCAN finds it. */
struct purge_target {
	int64_t collection_id, account_id;
	int64_t max_version; /* the highest version purged: the new purged_version floor */
	int64_t bytes;       /* payload bytes the purge drops (history of the records) */
};

/*
 * The first `limit` collections with tombstones modified before `before`, read completely
 * (the deletes come after the scan is reset, never while it steps) into a
 * new array *out of *n entries that the caller frees. ERR_INTERNAL when out
 * of memory.
 */
static enum err purge_scan(struct store *s, int64_t before, int64_t limit, struct purge_target **out, size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, STMT_PURGE_TOMBSTONE_SCAN);
	struct purge_target *v = NULL;
	size_t len = 0, cap = 0;
	enum err e = ERR_OK;
	int rc;
	sqlite3_bind_int64(st, 1, before);
	sqlite3_bind_int64(st, 2, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct purge_target *nv = ncap <= SIZE_MAX / sizeof *nv ? realloc(v, ncap * sizeof *nv) : NULL;
			if (!nv) {
				e = ERR_INTERNAL;
				break;
			}
			v = nv;
			cap = ncap;
		}
		v[len].collection_id = sqlite3_column_int64(st, 0);
		v[len].account_id = sqlite3_column_int64(st, 1);
		v[len].max_version = sqlite3_column_int64(st, 2);
		v[len].bytes = sqlite3_column_int64(st, 4);
		len++;
	}
	sqlite3_reset(st);
	if (e == ERR_OK && rc != SQLITE_DONE)
		e = store_sqlite_err(s, rc, "purge tombstones scan");
	if (e) {
		free(v);
		return e;
	}
	*out = v;
	*n = len;
	return ERR_OK;
}

/* Purge the tombstones of one collection found by purge_scan; adds to *out. */
/*
 * After tombstones up to `horizon` are gone, give every record still at or
 * below the horizon a version above the collection's (in the same order),
 * and raise the collection's version to match. Then any cursor a pull from 0
 * hands out is above the horizon, so only a client whose cursor predates
 * the purge gets 410 resync_required; clients that were up to date simply
 * see those records once more (same payloads, new versions).
 */
static enum err reversion_below(struct store *s, int64_t collection_id, int64_t horizon)
{
	sqlite3_stmt *st = store_stmt(s, STMT_PURGE_REVERSION_SCAN);
	sqlite3_bind_int64(st, 1, collection_id);
	sqlite3_bind_int64(st, 2, horizon);
	int rc = sqlite3_step(st);
	int64_t cv = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	int64_t top = rc == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? ERR_INTERNAL : store_sqlite_err(s, rc, "purge reversion scan");
	if (top == 0)
		return ERR_OK; /* nothing left below the horizon */
	st = store_stmt(s, STMT_PURGE_REVERSION);
	sqlite3_bind_int64(st, 1, collection_id);
	sqlite3_bind_int64(st, 2, horizon);
	sqlite3_bind_int64(st, 3, cv);
	enum err e = store_exec(s, st, "purge reversion");
	if (e)
		return e;
	st = store_stmt(s, STMT_PURGE_REVERSION_COLLECTION);
	sqlite3_bind_int64(st, 1, collection_id);
	sqlite3_bind_int64(st, 2, cv + top);
	return store_exec(s, st, "purge reversion collection");
}

static enum err purge_collection(struct store *s, const struct purge_target *t, int64_t before,
    struct store_purged_tombstones *out)
{
	int64_t n = 0;
	sqlite3_stmt *st = store_stmt(s, STMT_PURGE_TOMBSTONE_HISTORY);
	sqlite3_bind_int64(st, 1, t->collection_id);
	sqlite3_bind_int64(st, 2, before);
	enum err e = store_exec(s, st, "purge tombstones history");
	if (e)
		return e;
	st = store_stmt(s, STMT_PURGE_TOMBSTONE_RECORDS);
	sqlite3_bind_int64(st, 1, t->collection_id);
	sqlite3_bind_int64(st, 2, before);
	if ((e = admin_delete(s, st, &n, "purge tombstones")))
		return e;
	st = store_stmt(s, STMT_PURGE_TOMBSTONE_COLLECTION);
	sqlite3_bind_int64(st, 1, t->collection_id);
	sqlite3_bind_int64(st, 2, t->bytes);
	sqlite3_bind_int64(st, 3, t->max_version);
	if ((e = store_one_change(s, st, ERR_NOT_FOUND, "purge tombstones collection")))
		return e == ERR_NOT_FOUND ? ERR_INTERNAL : e;
	if ((e = reversion_below(s, t->collection_id, t->max_version)))
		return e;
	/* the account gives the bytes back and its account_version moves */
	if ((e = store_account_usage_add(s, t->account_id, -t->bytes, 0)))
		return e == ERR_NOT_FOUND ? ERR_INTERNAL : e;
	out->tombstones += n;
	out->collections++;
	out->bytes += t->bytes;
	return ERR_OK;
}

enum err lite_purge_tombstones(struct store *s, int64_t before, int64_t limit, struct store_purged_tombstones *out)
{
	struct purge_target *t = NULL;
	size_t n = 0;
	memset(out, 0, sizeof *out);
	enum err e = purge_scan(s, before, limit, &t, &n);
	for (size_t i = 0; e == ERR_OK && i < n; i++)
		e = purge_collection(s, &t[i], before, out);
	free(t);
	return e;
}

/* ---- blindsync-admin: invites, sessions, stats ---- */

enum err lite_invite_revoke(struct store *s, int64_t id)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ADMIN_INVITE_STATE);
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	int used = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return ERR_NOT_FOUND;
	if (rc != SQLITE_ROW)
		return store_sqlite_err(s, rc, "invite state");
	if (used)
		return ERR_CONFLICT;
	st = store_stmt(s, STMT_ADMIN_INVITE_REVOKE);
	sqlite3_bind_int64(st, 1, id);
	return store_one_change(s, st, ERR_NOT_FOUND, "invite revoke");
}

enum err lite_session_revoke_account(struct store *s, int64_t account_id, int64_t *devices, int64_t *tokens)
{
	*devices = *tokens = 0;
	/* the tokens first: rows a cascade removes are not counted by sqlite3_changes */
	sqlite3_stmt *st = store_stmt(s, STMT_TOKEN_DELETE_ACCOUNT);
	sqlite3_bind_int64(st, 1, account_id);
	enum err e = admin_delete(s, st, tokens, "revoke tokens");
	if (e)
		return e;
	st = store_stmt(s, STMT_ADMIN_DEVICE_DELETE_ACCOUNT);
	sqlite3_bind_int64(st, 1, account_id);
	return admin_delete(s, st, devices, "revoke devices");
}

enum err lite_collections_total(struct store *s, int64_t *n)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ADMIN_COLLECTIONS_TOTAL);
	int rc = sqlite3_step(st);
	*n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? ERR_OK : store_sqlite_err(s, rc, "collections total");
}

enum err lite_top_accounts(struct store *s, int64_t limit,
    int (*fn)(void *ctx, const char *username, int64_t bytes, int64_t records), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ADMIN_TOP_ACCOUNTS);
	char name[STORE_USERNAME_MAX + 1];
	int rc;
	sqlite3_bind_int64(st, 1, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		store_col_text(st, 0, name, sizeof name);
		if (fn(ctx, name, sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2)) != 0)
			break;
	}
	return store_rows_end(s, st, rc, "top accounts");
}

/* ---- backup and restore ---- */

#define BACKUP_STEP_PAGES 256      /* pages copied per step */
#define BACKUP_BUSY_SLEEP_US 10000 /* pause when the destination is busy */
#define BACKUP_BUSY_TRIES 1000     /* about 10 s of busy in a row before giving up */
#define STORE_SHM_DMS 128          /* SQLite's "dead man switch" byte of the -shm file
                                      (UNIX_SHM_BASE + SQLITE_SHM_NLOCK in os_unix.c) */

/* Step a backup to its end; SQLITE_DONE, or the error that stopped it. */
static int backup_run(sqlite3_backup *b)
{
	int busy = 0;
	for (;;) {
		int rc = sqlite3_backup_step(b, BACKUP_STEP_PAGES);
		if (rc == SQLITE_DONE)
			return rc;
		if (rc == SQLITE_OK) {
			busy = 0;
			continue;
		}
		if (((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) && ++busy <= BACKUP_BUSY_TRIES) {
			usleep(BACKUP_BUSY_SLEEP_US);
			continue;
		}
		return rc;
	}
}

struct backup_job {
	sqlite3 *dst;
	int rc;          /* SQLITE_DONE when the copy is complete */
	int init_failed; /* sqlite3_backup_init failed (message on dst) */
};

/* store_read body: take the read snapshot, then copy it page by page. */
static enum err backup_tx(struct store *s, void *arg)
{
	struct backup_job *j = arg;
	/* the first read starts the snapshot that every step then copies */
	sqlite3_stmt *st = store_stmt(s, STMT_HEALTH);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sqlite_err(s, rc, "backup snapshot");
	sqlite3_backup *b = sqlite3_backup_init(j->dst, "main", s->db, "main");
	if (!b) {
		j->init_failed = 1;
		return ERR_INTERNAL;
	}
	j->rc = backup_run(b);
	int frc = sqlite3_backup_finish(b);
	if (j->rc == SQLITE_DONE && frc != SQLITE_OK)
		j->rc = frc;
	return ERR_OK;
}

int store_backup_to(struct store *s, const char *path, char *errbuf, size_t errlen)
{
	struct backup_job j = {NULL, SQLITE_OK, 0};
	char *emsg = NULL;
	int ret = -1;
	/* O_EXCL: never overwrite, even a file that appears meanwhile */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(errbuf, errlen, "%s: %s", path, errno == EEXIST ? "exists; not overwritten" : strerror(errno));
		return -1;
	}
	close(fd);
	int rc = sqlite3_open_v2(path, &j.dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(errbuf, errlen, "%s: %s", path, j.dst ? sqlite3_errmsg(j.dst) : sqlite3_errstr(rc));
		goto out;
	}
	sqlite3_busy_timeout(j.dst, STORE_BUSY_TIMEOUT_MS);
	enum err e = store_read(s, backup_tx, &j);
	if (j.init_failed) {
		snprintf(errbuf, errlen, "%s: cannot start the backup: %s", path, sqlite3_errmsg(j.dst));
		goto out;
	}
	if (e != ERR_OK) {
		snprintf(errbuf, errlen, "cannot read the store: %s", err_message(e));
		goto out;
	}
	if (j.rc != SQLITE_DONE) {
		snprintf(errbuf, errlen, "%s: the backup failed: %s", path, sqlite3_errstr(j.rc));
		goto out;
	}
	/* a self-contained file: no -wal beside it to lose when it is moved */
	if (sqlite3_exec(j.dst, "PRAGMA journal_mode=DELETE", NULL, NULL, &emsg) != SQLITE_OK) {
		snprintf(errbuf, errlen, "%s: %s", path, emsg ? emsg : "cannot leave WAL mode");
		goto out;
	}
	ret = 0;
out:
	sqlite3_free(emsg);
	if (sqlite3_close(j.dst) != SQLITE_OK && ret == 0) {
		snprintf(errbuf, errlen, "%s: cannot close the copy", path);
		ret = -1;
	}
	if (ret != 0) {
		char side[4200];
		unlink(path);
		snprintf(side, sizeof side, "%s-wal", path);
		unlink(side);
		snprintf(side, sizeof side, "%s-shm", path);
		unlink(side);
		snprintf(side, sizeof side, "%s-journal", path);
		unlink(side);
	}
	return ret;
}

int store_file_inspect(const char *path, int *user_version, int *ours, char *integrity, size_t ilen,
    char *errbuf, size_t errlen)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int ret = -1, rc;
	*user_version = 0;
	*ours = 0;
	if (access(path, R_OK) != 0) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK)
		goto sqlerr;
	sqlite3_busy_timeout(db, STORE_BUSY_TIMEOUT_MS);
	rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		goto sqlerr;
	*user_version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db, stmt_sql[STMT_HEALTH], -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		*ours = t && strcmp((const char *)t, "blindsync") == 0;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (integrity && ilen) {
		int n = 0;
		integrity[0] = '\0';
		rc = sqlite3_prepare_v2(db, stmt_sql[STMT_ADMIN_INTEGRITY], -1, &st, NULL);
		while (rc == SQLITE_OK || rc == SQLITE_ROW) {
			if ((rc = sqlite3_step(st)) != SQLITE_ROW)
				break;
			const unsigned char *t = sqlite3_column_text(st, 0);
			if (n++ == 0)
				snprintf(integrity, ilen, "%s", t ? (const char *)t : "");
		}
		if (rc != SQLITE_DONE) /* a file too damaged to check: that is its answer */
			snprintf(integrity, ilen, "%s", sqlite3_errmsg(db));
		else if (n > 1 && strlen(integrity) + 12 < ilen)
			strcat(integrity, " (and more)");
		else if (n == 0)
			snprintf(integrity, ilen, "no answer");
	}
	ret = 0;
	goto out;
sqlerr:
	snprintf(errbuf, errlen, "%s: not an SQLite database: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return ret;
}

int store_in_use(const char *path, char *errbuf, size_t errlen)
{
	char shm[4200];
	snprintf(shm, sizeof shm, "%s-shm", path);
	int fd = open(shm, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0; /* no -shm: no connection has the WAL store open */
		snprintf(errbuf, errlen, "%s: %s", shm, strerror(errno));
		return -1;
	}
	struct flock fl;
	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = STORE_SHM_DMS;
	fl.l_len = 1;
	int r = fcntl(fd, F_GETLK, &fl);
	int saved = errno;
	close(fd);
	if (r != 0) {
		snprintf(errbuf, errlen, "%s: cannot test its locks: %s", shm, strerror(saved));
		return -1;
	}
	return fl.l_type != F_UNLCK;
}

int store_restore_from(const char *path, const char *from, char *errbuf, size_t errlen)
{
	sqlite3 *src = NULL, *dst = NULL;
	struct store_wlock *wl = NULL;
	int ret = -1;
	int rc = sqlite3_open_v2(from, &src, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(errbuf, errlen, "%s: %s", from, src ? sqlite3_errmsg(src) : sqlite3_errstr(rc));
		goto out;
	}
	rc = sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(errbuf, errlen, "%s: %s", path, dst ? sqlite3_errmsg(dst) : sqlite3_errstr(rc));
		goto out;
	}
	sqlite3_busy_timeout(src, STORE_BUSY_TIMEOUT_MS);
	sqlite3_busy_timeout(dst, STORE_BUSY_TIMEOUT_MS);
	/* writers of running handlers (--force) queue behind the copy */
	if (!(wl = store_wlock_hold(path, errbuf, errlen)))
		goto out;
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b) {
		snprintf(errbuf, errlen, "%s: cannot start the restore: %s", path, sqlite3_errmsg(dst));
		goto out;
	}
	rc = backup_run(b);
	int frc = sqlite3_backup_finish(b);
	if (rc == SQLITE_DONE)
		rc = frc;
	if (rc != SQLITE_OK) {
		snprintf(errbuf, errlen, "%s: the restore failed: %s", path, sqlite3_errstr(rc));
		goto out;
	}
	ret = 0;
out:
	sqlite3_close(src);
	sqlite3_close(dst);
	store_wlock_release(wl);
	return ret;
}
