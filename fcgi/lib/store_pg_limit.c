/*
 * store_pg_limit.c: the rate limits that every machine sharing a
 * PostgreSQL store charges (store.h, "rate limits kept in the store"): token
 * buckets in the unlogged table rate_buckets (sql/pg/004), with limit.c's
 * exact integer arithmetic (limit_units_at) on the database's clock, so
 * that every node counts alike. A take locks its buckets in the order of
 * their ids (two takes of the same buckets never deadlock), decides, and
 * writes them back only when every one had a token; a bucket full again is
 * deleted by a later take (a few rows each time).
 *
 * Must never: store an address or a name (ids are keyed hashes made by
 * core.c), or hold a bucket's lock beyond its own short transaction.
 */
#include <stdlib.h>
#include <string.h>

#include "limit.h"
#include "log.h"
#include "store_pg_impl.h"

struct take {
	const struct store_bucket *b;
	int n;
	int *retry_after;
};

/* qsort: buckets by id, the order their locks are taken in. */
static int by_id(const void *x, const void *y)
{
	return memcmp(((const struct store_bucket *)x)->id, ((const struct store_bucket *)y)->id, 32);
}

/* pg_tx body: lock every bucket, then take from all or from none. */
static enum err take_tx(struct store *s, void *arg)
{
	struct take *t = arg;
	int64_t units[STORE_BUCKETS_MAX], wait = 0;
	PGresult *r = NULL;
	enum err e = pg_one_row(s, PG_LIMIT_NOW, NULL, &r, "limit clock");
	if (e)
		return e == ERR_NOT_FOUND ? ERR_INTERNAL : e;
	int64_t now = pg_int(r, 0, 0);
	PQclear(r);
	r = NULL;
	for (int i = 0; i < t->n; i++) {
		const struct store_bucket *b = &t->b[i];
		int64_t cost = b->window * 1000, cap = b->limit * cost;
		struct pg_args a = {0};
		pg_arg_bytes(&a, b->id, sizeof b->id);
		pg_arg_int(&a, cap);
		pg_arg_int(&a, now);
		if ((e = pg_run(s, PG_LIMIT_ENSURE, &a, NULL, "limit bucket")))
			return e;
		struct pg_args k = {0};
		pg_arg_bytes(&k, b->id, sizeof b->id);
		if ((e = pg_one_row(s, PG_LIMIT_LOCK, &k, &r, "limit lock")))
			return e == ERR_NOT_FOUND ? ERR_INTERNAL : e;
		units[i] = limit_units_at(b->limit, b->window, pg_int(r, 0, 0), pg_int(r, 0, 1), now);
		PQclear(r);
		r = NULL;
		if (units[i] < 0)
			units[i] = cap; /* not a valid rule: config.c never lets one through */
		if (units[i] < cost) {
			int64_t secs = 1 + (cost - units[i] - 1) / (b->limit * 1000);
			if (secs > wait)
				wait = secs;
		}
	}
	if (wait > 0) {
		*t->retry_after = wait > INT32_MAX ? INT32_MAX : (int)wait;
		return ERR_RATE_LIMITED; /* rolled back: nothing taken */
	}
	for (int i = 0; i < t->n; i++) {
		const struct store_bucket *b = &t->b[i];
		int64_t left = units[i] - b->window * 1000, cap = b->limit * b->window * 1000;
		struct pg_args a = {0};
		pg_arg_bytes(&a, b->id, sizeof b->id);
		pg_arg_int(&a, left);
		pg_arg_int(&a, now);
		pg_arg_int(&a, now + (cap - left + b->limit - 1) / b->limit); /* full again */
		if ((e = pg_one_change(s, PG_LIMIT_SET, &a, ERR_INTERNAL, "limit take")))
			return e;
	}
	struct pg_args w = {0};
	pg_arg_int(&w, now);
	return pg_run(s, PG_LIMIT_SWEEP, &w, NULL, "limit sweep");
}

enum err pg_limit_take(struct store *s, const struct store_bucket *b, int n, int *retry_after)
{
	struct store_bucket sorted[STORE_BUCKETS_MAX];
	*retry_after = 0;
	if (n > STORE_BUCKETS_MAX) {
		log_msg(LOG_ERROR, "store: %d rate-limit buckets at once, more than %d", n, STORE_BUCKETS_MAX);
		return ERR_INTERNAL;
	}
	if (n <= 0)
		return ERR_OK;
	memcpy(sorted, b, (size_t)n * sizeof *b);
	qsort(sorted, (size_t)n, sizeof *sorted, by_id);
	struct take t = {sorted, n, retry_after};
	return pg_tx(s, take_tx, &t);
}
