/*
 * store_migrations.h: the numbered schema migrations compiled in from sql/
 * by scripts/embed-sql.sh (build/lib/migrations.c). Version N is the
 * PRAGMA user_version a store has once migration N has been applied.
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

#endif
