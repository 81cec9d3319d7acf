/*
 * store_pg_sync.c: collections, records and their history on PostgreSQL,
 * the counterpart of store_sync.c. Part of the store module; the helpers
 * (pg_run, pg_args, the column readers) are in store_pg_impl.h.
 *
 * What SQLite's single writer gave for free is had here with row locks:
 * inside store_tx, store_collection_get locks the account's row and then
 * the collection's (FOR NO KEY UPDATE, in that order, the order the push
 * takes them: store_account_by_id first), so the push that reads a
 * collection's version holds it until its commit. Versions of a collection
 * are therefore handed out by one writer at a time and become visible in
 * the order they were given: a pull by `since` never skips a record that
 * commits late. There is no global sequence.
 *
 * Large reads (a pull, the history of the export) are walked in batches
 * bounded in rows and bytes (PG_WALK_ROWS, PG_WALK_BYTES), each batch a
 * query from the last version seen, so memory does not grow with the
 * collection; fn may call the store between rows (each batch is a whole
 * result, already read).
 *
 * Must never: build SQL from input, look into a payload, or let a constraint
 * violation abort the caller's transaction where SQLite's would not (taken
 * names return no row instead: ON CONFLICT DO NOTHING).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "store_pg_impl.h"

void pg_read_collection(const PGresult *r, int row, struct store_collection *c)
{
	memset(c, 0, sizeof *c);
	c->id = pg_int(r, row, 0);
	c->account_id = pg_int(r, row, 1);
	pg_text(r, row, 2, c->name, sizeof c->name);
	c->version = pg_int(r, row, 3);
	c->records = pg_int(r, row, 4);
	c->bytes = pg_int(r, row, 5);
	c->created_at = pg_int(r, row, 6);
	c->modified_at = pg_int(r, row, 7);
	c->purged_version = pg_int(r, row, 8);
	c->key_version = pg_int(r, row, 9);
	c->members_version = pg_int(r, row, 10);
	c->rotate_due = pg_int(r, row, 11) != 0;
}

void pg_read_collection_meta(const PGresult *r, int row, struct store_collection *c)
{
	pg_read_collection(r, row, c);
	if (!pg_is_null(r, row, 12)) {
		c->meta_len = pg_bytes(r, row, 12, &c->meta);
		if (!c->meta)
			c->meta = (const uint8_t *)"";
	}
}

enum err pg_collection_get(struct store *s, int64_t account_id, const char *name, struct store_collection *c)
{
	struct pg_args a = {0};
	pg_arg_int(&a, account_id);
	pg_arg_text(&a, name);
	PGresult *r = NULL;
	int lock = pg_in_write_tx(s);
	enum err e = pg_one_row(s, lock ? PG_COLLECTION_GET_LOCK : PG_COLLECTION_GET, &a, &r, "collection get");
	if (e == ERR_OK)
		pg_read_collection(r, 0, c);
	if (e == ERR_OK && lock)
		pg_lock_noted(s, account_id); /* its statement locks the account's row first */
	PQclear(r);
	return e;
}

/* Bind meta as bytea, or SQL NULL when there is none (an empty meta is not none). */
static void arg_meta(struct pg_args *a, const uint8_t *meta, size_t len)
{
	if (meta)
		pg_arg_bytes(a, len ? meta : (const uint8_t *)"", len);
	else
		pg_arg_null(a);
}

enum err pg_collection_create(struct store *s, int64_t account_id, const char *name, const uint8_t *meta,
    size_t meta_len, int64_t now, struct store_collection *c)
{
	struct pg_args a = {0};
	pg_arg_int(&a, account_id);
	pg_arg_text(&a, name);
	arg_meta(&a, meta, meta_len);
	pg_arg_int(&a, now);
	PGresult *r = NULL;
	/* the row comes back as inserted (a name used before starts higher) */
	enum err e = pg_one_row(s, PG_COLLECTION_INSERT, &a, &r, "collection insert");
	if (e == ERR_OK)
		pg_read_collection(r, 0, c);
	PQclear(r);
	return e == ERR_NOT_FOUND ? ERR_CONFLICT : e;
}

enum err pg_collection_count(struct store *s, int64_t account_id, int64_t *n)
{
	struct pg_args a = {0};
	pg_arg_int(&a, account_id);
	return pg_count(s, PG_COLLECTION_COUNT, &a, n, "collection count");
}

enum err pg_collection_set_meta(struct store *s, int64_t id, const uint8_t *meta, size_t meta_len, int64_t now)
{
	struct pg_args a = {0};
	pg_arg_int(&a, id);
	arg_meta(&a, meta, meta_len);
	pg_arg_int(&a, now);
	return pg_run(s, PG_COLLECTION_SET_META, &a, NULL, "collection set meta");
}

enum err pg_collection_floor(struct store *s, int64_t account_id, const char *name, int64_t version,
    int64_t members_version)
{
	struct pg_args a = {0};
	pg_arg_int(&a, account_id);
	pg_arg_text(&a, name);
	pg_arg_int(&a, version);
	pg_arg_int(&a, members_version);
	return pg_run(s, PG_COLLECTION_FLOOR_SET, &a, NULL, "collection floor");
}

enum err pg_collection_delete(struct store *s, int64_t id)
{
	struct pg_args a = {0};
	pg_arg_int(&a, id);
	pg_heads_free(s->pg);
	return pg_run(s, PG_COLLECTION_DELETE, &a, NULL, "collection delete");
}

enum err pg_collection_list(struct store *s, int64_t account_id,
    int (*fn)(void *ctx, const struct store_collection *c), void *ctx)
{
	struct pg_args a = {0};
	pg_arg_int(&a, account_id);
	PGresult *r = NULL;
	/* an account's collections are few (the plan bounds them): one result */
	enum err e = pg_run(s, PG_COLLECTION_LIST, &a, &r, "collection list");
	if (e)
		return e;
	struct store_collection c;
	for (int i = 0, n = PQntuples(r); i < n; i++) {
		pg_read_collection_meta(r, i, &c);
		if (fn(ctx, &c) != 0)
			break;
	}
	PQclear(r);
	return ERR_OK;
}

enum err pg_collection_update(struct store *s, int64_t id, int64_t version, int64_t records_delta,
    int64_t bytes_delta, int64_t now)
{
	/* the last writes of a push: with its records if they wait in the
	 * batch (one statement), else sent with its COMMIT, one round trip */
	if (pg_batch_tail_collection(s, id, version, records_delta, bytes_delta, now))
		return ERR_OK;
	struct pg_args a = {0};
	pg_arg_int(&a, id);
	pg_arg_int(&a, version);
	pg_arg_int(&a, records_delta);
	pg_arg_int(&a, bytes_delta);
	pg_arg_int(&a, now);
	return pg_run_deferred(s, PG_COLLECTION_UPDATE, &a, "collection update");
}

/*
 * The heads of a push's records, read by one query (pg_record_heads_hint)
 * inside the push's transaction, whose collection row it holds locked: no
 * other writer changes them until the commit, and this one's own record
 * writes mark the rids they touch stale (asked again). Valid for one
 * transaction (tx_serial) and one collection.
 */
struct pg_heads {
	uint64_t tx_serial;
	int64_t collection_id;
	PGresult *res;     /* rid, version, deleted, bytes of the records found, by rid */
	char **asked;      /* the rids hinted, sorted (pointers into buf) */
	uint8_t *stale;    /* per asked rid: written since, ask the database */
	size_t n;
	char *buf;
};

void pg_heads_free(struct store_pg *p)
{
	struct pg_heads *h = p->heads;
	if (!h)
		return;
	PQclear(h->res);
	free(h->asked);
	free(h->stale);
	free(h->buf);
	free(h);
	p->heads = NULL;
}

static int cmp_rid(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The cache when it holds the heads of collection_id for this transaction, else NULL. */
static struct pg_heads *heads_for(struct store *s, int64_t collection_id)
{
	struct pg_heads *h = s->pg->heads;
	if (!h || !pg_in_write_tx(s) || h->tx_serial != s->pg->tx_serial || h->collection_id != collection_id)
		return NULL;
	return h;
}

/* The index of rid among the hinted ones, or -1. */
static long heads_asked(const struct pg_heads *h, const char *rid)
{
	char **at = bsearch(&rid, h->asked, h->n, sizeof *h->asked, cmp_rid);
	return at ? (long)(at - h->asked) : -1;
}

/* Mark rid stale: the transaction wrote it. */
static void heads_touch(struct store *s, int64_t collection_id, const char *rid)
{
	struct pg_heads *h = heads_for(s, collection_id);
	long i = h ? heads_asked(h, rid) : -1;
	if (i < 0)
		return;
	/* a rid hinted twice: every copy */
	for (long j = i; j >= 0 && strcmp(h->asked[j], rid) == 0; j--)
		h->stale[j] = 1;
	for (size_t j = (size_t)i; j < h->n && strcmp(h->asked[j], rid) == 0; j++)
		h->stale[j] = 1;
}

/* Append rid to the text[] literal being built in b, its " and \\ escaped. */
static void rid_literal_add(struct buf *b, const char *rid)
{
	buf_addc(b, '"');
	for (const char *c = rid; *c; c++) {
		if (*c == '"' || *c == '\\')
			buf_addc(b, '\\');
		buf_addc(b, *c);
	}
	buf_addc(b, '"');
}

/* The rids as one NUL-terminated text[] literal {"a","b"} in b: 0, or -1 without memory. */
static int rid_literal(struct buf *b, const char *const *rids, size_t n)
{
	buf_addc(b, '{');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_addc(b, ',');
		rid_literal_add(b, rids[i]);
	}
	buf_addc(b, '}');
	buf_addc(b, '\0');
	return buf_error(b) ? -1 : 0;
}

/* the reads of a status, in the order it makes them (fcgi/status.c), and their early variants */
static const enum pgstmt status_reads[] = {PG_ACCOUNT_BY_ID, PG_COLLECTION_LIST, PG_SHARED_LIST, PG_BACKUP_LIST};
static const enum pgstmt status_early_reads[] = {PG_ACCOUNT_BY_TOKEN, PG_COLLECTION_LIST_BY_TOKEN,
    PG_SHARED_LIST_BY_TOKEN, PG_BACKUP_LIST_BY_TOKEN};

enum err pg_status_hint(struct store *s, int64_t account_id)
{
	struct pg_args a = {0};
	pg_arg_int(&a, account_id);
	for (size_t i = 0; i < sizeof status_reads / sizeof status_reads[0]; i++)
		if (!pg_ahead(s, status_reads[i], &a, status_reads[i], &a, 0))
			break;
	return ERR_OK;
}

enum err pg_status_early(struct store *s, const uint8_t token_hash[STORE_HASH_LEN])
{
	int tok = pg_early_begin(s, token_hash);
	struct pg_args send = {0}, match = {0};
	pg_arg_bytes(&send, token_hash, STORE_HASH_LEN);
	pg_arg_int(&match, 0); /* the token's account, known once the token is read */
	size_t i = 0;
	for (; tok && i < sizeof status_reads / sizeof status_reads[0]; i++)
		if (!pg_ahead(s, status_early_reads[i], &send, status_reads[i], &match, tok))
			break;
	/* every read of a status went: its COMMIT with them */
	if (tok && i == sizeof status_reads / sizeof status_reads[0])
		pg_early_commit(s);
	return ERR_OK;
}

/*
 * The first batch of pg_record_pull, sent ahead of the read of slot col
 * (the collection named name) and taken by the PG_RECORD_PULL of the id
 * that read finds: the collection found by its name and the account
 * (account_id), or the account of token hash (an early read).
 */
static void pull_batch_ahead(struct store *s, int col, int64_t account_id, const uint8_t *hash, const char *name,
    int64_t since, int64_t limit)
{
	if (!col || limit <= 0)
		return;
	int64_t rows = limit < PG_WALK_ROWS ? limit : PG_WALK_ROWS;
	struct pg_args send = {0}, match = {0};
	pg_arg_int(&send, since);
	pg_arg_int(&send, rows);
	pg_arg_int(&send, PG_WALK_BYTES);
	if (hash)
		pg_arg_bytes(&send, hash, STORE_HASH_LEN);
	else
		pg_arg_int(&send, account_id);
	pg_arg_text(&send, name);
	pg_arg_int(&match, 0); /* the collection's id, known once it is read */
	pg_arg_int(&match, since);
	pg_arg_int(&match, rows);
	pg_arg_int(&match, PG_WALK_BYTES);
	pg_ahead(s, hash ? PG_RECORD_PULL_BY_TOKEN : PG_RECORD_PULL_NAMED, &send, PG_RECORD_PULL, &match, col);
}

enum err pg_pull_hint(struct store *s, int64_t account_id, const char *name, int64_t since, int64_t limit)
{
	struct pg_args a = {0};
	pg_arg_int(&a, account_id);
	pg_arg_text(&a, name);
	pull_batch_ahead(s, pg_ahead(s, PG_COLLECTION_GET, &a, PG_COLLECTION_GET, &a, 0), account_id, NULL, name, since,
	    limit);
	return ERR_OK;
}

enum err pg_pull_early(struct store *s, const uint8_t token_hash[STORE_HASH_LEN], const char *name, int64_t since,
    int64_t limit)
{
	int tok = pg_early_begin(s, token_hash);
	if (!tok)
		return ERR_OK;
	struct pg_args send = {0}, match = {0};
	pg_arg_bytes(&send, token_hash, STORE_HASH_LEN);
	pg_arg_text(&send, name);
	pg_arg_int(&match, 0); /* the token's account */
	pg_arg_text(&match, name);
	pull_batch_ahead(s, pg_ahead(s, PG_COLLECTION_GET_BY_TOKEN, &send, PG_COLLECTION_GET, &match, tok), 0,
	    token_hash, name, since, limit);
	return ERR_OK;
}

enum err pg_push_hint(struct store *s, int64_t account_id, const char *name, const char *const *rids, size_t n)
{
	if (!pg_in_write_tx(s))
		return ERR_OK;
	/* the account's row, then the collection's: the order every writer takes them in */
	struct pg_args a = {0};
	pg_arg_int(&a, account_id);
	if (!pg_ahead(s, PG_ACCOUNT_BY_ID_LOCK, &a, PG_ACCOUNT_BY_ID_LOCK, &a, 0))
		return ERR_OK;
	pg_arg_text(&a, name);
	int col = pg_ahead(s, PG_COLLECTION_GET_LOCK, &a, PG_COLLECTION_GET_LOCK, &a, 0);
	if (!col || n == 0)
		return ERR_OK;
	/* the heads, found by the collection's name once its row is locked (the
	 * statements of a pipeline run in order); taken by pg_record_heads_hint's
	 * PG_RECORD_HEADS of the id the read above finds, the same literal */
	struct buf lit;
	buf_init(&lit, 0);
	if (rid_literal(&lit, rids, n) == 0) {
		struct pg_args send = {0}, match = {0};
		pg_arg_text(&send, lit.p);
		pg_arg_int(&send, account_id);
		pg_arg_text(&send, name);
		pg_arg_int(&match, 0); /* the collection's id, known once it is read */
		pg_arg_text(&match, lit.p);
		pg_ahead(s, PG_RECORD_HEADS_NAMED, &send, PG_RECORD_HEADS, &match, col);
	}
	buf_free(&lit);
	return ERR_OK;
}

enum err pg_record_heads_hint(struct store *s, int64_t collection_id, const char *const *rids, size_t n)
{
	struct store_pg *p = s->pg;
	pg_heads_free(p);
	if (!pg_in_write_tx(s) || n == 0)
		return ERR_OK; /* only a push's transaction holds the collection still */
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += strlen(rids[i]) + 1;
	struct pg_heads *h = calloc(1, sizeof *h);
	struct buf lit;
	buf_init(&lit, 0);
	if (!h || rid_literal(&lit, rids, n) != 0 || !(h->asked = malloc(n * sizeof *h->asked)) ||
	    !(h->stale = calloc(n, 1)) || !(h->buf = malloc(len))) {
		/* a hint: without memory each head is read on its own */
		buf_free(&lit);
		p->heads = h;
		pg_heads_free(p);
		return ERR_OK;
	}
	char *b = h->buf;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(rids[i]) + 1;
		memcpy(b, rids[i], l);
		h->asked[i] = b;
		b += l;
	}
	h->n = n;
	qsort(h->asked, n, sizeof *h->asked, cmp_rid);
	struct pg_args a = {0};
	pg_arg_int(&a, collection_id);
	pg_arg_text(&a, lit.p);
	enum err e = pg_run(s, PG_RECORD_HEADS, &a, &h->res, "record heads");
	buf_free(&lit);
	p->heads = h;
	if (e) {
		pg_heads_free(p);
		return e;
	}
	h->tx_serial = p->tx_serial;
	h->collection_id = collection_id;
	return ERR_OK;
}

/* The row of rid among the heads read (sorted by rid), or -1: it has none. */
static int heads_row(const struct pg_heads *h, const char *rid)
{
	int lo = 0, hi = PQntuples(h->res) - 1;
	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		int c = strcmp(rid, PQgetvalue(h->res, mid, 0));
		if (c == 0)
			return mid;
		if (c < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return -1;
}

/*
 * The head of rid from the cache: ERR_OK with the values, ERR_NOT_FOUND when
 * it was asked for and is not there, or -1 (as an int) when the cache
 * cannot say.
 */
static int head_cached(struct store *s, int64_t collection_id, const char *rid, int64_t *version, int *deleted,
    int64_t *bytes)
{
	struct pg_heads *h = heads_for(s, collection_id);
	long i = h ? heads_asked(h, rid) : -1;
	if (i < 0 || h->stale[i])
		return -1;
	int row = heads_row(h, rid);
	if (row < 0)
		return ERR_NOT_FOUND;
	*version = pg_int(h->res, row, 1);
	*deleted = (int)pg_int(h->res, row, 2);
	*bytes = pg_int(h->res, row, 3);
	return ERR_OK;
}

enum err pg_record_head(struct store *s, int64_t collection_id, const char *rid, int64_t *version,
    int *deleted, int64_t *bytes)
{
	int cached = head_cached(s, collection_id, rid, version, deleted, bytes);
	if (cached >= 0)
		return (enum err)cached;
	struct pg_args a = {0};
	pg_arg_int(&a, collection_id);
	pg_arg_text(&a, rid);
	PGresult *r = NULL;
	enum err e = pg_one_row(s, PG_RECORD_HEAD, &a, &r, "record head");
	if (e == ERR_OK) {
		*version = pg_int(r, 0, 0);
		*deleted = (int)pg_int(r, 0, 1);
		*bytes = pg_int(r, 0, 2);
	}
	PQclear(r);
	return e;
}

/* Row i of r, whose columns are (rid, version, modified_at, deleted, payload), as a record valid until PQclear. */
static void read_record(const PGresult *r, int i, struct store_record *rec)
{
	memset(rec, 0, sizeof *rec);
	rec->rid = PQgetvalue(r, i, 0); /* binary text is NUL-terminated by libpq */
	rec->version = pg_int(r, i, 1);
	rec->modified_at = pg_int(r, i, 2);
	rec->deleted = (int)pg_int(r, i, 3);
	if (!rec->deleted && !pg_is_null(r, i, 4)) {
		rec->payload_len = pg_bytes(r, i, 4, &rec->payload);
		if (!rec->payload)
			rec->payload = (const uint8_t *)"";
	}
}

enum err pg_walk_records(struct store *s, enum pgstmt id, const struct pg_args *a,
    int (*fn)(void *, const struct store_record *), void *ctx, struct pg_walk *w, const char *what)
{
	PGresult *r = NULL;
	memset(w, 0, sizeof *w);
	enum err e = pg_run(s, id, a, &r, what);
	if (e)
		return e;
	struct store_record rec;
	if (PQnfields(r) > 5 && PQntuples(r) > 0)
		w->cap = pg_int(r, 0, 5);
	for (int i = 0, rows = PQntuples(r); i < rows; i++) {
		read_record(r, i, &rec);
		w->n++;
		w->last = rec.version;
		w->bytes += (int64_t)rec.payload_len;
		if (fn(ctx, &rec) != 0) {
			w->stopped = 1;
			break;
		}
	}
	PQclear(r);
	return ERR_OK;
}

enum err pg_record_get(struct store *s, int64_t collection_id, const char *rid,
    int (*fn)(void *ctx, const struct store_record *r), void *ctx)
{
	struct pg_args a = {0};
	pg_arg_int(&a, collection_id);
	pg_arg_text(&a, rid);
	struct pg_walk w;
	enum err e = pg_walk_records(s, PG_RECORD_GET, &a, fn, ctx, &w, "record get");
	return e ? e : w.n ? ERR_OK : ERR_NOT_FOUND;
}

void pg_arg_version(struct pg_args *a, int64_t collection_id, const struct store_record *r)
{
	pg_arg_int(a, collection_id);
	pg_arg_text(a, r->rid);
	pg_arg_int(a, r->version);
	pg_arg_int(a, r->modified_at);
	pg_arg_int(a, r->deleted ? 1 : 0);
	if (r->deleted || !r->payload)
		pg_arg_null(a);
	else
		pg_arg_bytes(a, r->payload, r->payload_len);
}

/*
 * A push's records written by one statement: the first write in the
 * transaction of a record whose head was hinted (so no earlier write of it
 * can be pending) waits here, column by column (array literals, and the
 * payloads as the elements of a binary bytea[]), until the next statement
 * (pg_run and pg_run_deferred send the batch first, and so does the end of
 * the transaction's body), the batch's bounds, or another collection's
 * write. One INSERT ... SELECT FROM unnest() then writes them
 * all, deferred like the other writes. The copies into history of the
 * versions they replace wait likewise (a record not written yet in the
 * transaction: its current row is the one to keep) and go first, by one
 * INSERT ... SELECT of their rids.
 */
#define PG_BATCH_ROWS 1000
#define PG_BATCH_BYTES (2 * 1024 * 1024)
#define PG_ARRAY_HEADER 20 /* ndim, has-null flag, element type, size, lower bound */
#define PG_BYTEA_OID 17

struct pg_batch {
	int64_t collection_id;
	size_t n;
	int has_null;
	int upsert;                                 /* a record of it has a row already (else a plain insert) */
	struct buf rid, version, modified, deleted;  /* "{a,b,..." array literals, closed when sent */
	struct buf payload;                         /* the header's room, then (length, bytes) per element */
	size_t nhist;
	struct buf hist;                            /* "{a,b,...": rids whose current row goes to history first */
	/* the writes that end a push (pg_batch_tail_*), kept to go with its
	 * records: all of them as one statement (PG_PUSH_WRITES), else each
	 * after the records as it would have been sent */
	int tail;                                   /* TAIL_* bits */
	int64_t col_version, col_records, col_bytes, col_now;
	int64_t usage_account, usage_bytes, usage_records;
	int (*bump_fn)(void *ctx, int64_t account_id);
	void *bump_ctx;
};

enum { TAIL_COLLECTION = 1, TAIL_USAGE = 2, TAIL_BUMP = 4, TAIL_ALL = 7 };

void pg_batch_free(struct store_pg *p)
{
	struct pg_batch *b = p->batch;
	if (!b)
		return;
	buf_free(&b->rid);
	buf_free(&b->version);
	buf_free(&b->modified);
	buf_free(&b->deleted);
	buf_free(&b->payload);
	buf_free(&b->hist);
	free(b);
	p->batch = NULL;
	p->batched = 0;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Empty b's columns, keeping a little memory. */
static void batch_reset(struct pg_batch *b)
{
	struct buf *cols[] = {&b->rid, &b->version, &b->modified, &b->deleted, &b->payload, &b->hist};
	for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
		buf_reset(cols[i], 64 * 1024);
	b->n = 0;
	b->nhist = 0;
	b->has_null = 0;
	b->upsert = 0;
	b->tail = 0;
}

/* The batch holding records of collection_id, waiting, whose tail has exactly `have`; else NULL. */
static struct pg_batch *tail_batch(struct store *s, int64_t collection_id, int have)
{
	struct store_pg *p = s->pg;
	struct pg_batch *b = p->batch;
	return pg_in_write_tx(s) && p->batched && b && b->n && b->collection_id == collection_id && b->tail == have
	    ? b : NULL;
}

int pg_batch_tail_collection(struct store *s, int64_t id, int64_t version, int64_t records_delta, int64_t bytes_delta,
    int64_t now)
{
	struct pg_batch *b = tail_batch(s, id, 0);
	if (!b)
		return 0;
	b->col_version = version;
	b->col_records = records_delta;
	b->col_bytes = bytes_delta;
	b->col_now = now;
	b->tail = TAIL_COLLECTION;
	return 1;
}

int pg_batch_tail_usage(struct store *s, int64_t account_id, int64_t bytes, int64_t records)
{
	struct pg_batch *b = s->pg->batch;
	if (!b || !pg_lock_held(s, account_id) || !(b = tail_batch(s, b->collection_id, TAIL_COLLECTION)))
		return 0;
	b->usage_account = account_id;
	b->usage_bytes = bytes;
	b->usage_records = records;
	b->tail |= TAIL_USAGE;
	return 1;
}

int pg_batch_tail_bump(struct store *s, int64_t collection_id, int (*fn)(void *ctx, int64_t account_id), void *ctx)
{
	struct pg_batch *b = tail_batch(s, collection_id, TAIL_COLLECTION | TAIL_USAGE);
	if (!b)
		return 0;
	b->bump_fn = fn;
	b->bump_ctx = ctx;
	b->tail |= TAIL_BUMP;
	return 1;
}

/*
 * The tail's writes, each as its own statement (a tail without all three
 * parts): the store's functions send them, p->batched being 0 now.
 */
static enum err tail_send(struct store *s, const struct pg_batch *b)
{
	enum err e = ERR_OK;
	if (b->tail & TAIL_COLLECTION)
		e = pg_collection_update(s, b->collection_id, b->col_version, b->col_records, b->col_bytes, b->col_now);
	if (!e && (b->tail & TAIL_USAGE))
		e = pg_account_usage_add(s, b->usage_account, b->usage_bytes, b->usage_records);
	if (!e && (b->tail & TAIL_BUMP))
		e = pg_share_accounts_bump(s, b->collection_id, b->bump_fn, b->bump_ctx);
	return e;
}

enum err pg_batch_send(struct store *s)
{
	struct store_pg *p = s->pg;
	struct pg_batch *b = p->batch;
	p->batched = 0; /* pg_run_deferred below finds nothing left here */
	if (!b || (!b->n && !b->nhist))
		return ERR_OK;
	enum err e = ERR_OK;
	if (b->nhist) {
		buf_addc(&b->hist, '}');
		buf_addc(&b->hist, '\0');
		if (buf_error(&b->hist)) {
			log_msg(LOG_ERROR, "store: record to history: out of memory for a batch of %zu records", b->nhist);
			e = ERR_INTERNAL;
		} else {
			struct pg_args a = {0};
			pg_arg_int(&a, b->collection_id);
			pg_arg_text(&a, b->hist.p);
			e = pg_run_deferred(s, PG_RECORD_TO_HISTORY_MANY, &a, "record to history");
		}
	}
	if (e || !b->n) {
		batch_reset(b);
		return e;
	}
	buf_addc(&b->rid, '}');
	buf_addc(&b->rid, '\0');
	buf_addc(&b->version, '}');
	buf_addc(&b->version, '\0');
	buf_addc(&b->modified, '}');
	buf_addc(&b->modified, '\0');
	buf_addc(&b->deleted, '}');
	buf_addc(&b->deleted, '\0');
	if (buf_error(&b->rid) || buf_error(&b->version) || buf_error(&b->modified) || buf_error(&b->deleted) ||
	    buf_error(&b->payload) || b->payload.len < PG_ARRAY_HEADER) {
		log_msg(LOG_ERROR, "store: record put: out of memory for a batch of %zu records", b->n);
		e = ERR_INTERNAL;
	} else {
		uint8_t *h = (uint8_t *)b->payload.p;
		put_be32(h, 1);
		put_be32(h + 4, (uint32_t)b->has_null);
		put_be32(h + 8, PG_BYTEA_OID);
		put_be32(h + 12, (uint32_t)b->n);
		put_be32(h + 16, 1);
		struct pg_args a = {0};
		pg_arg_int(&a, b->collection_id);
		pg_arg_text(&a, b->rid.p);
		pg_arg_text(&a, b->version.p);
		pg_arg_text(&a, b->modified.p);
		pg_arg_text(&a, b->deleted.p);
		pg_arg_bytes(&a, b->payload.p, b->payload.len);
		/* libpq copies the parameters as it sends: the batch is free after */
		if (b->tail == TAIL_ALL) {
			pg_arg_int(&a, b->col_version);
			pg_arg_int(&a, b->col_records);
			pg_arg_int(&a, b->col_bytes);
			pg_arg_int(&a, b->col_now);
			pg_arg_int(&a, b->usage_account);
			pg_arg_int(&a, b->usage_bytes);
			pg_arg_int(&a, b->usage_records);
			e = pg_run_deferred_rows(s, b->upsert ? PG_PUSH_WRITES : PG_PUSH_WRITES_NEW, &a, b->bump_fn,
			    b->bump_ctx, "push writes");
		} else {
			e = pg_run_deferred(s, b->upsert ? PG_RECORD_UPSERT_MANY : PG_RECORD_INSERT_MANY, &a, "record put");
			if (!e)
				e = tail_send(s, b);
		}
	}
	batch_reset(b);
	return e;
}

/* The batch, for collection_id (one of another collection sent first): ERR_OK with *out set. */
static enum err batch_for(struct store *s, int64_t collection_id, struct pg_batch **out)
{
	struct store_pg *p = s->pg;
	struct pg_batch *b = p->batch;
	enum err e;
	if (b && (b->n || b->nhist) && b->collection_id != collection_id && (e = pg_batch_send(s)))
		return e;
	if (!b) {
		if (!(b = calloc(1, sizeof *b))) {
			log_msg(LOG_ERROR, "store: record put: out of memory");
			return ERR_INTERNAL;
		}
		buf_init(&b->rid, 0);
		buf_init(&b->version, 0);
		buf_init(&b->modified, 0);
		buf_init(&b->deleted, 0);
		buf_init(&b->payload, 0);
		buf_init(&b->hist, 0);
		p->batch = b;
	}
	if (!b->n && !b->nhist)
		b->collection_id = collection_id;
	*out = b;
	return ERR_OK;
}

/*
 * Add a record to the batch (of collection_id, after sending one of
 * another); sent when full. exists: the record has a row (its head).
 */
static enum err batch_add(struct store *s, int64_t collection_id, const struct store_record *r, int exists)
{
	struct store_pg *p = s->pg;
	struct pg_batch *b;
	enum err e = batch_for(s, collection_id, &b);
	if (e)
		return e;
	if (b->n == 0) {
		buf_addc(&b->rid, '{');
		buf_addc(&b->version, '{');
		buf_addc(&b->modified, '{');
		buf_addc(&b->deleted, '{');
		char *room = buf_reserve(&b->payload, PG_ARRAY_HEADER);
		if (room)
			buf_commit(&b->payload, PG_ARRAY_HEADER);
	} else {
		buf_addc(&b->rid, ',');
		buf_addc(&b->version, ',');
		buf_addc(&b->modified, ',');
		buf_addc(&b->deleted, ',');
	}
	buf_addc(&b->rid, '"');
	for (const char *c = r->rid; *c; c++) {
		if (*c == '"' || *c == '\\')
			buf_addc(&b->rid, '\\');
		buf_addc(&b->rid, *c);
	}
	buf_addc(&b->rid, '"');
	buf_printf(&b->version, "%lld", (long long)r->version);
	buf_printf(&b->modified, "%lld", (long long)r->modified_at);
	buf_addc(&b->deleted, r->deleted ? '1' : '0');
	uint8_t len[4];
	if (r->deleted || !r->payload) {
		put_be32(len, UINT32_MAX); /* -1: NULL */
		b->has_null = 1;
		buf_add(&b->payload, len, 4);
	} else {
		put_be32(len, (uint32_t)r->payload_len);
		buf_add(&b->payload, len, 4);
		buf_add(&b->payload, r->payload, r->payload_len);
	}
	b->n++;
	b->upsert |= exists;
	p->batched = 1;
	if (b->n >= PG_BATCH_ROWS || b->payload.len >= PG_BATCH_BYTES)
		return pg_batch_send(s);
	return ERR_OK;
}

enum err pg_record_put(struct store *s, int64_t collection_id, const char *rid, int64_t version, int64_t now,
    int deleted, const uint8_t *payload, size_t len)
{
	struct store_record rec = {.rid = rid, .version = version, .modified_at = now, .deleted = deleted,
	    .payload = payload, .payload_len = len};
	struct pg_heads *h = heads_for(s, collection_id);
	long i = h ? heads_asked(h, rid) : -1;
	if (i >= 0 && !h->stale[i]) {
		/* its first write in this push: into the batch, whose insert
		 * needs no ON CONFLICT if no record of it has a row */
		int exists = heads_row(h, rid) >= 0;
		heads_touch(s, collection_id, rid);
		return batch_add(s, collection_id, &rec, exists);
	}
	heads_touch(s, collection_id, rid);
	/* the push needs no answer: sent now (after the batch, which may hold
	 * an earlier write of this record: pg_run_deferred sends it first), its
	 * result read with the next statement's, at the latest the COMMIT's */
	struct pg_args a = {0};
	pg_arg_version(&a, collection_id, &rec);
	return pg_run_deferred(s, PG_RECORD_UPSERT, &a, "record put");
}

enum err pg_record_to_history(struct store *s, int64_t collection_id, const char *rid)
{
	struct pg_heads *h = heads_for(s, collection_id);
	long i = h ? heads_asked(h, rid) : -1;
	if (i >= 0 && !h->stale[i]) {
		/* not written yet in this push: its current row is the one to keep */
		struct pg_batch *b;
		enum err e = batch_for(s, collection_id, &b);
		if (e)
			return e;
		buf_addc(&b->hist, b->nhist ? ',' : '{');
		rid_literal_add(&b->hist, rid);
		b->nhist++;
		s->pg->batched = 1;
		return b->nhist >= PG_BATCH_ROWS ? pg_batch_send(s) : ERR_OK;
	}
	struct pg_args a = {0};
	pg_arg_int(&a, collection_id);
	pg_arg_text(&a, rid);
	return pg_run_deferred(s, PG_RECORD_TO_HISTORY, &a, "record to history");
}

enum err pg_history_prune(struct store *s, int64_t collection_id, const char *rid, int64_t keep, int64_t *freed)
{
	struct pg_args a = {0};
	pg_arg_int(&a, collection_id);
	pg_arg_text(&a, rid);
	pg_arg_int(&a, keep);
	return pg_count(s, PG_HISTORY_PRUNE, &a, freed, "history prune");
}

enum err pg_history_prune_many(struct store *s, int64_t collection_id, const char *const *rids, size_t n,
    int64_t keep, int64_t *freed)
{
	*freed = 0;
	if (n == 0)
		return ERR_OK;
	struct buf lit;
	buf_init(&lit, 0);
	if (rid_literal(&lit, rids, n) != 0) {
		buf_free(&lit);
		log_msg(LOG_ERROR, "store: history prune: out of memory for %zu records", n);
		return ERR_INTERNAL;
	}
	struct pg_args a = {0};
	pg_arg_int(&a, collection_id);
	pg_arg_text(&a, lit.p);
	pg_arg_int(&a, keep);
	PGresult *r = NULL;
	enum err e = pg_one_row(s, PG_HISTORY_PRUNE_MANY, &a, &r, "history prune");
	if (e == ERR_OK)
		*freed = pg_int(r, 0, 0);
	PQclear(r);
	buf_free(&lit);
	return e == ERR_NOT_FOUND ? ERR_OK : e;
}

enum err pg_record_pull(struct store *s, int64_t collection_id, int64_t since, int64_t limit,
    int (*fn)(void *ctx, const struct store_record *r), void *ctx)
{
	/* batch after batch from the last version seen: versions are unique in
	 * a collection, so none is seen twice or skipped. The first (the one a
	 * hint sent ahead) takes the rows that fit PG_WALK_BYTES at the
	 * collection's largest payload, which is all of them in a collection
	 * of small records; a batch that reached that bound goes on with the
	 * running sum of the payloads (a window function: dearer, but it packs
	 * small records behind a large one into full batches) */
	for (int first = 1; limit > 0; first = 0) {
		int64_t rows = limit < PG_WALK_ROWS ? limit : PG_WALK_ROWS;
		struct pg_args a = {0};
		pg_arg_int(&a, collection_id);
		pg_arg_int(&a, since);
		pg_arg_int(&a, rows);
		pg_arg_int(&a, PG_WALK_BYTES);
		struct pg_walk w;
		enum err e = pg_walk_records(s, first ? PG_RECORD_PULL : PG_RECORD_PULL_MORE, &a, fn, ctx, &w,
		    "record pull");
		if (e || w.stopped || (first ? w.n < w.cap || w.n == 0 : pg_walk_done(&w, rows)))
			return e;
		since = w.last;
		limit -= w.n;
	}
	return ERR_OK;
}

enum err pg_history_list(struct store *s, int64_t collection_id, const char *rid,
    int (*fn)(void *ctx, const struct store_record *r), void *ctx)
{
	struct pg_args a = {0};
	pg_arg_int(&a, collection_id);
	pg_arg_text(&a, rid);
	PGresult *r = NULL;
	/* sizes only, and no more versions than the plan's history depth */
	enum err e = pg_run(s, PG_HISTORY_LIST, &a, &r, "history list");
	if (e)
		return e;
	int n = PQntuples(r);
	struct store_record rec;
	for (int i = 0; i < n; i++) {
		memset(&rec, 0, sizeof rec);
		rec.rid = rid;
		rec.version = pg_int(r, i, 0);
		rec.modified_at = pg_int(r, i, 1);
		rec.deleted = (int)pg_int(r, i, 2);
		rec.payload_len = (size_t)pg_int(r, i, 3);
		if (fn(ctx, &rec) != 0)
			break;
	}
	PQclear(r);
	return n ? ERR_OK : ERR_NOT_FOUND;
}

enum err pg_history_get(struct store *s, int64_t collection_id, const char *rid, int64_t version,
    int (*fn)(void *ctx, const struct store_record *r), void *ctx)
{
	struct pg_args a = {0};
	pg_arg_int(&a, collection_id);
	pg_arg_text(&a, rid);
	pg_arg_int(&a, version);
	struct pg_walk w;
	enum err e = pg_walk_records(s, PG_HISTORY_GET, &a, fn, ctx, &w, "history get");
	return e ? e : w.n ? ERR_OK : ERR_NOT_FOUND;
}
