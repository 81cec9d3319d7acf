/*
 * store_migrations.h: the numbered schema migrations compiled in by
 * scripts/embed-sql.sh: from sql/ for SQLite (build/lib/migrations.c;
 * version N is the PRAGMA user_version a store has once migration N has been
 * applied) and from sql/pg/ for PostgreSQL (build/lib/migrations_pg.c;
 * recorded in its schema_migrations table).
 */
#ifndef BLINDSYNC_STORE_MIGRATIONS_H
#define BLINDSYNC_STORE_MIGRATIONS_H

struct store_migration {
	int version;
	const char *name;
	const char *sql;
};

extern const struct store_migration store_migrations[];
extern const int store_migrations_count;
extern const struct store_migration store_pg_migrations[];
extern const int store_pg_migrations_count;

#endif
