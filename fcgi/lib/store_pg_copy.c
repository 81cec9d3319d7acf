/*
 * store_pg_copy.c: every row of a PostgreSQL store as it is (store_copy.h),
 * for migrate-store. Rows are read through one cursor, FETCH by FETCH, so
 * that a table of any size streams and the connection stays free between
 * two fetches (a blob is read while its table is walked); they are written
 * one prepared INSERT each, with their ids, pipelined (pg_run_deferred: one
 * round trip for many rows), and store_copy_finish moves
 * every identity past the largest id copied. The statements are
 * PG_COPY_* of stmt_pg.c, three per table in enum store_table's order.
 *
 * Must never: change a value on the way, hold more than one FETCH of rows,
 * or leave the cursor open.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_pg_impl.h"

_Static_assert(PG_COPY_DECLARE_GRANTS == PG_COPY_DECLARE_META + 3 * ST_GRANTS, "stmt_pg.h in table order");

/* Statement k (0 the cursor, 1 the insert, 2 the count) of table t. */
static enum pgstmt copy_stmt(enum store_table t, int k) { return (enum pgstmt)(PG_COPY_DECLARE_META + 3 * (int)t + k); }

enum err pg_copy_count(struct store *s, enum store_table t, int64_t *n)
{
	PGresult *r = NULL;
	enum err e = pg_one_row(s, copy_stmt(t, 2), NULL, &r, "copy count");
	*n = e ? 0 : pg_int(r, 0, 0);
	PQclear(r);
	return e;
}

/* The values of row i of r into row[], as table ti describes them. */
static void read_row(const PGresult *r, int i, const struct store_table_info *ti, struct store_value *row)
{
	memset(row, 0, sizeof *row * STORE_COPY_COLS_MAX);
	for (int c = 0; c < ti->ncols; c++) {
		struct store_value *v = &row[c];
		v->null = pg_is_null(r, i, c);
		if (v->null)
			continue;
		if (ti->types[c] == SC_INT) {
			v->i = pg_int(r, i, c);
		} else {
			const uint8_t *p;
			/* text comes as its bytes (binary results), NUL-terminated by libpq */
			v->len = pg_bytes(r, i, c, &p);
			v->p = p;
		}
	}
}

enum err pg_copy_rows(struct store *s, enum store_table t,
    int (*fn)(void *ctx, const struct store_value *row), void *ctx)
{
	const struct store_table_info *ti = store_table_info(t);
	struct store_value row[STORE_COPY_COLS_MAX];
	PGresult *r = NULL;
	enum err e = pg_run(s, copy_stmt(t, 0), NULL, NULL, "copy cursor");
	if (e)
		return e;
	int stop = 0;
	while (!stop) {
		if ((e = pg_run(s, PG_COPY_FETCH, NULL, &r, "copy fetch")))
			break;
		int n = PQntuples(r);
		if (n == 0)
			break;
		for (int i = 0; i < n && !stop; i++) {
			read_row(r, i, ti, row);
			stop = fn(ctx, row) != 0;
		}
		PQclear(r);
		r = NULL;
	}
	PQclear(r);
	/* a failed statement ended the transaction, and the cursor with it */
	enum err ce = e ? ERR_OK : pg_run(s, PG_COPY_CLOSE, NULL, NULL, "copy close");
	return e ? e : ce;
}

enum err pg_copy_insert(struct store *s, enum store_table t, const struct store_value *row, int fd)
{
	const struct store_table_info *ti = store_table_info(t);
	struct pg_args a = {0};
	for (int c = 0; c < ti->ncols; c++) {
		const struct store_value *v = &row[c];
		if (v->null)
			pg_arg_null(&a);
		else if (ti->types[c] == SC_INT)
			pg_arg_int(&a, v->i);
		else if (ti->types[c] == SC_TEXT)
			pg_arg_text(&a, v->p); /* NUL-terminated by both backends' readers */
		else
			pg_arg_bytes(&a, v->len ? v->p : "", v->len);
	}
	/* pipelined: the copy is one transaction that any failure fails, and
	 * the target was empty, so no insert's answer is needed before the next */
	if (!ti->has_data)
		return pg_run_deferred(s, copy_stmt(t, 1), &a, "copy insert");
	enum err e = pg_run(s, copy_stmt(t, 1), &a, NULL, "copy insert");
	if (e)
		return e;
	/* both tables: the id first, the bytes fifth */
	return t == ST_BACKUPS ? pg_backup_fill(s, row[0].i, fd, row[4].i) : pg_slot_fill(s, row[0].i, fd, row[4].i);
}

enum err pg_copy_finish(struct store *s)
{
	return pg_run(s, PG_COPY_IDENTITIES, NULL, NULL, "copy identities");
}
