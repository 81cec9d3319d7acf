/*
 * test_store.c: unit tests of the store module (fcgi/lib/store.c,
 * store_account.c, store_sync.c) through store.h only.
 *
 * Migrations (twice, from 4 threads and from 4 processes at once, a newer
 * store refused), the transaction wrapper (commit, rollback, nesting, the
 * busy timeout, read-only), health, and the typed functions of accounts,
 * devices, tokens, invites, events, collections and records, ending with
 * the cascade of an account delete. Every test works in its own database in
 * a fresh temporary directory. With $BS_TEST_PG (pgtest.h) the tests that
 * need nothing of SQLite run once more against PostgreSQL, each in a
 * schema of its own.
 *
 * The busy-timeout test waits STORE_BUSY_TIMEOUT_MS (5 s) once: it is the
 * only way to see ERR_UNAVAILABLE through the public interface.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "accounts.h"
#include "log.h"
#include "store.h"
#include "store_impl.h" /* the write queue, held as a restore holds it */

#include "t.h"
#include "pgtest.h"
#include "storetest.h"

static char tmpdir[64];
static int ndb;

/* A new database path in the test directory (the file does not exist yet). */
static const char *
newpath(char *buf, size_t len)
{
	snprintf(buf, len, "%s/db-%d.sqlite", tmpdir, ndb++);
	return buf;
}

static int on_pg; /* the second pass: fresh() stores are PostgreSQL schemas (pgtest.h) */

static struct store *
fresh(void)
{
	char path[1024];

	return stt_fresh(on_pg ? pgt_new_uri(path, sizeof path) : newpath(path, sizeof path));
}

/* An account value ready for store_account_insert. */
static void
account_value(struct store_account *a, const char *name, const char *pub)
{
	memset(a, 0, sizeof *a);
	snprintf(a->username, sizeof a->username, "%s", name);
	snprintf(a->public_id, sizeof a->public_id, "%s", pub);
	for (int i = 0; i < STORE_HASH_LEN; i++)
		a->auth_hash[i] = (uint8_t)(i * 3 + 1);
	for (int i = 0; i < STORE_SALT_LEN; i++)
		a->auth_salt[i] = (uint8_t)(200 - i);
	a->auth_iterations = 1000;
	snprintf(a->kdf, sizeof a->kdf, "{\"alg\":\"pbkdf2-sha256\",\"iterations\":7,\"u\":\"%s\"}", name);
	a->created_at = 1700000000;
}

/* Insert an account named `name` (public id derived from it), no assertion. */
static enum err
try_account(struct store *s, const char *name, int64_t *id)
{
	struct store_account a;
	char pub[STORE_PUBLIC_ID_MAX + 1];

	snprintf(pub, sizeof pub, "pub-%s", name);
	account_value(&a, name, pub);
	enum err e = store_account_insert(s, &a, NULL, 0);
	*id = e == ERR_OK ? a.id : -1;
	return e;
}

/* The same, asserting success; its id, or -1. */
static int64_t
add_account(struct store *s, const char *name)
{
	int64_t id;

	T_EQ_INT(try_account(s, name, &id), ERR_OK);
	return id;
}

static int
exists(struct store *s, const char *name)
{
	struct store_account a;

	return store_account_by_name(s, name, &a) == ERR_OK;
}

/* The PRAGMA user_version of a closed, checkpointed database: the big-endian
 * 32-bit integer at offset 60 of the SQLite file header. -1 if unreadable. */
static long
file_user_version(const char *path)
{
	/* through SQLite, not the file header: in WAL mode page 1 may still be
	 * in the -wal file until a checkpoint */
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long v = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* ---- migrations ---- */

static enum err
insert_keep(struct store *s, void *arg)
{
	(void)arg;
	return add_account(s, "keepme") > 0 ? ERR_OK : ERR_INTERNAL;
}

static void
test_migrate_twice(void)
{
	char path[128], err[512];
	struct store *s = NULL;

	newpath(path, sizeof path);
	T_OK(store_schema_version() >= 3);
	/* not migrated: no file, so no open */
	err[0] = '\0';
	T_EQ_INT(store_open(path, STORE_RW, &s, err, sizeof err), -1);
	T_OK(s == NULL);
	T_OK(err[0] != '\0');

	T_EQ_INT(store_migrate(path, err, sizeof err), 0);
	T_EQ_INT(file_user_version(path), store_schema_version());
	/* data written between the two survives the second */
	T_EQ_INT(store_open(path, STORE_RW, &s, err, sizeof err), 0);
	if (!s)
		return;
	T_EQ_INT(store_tx(s, insert_keep, NULL), ERR_OK);
	store_close(s);
	s = NULL;
	/* 001_init inserts into a keyed table: a re-run would fail, not pass */
	T_EQ_INT(store_migrate(path, err, sizeof err), 0);
	T_EQ_INT(store_migrate(path, err, sizeof err), 0);
	T_EQ_INT(file_user_version(path), store_schema_version());
	T_EQ_INT(store_open(path, STORE_RW, &s, err, sizeof err), 0);
	if (!s)
		return;
	T_OK(exists(s, "keepme"));
	T_EQ_INT(store_health(s), ERR_OK);
	store_close(s);
	store_close(NULL);

	/* an empty SQLite-less file that is not a database is refused by open */
	char junk[128];
	newpath(junk, sizeof junk);
	FILE *f = fopen(junk, "w");
	if (f) {
		fputs("this is not a database, not at all, no.\n", f);
		fclose(f);
	}
	s = NULL;
	T_EQ_INT(store_open(junk, STORE_RW, &s, err, sizeof err), -1);
	T_OK(s == NULL);
}

/* The store's directory is created (one level); deeper is an error. */
static void
test_migrate_parent(void)
{
	char path[160], err[512];
	struct stat st;

	snprintf(path, sizeof path, "%s/sub/db.sqlite", tmpdir);
	T_EQ_INT(store_migrate(path, err, sizeof err), 0);
	T_EQ_INT(stat(path, &st), 0);
	T_EQ_INT(file_user_version(path), store_schema_version());
	unlink(path);
	/* a read-only connection leaves the WAL files behind */
	char side[200];
	snprintf(side, sizeof side, "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", path);
	unlink(side);
	snprintf(path, sizeof path, "%s/sub", tmpdir);
	T_EQ_INT(rmdir(path), 0);
	snprintf(path, sizeof path, "%s/no/such/db.sqlite", tmpdir);
	err[0] = '\0';
	T_EQ_INT(store_migrate(path, err, sizeof err), -1);
	T_OK(err[0] != '\0');
}

/*
 * The location is a string only the store interprets: for SQLite, side
 * files beside the database, uploads staged in its directory, and a probe
 * that tells none / its version / unreadable without creating anything.
 * A store it creates is mode 0600, its -wal and -shm too.
 */
static void
test_location(void)
{
	char path[160], out[256], err[512];
	struct stat st;
	int v = -1;

	T_EQ_INT(store_location_side("/srv/bs/blindsync.db", "limits", out, sizeof out), 0);
	T_OK(strcmp(out, "/srv/bs/blindsync.db-limits") == 0);
	T_EQ_INT(store_location_side("/srv/bs/blindsync.db", "limits", out, 10), -1);
	T_EQ_INT(store_location_spool("/srv/bs/blindsync.db", out, sizeof out), 0);
	T_OK(strcmp(out, "/srv/bs") == 0);
	T_EQ_INT(store_location_spool("blindsync.db", out, sizeof out), 0);
	T_OK(strcmp(out, ".") == 0);

	newpath(path, sizeof path);
	T_EQ_INT(store_location_probe(path, &v, err, sizeof err), 0);
	T_EQ_INT(v, 0);
	T_EQ_INT(stat(path, &st), -1); /* the probe created nothing */
	struct store *s = stt_fresh(path);
	T_OK(s != NULL);
	T_EQ_INT(store_location_probe(path, &v, err, sizeof err), 1);
	T_EQ_INT(v, store_schema_version());
	T_EQ_INT(stat(path, &st), 0);
	T_EQ_INT(st.st_mode & 0777, 0600);
	char side[200];
	snprintf(side, sizeof side, "%s-wal", path);
	T_EQ_INT(stat(side, &st), 0);
	T_EQ_INT(st.st_mode & 0777, 0600);
	snprintf(side, sizeof side, "%s-writelock", path);
	T_EQ_INT(stat(side, &st), 0);
	T_EQ_INT(st.st_mode & 0777, 0600);
	store_close(s);

	/* a file that is not a store */
	newpath(path, sizeof path);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	T_OK(fd >= 0);
	if (fd >= 0) {
		T_EQ_INT(write(fd, "this is no database at all, not even close....", 46), 46);
		close(fd);
	}
	err[0] = '\0';
	T_EQ_INT(store_location_probe(path, &v, err, sizeof err), -1);
	T_OK(err[0] != '\0');
}

/* A store whose user_version is newer than this program's is refused. The
 * version is written straight into the file header (offset 60) of a closed
 * database, so no SQL is needed here. */
static void
test_migrate_newer_refused(void)
{
	char path[128], wal[160], err[512];

	newpath(path, sizeof path);
	T_EQ_INT(store_migrate(path, err, sizeof err), 0);
	snprintf(wal, sizeof wal, "%s-wal", path);
	struct stat st;
	T_OK(stat(wal, &st) != 0 || st.st_size == 0);
	int fd = open(path, O_RDWR);
	T_OK(fd >= 0);
	if (fd < 0)
		return;
	long v = store_schema_version() + 1;
	unsigned char b[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
		(unsigned char)v };
	T_EQ_INT(pwrite(fd, b, 4, 60), 4);
	close(fd);
	T_EQ_INT(file_user_version(path), v);
	err[0] = '\0';
	T_EQ_INT(store_migrate(path, err, sizeof err), -1);
	T_OK(strstr(err, "newer") != NULL);
}

struct mig_arg {
	const char *path;
	int rc;
	char err[512];
};

static void *
mig_thread(void *p)
{
	struct mig_arg *m = p;

	m->rc = store_migrate(m->path, m->err, sizeof m->err);
	return NULL;
}

static void
test_migrate_concurrent_threads(void)
{
	char path[128];
	struct mig_arg m[4];
	pthread_t th[4];
	struct store *s = NULL;

	newpath(path, sizeof path);
	for (int i = 0; i < 4; i++) {
		m[i].path = path;
		m[i].rc = -2;
		m[i].err[0] = '\0';
		T_EQ_INT(pthread_create(&th[i], NULL, mig_thread, &m[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		if (m[i].rc != 0)
			fprintf(stderr, "thread %d: %s\n", i, m[i].err);
		T_EQ_INT(m[i].rc, 0);
	}
	T_EQ_INT(file_user_version(path), store_schema_version());
	char err[512];
	T_EQ_INT(store_open(path, STORE_RW, &s, err, sizeof err), 0);
	T_EQ_INT(s ? store_health(s) : ERR_INTERNAL, ERR_OK);
	store_close(s);
}

static void
test_migrate_concurrent_processes(void)
{
	char path[128], err[512];
	int go[2];
	pid_t pid[4];
	struct store *s = NULL;

	newpath(path, sizeof path);
	T_EQ_INT(pipe(go), 0);
	for (int i = 0; i < 4; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			char c, e[512];
			close(go[1]);
			/* all start together when the parent closes the pipe */
			while (read(go[0], &c, 1) > 0)
				;
			int rc = store_migrate(path, e, sizeof e);
			if (rc != 0)
				fprintf(stderr, "child %d: %s\n", i, e);
			_exit(rc == 0 ? 0 : 1);
		}
		T_OK(pid[i] > 0);
	}
	close(go[0]);
	close(go[1]);
	for (int i = 0; i < 4; i++) {
		int st = -1;
		if (pid[i] > 0)
			waitpid(pid[i], &st, 0);
		T_OK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	T_EQ_INT(file_user_version(path), store_schema_version());
	T_EQ_INT(store_open(path, STORE_RW, &s, err, sizeof err), 0);
	T_EQ_INT(s ? store_health(s) : ERR_INTERNAL, ERR_OK);
	store_close(s);
}

/* ---- the transaction wrapper ---- */

struct txarg {
	const char *name;
	enum err ret;
	int calls;
	struct store *other;   /* nested / second connection */
	enum err inner;        /* what the inner call returned */
	double inner_ms;
};

static enum err
tx_insert(struct store *s, void *p)
{
	struct txarg *x = p;

	int64_t id;
	enum err e;

	x->calls++;
	if ((e = try_account(s, x->name, &id)))
		return e;
	return x->ret;
}

static void
test_tx_commit_rollback(void)
{
	struct store *s = fresh();
	struct txarg x;

	if (!s)
		return;
	memset(&x, 0, sizeof x);
	x.name = "committed";
	x.ret = ERR_OK;
	T_EQ_INT(store_tx(s, tx_insert, &x), ERR_OK);
	T_EQ_INT(x.calls, 1);
	T_OK(exists(s, "committed"));

	x.name = "conflicted";
	x.ret = ERR_CONFLICT;
	T_EQ_INT(store_tx(s, tx_insert, &x), ERR_CONFLICT);
	T_OK(!exists(s, "conflicted"));

	x.name = "quota";
	x.ret = ERR_QUOTA_EXCEEDED;
	T_EQ_INT(store_tx(s, tx_insert, &x), ERR_QUOTA_EXCEEDED);
	T_OK(!exists(s, "quota"));

	/* a failed insert inside (duplicate) returns its error and rolls back the rest */
	x.name = "committed";
	x.ret = ERR_OK;
	x.calls = 0;
	T_EQ_INT(store_tx(s, tx_insert, &x), ERR_USERNAME_TAKEN);
	T_EQ_INT(x.calls, 1);

	/* the wrapper is usable again after each outcome */
	x.name = "after";
	x.ret = ERR_OK;
	T_EQ_INT(store_tx(s, tx_insert, &x), ERR_OK);
	T_OK(exists(s, "after"));
	T_OK(exists(s, "committed"));
	store_close(s);
}

static enum err
tx_outer(struct store *s, void *p)
{
	struct txarg *x = p;
	struct txarg in;

	memset(&in, 0, sizeof in);
	in.name = "inner";
	in.ret = ERR_OK;
	if (add_account(s, "outer") <= 0)
		return ERR_INTERNAL;
	x->inner = store_tx(s, tx_insert, &in);
	x->calls = in.calls;
	return x->ret;
}

static void
test_tx_nested(void)
{
	struct store *s = fresh();
	struct txarg x;

	if (!s)
		return;
	memset(&x, 0, sizeof x);
	/* the outer one fails: the inner one's committed-looking write goes too */
	x.ret = ERR_CONFLICT;
	T_EQ_INT(store_tx(s, tx_outer, &x), ERR_CONFLICT);
	T_EQ_INT(x.inner, ERR_OK);
	T_EQ_INT(x.calls, 1);
	T_OK(!exists(s, "outer"));
	T_OK(!exists(s, "inner"));

	x.ret = ERR_OK;
	T_EQ_INT(store_tx(s, tx_outer, &x), ERR_OK);
	T_EQ_INT(x.inner, ERR_OK);
	T_OK(exists(s, "outer"));
	T_OK(exists(s, "inner"));
	store_close(s);
}

static enum err
tx_hold(struct store *s, void *p)
{
	struct txarg *x = p;
	struct txarg in;
	struct store_account a;

	(void)s;
	memset(&in, 0, sizeof in);
	/* while this connection holds the write lock, the other may still read */
	double t0 = t_now_ms();
	T_EQ_INT(store_account_by_name(x->other, "nobody", &a), ERR_NOT_FOUND);
	T_OK(t_now_ms() - t0 < 4000); /* well below the 5 s busy timeout */
	/* ... but not write: BEGIN IMMEDIATE waits out the busy timeout */
	in.name = "blocked";
	in.ret = ERR_OK;
	t0 = t_now_ms();
	x->inner = store_tx(x->other, tx_insert, &in);
	x->inner_ms = t_now_ms() - t0;
	x->calls = in.calls;
	return ERR_OK;
}

static void
test_tx_busy(void)
{
	char path[128], err[512];
	struct store *a = NULL, *b = NULL;
	struct txarg x;

	a = stt_fresh(newpath(path, sizeof path));
	T_EQ_INT(store_open(path, STORE_RW, &b, err, sizeof err), 0);
	if (!a || !b)
		goto out;
	memset(&x, 0, sizeof x);
	x.other = b;
	T_EQ_INT(store_tx(a, tx_hold, &x), ERR_OK);
	T_EQ_INT(x.inner, ERR_UNAVAILABLE);
	T_EQ_INT(x.calls, 0);
	T_OK(x.inner_ms >= STORE_BUSY_TIMEOUT_MS * 0.9);
	T_OK(x.inner_ms < STORE_BUSY_TIMEOUT_MS * 2.0);
	T_OK(!exists(a, "blocked"));
	/* once the lock is free, b writes at once */
	struct txarg y;
	memset(&y, 0, sizeof y);
	y.name = "unblocked";
	y.ret = ERR_OK;
	double t0 = t_now_ms();
	T_EQ_INT(store_tx(b, tx_insert, &y), ERR_OK);
	T_OK(t_now_ms() - t0 < 4000); /* well below the 5 s busy timeout */
	T_OK(exists(a, "unblocked"));
out:
	store_close(a);
	store_close(b);
}

struct queued {
	struct store *s;
	struct txarg x;
	enum err rc;
	int done;
};

static void *
queued_tx(void *p)
{
	struct queued *q = p;

	q->rc = store_tx(q->s, tx_insert, &q->x);
	__atomic_store_n(&q->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* A restore holds the write queue: a writer waits for it, then writes. */
static void
test_wlock_hold(void)
{
	char path[128], err[512];
	struct queued q;
	pthread_t th;

	memset(&q, 0, sizeof q);
	q.s = stt_fresh(newpath(path, sizeof path));
	q.x.name = "queued";
	q.x.ret = ERR_OK;
	struct store_wlock *w = store_wlock_hold(path, err, sizeof err);
	T_OK(w != NULL);
	if (!q.s || !w)
		goto out;
	T_EQ_INT(pthread_create(&th, NULL, queued_tx, &q), 0);
	usleep(300 * 1000);
	T_EQ_INT(__atomic_load_n(&q.done, __ATOMIC_ACQUIRE), 0);
	double t0 = t_now_ms();
	store_wlock_release(w);
	w = NULL;
	pthread_join(th, NULL);
	T_EQ_INT(q.rc, ERR_OK);
	T_OK(t_now_ms() - t0 < 4000); /* well below the 5 s busy timeout */
	T_OK(exists(q.s, "queued"));
out:
	store_wlock_release(w);
	store_close(q.s);
}

/* ---- group commit ---- */

#define GROUP_THREADS 8
#define GROUP_JOBS 60

struct group_thread {
	char path[1024];
	int t;
	int ok, bad;   /* results as expected / not */
	char err[256];
};

struct group_job_arg {
	const char *name;
	int fail;     /* insert, then fail (1: an answer, 2: a write that changes nothing): the insert must go */
	int ran_in;   /* the thread that ran it (it may be another's) */
};

static enum err
group_insert(struct store *s, void *p)
{
	struct group_job_arg *g = p;
	int64_t id;
	enum err e = try_account(s, g->name, &id);

	if (e)
		return e;
	/* on PostgreSQL a deferred write: its failure is known only at the
	 * group's end, and then only this job may fail */
	if (g->fail == 2)
		return store_account_usage_add(s, INT64_MAX, 1, 1);
	return g->fail ? ERR_CONFLICT : ERR_OK;
}

/* What job i of thread t does: 0 succeed, 1 answer ERR_CONFLICT, 2 fail a write (ERR_NOT_FOUND). */
static int
group_fail(int t, int i)
{
	return (i + t) % 7 == 0 ? 1 : (i + t) % 11 == 0 ? 2 : 0;
}

static void *
group_worker(void *p)
{
	struct group_thread *gt = p;
	struct store *s = NULL;

	if (store_open(gt->path, STORE_RW, &s, gt->err, sizeof gt->err) != 0) {
		gt->bad = GROUP_JOBS;
		return NULL;
	}
	for (int i = 0; i < GROUP_JOBS; i++) {
		char name[32];
		struct group_job_arg g;

		snprintf(name, sizeof name, "g%d-%d", gt->t, i);
		g.name = name;
		g.fail = group_fail(gt->t, i);
		/* keys out of thread order: a batch runs in key order */
		enum err e = store_tx_group(s, GROUP_THREADS - gt->t, group_insert, &g);
		if (e == (g.fail == 1 ? ERR_CONFLICT : g.fail == 2 ? ERR_NOT_FOUND : ERR_OK))
			gt->ok++;
		else
			gt->bad++;
	}
	store_close(s);
	return NULL;
}

/*
 * Eight threads, each with its own connection, push jobs at once: every
 * job gets its own result, the failed ones (every 7th answers an error,
 * some others' writes fail) left nothing behind although they ran in the
 * same transaction as others, and all the rest were committed. On both
 * backends.
 */
static void
test_tx_group(void)
{
	char path[1024];
	struct group_thread gt[GROUP_THREADS];
	pthread_t th[GROUP_THREADS];
	struct store *s = stt_fresh(on_pg ? pgt_new_uri(path, sizeof path) : newpath(path, sizeof path));

	if (!s)
		return;
	for (int t = 0; t < GROUP_THREADS; t++) {
		memset(&gt[t], 0, sizeof gt[t]);
		snprintf(gt[t].path, sizeof gt[t].path, "%s", path);
		gt[t].t = t;
		T_EQ_INT(pthread_create(&th[t], NULL, group_worker, &gt[t]), 0);
	}
	int expect = 0;
	for (int t = 0; t < GROUP_THREADS; t++) {
		pthread_join(th[t], NULL);
		if (gt[t].err[0])
			fprintf(stderr, "thread %d: %s\n", t, gt[t].err);
		T_EQ_INT(gt[t].ok, GROUP_JOBS);
		T_EQ_INT(gt[t].bad, 0);
		for (int i = 0; i < GROUP_JOBS; i++) {
			char name[32];

			snprintf(name, sizeof name, "g%d-%d", t, i);
			int fail = group_fail(t, i) != 0;
			if (exists(s, name) != !fail) {
				fprintf(stderr, "%s: %s\n", name, fail ? "a failed job's row is there" : "missing");
				T_OK(0);
			}
			expect += !fail;
		}
	}
	struct store_stats st;
	T_EQ_INT(store_stats(s, &st), ERR_OK);
	T_EQ_INT(st.accounts, expect);
	store_close(s);
}

static enum err
read_find(struct store *s, void *p)
{
	struct txarg *x = p;

	x->calls++;
	return exists(s, x->name) ? ERR_OK : ERR_NOT_FOUND;
}

static void
test_readonly(void)
{
	char path[128], err[512];
	struct store *rw = stt_fresh(newpath(path, sizeof path));
	struct store *ro = NULL;
	struct txarg x;

	if (!rw)
		return;
	T_EQ_INT(store_is_writable(rw), 1);
	T_EQ_INT(add_account(rw, "present") > 0, 1);
	T_EQ_INT(store_open(path, STORE_RO, &ro, err, sizeof err), 0);
	if (!ro)
		goto out;
	T_EQ_INT(store_is_writable(ro), 0);
	T_EQ_INT(store_is_writable(NULL), 0);
	memset(&x, 0, sizeof x);
	x.name = "via-ro";
	x.ret = ERR_OK;
	enum err e = store_tx(ro, tx_insert, &x);
	T_OK(e != ERR_OK);
	T_EQ_INT(x.calls, 0);
	T_OK(!exists(rw, "via-ro"));
	/* a write slipped into a read transaction is refused by the connection */
	x.calls = 0;
	e = store_read(ro, tx_insert, &x);
	T_OK(e != ERR_OK);
	T_EQ_INT(x.calls, 1);
	T_OK(!exists(rw, "via-ro"));
	/* reads work */
	x.name = "present";
	x.calls = 0;
	T_EQ_INT(store_read(ro, read_find, &x), ERR_OK);
	T_EQ_INT(x.calls, 1);
	x.name = "absent";
	T_EQ_INT(store_read(ro, read_find, &x), ERR_NOT_FOUND);
	T_EQ_INT(store_health(ro), ERR_OK);
	/* read-only alone, with no writer open (the WAL side files are gone):
	 * what a read-only handler meets on a quiet server */
	store_close(ro);
	store_close(rw);
	rw = NULL;
	ro = NULL;
	T_EQ_INT(store_open(path, STORE_RO, &ro, err, sizeof err), 0);
	if (!ro)
		goto out;
	x.name = "present";
	T_EQ_INT(store_read(ro, read_find, &x), ERR_OK);
	T_EQ_INT(store_health(ro), ERR_OK);
	/* a read-only open of a missing file fails */
	struct store *none = NULL;
	char missing[160];
	snprintf(missing, sizeof missing, "%s/missing.sqlite", tmpdir);
	T_EQ_INT(store_open(missing, STORE_RO, &none, err, sizeof err), -1);
	T_OK(none == NULL);
out:
	store_close(ro);
	store_close(rw);
}

static void
test_health(void)
{
	char path[128], moved[160];
	struct store *s = stt_fresh(newpath(path, sizeof path));

	if (!s)
		return;
	snprintf(moved, sizeof moved, "%s.moved", path);
	T_EQ_INT(store_health(s), ERR_OK);
	T_EQ_INT(rename(path, moved), 0);
	T_EQ_INT(store_health(s), ERR_UNAVAILABLE);
	T_EQ_INT(rename(moved, path), 0);
	T_EQ_INT(store_health(s), ERR_OK);
	/* another file in its place (a restore under a running server) */
	T_EQ_INT(rename(path, moved), 0);
	FILE *f = fopen(path, "w");
	T_OK(f != NULL);
	if (f) {
		fputs("SQLite format 3", f);
		fputc(0, f);
		fclose(f);
	}
	T_EQ_INT(store_health(s), ERR_UNAVAILABLE);
	T_EQ_INT(rename(moved, path), 0);
	T_EQ_INT(store_health(s), ERR_OK);
	/* the same file overwritten in place */
	int fd = open(path, O_WRONLY);
	T_OK(fd >= 0);
	if (fd >= 0) {
		T_EQ_INT(pwrite(fd, "garbage garbage!", 16, 0), 16);
		close(fd);
	}
	T_EQ_INT(store_health(s), ERR_UNAVAILABLE);
	store_close(s);
}

/* ---- accounts ---- */

static int
list_names(void *ctx, const struct store_account *a)
{
	char *out = ctx;

	strcat(out, a->username);
	strcat(out, ",");
	return 0;
}

static int
list_first(void *ctx, const struct store_account *a)
{
	char *out = ctx;

	strcat(out, a->username);
	return 1;
}

static void
test_accounts(void)
{
	struct store *s = fresh();
	struct store_account a, b, got;
	uint8_t ring[100];

	if (!s)
		return;
	for (size_t i = 0; i < sizeof ring; i++)
		ring[i] = (uint8_t)(i ^ 0x5a);
	account_value(&a, "alice", "pub-alice");
	a.id = 777; /* ignored */
	T_EQ_INT(store_account_insert(s, &a, ring, sizeof ring), ERR_OK);
	T_OK(a.id > 0 && a.id != 777);
	T_EQ_INT(a.keyring_version, 1);

	memset(&got, 0xee, sizeof got);
	T_EQ_INT(store_account_by_name(s, "alice", &got), ERR_OK);
	T_EQ_INT(got.id, a.id);
	T_EQ_STR(got.public_id, "pub-alice");
	T_EQ_STR(got.username, "alice");
	T_OK(memcmp(got.auth_hash, a.auth_hash, STORE_HASH_LEN) == 0);
	T_OK(memcmp(got.auth_salt, a.auth_salt, STORE_SALT_LEN) == 0);
	T_EQ_INT(got.auth_iterations, 1000);
	T_EQ_STR(got.kdf, a.kdf);
	T_EQ_INT(got.keyring_version, 1);
	T_EQ_INT(got.created_at, 1700000000);
	T_EQ_INT(got.disabled, 0);
	T_EQ_STR(got.plan, "default");
	T_EQ_INT(got.quota_bytes, -1);
	T_EQ_INT(got.usage_bytes, 0);
	T_EQ_INT(got.usage_records, 0);
	T_EQ_INT(got.account_version, 1);
	memset(&got, 0, sizeof got);
	T_EQ_INT(store_account_by_id(s, a.id, &got), ERR_OK);
	T_EQ_STR(got.username, "alice");
	T_EQ_INT(store_account_by_name(s, "bob", &got), ERR_NOT_FOUND);
	T_EQ_INT(store_account_by_id(s, a.id + 1000, &got), ERR_NOT_FOUND);

	/* duplicate username; the failed insert leaves nothing */
	account_value(&b, "alice", "pub-other");
	T_EQ_INT(store_account_insert(s, &b, NULL, 0), ERR_USERNAME_TAKEN);
	account_value(&b, "bob", "pub-bob");
	T_EQ_INT(store_account_insert(s, &b, NULL, 0), ERR_OK);
	T_EQ_INT(b.keyring_version, 0);
	T_OK(b.id != a.id);

	/* keyring: copy, version, compare-and-set */
	uint8_t *k = NULL;
	size_t klen = 99;
	int64_t kv = -5, nv = 0;
	T_EQ_INT(store_account_keyring(s, a.id, &k, &klen, &kv), ERR_OK);
	T_EQ_INT(klen, sizeof ring);
	T_EQ_INT(kv, 1);
	T_OK(k && memcmp(k, ring, sizeof ring) == 0);
	free(k);
	k = (uint8_t *)1;
	T_EQ_INT(store_account_keyring(s, b.id, &k, &klen, &kv), ERR_OK);
	T_OK(k == NULL);
	T_EQ_INT(klen, 0);
	T_EQ_INT(kv, 0);
	T_EQ_INT(store_account_keyring(s, b.id + 1000, &k, &klen, &kv), ERR_NOT_FOUND);
	T_EQ_INT(store_account_set_keyring(s, a.id, (const uint8_t *)"new", 3, 1, &nv), ERR_OK);
	T_EQ_INT(nv, 2);
	T_EQ_INT(store_account_set_keyring(s, a.id, (const uint8_t *)"old", 3, 1, &nv), ERR_PRECONDITION_FAILED);
	T_EQ_INT(store_account_keyring(s, a.id, &k, &klen, &kv), ERR_OK);
	T_EQ_INT(kv, 2);
	T_EQ_INT(klen, 3);
	T_OK(k && memcmp(k, "new", 3) == 0);
	free(k);
	T_EQ_INT(store_account_by_id(s, a.id, &got), ERR_OK);
	T_EQ_INT(got.account_version, 2);

	/* auth, kdf, disabled, quota, plan, bump, usage */
	uint8_t h2[STORE_HASH_LEN], s2[STORE_SALT_LEN];
	memset(h2, 0x11, sizeof h2);
	memset(s2, 0x22, sizeof s2);
	T_EQ_INT(store_account_set_auth(s, a.id, h2, s2, 4242), ERR_OK);
	T_EQ_INT(store_account_set_auth(s, a.id + 1000, h2, s2, 4242), ERR_NOT_FOUND);
	T_EQ_INT(store_account_set_kdf(s, a.id, "{\"x\":1}"), ERR_OK);
	T_EQ_INT(store_account_set_kdf(s, a.id + 1000, "{}"), ERR_NOT_FOUND);
	T_EQ_INT(store_account_by_id(s, a.id, &got), ERR_OK);
	T_OK(memcmp(got.auth_hash, h2, sizeof h2) == 0);
	T_OK(memcmp(got.auth_salt, s2, sizeof s2) == 0);
	T_EQ_INT(got.auth_iterations, 4242);
	T_EQ_STR(got.kdf, "{\"x\":1}");
	T_EQ_INT(got.account_version, 3);

	T_EQ_INT(store_account_set_disabled(s, "alice", 1), ERR_OK);
	T_EQ_INT(store_account_set_disabled(s, "nobody", 1), ERR_NOT_FOUND);
	T_EQ_INT(store_account_by_id(s, a.id, &got), ERR_OK);
	T_EQ_INT(got.disabled, 1);
	T_EQ_INT(store_account_set_disabled(s, "alice", 0), ERR_OK);
	T_EQ_INT(store_account_by_id(s, a.id, &got), ERR_OK);
	T_EQ_INT(got.disabled, 0);

	T_EQ_INT(store_account_set_quota(s, "alice", 12345), ERR_OK);
	T_EQ_INT(store_account_by_id(s, a.id, &got), ERR_OK);
	T_EQ_INT(got.quota_bytes, 12345);
	T_EQ_INT(store_account_set_quota(s, "alice", 0), ERR_OK);
	T_EQ_INT(store_account_by_id(s, a.id, &got), ERR_OK);
	T_EQ_INT(got.quota_bytes, 0);
	T_EQ_INT(store_account_set_quota(s, "alice", -1), ERR_OK);
	T_EQ_INT(store_account_by_id(s, a.id, &got), ERR_OK);
	T_EQ_INT(got.quota_bytes, -1);
	T_EQ_INT(store_account_set_quota(s, "nobody", 1), ERR_NOT_FOUND);
	T_EQ_INT(store_account_set_plan(s, "alice", "pro"), ERR_OK);
	T_EQ_INT(store_account_set_plan(s, "nobody", "pro"), ERR_NOT_FOUND);
	T_EQ_INT(store_account_by_id(s, a.id, &got), ERR_OK);
	T_EQ_STR(got.plan, "pro");

	int64_t v0 = got.account_version;
	T_EQ_INT(store_account_bump(s, a.id), ERR_OK);
	T_EQ_INT(store_account_bump(s, a.id + 1000), ERR_NOT_FOUND);
	T_EQ_INT(store_account_usage_add(s, a.id, 500, 3), ERR_OK);
	T_EQ_INT(store_account_usage_add(s, a.id, -200, -1), ERR_OK);
	T_EQ_INT(store_account_usage_add(s, a.id + 1000, 1, 1), ERR_NOT_FOUND);
	T_EQ_INT(store_account_by_id(s, a.id, &got), ERR_OK);
	T_EQ_INT(got.account_version, v0 + 3);
	T_EQ_INT(got.usage_bytes, 300);
	T_EQ_INT(got.usage_records, 2);

	/* list: by username, stoppable */
	account_value(&b, "aaron", "pub-aaron");
	T_EQ_INT(store_account_insert(s, &b, NULL, 0), ERR_OK);
	char names[256] = "";
	T_EQ_INT(store_account_list(s, list_names, names), ERR_OK);
	T_EQ_STR(names, "aaron,alice,bob,");
	names[0] = '\0';
	T_EQ_INT(store_account_list(s, list_first, names), ERR_OK);
	T_EQ_STR(names, "aaron");

	T_EQ_INT(store_account_delete(s, b.id), ERR_OK);
	T_EQ_INT(store_account_delete(s, b.id), ERR_NOT_FOUND);
	T_EQ_INT(store_account_by_name(s, "aaron", &got), ERR_NOT_FOUND);
	store_close(s);
}

/* ---- devices and tokens ---- */

struct devlist {
	int n;
	struct store_device d[8];
};

static int
dev_collect(void *ctx, const struct store_device *d)
{
	struct devlist *l = ctx;

	if (l->n < 8)
		l->d[l->n] = *d;
	l->n++;
	return 0;
}

static void
hash_of(uint8_t h[STORE_HASH_LEN], int seed)
{
	for (int i = 0; i < STORE_HASH_LEN; i++)
		h[i] = (uint8_t)(seed * 31 + i);
}

static void
test_devices_tokens(void)
{
	struct store *s = fresh();
	int64_t d1 = 0, d2 = 0, d3 = 0, found = 0;
	struct devlist l;
	struct store_token t;
	uint8_t ha[STORE_HASH_LEN], hr[STORE_HASH_LEN], hx[STORE_HASH_LEN], hb[STORE_HASH_LEN];

	if (!s)
		return;
	int64_t a = add_account(s, "carol"), b = add_account(s, "dave");
	T_EQ_INT(store_device_insert(s, a, "dev-1", "Laptop", "desktop", 100, &d1), ERR_OK);
	T_EQ_INT(store_device_insert(s, a, "dev-2", "Phone", "mobile", 200, &d2), ERR_OK);
	T_EQ_INT(store_device_insert(s, b, "dev-3", "Other", "cli", 300, &d3), ERR_OK);
	T_OK(d1 > 0 && d2 > d1 && d3 > d2);

	memset(&l, 0, sizeof l);
	T_EQ_INT(store_device_list(s, a, dev_collect, &l), ERR_OK);
	T_EQ_INT(l.n, 2);
	T_EQ_INT(l.d[0].id, d1);
	T_EQ_STR(l.d[0].public_id, "dev-1");
	T_EQ_STR(l.d[0].name, "Laptop");
	T_EQ_STR(l.d[0].type, "desktop");
	T_EQ_INT(l.d[0].created_at, 100);
	T_EQ_INT(l.d[0].last_seen_at, 100);
	T_EQ_STR(l.d[1].public_id, "dev-2");

	T_EQ_INT(store_device_find(s, a, "dev-2", &found), ERR_OK);
	T_EQ_INT(found, d2);
	/* another account's device is not found through this one */
	T_EQ_INT(store_device_find(s, a, "dev-3", &found), ERR_NOT_FOUND);
	T_EQ_INT(store_device_find(s, a, "dev-9", &found), ERR_NOT_FOUND);

	T_EQ_INT(store_device_touch(s, d1, 150), ERR_OK);
	memset(&l, 0, sizeof l);
	T_EQ_INT(store_device_list(s, a, dev_collect, &l), ERR_OK);
	T_EQ_INT(l.d[0].last_seen_at, 150);
	T_EQ_INT(l.d[0].created_at, 100);

	/* tokens */
	hash_of(ha, 1);
	hash_of(hr, 2);
	hash_of(hx, 3);
	hash_of(hb, 4);
	T_EQ_INT(store_token_insert(s, ha, STORE_TOKEN_ACCESS, a, d1, 1000), ERR_OK);
	T_EQ_INT(store_token_insert(s, hr, STORE_TOKEN_REFRESH, a, d1, 5000), ERR_OK);
	T_EQ_INT(store_token_insert(s, hx, STORE_TOKEN_ACCESS, a, d1, 50), ERR_OK);
	T_EQ_INT(store_token_insert(s, hb, STORE_TOKEN_ACCESS, b, d3, 1000), ERR_OK);
	memset(&t, 0, sizeof t);
	T_EQ_INT(store_token_find(s, ha, STORE_TOKEN_ACCESS, &t), ERR_OK);
	T_EQ_INT(t.account_id, a);
	T_EQ_INT(t.device_id, d1);
	T_EQ_STR(t.device_public_id, "dev-1");
	T_EQ_INT(t.expires_at, 1000);
	T_EQ_INT(t.disabled, 0);
	T_EQ_INT(t.last_seen_at, 150);
	/* the kind is part of the key */
	T_EQ_INT(store_token_find(s, ha, STORE_TOKEN_REFRESH, &t), ERR_NOT_FOUND);
	T_EQ_INT(store_token_find(s, hr, STORE_TOKEN_ACCESS, &t), ERR_NOT_FOUND);
	T_EQ_INT(store_token_find(s, hr, STORE_TOKEN_REFRESH, &t), ERR_OK);
	T_EQ_INT(t.used_at, 0);
	T_EQ_INT(t.expires_at, 5000);

	T_EQ_INT(store_token_mark_used(s, hr, 777), ERR_OK);
	T_EQ_INT(store_token_mark_used(s, hr, 778), ERR_CONFLICT);
	T_EQ_INT(store_token_find(s, hr, STORE_TOKEN_REFRESH, &t), ERR_OK);
	T_EQ_INT(t.used_at, 777);

	T_EQ_INT(store_account_set_disabled(s, "carol", 1), ERR_OK);
	T_EQ_INT(store_token_find(s, ha, STORE_TOKEN_ACCESS, &t), ERR_OK);
	T_EQ_INT(t.disabled, 1);
	T_EQ_INT(store_account_set_disabled(s, "carol", 0), ERR_OK);

	/* prune: only the expired ones of the device */
	T_EQ_INT(store_token_prune_device(s, d1, 100), ERR_OK);
	T_EQ_INT(store_token_find(s, hx, STORE_TOKEN_ACCESS, &t), ERR_NOT_FOUND);
	T_EQ_INT(store_token_find(s, ha, STORE_TOKEN_ACCESS, &t), ERR_OK);
	T_EQ_INT(store_token_find(s, hr, STORE_TOKEN_REFRESH, &t), ERR_OK);

	/* delete the device's tokens, the device stays */
	T_EQ_INT(store_token_delete_device(s, d1), ERR_OK);
	T_EQ_INT(store_token_find(s, ha, STORE_TOKEN_ACCESS, &t), ERR_NOT_FOUND);
	T_EQ_INT(store_token_find(s, hr, STORE_TOKEN_REFRESH, &t), ERR_NOT_FOUND);
	T_EQ_INT(store_device_find(s, a, "dev-1", &found), ERR_OK);
	T_EQ_INT(store_token_find(s, hb, STORE_TOKEN_ACCESS, &t), ERR_OK);

	/* deleting a device takes its tokens (cascade) */
	T_EQ_INT(store_token_insert(s, ha, STORE_TOKEN_ACCESS, a, d2, 1000), ERR_OK);
	T_EQ_INT(store_device_delete(s, d2), ERR_OK);
	T_EQ_INT(store_device_delete(s, d2), ERR_NOT_FOUND);
	T_EQ_INT(store_device_find(s, a, "dev-2", &found), ERR_NOT_FOUND);
	T_EQ_INT(store_token_find(s, ha, STORE_TOKEN_ACCESS, &t), ERR_NOT_FOUND);

	/* delete the others: keep one; the other account's are untouched */
	int64_t d4 = 0, d5 = 0;
	T_EQ_INT(store_device_insert(s, a, "dev-4", "A", "t", 400, &d4), ERR_OK);
	T_EQ_INT(store_device_insert(s, a, "dev-5", "B", "t", 500, &d5), ERR_OK);
	T_EQ_INT(store_token_insert(s, ha, STORE_TOKEN_ACCESS, a, d5, 1000), ERR_OK);
	T_EQ_INT(store_device_delete_others(s, a, d4), ERR_OK);
	memset(&l, 0, sizeof l);
	T_EQ_INT(store_device_list(s, a, dev_collect, &l), ERR_OK);
	T_EQ_INT(l.n, 1);
	T_EQ_INT(l.d[0].id, d4);
	T_EQ_INT(store_token_find(s, ha, STORE_TOKEN_ACCESS, &t), ERR_NOT_FOUND);
	T_EQ_INT(store_device_find(s, b, "dev-3", &found), ERR_OK);

	/* all tokens of an account */
	T_EQ_INT(store_token_insert(s, ha, STORE_TOKEN_ACCESS, a, d4, 1000), ERR_OK);
	T_EQ_INT(store_token_delete_account(s, a), ERR_OK);
	T_EQ_INT(store_token_find(s, ha, STORE_TOKEN_ACCESS, &t), ERR_NOT_FOUND);
	T_EQ_INT(store_token_find(s, hb, STORE_TOKEN_ACCESS, &t), ERR_OK);
	store_close(s);
}

/* ---- invites ---- */

struct invlist {
	int n;
	struct store_invite i[8];
};

static int
inv_collect(void *ctx, const struct store_invite *i)
{
	struct invlist *l = ctx;

	if (l->n < 8)
		l->i[l->n] = *i;
	l->n++;
	return 0;
}

/* blindsync-live tickets: single use, expiry, bound to a device with a session (store_live.c,
 * store_pg_live.c, accounts.c); on both backends. */
static void
test_live_tickets(void)
{
	struct store *s = fresh();
	int64_t d1 = 0, d2 = 0, acc = 0, dev = 0, until = 0, now = (int64_t)time(NULL);
	uint8_t h1[STORE_HASH_LEN], h2[STORE_HASH_LEN], tok[STORE_HASH_LEN];

	if (!s)
		return;
	int64_t a = add_account(s, "erin");
	T_EQ_INT(store_device_insert(s, a, "dev-l1", "Laptop", "desktop", now, &d1), ERR_OK);
	T_EQ_INT(store_device_insert(s, a, "dev-l2", "Phone", "mobile", now, &d2), ERR_OK);
	hash_of(tok, 90);
	T_EQ_INT(store_token_insert(s, tok, STORE_TOKEN_REFRESH, a, d1, now + 3600), ERR_OK);
	/* a device with a session passes; one without (no token) does not */
	T_EQ_INT(store_live_device_ok(s, a, d1, now, &until), ERR_OK);
	T_EQ_INT(until, now + 3600);
	T_EQ_INT(store_live_device_ok(s, a, d2, now, NULL), ERR_UNAUTHORIZED);
	T_EQ_INT(store_live_device_ok(s, a + 1, d1, now, NULL), ERR_UNAUTHORIZED);
	T_EQ_INT(store_live_device_ok(s, a, d1, now + 7200, NULL), ERR_UNAUTHORIZED);
	/* taken once; the second take finds nothing */
	hash_of(h1, 91);
	T_EQ_INT(store_live_ticket_put(s, h1, a, d1, now, now + 30), ERR_OK);
	T_EQ_INT(store_live_ticket_take(s, h1, now, &acc, &dev), ERR_OK);
	T_EQ_INT(acc, a);
	T_EQ_INT(dev, d1);
	T_EQ_INT(store_live_ticket_take(s, h1, now, &acc, &dev), ERR_UNAUTHORIZED);
	/* expired: refused, and gone all the same */
	hash_of(h2, 92);
	T_EQ_INT(store_live_ticket_put(s, h2, a, d1, now, now + 30), ERR_OK);
	T_EQ_INT(store_live_ticket_take(s, h2, now + 30, &acc, &dev), ERR_UNAUTHORIZED);
	T_EQ_INT(store_live_ticket_put(s, h2, a, d1, now, now + 30), ERR_OK);
	/* issuing sweeps the expired ones: h2 again, put at a later time */
	T_EQ_INT(store_live_ticket_put(s, h1, a, d1, now + 60, now + 90), ERR_OK);
	T_EQ_INT(store_live_ticket_take(s, h2, now, &acc, &dev), ERR_UNAUTHORIZED);
	/* a device that goes takes its tickets */
	T_EQ_INT(store_live_ticket_put(s, h2, a, d2, now, now + 30), ERR_OK);
	T_EQ_INT(store_device_delete(s, d2), ERR_OK);
	T_EQ_INT(store_live_ticket_take(s, h2, now, &acc, &dev), ERR_UNAUTHORIZED);

	/* through accounts.c: a ticket of the device redeems once; an access token's text never does */
	struct auth who = {a, d1, "dev-l1"};
	struct auth_token t;
	T_EQ_INT(accounts_live_ticket(s, &who, &t), ERR_OK);
	T_EQ_INT(strlen(t.text), AUTH_TOKEN_LEN);
	T_EQ_INT(accounts_live_redeem(s, t.text, strlen(t.text), &acc, &dev), ERR_OK);
	T_EQ_INT(acc, a);
	T_EQ_INT(dev, d1);
	T_EQ_INT(accounts_live_redeem(s, t.text, strlen(t.text), &acc, &dev), ERR_UNAUTHORIZED);
	T_EQ_INT(acc, 0);
	T_EQ_INT(accounts_live_redeem(s, "short", 5, &acc, &dev), ERR_UNAUTHORIZED);
	/* the device lost its session between the ticket and its use */
	T_EQ_INT(accounts_live_ticket(s, &who, &t), ERR_OK);
	T_EQ_INT(store_token_delete_device(s, d1), ERR_OK);
	T_EQ_INT(accounts_live_redeem(s, t.text, strlen(t.text), &acc, &dev), ERR_UNAUTHORIZED);
	store_close(s);
}

static void
test_invites(void)
{
	struct store *s = fresh();
	uint8_t h1[STORE_HASH_LEN], h2[STORE_HASH_LEN], h3[STORE_HASH_LEN];
	struct invlist l;

	if (!s)
		return;
	int64_t a = add_account(s, "erin"), b = add_account(s, "frank");
	hash_of(h1, 10);
	hash_of(h2, 11);
	hash_of(h3, 12);
	T_EQ_INT(store_invite_insert(s, h1, 1000, 2000), ERR_OK);
	T_EQ_INT(store_invite_insert(s, h2, 1000, 2000), ERR_OK);

	T_EQ_INT(store_invite_use(s, h3, 1500, a), ERR_INVALID_INVITE);
	T_EQ_INT(store_invite_use(s, h1, 1500, a), ERR_OK);
	/* once only */
	T_EQ_INT(store_invite_use(s, h1, 1501, b), ERR_INVALID_INVITE);
	/* not when expired (expires_at is the first instant it is invalid) */
	T_EQ_INT(store_invite_use(s, h2, 2000, b), ERR_INVALID_INVITE);
	T_EQ_INT(store_invite_use(s, h2, 9999, b), ERR_INVALID_INVITE);
	T_EQ_INT(store_invite_use(s, h2, 1999, b), ERR_OK);

	memset(&l, 0, sizeof l);
	T_EQ_INT(store_invite_list(s, inv_collect, &l), ERR_OK);
	T_EQ_INT(l.n, 2);
	T_EQ_INT(l.i[0].created_at, 1000);
	T_EQ_INT(l.i[0].expires_at, 2000);
	T_EQ_INT(l.i[0].used_at, 1500);
	T_EQ_STR(l.i[0].used_by, "erin");
	T_EQ_INT(l.i[1].used_at, 1999);
	T_EQ_STR(l.i[1].used_by, "frank");

	/* an unused one lists as such; a used one whose account is gone has "" */
	T_EQ_INT(store_invite_insert(s, h3, 3000, 4000), ERR_OK);
	T_EQ_INT(store_account_delete(s, a), ERR_OK);
	memset(&l, 0, sizeof l);
	T_EQ_INT(store_invite_list(s, inv_collect, &l), ERR_OK);
	T_EQ_INT(l.n, 3);
	T_EQ_INT(l.i[0].used_at, 1500);
	T_EQ_STR(l.i[0].used_by, "");
	T_EQ_INT(l.i[2].used_at, 0);
	T_EQ_STR(l.i[2].used_by, "");
	store_close(s);
}

/* ---- events ---- */

struct evlist {
	int n;
	int64_t first_at, last_at;
	char first_dev[STORE_PUBLIC_ID_MAX + 1], first_type[32];
	int ordered;
};

static int
ev_collect(void *ctx, const struct store_event *e)
{
	struct evlist *l = ctx;

	if (l->n == 0) {
		l->first_at = e->at;
		snprintf(l->first_dev, sizeof l->first_dev, "%s", e->device);
		snprintf(l->first_type, sizeof l->first_type, "%s", e->type);
		l->ordered = 1;
	} else if (e->at >= l->last_at)
		l->ordered = 0;
	l->last_at = e->at;
	l->n++;
	return 0;
}

static int
ev_count(struct store *s, int64_t account, int64_t limit, struct evlist *l)
{
	memset(l, 0, sizeof *l);
	T_EQ_INT(store_event_list(s, account, limit, ev_collect, l), ERR_OK);
	return l->n;
}

struct evarg {
	int64_t account;
	int from, to;
};

static enum err
ev_add_many(struct store *s, void *p)
{
	struct evarg *x = p;
	enum err e;

	for (int i = x->from; i < x->to; i++)
		if ((e = store_event_add(s, x->account, "sync", i % 2 ? "dev-x" : NULL, i)))
			return e;
	return ERR_OK;
}

static void
test_events(void)
{
	struct store *s = fresh();
	struct evlist l;

	if (!s)
		return;
	int64_t a = add_account(s, "gina"), b = add_account(s, "hank");
	T_EQ_INT(store_event_add(s, b, "login", "dev-b", 1), ERR_OK);
	T_EQ_INT(store_event_add(s, b, "logout", "", 2), ERR_OK);
	T_EQ_INT(store_event_add(s, b, "register", NULL, 3), ERR_OK);
	T_EQ_INT(ev_count(s, b, 100, &l), 3);
	T_EQ_INT(l.first_at, 3);
	T_EQ_STR(l.first_type, "register");
	T_EQ_STR(l.first_dev, "");
	T_OK(l.ordered);
	T_EQ_INT(ev_count(s, b, 2, &l), 2);
	T_EQ_INT(l.last_at, 2);
	T_EQ_INT(store_event_add(s, b, "keyring_changed", "dev-b", 4), ERR_OK);
	T_EQ_INT(ev_count(s, b, 1, &l), 1);
	T_EQ_STR(l.first_type, "keyring_changed");
	T_EQ_STR(l.first_dev, "dev-b");

	struct evarg x = { a, 0, STORE_EVENTS_KEEP + 25 };
	T_EQ_INT(store_tx(s, ev_add_many, &x), ERR_OK);
	T_EQ_INT(ev_count(s, a, 5 * STORE_EVENTS_KEEP, &l), STORE_EVENTS_KEEP);
	T_EQ_INT(l.first_at, STORE_EVENTS_KEEP + 24);
	T_EQ_INT(l.last_at, 25);
	T_EQ_STR(l.first_dev, ""); /* even `at`: no device */
	T_OK(l.ordered);
	/* one more drops exactly one */
	T_EQ_INT(store_event_add(s, a, "late", NULL, 99999), ERR_OK);
	T_EQ_INT(ev_count(s, a, 5 * STORE_EVENTS_KEEP, &l), STORE_EVENTS_KEEP);
	T_EQ_INT(l.first_at, 99999);
	T_EQ_INT(l.last_at, 26);
	T_EQ_INT(ev_count(s, a, 2, &l), 2);
	T_EQ_STR(l.first_type, "late");
	T_EQ_INT(l.last_at, STORE_EVENTS_KEEP + 24);
	/* another account's log is its own */
	T_EQ_INT(ev_count(s, b, 100, &l), 4);
	T_EQ_INT(ev_count(s, a, 0, &l), 0);
	store_close(s);
}

/* ---- collections and records ---- */

struct collist {
	int n;
	char names[8][STORE_NAME_MAX + 1];
	size_t meta_len[8];
	int meta_null[8];
};

static int
col_collect(void *ctx, const struct store_collection *c)
{
	struct collist *l = ctx;

	if (l->n < 8) {
		snprintf(l->names[l->n], sizeof l->names[0], "%s", c->name);
		l->meta_len[l->n] = c->meta_len;
		l->meta_null[l->n] = c->meta == NULL;
	}
	l->n++;
	return 0;
}

/* store_collection_create twice in one transaction: the conflict leaves the transaction usable. */
static enum err
create_twice(struct store *s, void *arg)
{
	int64_t a = *(int64_t *)arg;
	struct store_collection c;
	enum err e = store_collection_create(s, a, "dup", NULL, 0, 1, &c);

	if (e)
		return e;
	T_EQ_INT(store_collection_create(s, a, "dup", NULL, 0, 1, &c), ERR_CONFLICT);
	/* on PostgreSQL too, the failed insert did not end the transaction */
	return store_collection_create(s, a, "dup2", NULL, 0, 1, &c);
}

static void
test_collections_records(void)
{
	struct store *s = fresh();
	struct store_collection c, c2, got;
	struct collist cl;
	struct stt_reclist rl;
	int64_t n = -1, v = 0, bytes = 0;
	int del = -1;

	if (!s)
		return;
	int64_t a = add_account(s, "ivan"), b = add_account(s, "judy");
	T_EQ_INT(store_collection_count(s, a, &n), ERR_OK);
	T_EQ_INT(n, 0);
	T_EQ_INT(store_collection_get(s, a, "notes", &got), ERR_NOT_FOUND);
	T_EQ_INT(store_collection_create(s, a, "notes", (const uint8_t *)"meta", 4, 100, &c), ERR_OK);
	T_OK(c.id > 0);
	T_EQ_INT(c.account_id, a);
	T_EQ_STR(c.name, "notes");
	T_EQ_INT(c.version, 0);
	T_EQ_INT(store_collection_create(s, a, "notes", NULL, 0, 100, &c2), ERR_CONFLICT);
	T_EQ_INT(store_collection_create(s, b, "notes", NULL, 0, 100, &c2), ERR_OK);
	T_OK(c2.id != c.id);
	T_EQ_INT(store_tx(s, create_twice, &b), ERR_OK);
	T_EQ_INT(store_collection_count(s, b, &n), ERR_OK);
	T_EQ_INT(n, 3);
	T_EQ_INT(store_collection_create(s, a, "alpha", NULL, 0, 90, &c2), ERR_OK);
	T_EQ_INT(store_collection_count(s, a, &n), ERR_OK);
	T_EQ_INT(n, 2);
	memset(&cl, 0, sizeof cl);
	T_EQ_INT(store_collection_list(s, a, col_collect, &cl), ERR_OK);
	T_EQ_INT(cl.n, 2);
	T_EQ_STR(cl.names[0], "alpha");
	T_EQ_INT(cl.meta_null[0], 1);
	T_EQ_STR(cl.names[1], "notes");
	T_EQ_INT(cl.meta_len[1], 4);
	T_EQ_INT(store_collection_set_meta(s, c.id, NULL, 0, 150), ERR_OK);
	memset(&cl, 0, sizeof cl);
	T_EQ_INT(store_collection_list(s, a, col_collect, &cl), ERR_OK);
	T_EQ_INT(cl.meta_null[1], 1);

	T_EQ_INT(store_collection_update(s, c.id, 7, 2, 30, 160), ERR_OK);
	T_EQ_INT(store_collection_get(s, a, "notes", &got), ERR_OK);
	T_EQ_INT(got.version, 7);
	T_EQ_INT(got.records, 2);
	T_EQ_INT(got.bytes, 30);
	T_EQ_INT(got.created_at, 100);
	T_EQ_INT(got.modified_at, 160);
	T_EQ_INT(got.purged_version, 0);

	/* records: put, head, get, history, pull */
	T_EQ_INT(store_record_head(s, c.id, "r1", &v, &del, &bytes), ERR_NOT_FOUND);
	T_EQ_INT(store_record_put(s, c.id, "r1", 1, 100, 0, (const uint8_t *)"hello", 5), ERR_OK);
	T_EQ_INT(store_record_head(s, c.id, "r1", &v, &del, &bytes), ERR_OK);
	T_EQ_INT(v, 1);
	T_EQ_INT(del, 0);
	T_EQ_INT(bytes, 5);
	T_EQ_INT(store_record_to_history(s, c.id, "r1"), ERR_OK);
	T_EQ_INT(store_record_put(s, c.id, "r1", 2, 110, 0, (const uint8_t *)"hello!!", 7), ERR_OK);
	T_EQ_INT(store_record_to_history(s, c.id, "r1"), ERR_OK);
	T_EQ_INT(store_record_put(s, c.id, "r1", 3, 120, 1, NULL, 0), ERR_OK);
	T_EQ_INT(store_record_head(s, c.id, "r1", &v, &del, &bytes), ERR_OK);
	T_EQ_INT(v, 3);
	T_EQ_INT(del, 1);
	T_EQ_INT(bytes, 0);
	memset(&rl, 0, sizeof rl);
	T_EQ_INT(store_record_get(s, c.id, "r1", stt_rec_collect, &rl), ERR_OK);
	T_EQ_INT(rl.n, 1);
	T_EQ_INT(rl.deleted[0], 1);
	T_EQ_INT(rl.nullpay[0], 1);
	T_EQ_INT(store_record_get(s, c.id, "nope", stt_rec_collect, &rl), ERR_NOT_FOUND);
	memset(&rl, 0, sizeof rl);
	T_EQ_INT(store_history_list(s, c.id, "r1", stt_rec_collect, &rl), ERR_OK);
	T_EQ_INT(rl.n, 3);
	T_EQ_INT(rl.versions[0], 3);
	T_EQ_INT(rl.versions[1], 2);
	T_EQ_INT(rl.versions[2], 1);
	T_EQ_INT(rl.lens[0], 0);
	T_EQ_INT(rl.lens[1], 7);
	T_EQ_INT(rl.lens[2], 5);
	T_EQ_INT(store_history_list(s, c.id, "nope", stt_rec_collect, &rl), ERR_NOT_FOUND);
	memset(&rl, 0, sizeof rl);
	T_EQ_INT(store_history_get(s, c.id, "r1", 2, stt_rec_collect, &rl), ERR_OK);
	T_EQ_INT(rl.n, 1);
	T_EQ_INT(rl.lens[0], 7);
	T_EQ_INT(store_history_get(s, c.id, "r1", 4, stt_rec_collect, &rl), ERR_NOT_FOUND);
	int64_t freed = -1;
	T_EQ_INT(store_history_prune(s, c.id, "r1", 1, &freed), ERR_OK);
	T_EQ_INT(freed, 5);
	T_EQ_INT(store_history_get(s, c.id, "r1", 1, stt_rec_collect, &rl), ERR_NOT_FOUND);
	T_EQ_INT(store_history_prune(s, c.id, "r1", 1, &freed), ERR_OK);
	T_EQ_INT(freed, 0);
	T_EQ_INT(store_history_prune(s, c.id, "r1", 0, &freed), ERR_OK);
	T_EQ_INT(freed, 7);
	memset(&rl, 0, sizeof rl);
	T_EQ_INT(store_history_list(s, c.id, "r1", stt_rec_collect, &rl), ERR_OK);
	T_EQ_INT(rl.n, 1);

	/* pull: version order, since, limit, early stop */
	T_EQ_INT(store_record_put(s, c.id, "r2", 5, 130, 0, (const uint8_t *)"b", 1), ERR_OK);
	T_EQ_INT(store_record_put(s, c.id, "r3", 4, 130, 0, (const uint8_t *)"", 0), ERR_OK);
	memset(&rl, 0, sizeof rl);
	T_EQ_INT(store_record_pull(s, c.id, 0, 100, stt_rec_collect, &rl), ERR_OK);
	T_EQ_INT(rl.n, 3);
	T_EQ_STR(rl.rids[0], "r1");
	T_EQ_STR(rl.rids[1], "r3");
	T_EQ_STR(rl.rids[2], "r2");
	T_EQ_INT(rl.nullpay[1], 0); /* an empty payload is not a tombstone */
	T_EQ_INT(rl.lens[1], 0);
	memset(&rl, 0, sizeof rl);
	T_EQ_INT(store_record_pull(s, c.id, 3, 1, stt_rec_collect, &rl), ERR_OK);
	T_EQ_INT(rl.n, 1);
	T_EQ_INT(rl.versions[0], 4);
	memset(&rl, 0, sizeof rl);
	rl.stop_after = 2;
	T_EQ_INT(store_record_pull(s, c.id, 0, 100, stt_rec_collect, &rl), ERR_OK);
	T_EQ_INT(rl.n, 2);
	memset(&rl, 0, sizeof rl);
	T_EQ_INT(store_record_pull(s, c2.id, 0, 100, stt_rec_collect, &rl), ERR_OK);
	T_EQ_INT(rl.n, 0);

	/* delete: the collection with its records and history; the name's floor */
	T_EQ_INT(store_record_to_history(s, c.id, "r2"), ERR_OK);
	T_EQ_INT(store_collection_floor(s, a, "notes", 7, 4), ERR_OK);
	T_EQ_INT(store_collection_floor(s, a, "notes", 5, 2), ERR_OK); /* never goes back */
	T_EQ_INT(store_collection_delete(s, c.id), ERR_OK);
	T_EQ_INT(store_collection_get(s, a, "notes", &got), ERR_NOT_FOUND);
	T_EQ_INT(store_record_head(s, c.id, "r2", &v, &del, &bytes), ERR_NOT_FOUND);
	T_EQ_INT(store_history_list(s, c.id, "r2", stt_rec_collect, &rl), ERR_NOT_FOUND);
	T_EQ_INT(store_collection_create(s, a, "notes", NULL, 0, 200, &c), ERR_OK);
	T_EQ_INT(c.version, 8);
	T_EQ_INT(c.purged_version, 8);
	T_EQ_INT(c.members_version, 5);
	T_EQ_INT(store_collection_get(s, b, "notes", &got), ERR_OK);
	store_close(s);
}

/* ---- the cascade of an account delete ---- */

static void
test_account_cascade(void)
{
	struct store *s = fresh();
	struct store_collection c, ck, got;
	struct store_token t;
	struct evlist l;
	struct stt_reclist rl;
	uint8_t ht[STORE_HASH_LEN], hk[STORE_HASH_LEN];
	int64_t d = 0, dk = 0, found = 0, v, bytes;
	int del;

	if (!s)
		return;
	int64_t a = add_account(s, "gone"), k = add_account(s, "kept");
	hash_of(ht, 40);
	hash_of(hk, 41);
	/* the same shapes for both accounts */
	T_EQ_INT(store_device_insert(s, a, "gone-dev", "n", "t", 1, &d), ERR_OK);
	T_EQ_INT(store_device_insert(s, k, "kept-dev", "n", "t", 1, &dk), ERR_OK);
	T_EQ_INT(store_token_insert(s, ht, STORE_TOKEN_REFRESH, a, d, 99), ERR_OK);
	T_EQ_INT(store_token_insert(s, hk, STORE_TOKEN_REFRESH, k, dk, 99), ERR_OK);
	T_EQ_INT(store_event_add(s, a, "login", "gone-dev", 1), ERR_OK);
	T_EQ_INT(store_event_add(s, k, "login", "kept-dev", 1), ERR_OK);
	T_EQ_INT(store_collection_create(s, a, "c", NULL, 0, 1, &c), ERR_OK);
	T_EQ_INT(store_collection_create(s, k, "c", NULL, 0, 1, &ck), ERR_OK);
	T_EQ_INT(store_record_put(s, c.id, "r", 1, 1, 0, (const uint8_t *)"x", 1), ERR_OK);
	T_EQ_INT(store_record_to_history(s, c.id, "r"), ERR_OK);
	T_EQ_INT(store_record_put(s, c.id, "r", 2, 1, 0, (const uint8_t *)"y", 1), ERR_OK);
	T_EQ_INT(store_record_put(s, ck.id, "r", 1, 1, 0, (const uint8_t *)"x", 1), ERR_OK);
	T_EQ_INT(store_record_to_history(s, ck.id, "r"), ERR_OK);
	T_EQ_INT(store_record_put(s, ck.id, "r", 2, 1, 0, (const uint8_t *)"y", 1), ERR_OK);
	/* all there before */
	T_EQ_INT(store_device_find(s, a, "gone-dev", &found), ERR_OK);
	T_EQ_INT(store_token_find(s, ht, STORE_TOKEN_REFRESH, &t), ERR_OK);
	T_EQ_INT(ev_count(s, a, 10, &l), 1);
	memset(&rl, 0, sizeof rl);
	T_EQ_INT(store_history_list(s, c.id, "r", stt_rec_collect, &rl), ERR_OK);
	T_EQ_INT(rl.n, 2);

	T_EQ_INT(store_account_delete(s, a), ERR_OK);

	T_EQ_INT(store_account_by_id(s, a, &(struct store_account){0}), ERR_NOT_FOUND);
	T_EQ_INT(store_device_find(s, a, "gone-dev", &found), ERR_NOT_FOUND);
	T_EQ_INT(store_token_find(s, ht, STORE_TOKEN_REFRESH, &t), ERR_NOT_FOUND);
	T_EQ_INT(ev_count(s, a, 10, &l), 0);
	T_EQ_INT(store_collection_get(s, a, "c", &got), ERR_NOT_FOUND);
	T_EQ_INT(store_record_head(s, c.id, "r", &v, &del, &bytes), ERR_NOT_FOUND);
	T_EQ_INT(store_history_list(s, c.id, "r", stt_rec_collect, &rl), ERR_NOT_FOUND);
	T_EQ_INT(store_history_get(s, c.id, "r", 1, stt_rec_collect, &rl), ERR_NOT_FOUND);
	memset(&rl, 0, sizeof rl);
	T_EQ_INT(store_record_pull(s, c.id, 0, 100, stt_rec_collect, &rl), ERR_OK);
	T_EQ_INT(rl.n, 0);
	int64_t n = -1;
	T_EQ_INT(store_collection_count(s, a, &n), ERR_OK);
	T_EQ_INT(n, 0);

	/* the other account keeps everything */
	T_EQ_INT(store_device_find(s, k, "kept-dev", &found), ERR_OK);
	T_EQ_INT(store_token_find(s, hk, STORE_TOKEN_REFRESH, &t), ERR_OK);
	T_EQ_INT(ev_count(s, k, 10, &l), 1);
	T_EQ_INT(store_collection_get(s, k, "c", &got), ERR_OK);
	memset(&rl, 0, sizeof rl);
	T_EQ_INT(store_history_list(s, ck.id, "r", stt_rec_collect, &rl), ERR_OK);
	T_EQ_INT(rl.n, 2);
	store_close(s);
}

int
main(void)
{
	if (t_tmpdir(tmpdir, sizeof tmpdir, "store") != 0)
		return 1;
	log_setup("test_store", LOG_ERROR);
	T_RUN(test_migrate_twice);
	T_RUN(test_migrate_parent);
	T_RUN(test_migrate_newer_refused);
	T_RUN(test_location);
	T_RUN(test_migrate_concurrent_threads);
	T_RUN(test_migrate_concurrent_processes);
	T_RUN(test_tx_commit_rollback);
	T_RUN(test_tx_nested);
	T_RUN(test_readonly);
	T_RUN(test_health);
	T_RUN(test_accounts);
	T_RUN(test_devices_tokens);
	T_RUN(test_live_tickets);
	T_RUN(test_invites);
	T_RUN(test_events);
	T_RUN(test_collections_records);
	T_RUN(test_account_cascade);
	T_RUN(test_tx_busy);
	T_RUN(test_wlock_hold);
	T_RUN(test_tx_group);
	/* the backend-neutral tests once more on PostgreSQL ($BS_TEST_PG) */
	if (pgt_setup("test_store") > 0) {
		on_pg = 1;
		T_RUN(test_tx_commit_rollback);
		T_RUN(test_tx_nested);
		T_RUN(test_accounts);
		T_RUN(test_devices_tokens);
		T_RUN(test_live_tickets);
		T_RUN(test_invites);
		T_RUN(test_events);
		T_RUN(test_collections_records);
		T_RUN(test_tx_group);
		pgt_teardown();
	}
	t_tmpdir_remove(tmpdir);
	return t_done();
}
