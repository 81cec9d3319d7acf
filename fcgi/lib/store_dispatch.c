/*
 * store_dispatch.c: the functions of store.h, each a call into the backend
 * the store was opened with (store_ops.h). The location alone chooses the
 * backend: a postgresql:// or postgres:// URI is PostgreSQL (store_pg.c),
 * anything else an SQLite file (store.c).
 *
 * Must never: do a backend's work here, or guess a backend from anything
 * but the location's scheme.
 */
#include "store_impl.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "log.h"

int store_location_is_pg(const char *location)
{
	return strncasecmp(location, "postgresql://", 13) == 0 || strncasecmp(location, "postgres://", 11) == 0;
}

int store_location_side(const char *location, const char *name, char *out, size_t outlen)
{
	return store_location_is_pg(location) ? pg_location_side(location, name, out, outlen)
	                                      : lite_location_side(location, name, out, outlen);
}

int store_location_spool(const char *location, char *out, size_t outlen)
{
	return store_location_is_pg(location) ? pg_location_spool(location, out, outlen)
	                                      : lite_location_spool(location, out, outlen);
}

int store_location_probe(const char *location, int *version, char *errbuf, size_t errlen)
{
	return store_location_is_pg(location) ? pg_location_probe(location, version, errbuf, errlen)
	                                      : lite_location_probe(location, version, errbuf, errlen);
}

int store_schema_version_at(const char *location)
{
	return store_location_is_pg(location) ? pg_schema_version() : store_schema_version();
}

int store_migrate(const char *location, char *errbuf, size_t errlen)
{
	return store_location_is_pg(location) ? pg_migrate(location, errbuf, errlen)
	                                      : lite_migrate(location, errbuf, errlen);
}

int store_open(const char *location, enum store_mode mode, struct store **out, char *errbuf, size_t errlen)
{
	return store_location_is_pg(location) ? pg_open(location, mode, out, errbuf, errlen)
	                                      : lite_open(location, mode, out, errbuf, errlen);
}

void store_share_connections(int n) { pg_share_connections(n); }

void store_close(struct store *s)
{
	if (s)
		s->ops->close(s);
}

int store_is_writable(const struct store *s) { return s && s->mode == STORE_RW; }

/* A slot the backend left empty: a logged 500, never a silent success. */
static enum err missing(const struct store *s, const char *op)
{
	log_msg(LOG_ERROR, "store: %s is not implemented on %s", op, s->ops->name);
	return ERR_INTERNAL;
}

/* store_NAME(...) calls s->ops->NAME(...), between enter and leave when the backend has them */
#define STORE_OP_DISPATCH(op, params, args) \
	enum err store_##op params \
	{ \
		if (!s->ops->op) \
			return missing(s, "store_" #op); \
		if (!s->ops->enter) \
			return s->ops->op args; \
		enum err e_ = s->ops->enter(s, offsetof(struct store_ops, op)); \
		if (e_ == ERR_OK) \
			e_ = s->ops->op args; \
		s->ops->leave(s); \
		return e_; \
	}
STORE_OPS(STORE_OP_DISPATCH)
#undef STORE_OP_DISPATCH
