/*
 * sqlite_raw.c: the bench's baseline for a push: the raw SQLite work of N
 * record writes of SIZE bytes in one transaction, on a fresh database with
 * the records table and indexes of sql/003_sync.sql, WAL and
 * synchronous=FULL as the store uses them, and the store's upsert statement
 * (prepared once). Prints the median over RUNS transactions, in ms.
 *
 *   sqlite_raw DBPATH [N=1000] [SIZE=1024] [RUNS=7]
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void die(sqlite3 *db, const char *what)
{
	fprintf(stderr, "sqlite_raw: %s: %s\n", what, db ? sqlite3_errmsg(db) : "?");
	exit(1);
}

static void exec(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		die(db, sql);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s DBPATH [N] [SIZE] [RUNS]\n", argv[0]);
		return 2;
	}
	const char *path = argv[1];
	int n = argc > 2 ? atoi(argv[2]) : 1000;
	int size = argc > 3 ? atoi(argv[3]) : 1024;
	int runs = argc > 4 ? atoi(argv[4]) : 7;
	if (n < 1 || size < 0 || runs < 1 || runs > 1000)
		return 2;
	sqlite3 *db = NULL;
	remove(path);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		die(db, "open");
	exec(db, "PRAGMA journal_mode=WAL");
	exec(db, "PRAGMA synchronous=FULL");
	exec(db, "PRAGMA foreign_keys=ON");
	exec(db, "CREATE TABLE collections (id INTEGER PRIMARY KEY, version INTEGER NOT NULL DEFAULT 0)");
	exec(db, "INSERT INTO collections (id) VALUES (1)");
	exec(db,
	    "CREATE TABLE records (id INTEGER PRIMARY KEY, "
	    "collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE, rid TEXT NOT NULL, "
	    "version INTEGER NOT NULL, modified_at INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, "
	    "payload BLOB, UNIQUE (collection_id, rid))");
	exec(db, "CREATE UNIQUE INDEX records_version ON records (collection_id, version)");
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v3(db,
	        "INSERT INTO records (collection_id, rid, version, modified_at, deleted, payload) "
	        "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (collection_id, rid) DO UPDATE SET "
	        "version = excluded.version, modified_at = excluded.modified_at, deleted = excluded.deleted, "
	        "payload = excluded.payload",
	        -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
		die(db, "prepare");
	unsigned char *payload = malloc((size_t)size + 1);
	if (!payload)
		return 1;
	srand(42);
	for (int i = 0; i < size; i++)
		payload[i] = (unsigned char)rand();
	double *ms = calloc((size_t)runs, sizeof *ms);
	if (!ms)
		return 1;
	char rid[64];
	for (int r = 0; r < runs; r++) {
		double t0 = now_ms();
		exec(db, "BEGIN IMMEDIATE");
		for (int i = 0; i < n; i++) {
			snprintf(rid, sizeof rid, "r%d-%d", r, i);
			payload[0] = (unsigned char)i;
			sqlite3_reset(st);
			sqlite3_bind_int64(st, 1, 1);
			sqlite3_bind_text(st, 2, rid, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(st, 3, (sqlite3_int64)r * n + i + 1);
			sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
			sqlite3_bind_int(st, 5, 0);
			sqlite3_bind_blob(st, 6, payload, size, SQLITE_TRANSIENT);
			if (sqlite3_step(st) != SQLITE_DONE)
				die(db, "insert");
		}
		exec(db, "UPDATE collections SET version = version + 1 WHERE id = 1");
		exec(db, "COMMIT");
		ms[r] = now_ms() - t0;
	}
	qsort(ms, (size_t)runs, sizeof *ms, cmp_double);
	double med = runs % 2 ? ms[runs / 2] : (ms[runs / 2 - 1] + ms[runs / 2]) / 2;
	printf("%.3f\n", med);
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(payload);
	free(ms);
	return 0;
}
