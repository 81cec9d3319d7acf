/*
 * pgtest.h: PostgreSQL for the store's unit tests, a header only. The
 * database is named by $BS_TEST_PG (e.g. postgresql:///bs?host=/tmp/pgdir);
 * each test store gets a schema of its own in it (pgt_new_uri: reached with
 * options=-csearch_path=... in the URI), so that tests never see each
 * other's rows and need no new database. pgt_teardown drops the schemas of
 * this run. Without $BS_TEST_PG, pgt_setup says the PostgreSQL tests are
 * skipped.
 */
#ifndef BLINDSYNC_PGTEST_H
#define BLINDSYNC_PGTEST_H
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "t.h"

static const char *pgt_base;  /* $BS_TEST_PG */
static PGconn *pgt_admin;     /* creates and drops the schemas */
static int pgt_n;             /* schemas made so far */

/* DROP SCHEMA ... CASCADE lists what it drops as notices: not wanted. */
static void pgt_quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* 1 when $BS_TEST_PG answers, 0 (said on stdout) when it is unset, -1 (a failure) when it does not answer. */
static inline int pgt_setup(const char *prog)
{
	pgt_base = getenv("BS_TEST_PG");
	if (!pgt_base || !*pgt_base) {
		printf("%s: PostgreSQL tests skipped: set BS_TEST_PG=postgresql:///DB?host=DIR to run them\n", prog);
		return 0;
	}
	pgt_admin = PQconnectdb(pgt_base);
	if (PQstatus(pgt_admin) != CONNECTION_OK) {
		fprintf(stderr, "%s: cannot connect to BS_TEST_PG: %s", prog, PQerrorMessage(pgt_admin));
		PQfinish(pgt_admin);
		pgt_admin = NULL;
		T_OK(0);
		return -1;
	}
	PQsetNoticeProcessor(pgt_admin, pgt_quiet, NULL);
	return 1;
}

/* Run constant SQL on the admin connection; 0, or -1 (a failure counted). */
static inline int pgt_sql(const char *sql)
{
	PGresult *r = PQexec(pgt_admin, sql);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
	if (!ok)
		fprintf(stderr, "pgtest: %s: %s", sql, PQerrorMessage(pgt_admin));
	PQclear(r);
	T_OK(ok);
	return ok ? 0 : -1;
}

/* The name of schema i of this run ("t<pid>_<i>") into name. */
static inline void pgt_schema(int i, char *name, size_t len)
{
	snprintf(name, len, "t%d_%d", (int)getpid(), i);
}

/* A new empty schema, and the URI that reaches it in uri (len bytes); uri. */
static inline char *pgt_new_uri(char *uri, size_t len)
{
	char sql[128], name[64];
	pgt_schema(pgt_n++, name, sizeof name);
	snprintf(sql, sizeof sql, "CREATE SCHEMA %s", name);
	pgt_sql(sql);
	snprintf(uri, len, "%s%soptions=-csearch_path%%3D%s", pgt_base, strchr(pgt_base, '?') ? "&" : "?", name);
	return uri;
}

/* Drop this run's schemas and close the admin connection. */
static inline void pgt_teardown(void)
{
	for (int i = 0; pgt_admin && i < pgt_n; i++) {
		char sql[128], name[64];
		pgt_schema(i, name, sizeof name);
		snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE", name);
		pgt_sql(sql);
	}
	PQfinish(pgt_admin);
	pgt_admin = NULL;
}
#endif
