/*
 * store_pg_live.c: the tickets of blindsync-live on PostgreSQL, the
 * counterparts of store_live.c (lite_live_*) behind store.h. A ticket is
 * stored only as its SHA-256, taken (deleted) by its one use in the same
 * statement that reads its binding, and expired ones are swept whenever a
 * new one is issued. Every statement is in stmt_pg.c.
 *
 * Must never: keep a ticket's text, build SQL text, or log a bound value.
 */
#include "store_pg_impl.h"

enum err pg_live_ticket_put(struct store *s, const uint8_t hash[STORE_HASH_LEN], int64_t account_id,
    int64_t device_id, int64_t now, int64_t expires_at)
{
	struct pg_args p = {0};
	pg_arg_int(&p, now);
	enum err e = pg_run(s, PG_LIVE_TICKET_PRUNE, &p, NULL, "live ticket prune");
	if (e)
		return e;
	struct pg_args q = {0};
	pg_arg_bytes(&q, hash, STORE_HASH_LEN);
	pg_arg_int(&q, account_id);
	pg_arg_int(&q, device_id);
	pg_arg_int(&q, expires_at);
	return pg_run(s, PG_LIVE_TICKET_INSERT, &q, NULL, "live ticket insert");
}

enum err pg_live_ticket_take(struct store *s, const uint8_t hash[STORE_HASH_LEN], int64_t now,
    int64_t *account_id, int64_t *device_id)
{
	struct pg_args p = {0};
	pg_arg_bytes(&p, hash, STORE_HASH_LEN);
	PGresult *r = NULL;
	enum err e = pg_one_row(s, PG_LIVE_TICKET_TAKE, &p, &r, "live ticket take");
	if (e == ERR_NOT_FOUND)
		return ERR_UNAUTHORIZED;
	if (e)
		return e;
	int64_t acc = pg_int(r, 0, 0), dev = pg_int(r, 0, 1), expires = pg_int(r, 0, 2);
	PQclear(r);
	if (expires <= now)
		return ERR_UNAUTHORIZED;
	*account_id = acc;
	*device_id = dev;
	return ERR_OK;
}

enum err pg_live_device_ok(struct store *s, int64_t account_id, int64_t device_id, int64_t now,
    int64_t *until)
{
	struct pg_args p = {0};
	pg_arg_int(&p, device_id);
	pg_arg_int(&p, account_id);
	pg_arg_int(&p, now);
	PGresult *r = NULL;
	enum err e = pg_one_row(s, PG_LIVE_DEVICE_OK, &p, &r, "live device check");
	if (e == ERR_OK && PQgetisnull(r, 0, 0))
		e = ERR_NOT_FOUND; /* the device is there, its session is not */
	if (e == ERR_OK && until)
		*until = pg_int(r, 0, 0);
	PQclear(r);
	return e == ERR_NOT_FOUND ? ERR_UNAUTHORIZED : e;
}
