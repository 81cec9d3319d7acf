/*
 * test_store_pg.c: unit tests of the PostgreSQL backend of the store
 * (fcgi/lib/store_pg*.c) through store.h, against the database named by
 * $BS_TEST_PG (e.g. postgresql:///blindsync_test?host=/tmp/pgdir); without
 * it the program says it skips and passes.
 *
 * Each test works in a schema of its own (created here, reached with
 * options=-csearch_path=... in the URI, dropped at the end), so that tests
 * never see each other's rows and need no new database.
 *
 * The backend's choice and the connection: migrations (twice, from 4
 * threads at once, a newer store refused), a URI with a password refused,
 * the location functions, open, health and stats.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "log.h"
#include "store.h"

#include "t.h"

static const char *base;      /* $BS_TEST_PG */
static PGconn *admin;         /* creates and drops the schemas */
static int nschema;

/* DROP SCHEMA ... CASCADE lists what it drops as notices: not wanted. */
static void quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* Run constant SQL on the admin connection; 0 or -1 (a failure counted). */
static int admin_sql(const char *sql)
{
	PGresult *r = PQexec(admin, sql);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
	if (!ok)
		fprintf(stderr, "admin: %s: %s", sql, PQerrorMessage(admin));
	PQclear(r);
	T_OK(ok);
	return ok ? 0 : -1;
}

/* A new empty schema, and the URI that reaches it (uri, len bytes). */
static const char *new_uri(char *uri, size_t len)
{
	char sql[128], name[64];
	snprintf(name, sizeof name, "t%d_%d", (int)getpid(), nschema++);
	snprintf(sql, sizeof sql, "CREATE SCHEMA %s", name);
	admin_sql(sql);
	snprintf(uri, len, "%s%soptions=-csearch_path%%3D%s", base, strchr(base, '?') ? "&" : "?", name);
	return uri;
}

/* Migrate a new schema and open it; NULL (and a failure) if not. */
static struct store *fresh_at(char *uri, size_t len, enum store_mode mode)
{
	struct store *s = NULL;
	char err[512];
	new_uri(uri, len);
	if (store_migrate(uri, err, sizeof err) != 0) {
		fprintf(stderr, "store_migrate: %s\n", err);
		T_OK(0);
		return NULL;
	}
	if (store_open(uri, mode, &s, err, sizeof err) != 0) {
		fprintf(stderr, "store_open: %s\n", err);
		T_OK(0);
		return NULL;
	}
	return s;
}

static struct store *fresh(void)
{
	char uri[1024];
	return fresh_at(uri, sizeof uri, STORE_RW);
}

static void test_migrate_open(void)
{
	char uri[1024], err[512];
	struct store *s = NULL;
	int v = -1;
	new_uri(uri, sizeof uri);
	/* nothing there yet: probe says so and open refuses */
	T_EQ_INT(store_location_probe(uri, &v, err, sizeof err), 0);
	T_EQ_INT(v, 0);
	T_EQ_INT(store_open(uri, STORE_RW, &s, err, sizeof err), -1);
	T_OK(strstr(err, "migrated") != NULL);
	T_EQ_INT(store_migrate(uri, err, sizeof err), 0);
	T_EQ_INT(store_migrate(uri, err, sizeof err), 0); /* twice is harmless */
	T_EQ_INT(store_location_probe(uri, &v, err, sizeof err), 1);
	T_OK(v >= 1);
	T_EQ_INT(store_open(uri, STORE_RW, &s, err, sizeof err), 0);
	T_EQ_INT(store_health(s), ERR_OK);
	T_OK(store_is_writable(s));
	struct store_stats st;
	T_EQ_INT(store_stats(s, &st), ERR_OK);
	T_EQ_INT(st.accounts, 0);
	T_OK(st.file_bytes > 0);
	store_close(s);
	T_EQ_INT(store_open(uri, STORE_RO, &s, err, sizeof err), 0);
	T_OK(!store_is_writable(s));
	store_close(s);
}

struct mig {
	char uri[1024];
	int rc;
	char err[512];
};

static void *migrate_thread(void *arg)
{
	struct mig *m = arg;
	m->rc = store_migrate(m->uri, m->err, sizeof m->err);
	return NULL;
}

/* Four processes' worth of migrations at once: one applies, all succeed. */
static void test_migrate_concurrent(void)
{
	struct mig m[4];
	pthread_t th[4];
	char uri[1024];
	new_uri(uri, sizeof uri);
	for (int i = 0; i < 4; i++) {
		snprintf(m[i].uri, sizeof m[i].uri, "%s", uri);
		T_EQ_INT(pthread_create(&th[i], NULL, migrate_thread, &m[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		if (m[i].rc != 0)
			fprintf(stderr, "migrate %d: %s\n", i, m[i].err);
		T_EQ_INT(m[i].rc, 0);
	}
	struct store *s = NULL;
	char err[512];
	T_EQ_INT(store_open(uri, STORE_RW, &s, err, sizeof err), 0);
	store_close(s);
}

/* A store newer than the program is refused, not downgraded. */
static void test_migrate_newer(void)
{
	char uri[1024], err[512], sql[256];
	struct store *s = fresh_at(uri, sizeof uri, STORE_RW);
	store_close(s);
	snprintf(sql, sizeof sql, "INSERT INTO t%d_%d.schema_migrations (version, name) VALUES (9999, '9999_future')",
	    (int)getpid(), nschema - 1);
	admin_sql(sql);
	T_EQ_INT(store_migrate(uri, err, sizeof err), -1);
	T_OK(strstr(err, "newer") != NULL);
	T_EQ_INT(store_open(uri, STORE_RW, &s, err, sizeof err), -1);
}

/* No password in the config: the URI is refused, clearly, before any connection. */
static void test_password_refused(void)
{
	char err[512];
	struct store *s = NULL;
	int v;
	const char *uri = "postgresql://bs:secret@localhost/blindsync";
	T_EQ_INT(store_migrate(uri, err, sizeof err), -1);
	T_OK(strstr(err, "password") != NULL);
	T_OK(strstr(err, "secret") == NULL);
	T_EQ_INT(store_open(uri, STORE_RW, &s, err, sizeof err), -1);
	T_OK(strstr(err, "password") != NULL);
	T_EQ_INT(store_location_probe("postgres:///x?password=secret", &v, err, sizeof err), -1);
	T_OK(strstr(err, "password") != NULL);
	T_EQ_INT(store_migrate("postgresql://[::1", err, sizeof err), -1);
}

/* Side files are local, per database; uploads are staged on disk. */
static void test_location(void)
{
	char a[4200], b[4200];
	setenv("BLINDSYNC_RUNTIME_DIR", "/run/bs-test", 1);
	T_EQ_INT(store_location_side("postgresql:///a", "limits", a, sizeof a), 0);
	T_EQ_INT(store_location_side("postgresql:///b", "limits", b, sizeof b), 0);
	T_OK(strncmp(a, "/run/bs-test/pg-", 16) == 0);
	T_OK(strstr(a, "-limits") != NULL);
	T_OK(strcmp(a, b) != 0);
	T_EQ_INT(store_location_side("postgresql:///a", "limits", a, 20), -1);
	unsetenv("BLINDSYNC_RUNTIME_DIR");
	T_EQ_INT(store_location_side("postgres:///a", "notify", a, sizeof a), 0);
	T_OK(strncmp(a, "/tmp/blindsync-", 15) == 0);
	T_EQ_INT(store_location_spool("postgresql:///a", a, sizeof a), 0);
	T_OK(a[0] == '/');
}

int main(void)
{
	base = getenv("BS_TEST_PG");
	if (!base || !*base) {
		printf("%s: skipped: set BS_TEST_PG=postgresql:///DB?host=DIR to run it against PostgreSQL\n", __FILE__);
		return t_done();
	}
	log_setup("test_store_pg", LOG_ERROR);
	admin = PQconnectdb(base);
	if (PQstatus(admin) != CONNECTION_OK) {
		fprintf(stderr, "%s: cannot connect to BS_TEST_PG: %s", __FILE__, PQerrorMessage(admin));
		T_OK(0);
		PQfinish(admin);
		return t_done();
	}
	PQsetNoticeProcessor(admin, quiet, NULL);
	T_RUN(test_password_refused);
	T_RUN(test_location);
	T_RUN(test_migrate_open);
	T_RUN(test_migrate_concurrent);
	T_RUN(test_migrate_newer);
	(void)fresh;

	/* drop this run's schemas */
	for (int i = 0; i < nschema; i++) {
		char sql[128];
		snprintf(sql, sizeof sql, "DROP SCHEMA t%d_%d CASCADE", (int)getpid(), i);
		admin_sql(sql);
	}
	PQfinish(admin);
	return t_done();
}
