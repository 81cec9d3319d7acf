/*
 * store.c: the SQLite backend's connection, migrations, the transaction
 * wrapper and health, and its table of functions (store_lite_ops: the
 * lite_* functions of store*.c behind store.h, see store_ops.h). Entity
 * functions live in store_<entity>.c beside it.
 *
 * Must never: build SQL from input, leave a transaction open on any path,
 * log a bound value, or share a connection between threads.
 */
#include "store_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <sys/file.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "shm.h"
#include "store_sqlite.h"
#include "store_migrations.h"

int store_schema_version(void)
{
	int v = 0;
	for (int i = 0; i < store_migrations_count; i++)
		if (store_migrations[i].version > v)
			v = store_migrations[i].version;
	return v;
}

/* For SQLite the location is the database's file path. */
int lite_location_side(const char *location, const char *name, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s-%s", location, name);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int lite_location_spool(const char *location, char *out, size_t outlen)
{
	char tmp[STORE_LOCATION_MAX];
	int n = snprintf(tmp, sizeof tmp, "%s", location);
	if (n < 0 || (size_t)n >= sizeof tmp)
		return -1;
	n = snprintf(out, outlen, "%s", dirname(tmp));
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int lite_location_probe(const char *location, int *version, char *errbuf, size_t errlen)
{
	struct stat st;
	int ours;
	*version = 0;
	if (stat(location, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(errbuf, errlen, "%s: %s", location, strerror(errno));
		return -1;
	}
	return store_file_inspect(location, version, &ours, NULL, 0, errbuf, errlen) == 0 ? 1 : -1;
}

/*
 * The write queue. SQLite's busy handler polls with a growing back-off (up to
 * 100 ms between tries), so with many writer threads an unlucky one waited
 * up to the whole busy timeout while others committed. Every write
 * transaction of every process first takes this robust, process-shared
 * mutex (in "<database>-writelock"), whose waiters sleep in the kernel and
 * wake as soon as it is released; BEGIN IMMEDIATE then rarely waits. A
 * holder killed mid-transaction is recovered (EOWNERDEAD: SQLite rolls its
 * transaction back by itself). The boot id in the file re-initialises the
 * mutex after a reboot, when no owner can be alive.
 */
struct store_wlock {
	struct shm_header h;  /* the table is its header: the mutex is the queue */
};

static const struct shm_spec wlock_spec = {
	.what = "write lock",
	.magic = "BSWLOCK",
	.version = 1,
	.size = SHM_HEADER_SIZE,
	/* before shm.c: a magic, a boot id and the mutex, no more */
	.legacy_size = sizeof(uint64_t) + SHM_BOOT_ID_MAX + sizeof(pthread_mutex_t),
};

static struct store_wlock *wlock_open(const char *dbpath, char *errbuf, size_t errlen)
{
	char path[STORE_LOCATION_MAX + 16];
	if (store_location_side(dbpath, "writelock", path, sizeof path) != 0) {
		snprintf(errbuf, errlen, "the store's location is too long");
		return NULL;
	}
	return shm_open_table(&wlock_spec, path, errbuf, errlen);
}

/* Take the write queue within the busy timeout: ERR_OK, or ERR_UNAVAILABLE. */
static enum err wlock_take(struct store_wlock *w)
{
	/* a holder that died is recovered: SQLite undoes its transaction by itself */
	int rc = shm_lock(&w->h, STORE_BUSY_TIMEOUT_MS);
	if (rc == 0)
		return ERR_OK;
	if (rc == ETIMEDOUT)
		log_msg(LOG_WARN, "store: the write lock stayed busy past the timeout");
	else
		log_msg(LOG_ERROR, "store: write lock: %s", strerror(rc));
	return ERR_UNAVAILABLE;
}

struct store_wlock *store_wlock_hold(const char *dbpath, char *errbuf, size_t errlen)
{
	struct store_wlock *w = wlock_open(dbpath, errbuf, errlen);
	if (w && wlock_take(w) != ERR_OK) {
		snprintf(errbuf, errlen, "%s: the write lock stayed busy for %d ms", dbpath, STORE_BUSY_TIMEOUT_MS);
		shm_close(&wlock_spec, w);
		w = NULL;
	}
	return w;
}

void store_wlock_release(struct store_wlock *w)
{
	if (!w)
		return;
	shm_unlock(&w->h);
	shm_close(&wlock_spec, w);
}

/* The rate limits kept in the store are PostgreSQL's (store_pg_limit.c): one machine keeps them in shm. */
enum err lite_limit_take(struct store *s, const struct store_bucket *b, int n, int *retry_after)
{
	(void)s;
	(void)b;
	(void)n;
	*retry_after = 0;
	log_msg(LOG_ERROR, "store: rate limits are kept in a PostgreSQL store only");
	return ERR_INTERNAL;
}

enum err lite_round_trips(struct store *s, int64_t *n)
{
	(void)s;
	*n = 0; /* in-process: no server to go to */
	return ERR_OK;
}

enum err lite_stats(struct store *s, struct store_stats *out)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *st = store_stmt(s, STMT_STATS);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->accounts = sqlite3_column_int64(st, 0);
		out->records = sqlite3_column_int64(st, 1);
		out->bytes = sqlite3_column_int64(st, 2);
		out->backups = sqlite3_column_int64(st, 3);
		out->slots = sqlite3_column_int64(st, 4);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return store_sqlite_err(s, rc, "stats");
	struct stat fs;
	char wal[4200];
	if (stat(s->path, &fs) == 0)
		out->file_bytes += fs.st_size;
	snprintf(wal, sizeof wal, "%s-wal", s->path);
	if (stat(wal, &fs) == 0)
		out->file_bytes += fs.st_size;
	return ERR_OK;
}

enum err store_sqlite_err(struct store *s, int rc, const char *what)
{
	int prim = rc & 0xff;
	const char *msg = s && s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
	switch (prim) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		log_msg(LOG_WARN, "store: %s: busy past the timeout", what);
		return ERR_UNAVAILABLE;
	case SQLITE_IOERR:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_READONLY:
	case SQLITE_FULL:
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
		log_msg(LOG_ERROR, "store: %s: %s (%d)", what, sqlite3_errstr(rc), rc);
		return ERR_UNAVAILABLE;
	default:
		/* sqlite3_errmsg never contains bound values */
		log_msg(LOG_ERROR, "store: %s: %s (%d)", what, msg, rc);
		return ERR_INTERNAL;
	}
}

/*
 * Statements are checked once at open but prepared on first use, so a
 * process holds only those its routes use (eight threads each preparing all
 * of them cost a read-only handler megabytes). A prepare that fails now,
 * after it succeeded at open, can only be a transient failure (memory): the
 * caller then gets a statement whose step fails, which becomes a logged 500.
 */
sqlite3_stmt *store_stmt(struct store *s, enum stmt id)
{
	sqlite3_stmt *st = s->st[id];
	if (!st) {
		int rc = sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s->st[id], NULL);
		if (rc != SQLITE_OK) {
			log_msg(LOG_ERROR, "store: cannot prepare statement %d: %s", (int)id, sqlite3_errmsg(s->db));
			s->st[id] = NULL;
			if (!s->failing)
				/* integer overflow: prepares, and fails at every step */
				sqlite3_prepare_v2(s->db, "SELECT abs(-9223372036854775807 - 1)", -1, &s->failing, NULL);
			st = s->failing;
		} else {
			st = s->st[id];
		}
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

enum err store_exec(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	enum err e = rc == SQLITE_DONE || rc == SQLITE_ROW ? ERR_OK : store_sqlite_err(s, rc, what);
	sqlite3_reset(st);
	return e;
}

enum err store_one_row(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return ERR_OK;
	if (rc == SQLITE_DONE)
		return ERR_NOT_FOUND;
	return store_sqlite_err(s, rc, what);
}

enum err store_rows_end(struct store *s, sqlite3_stmt *st, int rc, const char *what)
{
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? ERR_OK : store_sqlite_err(s, rc, what);
}

enum err store_one_change(struct store *s, sqlite3_stmt *st, enum err none, const char *what)
{
	enum err e = store_exec(s, st, what);
	if (e)
		return e;
	return sqlite3_changes(s->db) == 1 ? ERR_OK : none;
}

void store_col_text(sqlite3_stmt *st, int i, char *dst, size_t dstlen)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	snprintf(dst, dstlen, "%s", t ? (const char *)t : "");
}

enum err store_returning_int(struct store *s, sqlite3_stmt *st, int64_t *v, const char *what)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	/* step to the end so that the UPDATE ... RETURNING completes */
	while (rc == SQLITE_ROW)
		rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ERR_OK : store_sqlite_err(s, rc, what);
}

/*
 * Create the store's directory (one level) if it is missing, and the store
 * file itself with mode 0600 (SQLite would make it 0644, readable by every
 * local user; its -wal and -shm files take the mode of the database). A
 * file that exists is left as it is. 0, or -1 with errbuf filled.
 */
static int create_private(const char *path, char *errbuf, size_t errlen)
{
	char tmp[STORE_LOCATION_MAX];
	snprintf(tmp, sizeof tmp, "%s", path);
	char *dir = dirname(tmp);
	struct stat st;
	if (stat(dir, &st) != 0 && errno == ENOENT)
		mkdir(dir, 0750);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		close(fd); /* an empty file is an empty SQLite database */
		return 0;
	}
	if (errno == EEXIST)
		return 0;
	snprintf(errbuf, errlen, "%s: cannot create the store: %s", path, strerror(errno));
	return -1;
}

static int set_pragmas(sqlite3 *db, int rw, int busy_ms, char *errbuf, size_t errlen)
{
	sqlite3_busy_timeout(db, busy_ms);
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	/* a bounded page cache per connection (one per thread) keeps the RSS small */
	const char *sql = rw ? "PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL; PRAGMA cache_size=-512;"
	                  : "PRAGMA foreign_keys=ON; PRAGMA cache_size=-512;";
	char *emsg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &emsg) != SQLITE_OK) {
		snprintf(errbuf, errlen, "cannot configure the store: %s", emsg ? emsg : "?");
		sqlite3_free(emsg);
		return -1;
	}
	return 0;
}

int lite_migrate(const char *path, char *errbuf, size_t errlen)
{
	sqlite3 *db = NULL;
	char *emsg = NULL;
	int ret = -1, in_tx = 0;
	if (create_private(path, errbuf, errlen) != 0)
		return -1;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(errbuf, errlen, "%s: cannot open the store: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		goto out;
	}
	if (set_pragmas(db, 1, 3 * STORE_BUSY_TIMEOUT_MS, errbuf, errlen) != 0)
		goto out;
	/* WAL is a property of the file; switching needs no transaction open,
	 * but it needs an exclusive lock and SQLite does not wait for it through
	 * the busy handler: several processes creating the store at once must
	 * retry (bounded by the migration's busy timeout) */
	for (int waited = 0;; waited += 20) {
		rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, &emsg);
		if (rc == SQLITE_OK)
			break;
		if (((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED) || waited >= 3 * STORE_BUSY_TIMEOUT_MS) {
			snprintf(errbuf, errlen, "%s: cannot enable WAL: %s", path, emsg ? emsg : "?");
			goto out;
		}
		sqlite3_free(emsg);
		emsg = NULL;
		usleep(20 * 1000);
	}
	/* a store that is already current needs no write lock: every CGI
	 * request starts here, and must not wait for a writer (a long import, a
	 * held lock) only to learn that there is nothing to do */
	sqlite3_stmt *st = NULL;
	int have = -1;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		have = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (have == store_schema_version()) {
		ret = 0;
		goto out;
	}
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &emsg) != SQLITE_OK) {
		snprintf(errbuf, errlen, "%s: cannot take the write lock: %s", path, emsg ? emsg : "?");
		goto out;
	}
	in_tx = 1;
	have = 0;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		have = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	int want = store_schema_version();
	if (have > want) {
		snprintf(errbuf, errlen, "%s: the store has schema version %d, newer than this program's %d; upgrade blindsync",
		    path, have, want);
		goto out;
	}
	for (int i = 0; i < store_migrations_count; i++) {
		const struct store_migration *m = &store_migrations[i];
		if (m->version <= have)
			continue;
		if (sqlite3_exec(db, m->sql, NULL, NULL, &emsg) != SQLITE_OK) {
			snprintf(errbuf, errlen, "%s: migration %s failed: %s", path, m->name, emsg ? emsg : "?");
			goto out;
		}
		char bump[64];
		snprintf(bump, sizeof bump, "PRAGMA user_version=%d", m->version);
		if (sqlite3_exec(db, bump, NULL, NULL, &emsg) != SQLITE_OK) {
			snprintf(errbuf, errlen, "%s: cannot record migration %s: %s", path, m->name, emsg ? emsg : "?");
			goto out;
		}
		log_msg(LOG_INFO, "store: applied migration %s", m->name);
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, &emsg) != SQLITE_OK) {
		snprintf(errbuf, errlen, "%s: cannot commit the migrations: %s", path, emsg ? emsg : "?");
		goto out;
	}
	in_tx = 0;
	ret = 0;
out:
	if (in_tx)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_free(emsg);
	sqlite3_close(db);
	return ret;
}

int lite_open(const char *path, enum store_mode mode, struct store **out, char *errbuf, size_t errlen)
{
	*out = NULL;
	/* all the connections of a process (one per thread) share one budget
	 * for caches: SQLite frees cache pages to stay under it */
	sqlite3_soft_heap_limit64(STORE_HEAP_SOFT_LIMIT);
	struct store *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	s->ops = &store_lite_ops;
	s->mode = mode;
	s->fd = -1;
	snprintf(s->path, sizeof s->path, "%s", path);
	int flags = (mode == STORE_RO ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX;
	int rc = sqlite3_open_v2(path, &s->db, flags, NULL);
	if (rc != SQLITE_OK) {
		snprintf(errbuf, errlen, "%s: cannot open the store: %s", path,
		    s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		goto fail;
	}
	if (set_pragmas(s->db, mode == STORE_RW, STORE_BUSY_TIMEOUT_MS, errbuf, errlen) != 0)
		goto fail;
	struct stat st;
	if (stat(path, &st) != 0) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->fd = open(path, O_RDONLY | O_CLOEXEC);
	/* every statement must compile against this schema: checked now,
	 * prepared for use when first needed (store_stmt) */
	for (int i = 0; i < STMT__MAX; i++) {
		sqlite3_stmt *check = NULL;
		rc = sqlite3_prepare_v2(s->db, stmt_sql[i], -1, &check, NULL);
		sqlite3_finalize(check);
		if (rc != SQLITE_OK) {
			snprintf(errbuf, errlen, "%s: cannot prepare statement %d: %s (is the schema migrated?)", path, i,
			    sqlite3_errmsg(s->db));
			goto fail;
		}
	}
	if (mode == STORE_RW && !(s->wl = wlock_open(path, errbuf, errlen)))
		goto fail;
	*out = s;
	return 0;
fail:
	store_close(s);
	return -1;
}

void lite_close(struct store *s)
{
	if (!s)
		return;
	for (int i = 0; i < STMT__MAX; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_finalize(s->failing);
	sqlite3_close(s->db);
	if (s->fd >= 0)
		close(s->fd);
	shm_close(&wlock_spec, s->wl);
	free(s);
}

static enum err run_tx(struct store *s, enum stmt begin, enum err (*fn)(struct store *, void *), void *arg)
{
	if (s->in_tx)
		return fn(s, arg); /* nested: part of the caller's transaction */
	sqlite3_stmt *b = store_stmt(s, begin);
	int rc = sqlite3_step(b);
	sqlite3_reset(b);
	if (rc != SQLITE_DONE)
		return store_sqlite_err(s, rc, "begin");
	s->in_tx = 1;
	enum err e = fn(s, arg);
	if (e == ERR_OK) {
		sqlite3_stmt *c = store_stmt(s, STMT_COMMIT);
		rc = sqlite3_step(c);
		sqlite3_reset(c);
		if (rc != SQLITE_DONE)
			e = store_sqlite_err(s, rc, "commit");
	}
	if (e != ERR_OK && sqlite3_get_autocommit(s->db) == 0) {
		sqlite3_stmt *r = store_stmt(s, STMT_ROLLBACK);
		sqlite3_step(r);
		sqlite3_reset(r);
	}
	s->in_tx = 0;
	return e;
}

enum err lite_tx(struct store *s, enum err (*fn)(struct store *, void *), void *arg)
{
	if (s->mode == STORE_RO)
		return ERR_INTERNAL;
	if (s->in_tx || !s->wl)
		return run_tx(s, STMT_BEGIN_IMMEDIATE, fn, arg);
	enum err e = wlock_take(s->wl);
	if (e)
		return e;
	e = run_tx(s, STMT_BEGIN_IMMEDIATE, fn, arg);
	shm_unlock(&s->wl->h);
	return e;
}

static enum err step_plain(struct store *s, enum stmt id, const char *what)
{
	sqlite3_stmt *st = store_stmt(s, id);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ERR_OK : store_sqlite_err(s, rc, what);
}

/* store_tx body of a group's leader: each job in a savepoint of its own. */
static enum err group_run(struct store *s, void *arg)
{
	for (struct store_group_job *j = arg; j; j = j->next) {
		enum err e = step_plain(s, STMT_SAVEPOINT, "savepoint");
		if (e)
			return e;
		j->rc = j->fn(s, j->arg);
		if (j->rc != ERR_OK) {
			/* an error that ended the whole transaction ends the group */
			if (sqlite3_get_autocommit(s->db))
				return j->rc;
			if ((e = step_plain(s, STMT_ROLLBACK_TO, "rollback to savepoint")))
				return e;
		}
		if ((e = step_plain(s, STMT_RELEASE, "release savepoint")))
			return e;
	}
	return ERR_OK;
}

/* A group's batch (store_group_commit): one store_tx, under the write queue. */
static enum err group_batch(struct store *s, struct store_group_job *batch, int n)
{
	if (n == 1) /* alone: no savepoint needed */
		return batch->rc = store_tx(s, batch->fn, batch->arg);
	return store_tx(s, group_run, batch);
}

/* Group commit (store_group.c): concurrent pushes of this process share a transaction. */
enum err lite_tx_group(struct store *s, int64_t key, enum err (*fn)(struct store *, void *), void *arg)
{
	if (s->mode == STORE_RO)
		return ERR_INTERNAL;
	if (s->in_tx)
		return store_tx(s, fn, arg);
	return store_group_commit(s, key, fn, arg, group_batch);
}

enum err lite_read(struct store *s, enum err (*fn)(struct store *, void *), void *arg)
{
	return run_tx(s, STMT_BEGIN_DEFERRED, fn, arg);
}

enum err lite_health(struct store *s)
{
	struct stat st;
	if (stat(s->path, &st) != 0 || st.st_dev != s->dev || st.st_ino != s->ino) {
		log_msg(LOG_ERROR, "store: health: the store file is gone or was replaced");
		return ERR_UNAVAILABLE;
	}
	/* the fd stays open across requests: the inode check above catches a
	 * replaced file, this read catches one overwritten in place */
	char head[16];
	ssize_t got = s->fd >= 0 ? pread(s->fd, head, sizeof head, 0) : -1;
	if (got != (ssize_t)sizeof head || memcmp(head, "SQLite format 3", 16) != 0) {
		log_msg(LOG_ERROR, "store: health: the store file cannot be read or is not an SQLite database");
		return ERR_UNAVAILABLE;
	}
	sqlite3_stmt *q = store_stmt(s, STMT_HEALTH);
	int rc = sqlite3_step(q);
	sqlite3_reset(q);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? ERR_UNAVAILABLE : store_sqlite_err(s, rc, "health");
	return ERR_OK;
}

/* The SQLite backend: every slot filled (store_ops.h). */
const struct store_ops store_lite_ops = {
	.name = "SQLite",
	.close = lite_close,
#define STORE_OP_LITE_SLOT(op, params, args) .op = lite_##op,
	STORE_OPS(STORE_OP_LITE_SLOT)
#undef STORE_OP_LITE_SLOT
};
