/*
 * store_pg_bus.c: messages between the machines that share a store (store.h,
 * "messages between the machines"): for PostgreSQL a libpq connection of
 * its own, LISTEN and pg_notify() on one channel; for SQLite nothing.
 *
 * The relay (relay.c) is its only user: one sender and one listener per
 * machine, so that writers never NOTIFY inside their transactions (every
 * commit that notifies takes one cluster-wide lock in PostgreSQL, and
 * writers would queue on it). Must never: carry a secret or a payload (the
 * messages are slot numbers), or block longer than the caller's timeout.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_impl.h"

#define BUS_CHANNEL "blindsync_wake"

struct store_bus {
	PGconn *conn;
};

int store_location_shared(const char *location) { return store_location_is_pg(location); }

/* errbuf gets "WHAT: libpq's message", its newline removed. */
static void bus_error(PGconn *c, const char *what, char *errbuf, size_t errlen)
{
	const char *m = c ? PQerrorMessage(c) : "out of memory";
	size_t n = strcspn(m, "\n");
	snprintf(errbuf, errlen, "%s: %.*s", what, (int)(n < 400 ? n : 400), m);
}

int store_bus_open(const char *location, int listen, struct store_bus **out, char *errbuf, size_t errlen)
{
	*out = NULL;
	if (!store_location_shared(location))
		return 0;
	struct store_bus *b = calloc(1, sizeof *b);
	if (!b) {
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	b->conn = PQconnectdb(location);
	if (!b->conn || PQstatus(b->conn) != CONNECTION_OK) {
		bus_error(b->conn, "cannot connect to the database", errbuf, errlen);
		goto fail;
	}
	if (listen) {
		PGresult *res = PQexec(b->conn, "LISTEN " BUS_CHANNEL);
		int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
		PQclear(res);
		if (!ok) {
			bus_error(b->conn, "LISTEN", errbuf, errlen);
			goto fail;
		}
	}
	*out = b;
	return 0;
fail:
	store_bus_close(b);
	return -1;
}

void store_bus_close(struct store_bus *b)
{
	if (!b)
		return;
	PQfinish(b->conn);
	free(b);
}

int store_bus_send(struct store_bus *b, const char *msg)
{
	const char *params[1] = {msg};
	PGresult *res = PQexecParams(b->conn, "SELECT pg_notify('" BUS_CHANNEL "', $1)", 1, NULL, params, NULL,
	    NULL, 0);
	int ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	PQclear(res);
	return ok ? 0 : -1;
}

/* Call fn with each notification libpq has read; 0 if there was one. */
static int drain(struct store_bus *b, void (*fn)(void *ctx, const char *msg), void *ctx)
{
	PGnotify *n;
	int got = -1;
	while ((n = PQnotifies(b->conn)) != NULL) {
		fn(ctx, n->extra ? n->extra : "");
		PQfreemem(n);
		got = 0;
	}
	return got;
}

int store_bus_wait(struct store_bus *b, int timeout_ms, void (*fn)(void *ctx, const char *msg), void *ctx)
{
	if (PQstatus(b->conn) != CONNECTION_OK)
		return -1;
	if (drain(b, fn, ctx) == 0)
		return 0;
	struct pollfd pfd = {.fd = PQsocket(b->conn), .events = POLLIN};
	if (pfd.fd < 0)
		return -1;
	int r = poll(&pfd, 1, timeout_ms);
	if (r < 0)
		return errno == EINTR ? 0 : -1;
	if (r == 0)
		return 0;
	/* readable: a notification, or the end of the connection */
	if (!PQconsumeInput(b->conn))
		return -1;
	drain(b, fn, ctx);
	return PQstatus(b->conn) == CONNECTION_OK ? 0 : -1;
}
