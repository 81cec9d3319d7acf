/*
 * store_pg.c: the PostgreSQL backend's connection (libpq), migrations,
 * the transaction wrapper with bounded retry, reconnection, health and
 * stats, and the backend's table of functions (store_ops.h). Entity
 * functions live in store_pg_<entity>.c beside it; the helpers they use are
 * described in store_pg_impl.h.
 *
 * Must never: accept a URI that holds a password (it would sit in the
 * config), build SQL from input, log a bound value or a DETAIL, leave a
 * transaction open on any path, or share a connection between threads.
 */
#include "store_pg_impl.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "deadline.h"
#include "log.h"
#include "store_migrations.h"

/* A constant, so that every process of every node takes the same lock. */
#define PG_MIGRATE_LOCK "7243385290127015683"

int pg_schema_version(void)
{
	int v = 0;
	for (int i = 0; i < store_pg_migrations_count; i++)
		if (store_pg_migrations[i].version > v)
			v = store_pg_migrations[i].version;
	return v;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- parameters and results ---- */

void pg_arg_int(struct pg_args *a, int64_t v)
{
	if (a->n >= PG_MAX_PARAMS)
		abort(); /* a statement with more parameters than the table allows: a bug */
	snprintf(a->num[a->n], sizeof a->num[a->n], "%lld", (long long)v);
	a->val[a->n] = a->num[a->n];
	a->len[a->n] = 0;
	a->fmt[a->n] = 0;
	a->n++;
}

void pg_arg_text(struct pg_args *a, const char *t)
{
	if (a->n >= PG_MAX_PARAMS)
		abort();
	a->val[a->n] = t;
	a->len[a->n] = 0;
	a->fmt[a->n] = 0;
	a->n++;
}

void pg_arg_bytes(struct pg_args *a, const void *p, size_t n)
{
	if (a->n >= PG_MAX_PARAMS || n > INT32_MAX)
		abort(); /* callers bound sizes long before (records, keyrings, chunks) */
	/* a NULL pointer with n > 0 is a bug; with n == 0 an empty bytea needs
	 * a non-NULL pointer, since NULL is SQL NULL */
	a->val[a->n] = p ? (const char *)p : NULL;
	a->len[a->n] = (int)n;
	a->fmt[a->n] = 1;
	a->n++;
}

void pg_arg_null(struct pg_args *a)
{
	pg_arg_text(a, NULL);
}

void pg_rows_each(const PGresult *r, int (*fn)(void *ctx, int64_t id), void *ctx)
{
	for (int i = 0, n = PQntuples(r); fn && i < n; i++)
		if (fn(ctx, pg_int(r, i, 0)) != 0)
			break;
}

int pg_is_null(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col);
}

int64_t pg_int(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return 0;
	const unsigned char *p = (const unsigned char *)PQgetvalue(r, row, col);
	int len = PQgetlength(r, row, col);
	uint64_t u = 0;
	switch (len) {
	case 1: /* boolean */
		return p[0] != 0;
	case 2:
		return (int16_t)(uint16_t)((p[0] << 8) | p[1]);
	case 4:
		for (int i = 0; i < 4; i++)
			u = (u << 8) | p[i];
		return (int32_t)(uint32_t)u;
	case 8:
		for (int i = 0; i < 8; i++)
			u = (u << 8) | p[i];
		return (int64_t)u;
	default:
		log_msg(LOG_ERROR, "store: column %d is not an integer (%d bytes)", col, len);
		return 0;
	}
}

void pg_text(const PGresult *r, int row, int col, char *dst, size_t dstlen)
{
	if (!dstlen)
		return;
	dst[0] = '\0';
	if (PQgetisnull(r, row, col))
		return;
	size_t len = (size_t)PQgetlength(r, row, col);
	if (len >= dstlen)
		len = dstlen - 1;
	memcpy(dst, PQgetvalue(r, row, col), len);
	dst[len] = '\0';
}

size_t pg_bytes(const PGresult *r, int row, int col, const uint8_t **p)
{
	if (PQgetisnull(r, row, col)) {
		*p = NULL;
		return 0;
	}
	*p = (const uint8_t *)PQgetvalue(r, row, col);
	return (size_t)PQgetlength(r, row, col);
}

int pg_bytes_fixed(const PGresult *r, int row, int col, uint8_t *dst, size_t n)
{
	const uint8_t *p;
	size_t len = pg_bytes(r, row, col, &p);
	if (!p || len != n) {
		memset(dst, 0, n);
		return -1;
	}
	memcpy(dst, p, n);
	return 0;
}

int pg_in_write_tx(const struct store *s)
{
	return s->pg->in_tx == PG_TX_WRITE;
}

/* ---- connecting ---- */

/* Notices (e.g. "there is no transaction in progress") are not errors. */
static void quiet_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/*
 * Refuse a URI that libpq cannot parse, or that holds a password: the
 * config is no place for one (a password file is: passfile=, PGPASSFILE,
 * ~/.pgpass). 0, or -1 with errbuf filled.
 */
static int check_uri(const char *uri, char *errbuf, size_t errlen)
{
	char *why = NULL;
	PQconninfoOption *opts = PQconninfoParse(uri, &why);
	if (!opts) {
		/* libpq's message names the problem, not the URI's secrets: there are none */
		snprintf(errbuf, errlen, "database: not a valid PostgreSQL URI: %s", why ? why : "out of memory");
		if (why)
			PQfreemem(why);
		return -1;
	}
	int ret = 0;
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		if (strcmp(o->keyword, "password") == 0 && o->val && o->val[0]) {
			snprintf(errbuf, errlen,
			    "database: the PostgreSQL URI holds a password; keep it out of the config: use a password "
			    "file (passfile=... in the URI, PGPASSFILE, or ~/.pgpass) or peer/certificate authentication");
			ret = -1;
		}
	}
	PQconninfoFree(opts);
	return ret;
}

/*
 * A new connection to uri, set up for the store: our time limits, a
 * durable commit whatever the server's default, read-only transactions
 * when ro, and notices kept off stderr. NULL with errbuf filled when the
 * server cannot be reached or refuses.
 */
static PGconn *connect_uri(const char *uri, int ro, char *errbuf, size_t errlen)
{
	/* keywords before dbname are defaults the URI may override; TCP
	 * keepalives notice a server gone without a word (a network cut) in
	 * about a minute instead of never */
	const char *const keys[] = {"connect_timeout", "application_name", "keepalives", "keepalives_idle",
	    "keepalives_interval", "keepalives_count", "dbname", NULL};
	const char *const vals[] = {PG_CONNECT_TIMEOUT, "blindsync", "1", "30", "10", "3", uri, NULL};
	PGconn *c = PQconnectdbParams(keys, vals, 1);
	if (!c) {
		snprintf(errbuf, errlen, "database: out of memory");
		return NULL;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		const char *m = PQerrorMessage(c);
		size_t n = strcspn(m, "\n");
		snprintf(errbuf, errlen, "database: cannot connect: %.*s", (int)n, m);
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, quiet_notice, NULL);
	/* a lock wait ends as a 503 after the busy timeout, as on SQLite; a
	 * session stuck inside a transaction (a handler hung holding row
	 * locks) is ended by the server, late enough for a slow client's
	 * download streamed inside a read transaction. Every statement is
	 * prepared once and its plan kept (generic): left to choose, the
	 * server planned a pull's statement afresh at every run (its range on
	 * version looks cheaper planned with the value), and planning took
	 * longer than running it; our statements are lookups by key and
	 * ranges of an index, whose generic plan is the same index scan */
	char set[400];
	snprintf(set, sizeof set,
	    "SET lock_timeout = %d; SET idle_in_transaction_session_timeout = %d; "
	    "SET synchronous_commit = on; SET client_encoding = 'UTF8'; SET plan_cache_mode = force_generic_plan; "
	    "SET default_transaction_read_only = %s",
	    STORE_BUSY_TIMEOUT_MS, PG_IDLE_IN_TX_MS, ro ? "on" : "off");
	PGresult *r = PQexec(c, set);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
		snprintf(errbuf, errlen, "database: cannot configure the session: %s", m ? m : "?");
		PQclear(r);
		PQfinish(c);
		return NULL;
	}
	PQclear(r);
	return c;
}

/*
 * Make sure s has a working connection. Outside a transaction a lost one is
 * replaced (at most every PG_RECONNECT_MS while the server stays down);
 * inside one it cannot be: ERR_UNAVAILABLE.
 */
static enum err ensure_conn(struct store *s)
{
	struct store_pg *p = s->pg;
	/* between transactions, read what the server sent meanwhile: a
	 * connection it ended while idle (a restart, pg_terminate_backend)
	 * then shows as bad here, before a statement is sent on it, and is
	 * replaced instead of failing the request (twice: the first read
	 * takes the server's last message, the second meets the close) */
	if (p->conn && p->in_tx == PG_TX_NONE && PQconsumeInput(p->conn))
		PQconsumeInput(p->conn);
	if (p->conn && PQstatus(p->conn) == CONNECTION_OK)
		return ERR_OK;
	if (p->in_tx != PG_TX_NONE) {
		p->lost = 1;
		return ERR_UNAVAILABLE;
	}
	int64_t now = now_ms();
	if (now < p->next_connect_ms)
		return ERR_UNAVAILABLE;
	PQfinish(p->conn);
	p->conn = NULL;
	memset(p->prepared, 0, sizeof p->prepared);
	p->pipeline = 0;
	p->npending = 0; /* a read transaction's COMMIT, unread: gone with its connection */
	char why[512];
	p->conn = connect_uri(p->uri, s->mode == STORE_RO, why, sizeof why);
	if (!p->conn) {
		p->next_connect_ms = now + PG_RECONNECT_MS;
		p->lost = 1;
		if (now - p->warned_ms >= 10000 || !p->warned_ms) {
			log_msg(LOG_WARN, "store: %s", why);
			p->warned_ms = now;
		}
		return ERR_UNAVAILABLE;
	}
	if (p->warned_ms) {
		log_msg(LOG_INFO, "store: reconnected to the database");
		p->warned_ms = 0;
	}
	return ERR_OK;
}

/* ---- running statements ---- */

/* Map a failed result to an enum err (store_pg_impl.h, pg_run). */
static enum err result_err(struct store *s, const PGresult *r, const char *what)
{
	struct store_pg *p = s->pg;
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	if (!state || PQstatus(p->conn) != CONNECTION_OK) {
		p->lost = 1;
		const char *m = PQerrorMessage(p->conn);
		log_msg(LOG_WARN, "store: %s: the database connection was lost: %.*s", what, (int)strcspn(m, "\n"), m);
		return ERR_UNAVAILABLE;
	}
	const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	if (!msg)
		msg = "?";
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0) {
		p->retry = 1;
		log_msg(LOG_DEBUG, "store: %s: %s (%s)", what, msg, state);
		return ERR_UNAVAILABLE;
	}
	if (strncmp(state, "23", 2) == 0)
		return ERR_CONFLICT; /* the caller maps it (taken name, race lost) */
	/* the server going down or starting, out of connections or resources,
	 * a lock wait past lock_timeout, a cancelled statement */
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "57", 2) == 0 || strncmp(state, "53", 2) == 0 ||
	    strcmp(state, "55P03") == 0) {
		if (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 || strcmp(state, "57P02") == 0 ||
		    strcmp(state, "57P03") == 0)
			p->lost = 1;
		log_msg(LOG_WARN, "store: %s: %s (%s)", what, msg, state);
		return ERR_UNAVAILABLE;
	}
	log_msg(LOG_ERROR, "store: %s: %s (%s)", what, msg, state);
	return ERR_INTERNAL;
}

/* ---- pipeline mode (pg_run_deferred) ---- */

/* The length of parameter i of a: a binary value's, a text's without its NUL, 0 for NULL. */
static int arg_len(const struct pg_args *a, int i)
{
	if (!a->val[i])
		return 0;
	return a->fmt[i] ? a->len[i] : (int)strlen(a->val[i]);
}

/* Free a read-ahead slot's copies of long parameters. */
static void ahead_free_copies(struct pg_ahead *k)
{
	for (int j = 0; j < PG_AHEAD_PARAMS; j++) {
		free(k->big[j]);
		k->big[j] = NULL;
	}
}

/* Drop every read sent ahead: kept results are freed, unread ones discarded when they arrive. */
static void ahead_clear(struct store_pg *p)
{
	for (int i = 0; i < p->nahead; i++) {
		PQclear(p->ahead[i].res);
		p->ahead[i].res = NULL;
		p->ahead[i].state = 0;
		ahead_free_copies(&p->ahead[i]);
	}
	p->nahead = 0;
	for (int i = 0; i < p->npending; i++)
		p->pending[i].ahead = 0;
	p->early = 0;
}

/*
 * The connection's protocol state is lost (a send failed, a result is
 * missing): drop it; the transaction answers ERR_UNAVAILABLE and the next
 * one reconnects.
 */
static enum err pipe_broken(struct store *s, const char *what)
{
	struct store_pg *p = s->pg;
	const char *m = p->conn ? PQerrorMessage(p->conn) : "";
	log_msg(LOG_WARN, "store: %s: the database connection was lost: %.*s", what, (int)strcspn(m, "\n"), m);
	PQfinish(p->conn);
	p->conn = NULL;
	p->pipeline = 0;
	p->npending = 0;
	ahead_clear(p);
	p->lost = 1;
	return ERR_UNAVAILABLE;
}

/* Read one statement's result in pipeline mode, and the NULL that ends it; NULL if there is none. */
static PGresult *pipe_result(struct store_pg *p)
{
	PGresult *r = PQgetResult(p->conn), *more;
	if (r && PQresultStatus(r) != PGRES_PIPELINE_SYNC)
		while ((more = PQgetResult(p->conn)))
			PQclear(more);
	return r;
}

/* Queue statement id (prepared first if this connection has not yet). 0, or -1 when the send failed. */
static int pipe_send(struct store *s, enum pgstmt id, const struct pg_args *a, const char *name)
{
	struct store_pg *p = s->pg;
	if (!p->prepared[id]) {
		if (PQsendPrepare(p->conn, name, pg_stmt_sql[id], 0, NULL) != 1)
			return -1;
		p->pending[p->npending++] = (struct pg_pending){.id = id, .prepare = 1, .what = "prepare"};
		p->prepared[id] = 1; /* undone by pipe_drain if it fails */
	}
	return PQsendQueryPrepared(p->conn, name, a ? a->n : 0, a ? a->val : NULL, a ? a->len : NULL,
	           a ? a->fmt : NULL, 1) == 1 ? 0 : -1;
}

/* Read the PGRES_PIPELINE_SYNC that ends a round. */
static enum err pipe_read_sync(struct store *s)
{
	PGresult *r = PQgetResult(s->pg->conn);
	int ok = r && PQresultStatus(r) == PGRES_PIPELINE_SYNC;
	PQclear(r);
	return ok ? ERR_OK : pipe_broken(s, "pipeline sync");
}

/* Read the results of the queued statements; the first failure becomes p->deferred_err. */
static enum err pipe_drain(struct store *s)
{
	struct store_pg *p = s->pg;
	for (int i = 0; i < p->npending; i++) {
		const struct pg_pending *q = &p->pending[i];
		if (q->sync) {
			enum err se = pipe_read_sync(s);
			if (se)
				return se;
			continue;
		}
		PGresult *r = pipe_result(p);
		if (!r)
			return pipe_broken(s, q->what);
		ExecStatusType st = PQresultStatus(r);
		if (st != PGRES_FATAL_ERROR && st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK &&
		    st != PGRES_PIPELINE_ABORTED) {
			PQclear(r);
			return pipe_broken(s, q->what);
		}
		if (q->ahead) {
			/* a read sent ahead: kept for the pg_run that takes it (a
			 * failure is also the transaction's, as for any statement) */
			if (st == PGRES_FATAL_ERROR && !p->deferred_err)
				p->deferred_err = result_err(s, r, q->what);
			p->ahead[q->ahead - 1].res = r;
			p->ahead[q->ahead - 1].state = 2;
			continue;
		}
		if (st == PGRES_FATAL_ERROR) {
			if (q->prepare)
				p->prepared[q->id] = 0;
			enum err e = result_err(s, r, q->what);
			if (!p->deferred_err)
				p->deferred_err = e;
		}
		if (st == PGRES_PIPELINE_ABORTED && q->prepare)
			p->prepared[q->id] = 0;
		if (st == PGRES_TUPLES_OK && q->row && !p->deferred_err)
			pg_rows_each(r, q->row, q->row_ctx);
		if (st == PGRES_COMMAND_OK && !q->prepare && !p->deferred_err) {
			/* a write that had to change one row; a COMMIT that rolled back */
			if (q->none && strcmp(PQcmdTuples(r), "1") != 0)
				p->deferred_err = q->none;
			else if (q->id == PG_COMMIT && strcmp(PQcmdStatus(r), "COMMIT") != 0) {
				log_msg(LOG_ERROR, "store: commit: the transaction was rolled back");
				p->deferred_err = ERR_INTERNAL;
			}
		}
		PQclear(r);
	}
	p->npending = 0;
	return ERR_OK;
}

/* A sync point: send it, read every queued result and the sync. The deferred error, if any. */
static enum err pipe_sync(struct store *s)
{
	struct store_pg *p = s->pg;
	enum err e;
	p->trips++;
	p->round_trips++;
	/* queued statements that end with a sync sent already (a COMMIT sent
	 * unread, pg_early_commit) need no other */
	if (p->npending > 0 && p->pending[p->npending - 1].sync) {
		if ((e = pipe_drain(s)))
			return e;
		return p->deferred_err;
	}
	if (PQpipelineSync(p->conn) != 1)
		return pipe_broken(s, "pipeline sync");
	if ((e = pipe_drain(s)) || (e = pipe_read_sync(s)))
		return e;
	return p->deferred_err;
}

/* pg_run inside a pipeline: the statement goes after the queued ones, one round trip for all. */
static enum err pipe_run(struct store *s, enum pgstmt id, const struct pg_args *a, PGresult **res,
    const char *what, const char *name)
{
	struct store_pg *p = s->pg;
	enum err e;
	if (p->in_tx == PG_TX_NONE)
		p->deferred_err = ERR_OK; /* outside a transaction no failure carries over */
	if (p->deferred_err)
		return p->deferred_err;
	p->trips++;
	p->round_trips++;
	if (pipe_send(s, id, a, name) != 0 || PQpipelineSync(p->conn) != 1)
		return pipe_broken(s, what);
	if ((e = pipe_drain(s)))
		return e;
	PGresult *r = pipe_result(p);
	if (!r)
		return pipe_broken(s, what);
	if ((e = pipe_read_sync(s))) {
		PQclear(r);
		return e;
	}
	ExecStatusType st = PQresultStatus(r);
	if (p->deferred_err) {
		e = p->deferred_err;
	} else if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if (res)
			*res = r;
		else
			PQclear(r);
		return ERR_OK;
	} else {
		e = result_err(s, r, what);
		p->deferred_err = e; /* the transaction is aborted: its later calls fail alike */
	}
	if (p->in_tx == PG_TX_NONE)
		p->deferred_err = ERR_OK; /* a statement on its own (after a read transaction): its failure is its own */
	PQclear(r);
	return e;
}

/* pg_run_deferred and pg_one_change_deferred: none is ERR_OK when any count will do. */
static enum err run_deferred(struct store *s, enum pgstmt id, const struct pg_args *a, enum err none,
    int (*row)(void *, int64_t), void *row_ctx, const char *what)
{
	struct store_pg *p = s->pg;
	/* a push's batched records first: statements keep their order */
	if (p->batched) {
		enum err be = pg_batch_send(s);
		if (be)
			return be;
	}
	if (p->in_tx != PG_TX_WRITE && row) {
		PGresult *r = NULL;
		enum err e = pg_run(s, id, a, &r, what);
		if (e == ERR_OK)
			pg_rows_each(r, row, row_ctx);
		PQclear(r);
		return e;
	}
	if (p->in_tx != PG_TX_WRITE)
		return none ? pg_one_change(s, id, a, none, what) : pg_run(s, id, a, NULL, what);
	if (p->deferred_err)
		return p->deferred_err;
	if (!p->pipeline) {
		enum err e = ensure_conn(s);
		if (e)
			return e;
		if (PQenterPipelineMode(p->conn) != 1)
			return pipe_broken(s, what);
		p->pipeline = 1;
	}
	char name[16];
	snprintf(name, sizeof name, "s%d", (int)id);
	if (pipe_send(s, id, a, name) != 0)
		return pipe_broken(s, what);
	p->pending[p->npending++] =
	    (struct pg_pending){.id = id, .what = what, .none = none, .row = row, .row_ctx = row_ctx};
	/* bounded: the server's answers must not pile up unread */
	if (p->npending >= 2 * PG_PIPELINE_MAX)
		return pipe_sync(s);
	return ERR_OK;
}

enum err pg_run_deferred(struct store *s, enum pgstmt id, const struct pg_args *a, const char *what)
{
	return run_deferred(s, id, a, ERR_OK, NULL, NULL, what);
}

enum err pg_run_deferred_rows(struct store *s, enum pgstmt id, const struct pg_args *a,
    int (*row)(void *ctx, int64_t id), void *ctx, const char *what)
{
	return run_deferred(s, id, a, ERR_OK, row, ctx, what);
}

enum err pg_one_change_deferred(struct store *s, enum pgstmt id, const struct pg_args *a, enum err none,
    const char *what)
{
	return run_deferred(s, id, a, none ? none : ERR_NOT_FOUND, NULL, NULL, what);
}

/*
 * Begin a transaction of that kind in pipeline mode: the BEGIN is sent now
 * and its result read with the transaction's first round trip (the first
 * statement that waits for an answer, at the latest the COMMIT's).
 */
static enum err pipe_begin(struct store *s, enum pg_tx_kind kind)
{
	struct store_pg *p = s->pg;
	enum err e = ensure_conn(s);
	if (e)
		return e;
	if (!p->pipeline) {
		if (PQenterPipelineMode(p->conn) != 1)
			return pipe_broken(s, "begin");
		p->pipeline = 1;
	}
	enum pgstmt id = kind == PG_TX_WRITE ? PG_BEGIN : PG_BEGIN_READ;
	char name[16];
	snprintf(name, sizeof name, "s%d", (int)id);
	if (pipe_send(s, id, NULL, name) != 0)
		return pipe_broken(s, "begin");
	p->pending[p->npending++] = (struct pg_pending){.id = id, .what = "begin"};
	return ERR_OK;
}

/*
 * End a read transaction without waiting: its COMMIT and a sync are sent,
 * their answers read with the connection's next round trip (pipe_drain).
 * A read-only transaction's COMMIT can lose nothing; should the connection
 * fail meanwhile, the next transaction sees it in its first round trip and
 * runs again on a new one (run_tx). Pipeline mode stays on until then.
 */
static enum err pipe_end_unread(struct store *s, enum pgstmt id)
{
	struct store_pg *p = s->pg;
	char name[16];
	snprintf(name, sizeof name, "s%d", (int)id);
	if (pipe_send(s, id, NULL, name) != 0)
		return pipe_broken(s, "commit");
	p->pending[p->npending++] = (struct pg_pending){.id = id, .what = "commit"};
	if (PQpipelineSync(p->conn) != 1)
		return pipe_broken(s, "commit");
	p->pending[p->npending++] = (struct pg_pending){.id = id, .what = "commit", .sync = 1};
	return ERR_OK;
}

static enum err pipe_commit_unread(struct store *s)
{
	return pipe_end_unread(s, PG_COMMIT);
}

int pg_early_begin(struct store *s, const uint8_t hash[STORE_HASH_LEN])
{
	struct store_pg *p = s->pg;
	if (p->in_tx != PG_TX_NONE || p->early || p->nahead || p->batched || pipe_begin(s, PG_TX_READ) != ERR_OK)
		return 0;
	p->early = 1;
	p->early_done = 0;
	struct pg_args a = {0};
	pg_arg_bytes(&a, hash, STORE_HASH_LEN);
	int slot = pg_ahead(s, PG_TOKEN_ACCESS, &a, PG_TOKEN_ACCESS, &a, 0);
	if (!slot)
		pg_early_end(s);
	return slot;
}

enum err pg_early_end(struct store *s)
{
	struct store_pg *p = s->pg;
	if (!p || !p->early || p->in_tx != PG_TX_NONE) /* a pooled store may hold no connection */
		return ERR_OK;
	ahead_clear(p); /* and p->early: the results not taken are dropped as they arrive */
	if (p->early_done) { /* its COMMIT is sent already */
		p->early_done = 0;
		return ERR_OK;
	}
	/* a ROLLBACK: nothing to commit, and it answers alike if a read of it
	 * failed (a COMMIT of an aborted transaction would log an error) */
	return p->conn ? pipe_end_unread(s, PG_ROLLBACK) : ERR_OK;
}

void pg_early_commit(struct store *s)
{
	struct store_pg *p = s->pg;
	if (p->early && !p->early_done && p->conn && p->pipeline && !p->deferred_err &&
	    p->npending + 2 <= (int)(sizeof p->pending / sizeof p->pending[0]) && pipe_commit_unread(s) == ERR_OK)
		p->early_done = 1;
}

/*
 * Leave pipeline mode at the end of a transaction's body, reading what is
 * still queued: ERR_OK, or the failure of a deferred statement.
 */
static enum err pipe_end(struct store *s)
{
	struct store_pg *p = s->pg;
	if (!p->pipeline)
		return ERR_OK;
	enum err e = p->npending ? pipe_sync(s) : p->deferred_err;
	if (p->pipeline && p->conn) {
		if (PQexitPipelineMode(p->conn) != 1)
			return pipe_broken(s, "leaving pipeline mode");
		p->pipeline = 0;
	}
	return e;
}

void pg_lock_noted(struct store *s, int64_t account_id)
{
	s->pg->locked_account = account_id;
	s->pg->locked_serial = s->pg->tx_serial;
}

int pg_lock_held(const struct store *s, int64_t account_id)
{
	return pg_in_write_tx(s) && s->pg->locked_serial == s->pg->tx_serial && s->pg->locked_account == account_id;
}

int pg_ahead(struct store *s, enum pgstmt sid, const struct pg_args *sa, enum pgstmt mid,
    const struct pg_args *ma, int from)
{
	struct store_pg *p = s->pg;
	int n = ma ? ma->n : 0;
	if ((p->in_tx == PG_TX_NONE && !p->early) || p->early_tx || !p->pipeline || !p->conn || p->deferred_err ||
	    p->nahead >= PG_AHEAD_MAX || n > PG_AHEAD_PARAMS ||
	    p->npending + 2 > (int)(sizeof p->pending / sizeof p->pending[0]) || from < 0 || from > p->nahead)
		return 0;
	struct pg_ahead *k = &p->ahead[p->nahead];
	/* a push's batched records first, as for any statement: a read sent
	 * ahead must see the transaction's earlier writes */
	if (p->batched && pg_batch_send(s) != ERR_OK)
		return 0;
	for (int i = 0; i < n; i++) {
		k->null[i] = ma->val[i] == NULL;
		k->big[i] = NULL;
		k->fmt[i] = ma->fmt[i];
		k->len[i] = arg_len(ma, i);
		if (k->len[i] >= PG_AHEAD_BYTES) {
			if (!(k->big[i] = malloc((size_t)k->len[i] + 1))) {
				ahead_free_copies(k);
				return 0;
			}
			memcpy(k->big[i], ma->val[i], (size_t)k->len[i]);
			k->big[i][k->len[i]] = '\0';
			continue;
		}
		if (k->len[i])
			memcpy(k->val[i], ma->val[i], (size_t)k->len[i]);
		k->val[i][k->len[i]] = '\0';
	}
	k->id = mid;
	k->n = n;
	k->from = from;
	k->open = from > 0;
	k->res = NULL;
	char name[16];
	snprintf(name, sizeof name, "s%d", (int)sid);
	k->state = 1; /* from here ahead_clear frees its copies */
	p->nahead++;
	if (pipe_send(s, sid, sa, name) != 0) {
		pipe_broken(s, "read-ahead");
		return 0;
	}
	p->pending[p->npending++] = (struct pg_pending){.id = sid, .what = "read-ahead", .ahead = p->nahead};
	return p->nahead;
}

/* The slot of the read sent ahead that is statement id with parameters a, or -1. */
static int ahead_find(const struct store_pg *p, enum pgstmt id, const struct pg_args *a)
{
	int n = a ? a->n : 0;
	for (int j = 0; j < p->nahead; j++) {
		const struct pg_ahead *k = &p->ahead[j];
		if (!k->state || k->open || k->id != id || k->n != n)
			continue;
		int i = 0;
		for (; i < n; i++)
			if (a->fmt[i] != k->fmt[i] || k->null[i] != (a->val[i] == NULL) || arg_len(a, i) != k->len[i] ||
			    (k->len[i] && memcmp(k->big[i] ? k->big[i] : k->val[i], a->val[i], (size_t)k->len[i]) != 0))
				break;
		if (i == n)
			return j;
	}
	return -1;
}

/* pg_run answered by the read of slot j sent ahead: its result, read now if it is not yet. */
static enum err ahead_take(struct store *s, int j, PGresult **res, const char *what)
{
	struct store_pg *p = s->pg;
	struct pg_ahead *k = &p->ahead[j];
	enum err e;
	/* the token of an early read transaction: a failure of one of its
	 * reads is theirs (no store_read joins it then) */
	int early = p->in_tx == PG_TX_NONE && p->early;
	if (k->state == 1 && (e = pipe_sync(s)) && (p->lost || !early))
		return e;
	if (p->deferred_err && !early)
		return p->deferred_err;
	PGresult *r = k->res;
	k->res = NULL;
	k->state = 0;
	ahead_free_copies(k);
	if (!r)
		return pipe_broken(s, what);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		/* failed, or skipped after a failure: never taken for "no rows" */
		e = st == PGRES_FATAL_ERROR ? result_err(s, r, what) : ERR_INTERNAL;
		PQclear(r);
		if (!p->deferred_err)
			p->deferred_err = e;
		return e;
	}
	/* the reads that wait for the id this one finds */
	for (int i = 0; i < p->nahead; i++) {
		struct pg_ahead *d = &p->ahead[i];
		if (d->state && d->open && d->from == j + 1) {
			if (PQntuples(r) > 0 && PQnfields(r) > 0) {
				snprintf(d->val[0], sizeof d->val[0], "%lld", (long long)pg_int(r, 0, 0));
				d->null[0] = 0;
				d->fmt[0] = 0;
				d->len[0] = (int)strlen(d->val[0]);
				d->open = 0;
			} else {
				d->from = 0; /* never matches: dropped with the transaction */
			}
		}
	}
	if (res)
		*res = r;
	else
		PQclear(r);
	return ERR_OK;
}

enum err pg_run(struct store *s, enum pgstmt id, const struct pg_args *a, PGresult **res, const char *what)
{
	struct store_pg *p = s->pg;
	if (res)
		*res = NULL;
	/* a read sent ahead in this transaction (outside one, only the token
	 * of an early read transaction: pg_early_begin) */
	if (p->nahead) {
		int j = ahead_find(p, id, a);
		if (j >= 0 && (p->in_tx != PG_TX_NONE || !p->early || j == 0))
			return ahead_take(s, j, res, what);
	}
	/* the store_read that joined an early read transaction whose COMMIT
	 * went with its reads: what it did not send ahead cannot be read in
	 * its snapshot any more */
	if (p->early_tx && p->early_done) {
		log_msg(LOG_ERROR, "store: %s: not sent with the early reads it was to be part of", what);
		return ERR_INTERNAL;
	}
	/* any other call ends an early read transaction first (a failed send
	 * has dropped the connection: this call makes a new one) */
	if (p->early && p->in_tx == PG_TX_NONE)
		pg_early_end(s);
	/* a push's batched records first: statements keep their order */
	if (p->batched) {
		enum err be = pg_batch_send(s);
		if (be)
			return be;
	}
	enum err e = ensure_conn(s);
	if (e)
		return e;
	char name[16];
	snprintf(name, sizeof name, "s%d", (int)id);
	if (p->pipeline)
		return pipe_run(s, id, a, res, what, name);
	p->round_trips++;
	if (!p->prepared[id]) {
		p->round_trips++;
		PGresult *r = PQprepare(p->conn, name, pg_stmt_sql[id], 0, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			e = result_err(s, r, what);
			PQclear(r);
			return e;
		}
		PQclear(r);
		p->prepared[id] = 1;
	}
	PGresult *r = PQexecPrepared(p->conn, name, a ? a->n : 0, a ? a->val : NULL, a ? a->len : NULL,
	    a ? a->fmt : NULL, 1);
	ExecStatusType st = PQresultStatus(r);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if (res)
			*res = r;
		else
			PQclear(r);
		return ERR_OK;
	}
	e = result_err(s, r, what);
	PQclear(r);
	return e;
}

enum err pg_one_row(struct store *s, enum pgstmt id, const struct pg_args *a, PGresult **res, const char *what)
{
	enum err e = pg_run(s, id, a, res, what);
	if (e)
		return e;
	if (PQntuples(*res) == 0) {
		PQclear(*res);
		*res = NULL;
		return ERR_NOT_FOUND;
	}
	return ERR_OK;
}

enum err pg_count(struct store *s, enum pgstmt id, const struct pg_args *a, int64_t *n, const char *what)
{
	PGresult *r = NULL;
	enum err e = pg_one_row(s, id, a, &r, what);
	*n = e == ERR_OK ? pg_int(r, 0, 0) : 0;
	PQclear(r);
	return e == ERR_NOT_FOUND ? ERR_OK : e;
}

enum err pg_changes(struct store *s, enum pgstmt id, const struct pg_args *a, int64_t *n, const char *what)
{
	PGresult *r = NULL;
	enum err e = pg_run(s, id, a, &r, what);
	if (e)
		return e;
	if (n)
		*n = strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return ERR_OK;
}

enum err pg_one_change(struct store *s, enum pgstmt id, const struct pg_args *a, enum err none, const char *what)
{
	int64_t n = 0;
	enum err e = pg_changes(s, id, a, &n, what);
	if (e)
		return e;
	return n == 1 ? ERR_OK : none;
}

/* ---- transactions ---- */

/* 1 when a queued write's count is still to be checked: a COMMIT sent after it would run whatever the count. */
static int counts_pending(const struct store_pg *p)
{
	for (int i = 0; i < p->npending; i++)
		if (p->pending[i].none && !p->pending[i].prepare)
			return 1;
	return 0;
}

/*
 * BEGIN, fn, COMMIT (or ROLLBACK when fn failed), run again after a
 * serialization failure or a deadlock (a short random pause first, growing)
 * up to PG_TX_TRIES times, and after a connection found lost at BEGIN (on a
 * new one: nothing ran). fn may therefore run more than once: it must set
 * its outputs, never add to them. Nested in a transaction, fn joins it.
 */
static enum err run_tx(struct store *s, enum pg_tx_kind kind, enum err (*fn)(struct store *, void *), void *arg)
{
	struct store_pg *p = s->pg;
	if (p->in_tx != PG_TX_NONE)
		return fn(s, arg);
	enum err e = ERR_UNAVAILABLE;
	int tries = 0;
	for (;;) {
		tries++;
		/* a read joins an early read transaction whose reads went well */
		int join = kind == PG_TX_READ && p->early && !p->deferred_err && p->conn;
		p->retry = p->lost = 0;
		p->trips = 0;
		p->deferred_err = ERR_OK;
		if (join) {
			p->early = 0;
			e = ERR_OK;
		} else {
			pg_early_end(s);
			e = pipe_begin(s, kind);
		}
		if (e) {
			if (p->lost && p->conn && tries < 2)
				continue;
			return e;
		}
		p->in_tx = kind;
		p->tx_serial++;
		p->early_tx = join; /* its hints send nothing: its reads are sent */
		e = fn(s, arg);
		p->early_tx = 0;
		ahead_clear(p); /* reads sent ahead and never asked for */
		/* a push's batched records go too (store_pg_sync.c) */
		if (p->batched) {
			enum err be = pg_batch_send(s);
			if (e == ERR_OK)
				e = be;
		}
		/* deferred writes are read before the transaction is acknowledged:
		 * in pipeline mode the COMMIT goes after them in the same round
		 * trip (a failed write aborts the pipeline, so the COMMIT does not
		 * run, and the ROLLBACK below ends the aborted transaction), unless
		 * a write's count is to be checked first (it fails nothing in the
		 * server) */
		int commit_sent = 0;
		if (join && p->early_done) {
			/* committed with its reads (pg_early_commit): nothing to end */
			p->early_done = 0;
			p->in_tx = PG_TX_NONE;
			break;
		}
		if (kind == PG_TX_READ && e == ERR_OK && p->pipeline && !p->deferred_err &&
		    pipe_commit_unread(s) == ERR_OK) {
			/* its answer is read with the connection's next round trip */
			p->in_tx = PG_TX_NONE;
			break;
		}
		if (e == ERR_OK && p->pipeline && !p->deferred_err && !counts_pending(p)) {
			e = pg_run_deferred(s, PG_COMMIT, NULL, "commit");
			commit_sent = 1;
		}
		enum err pe = pipe_end(s);
		if (e == ERR_OK)
			e = pe;
		p->deferred_err = ERR_OK;
		if (e == ERR_OK && !commit_sent) {
			commit_sent = 1;
			e = pg_run(s, PG_COMMIT, NULL, NULL, "commit");
		} else if (e != ERR_OK && !p->lost) {
			pg_run(s, PG_ROLLBACK, NULL, NULL, "rollback");
		}
		/* a failed COMMIT has ended the transaction already; a lost
		 * connection has none left (and its COMMIT's fate is unknown: the
		 * caller's 503 makes the client ask again) */
		p->in_tx = PG_TX_NONE;
		/* a connection that died while idle shows in the transaction's
		 * first round trip (with the BEGIN): nothing of it is left on the
		 * server, which rolls back what a lost connection did not
		 * commit; once more on a new one */
		if (e != ERR_OK && p->lost && !commit_sent && p->trips <= 1 && tries < 2)
			continue;
		if (e == ERR_OK || !p->retry || p->lost)
			break;
		if (tries >= PG_TX_TRIES) {
			log_msg(LOG_WARN, "store: a transaction met %d serialization failures or deadlocks in a row", tries);
			break;
		}
		/* 1..2^tries ms, at random, so that the losers do not meet again */
		struct timespec ts = {0, (long)(1 + rand() % (2 << tries)) * 1000000L};
		nanosleep(&ts, NULL);
	}
	return e;
}

enum err pg_tx(struct store *s, enum err (*fn)(struct store *, void *), void *arg)
{
	if (s->mode == STORE_RO)
		return ERR_INTERNAL;
	return run_tx(s, PG_TX_WRITE, fn, arg);
}

/*
 * store_tx body of a group's leader: the jobs one after the other, without
 * savepoints. A savepoint is a subtransaction, and a row lock taken in one
 * on a row its parent changed (every push locks the account's row, which
 * the previous push updated) makes a MultiXact: the profile of the mixed
 * load then showed every reader of that row resolving its members. The
 * first job that answers an error, or a failed statement (whose job is not
 * known: a deferred write's failure is read later), ends the group.
 */
static enum err group_run(struct store *s, void *arg)
{
	struct store_pg *p = s->pg;
	for (struct store_group_job *j = arg; j; j = j->next) {
		j->rc = j->fn(s, j->arg);
		if (j->rc != ERR_OK || p->deferred_err)
			return j->rc ? j->rc : p->deferred_err;
	}
	return ERR_OK;
}

/*
 * store_ops.enter and .leave (below): a store whose connection comes from
 * the process's pool (store_share_connections) borrows one before a call
 * (op: offsetof(struct store_ops, NAME), 0 for any) and gives it back
 * after one that left nothing open; no-ops for a store with its own.
 */
static enum err pg_enter(struct store *s, size_t op);
static void pg_leave(struct store *s);

/*
 * A group's batch (store_group_commit): one transaction. When it failed
 * (a job's answer, a failed statement), nothing was committed: each job
 * then runs alone, so that only a failing one fails (a lost connection, a
 * lock wait past the timeout or the retries exhausted fail them all with
 * 503, as they would have alone).
 */
static enum err group_batch(struct store *s, struct store_group_job *batch, int n)
{
	enum err e0 = pg_enter(s, 0); /* a pooled leader's connection (pg_tx_group gave its own back) */
	if (e0 != ERR_OK)
		return e0;
	if (n == 1)
		return batch->rc = pg_tx(s, batch->fn, batch->arg);
	enum err e = pg_tx(s, group_run, batch);
	if (e == ERR_OK || e == ERR_UNAVAILABLE)
		return e;
	for (struct store_group_job *j = batch; j; j = j->next)
		j->rc = pg_tx(s, j->fn, j->arg);
	return ERR_OK;
}

/*
 * Group commit, as on SQLite (store_group.c): the concurrent pushes of this
 * process share one transaction, so they take the account's and the
 * collection's row locks once, and share one COMMIT and WAL flush. A push
 * refused (a conflict of an atomic push, a quota) makes its batch run
 * again push by push: rare, and cheaper than a savepoint per push. Writers
 * of one account follow each other anyway (its row lock); PostgreSQL's own
 * commits of other accounts' writers still run in parallel (other processes
 * and nodes).
 */
enum err pg_tx_group(struct store *s, int64_t key, enum err (*fn)(struct store *, void *), void *arg)
{
	if (s->mode == STORE_RO)
		return ERR_INTERNAL;
	if (s->pg && s->pg->in_tx != PG_TX_NONE)
		return fn(s, arg);
	/* a pooled store waits for its group's leader without a connection */
	pg_leave(s);
	return store_group_commit(s, key, fn, arg, group_batch);
}

enum err pg_read(struct store *s, enum err (*fn)(struct store *, void *), void *arg)
{
	return run_tx(s, PG_TX_READ, fn, arg);
}

/* ---- health and stats ---- */

enum err pg_round_trips(struct store *s, int64_t *n)
{
	*n = s->pg->round_trips;
	return ERR_OK;
}

enum err pg_health(struct store *s)
{
	PGresult *r = NULL;
	enum err e = pg_one_row(s, PG_HEALTH, NULL, &r, "health");
	PQclear(r);
	if (e == ERR_NOT_FOUND) {
		log_msg(LOG_ERROR, "store: health: the database holds no blindsync store");
		return ERR_UNAVAILABLE;
	}
	return e == ERR_OK ? ERR_OK : ERR_UNAVAILABLE;
}

enum err pg_stats(struct store *s, struct store_stats *out)
{
	memset(out, 0, sizeof *out);
	PGresult *r = NULL;
	enum err e = pg_one_row(s, PG_STATS, NULL, &r, "stats");
	if (e)
		return e == ERR_NOT_FOUND ? ERR_INTERNAL : e;
	out->accounts = pg_int(r, 0, 0);
	out->records = pg_int(r, 0, 1);
	out->bytes = pg_int(r, 0, 2);
	out->backups = pg_int(r, 0, 3);
	out->slots = pg_int(r, 0, 4);
	out->file_bytes = pg_int(r, 0, 5);
	PQclear(r);
	return ERR_OK;
}

/* ---- the location ---- */

/* FNV-1a of the URI: names this database's side files (not a secret, not a defence). */
static uint64_t uri_hash(const char *uri)
{
	uint64_t h = 1469598103934665603ULL;
	for (const unsigned char *c = (const unsigned char *)uri; *c; c++)
		h = (h ^ *c) * 1099511628211ULL;
	return h;
}

/*
 * The local directory of the side files, which every handler of the node
 * must share (the notifier wakes the status handler's long-polls on a
 * push handler's commit): $BLINDSYNC_RUNTIME_DIR, else systemd's
 * $RUNTIME_DIRECTORY, else its $STATE_DIRECTORY (our units' StateDirectory=,
 * one for all of them; /tmp is private to each unit), else
 * /tmp/blindsync-UID (created 0700; refused unless it is ours and private).
 */
static int runtime_dir(char *out, size_t outlen)
{
	const char *d = getenv("BLINDSYNC_RUNTIME_DIR");
	if (!d || !*d)
		d = getenv("RUNTIME_DIRECTORY");
	if (!d || !*d)
		d = getenv("STATE_DIRECTORY");
	int n;
	if (d && *d) {
		n = snprintf(out, outlen, "%s", d);
		return n < 0 || (size_t)n >= outlen ? -1 : 0;
	}
	n = snprintf(out, outlen, "/tmp/blindsync-%u", (unsigned)getuid());
	if (n < 0 || (size_t)n >= outlen)
		return -1;
	struct stat st;
	if (mkdir(out, 0700) != 0 && errno != EEXIST)
		return -1;
	if (lstat(out, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 077)) {
		log_msg(LOG_ERROR, "store: %s is not a private directory of this user; set BLINDSYNC_RUNTIME_DIR", out);
		return -1;
	}
	return 0;
}

/* "<runtime dir>/pg-<hash of the URI>-<name>": one set per database and machine. */
int pg_location_side(const char *location, const char *name, char *out, size_t outlen)
{
	char dir[STORE_LOCATION_MAX];
	if (runtime_dir(dir, sizeof dir) != 0) {
		if (outlen)
			out[0] = '\0';
		return -1;
	}
	int n = snprintf(out, outlen, "%s/pg-%016llx-%s", dir, (unsigned long long)uri_hash(location), name);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* Uploads are staged in $TMPDIR, else /var/tmp (on disk, unlike a tmpfs /tmp). */
int pg_location_spool(const char *location, char *out, size_t outlen)
{
	(void)location;
	const char *d = getenv("TMPDIR");
	int n = snprintf(out, outlen, "%s", d && *d ? d : "/var/tmp");
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* The schema version of the database on c: 0 when it has none. -1 with errbuf filled. */
static int read_version(PGconn *c, int *version, char *errbuf, size_t errlen)
{
	*version = 0;
	PGresult *r = PQexec(c, "SELECT to_regclass('schema_migrations') IS NOT NULL");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
		snprintf(errbuf, errlen, "database: cannot read the schema version: %s", m ? m : "?");
		PQclear(r);
		return -1;
	}
	int have = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (!have)
		return 0;
	r = PQexec(c, "SELECT coalesce(max(version), 0) FROM schema_migrations");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
		snprintf(errbuf, errlen, "database: cannot read the schema version: %s", m ? m : "?");
		PQclear(r);
		return -1;
	}
	*version = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

int pg_location_probe(const char *location, int *version, char *errbuf, size_t errlen)
{
	*version = 0;
	if (check_uri(location, errbuf, errlen) != 0)
		return -1;
	PGconn *c = connect_uri(location, 0, errbuf, errlen);
	if (!c)
		return -1;
	int rc = read_version(c, version, errbuf, errlen);
	PQfinish(c);
	if (rc != 0)
		return -1;
	return *version > 0 ? 1 : 0;
}

/* ---- migrations ---- */

/* Run constant SQL (a migration, a lock) on c; 0, or -1 with errbuf filled. */
static int exec_sql(PGconn *c, const char *sql, const char *what, char *errbuf, size_t errlen)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		snprintf(errbuf, errlen, "database: %s failed: %s (%s)", what, m ? m : PQerrorMessage(c),
		    state ? state : "-");
		PQclear(r);
		return -1;
	}
	PQclear(r);
	return 0;
}

/*
 * Every migration of sql/pg/ newer than the database's, in one transaction
 * under a transaction-level advisory lock: processes of every node starting
 * at once apply them once, the others wait and then find nothing to do. A
 * database that is current is left alone without the lock (every CGI
 * request starts here).
 */
int pg_migrate(const char *location, char *errbuf, size_t errlen)
{
	int ret = -1, have = 0, in_tx = 0;
	if (check_uri(location, errbuf, errlen) != 0)
		return -1;
	PGconn *c = connect_uri(location, 0, errbuf, errlen);
	if (!c)
		return -1;
	int want = pg_schema_version();
	if (read_version(c, &have, errbuf, errlen) != 0)
		goto out;
	if (have == want) {
		ret = 0;
		goto out;
	}
	if (exec_sql(c, "BEGIN", "begin", errbuf, errlen) != 0)
		goto out;
	in_tx = 1;
	/* no lock_timeout here: a migration in progress elsewhere is waited for */
	if (exec_sql(c, "SET LOCAL lock_timeout = 0", "set lock_timeout", errbuf, errlen) != 0 ||
	    exec_sql(c, "SELECT pg_advisory_xact_lock(" PG_MIGRATE_LOCK ")", "the migration lock", errbuf, errlen) != 0 ||
	    exec_sql(c,
	        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
	        "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
	        "creating schema_migrations", errbuf, errlen) != 0 ||
	    read_version(c, &have, errbuf, errlen) != 0)
		goto out;
	if (have > want) {
		snprintf(errbuf, errlen,
		    "database: the store has schema version %d, newer than this program's %d; upgrade blindsync", have,
		    want);
		goto out;
	}
	for (int i = 0; i < store_pg_migrations_count; i++) {
		const struct store_migration *m = &store_pg_migrations[i];
		if (m->version <= have)
			continue;
		char what[128];
		snprintf(what, sizeof what, "migration %s", m->name);
		if (exec_sql(c, m->sql, what, errbuf, errlen) != 0)
			goto out;
		char num[16];
		snprintf(num, sizeof num, "%d", m->version);
		const char *vals[2] = {num, m->name};
		PGresult *r = PQexecParams(c, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", 2, NULL,
		    vals, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
			snprintf(errbuf, errlen, "database: cannot record migration %s: %s", m->name, msg ? msg : "?");
			PQclear(r);
			goto out;
		}
		PQclear(r);
		log_msg(LOG_INFO, "store: applied migration pg/%s", m->name);
	}
	if (exec_sql(c, "COMMIT", "commit of the migrations", errbuf, errlen) != 0)
		goto out;
	in_tx = 0;
	ret = 0;
out:
	if (in_tx) {
		PGresult *r = PQexec(c, "ROLLBACK");
		PQclear(r);
	}
	PQfinish(c);
	return ret;
}

/* ---- open and close ---- */

/* A connection and its state to location; NULL with errbuf filled (a server that does not answer still gives one). */
static struct store_pg *conn_new(const char *location, enum store_mode mode, char *errbuf, size_t errlen)
{
	struct store_pg *p = calloc(1, sizeof *p);
	if (!p) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	snprintf(p->uri, sizeof p->uri, "%s", location);
	if (!(p->conn = connect_uri(location, mode == STORE_RO, errbuf, errlen))) {
		/* the server is down (a worker restarted during a restart of the
		 * database): this thread answers 503 until it is back, as the
		 * others do, instead of leaving the process without workers; a
		 * database that was never reachable failed store_migrate at start */
		log_msg(LOG_WARN, "store: %s; answering 503 until it answers", errbuf);
		p->next_connect_ms = now_ms() + PG_RECONNECT_MS;
		p->warned_ms = now_ms();
		return p;
	}
	int have = 0;
	if (read_version(p->conn, &have, errbuf, errlen) != 0)
		goto fail;
	if (have != pg_schema_version()) {
		snprintf(errbuf, errlen, "database: schema version %d, this program needs %d (is the schema migrated?)",
		    have, pg_schema_version());
		goto fail;
	}
	return p;
fail:
	PQfinish(p->conn);
	free(p);
	return NULL;
}

static void conn_free(struct store_pg *p)
{
	if (!p)
		return;
	ahead_clear(p);
	PQfinish(p->conn);
	pg_heads_free(p);
	pg_batch_free(p);
	free(p);
}

/*
 * The process's pool (store_share_connections): `size` connections made
 * by the first stores opened, lent to a store for as long as a call leaves
 * something open on it. `stores` counts the pooled stores open: the last
 * one closed closes the connections.
 */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int size, made, stores, nfree;
	struct store_pg **free;
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

void pg_share_connections(int n)
{
	pthread_mutex_lock(&pool.mu);
	if (pool.stores == 0) /* the size of a pool in use stays (its array is made for it) */
		pool.size = n > 0 ? n : 0;
	pthread_mutex_unlock(&pool.mu);
}

/* Nothing of a transaction, an early read or a push's batch is open on p: another store may use it. */
static int conn_idle(const struct store_pg *p)
{
	return p->in_tx == PG_TX_NONE && !p->early && !p->early_tx && p->nahead == 0 && !p->batched;
}

/*
 * A free connection out of the pool (its lock held): the last given back
 * that is connected, else one that may try to reconnect now, else the
 * last. One that went down in an outage waits PG_RECONNECT_MS between
 * attempts and answers 503 meanwhile: a request never gets it while a
 * working one is free.
 */
static struct store_pg *pool_pick(void)
{
	int64_t now = now_ms();
	int best = pool.nfree - 1;
	for (int i = pool.nfree - 1; i >= 0; i--) {
		if (pool.free[i]->conn) {
			best = i;
			break;
		}
		if (pool.free[i]->next_connect_ms <= now && pool.free[best]->next_connect_ms > now)
			best = i;
	}
	struct store_pg *p = pool.free[best];
	pool.free[best] = pool.free[--pool.nfree];
	return p;
}

/*
 * store_ops.enter: a pooled store without a connection borrows one
 * (waiting up to the busy timeout); op 0: whatever the call. A push's
 * tx_group waits for its group's leader without one (the leader borrows
 * in group_batch), and early_end has nothing to end without one.
 */
static enum err pg_enter(struct store *s, size_t op)
{
	if (!s->pooled || s->pg || (op && (op == offsetof(struct store_ops, tx_group) ||
	    op == offsetof(struct store_ops, early_end))))
		return ERR_OK;
	struct timespec until;
	int rc = deadline_in(CLOCK_MONOTONIC, STORE_BUSY_TIMEOUT_MS, &until) != 0 ? ETIMEDOUT : 0;
	pthread_mutex_lock(&pool.mu);
	while (pool.nfree == 0 && rc != ETIMEDOUT)
		rc = pthread_cond_clockwait(&pool.cv, &pool.mu, CLOCK_MONOTONIC, &until);
	if (pool.nfree > 0)
		s->pg = pool_pick();
	int size = pool.size;
	pthread_mutex_unlock(&pool.mu);
	if (s->pg)
		return ERR_OK;
	log_msg(LOG_WARN, "store: no database connection of this process's %d came free within %d ms", size,
	    STORE_BUSY_TIMEOUT_MS);
	return ERR_UNAVAILABLE;
}

/* store_ops.leave: a pooled store gives its connection back once nothing is open on it. */
static void pg_leave(struct store *s)
{
	if (!s->pooled || !s->pg || !conn_idle(s->pg))
		return;
	pthread_mutex_lock(&pool.mu);
	pool.free[pool.nfree++] = s->pg;
	pthread_cond_signal(&pool.cv);
	pthread_mutex_unlock(&pool.mu);
	s->pg = NULL;
}

/* A pooled store: the pool is made by the first, and gets a connection from each of the first `size`. */
static int pool_join(struct store *s, char *errbuf, size_t errlen)
{
	pthread_mutex_lock(&pool.mu);
	int make = pool.made < pool.size;
	if (!pool.free && !(pool.free = calloc((size_t)pool.size, sizeof *pool.free))) {
		pthread_mutex_unlock(&pool.mu);
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	if (make)
		pool.made++; /* taken now: the others do not wait for this connect */
	pool.stores++;
	s->pooled = 1;
	pthread_mutex_unlock(&pool.mu);
	if (!make)
		return 0;
	struct store_pg *p = conn_new(s->path, s->mode, errbuf, errlen);
	pthread_mutex_lock(&pool.mu);
	if (p) {
		pool.free[pool.nfree++] = p;
		pthread_cond_signal(&pool.cv);
	} else {
		pool.made--;
	}
	pthread_mutex_unlock(&pool.mu);
	return p ? 0 : -1;
}

/* A pooled store closes: its connection back (closed if a call left one open), and the last closes them all. */
static void pool_leave_store(struct store *s)
{
	pthread_mutex_lock(&pool.mu);
	if (s->pg) {
		if (conn_idle(s->pg)) {
			pool.free[pool.nfree++] = s->pg;
		} else {
			conn_free(s->pg);
			pool.made--;
		}
		s->pg = NULL;
	}
	if (--pool.stores == 0) {
		while (pool.nfree > 0)
			conn_free(pool.free[--pool.nfree]);
		free(pool.free);
		pool.free = NULL;
		pool.made = 0;
	}
	pthread_cond_broadcast(&pool.cv);
	pthread_mutex_unlock(&pool.mu);
}

int pg_open(const char *location, enum store_mode mode, struct store **out, char *errbuf, size_t errlen)
{
	*out = NULL;
	if (check_uri(location, errbuf, errlen) != 0)
		return -1;
	if (strlen(location) >= STORE_LOCATION_MAX) {
		snprintf(errbuf, errlen, "database: the URI is too long");
		return -1;
	}
	struct store *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	s->ops = &store_pg_ops;
	s->mode = mode;
	s->fd = -1;
	snprintf(s->path, sizeof s->path, "%s", location);
	pthread_mutex_lock(&pool.mu);
	int pooled = pool.size > 0;
	pthread_mutex_unlock(&pool.mu);
	if (pooled ? pool_join(s, errbuf, errlen) != 0 : !(s->pg = conn_new(location, mode, errbuf, errlen))) {
		pg_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

void pg_close(struct store *s)
{
	if (!s)
		return;
	if (s->pooled)
		pool_leave_store(s);
	else
		conn_free(s->pg);
	free(s);
}

/*
 * The PostgreSQL backend. A module that is not implemented yet leaves its
 * slots NULL: its functions then answer ERR_INTERNAL with a log line.
 */
#define STORE_OP_PG_SLOT(op, params, args) .op = pg_##op,
const struct store_ops store_pg_ops = {
	.name = "PostgreSQL",
	.close = pg_close,
	.enter = pg_enter,
	.leave = pg_leave,
	/* the connection: store_pg.c */
	STORE_OPS_CONN(STORE_OP_PG_SLOT)
	/* the rate limits every node charges: store_pg_limit.c */
	STORE_OPS_LIMIT(STORE_OP_PG_SLOT)
	/* accounts, devices, tokens, invites, events: store_pg_account.c */
	STORE_OPS_ACCOUNT(STORE_OP_PG_SLOT)
	/* two-factor login and the recovery key: store_pg_mfa.c */
	STORE_OPS_MFA(STORE_OP_PG_SLOT)

	/* collections, records, history: store_pg_sync.c */
	STORE_OPS_SYNC(STORE_OP_PG_SLOT)

	/* backups and slots: store_pg_blob.c */
	STORE_OPS_BLOB(STORE_OP_PG_SLOT)

	/* maintenance and blindsync-admin: store_pg_admin.c */
	STORE_OPS_ADMIN(STORE_OP_PG_SLOT)

	/* export and import: store_pg_transfer.c */
	STORE_OPS_TRANSFER(STORE_OP_PG_SLOT)

	/* the tickets of blindsync-live: store_pg_live.c */
	STORE_OPS_LIVE(STORE_OP_PG_SLOT)
	/* sharing: keys, members, invitations, grants: store_pg_share.c */
	STORE_OPS_SHARE(STORE_OP_PG_SLOT)
	/* every row as it is, for migrate-store: store_pg_copy.c */
	STORE_OPS_COPY(STORE_OP_PG_SLOT)

};
#undef STORE_OP_PG_SLOT
