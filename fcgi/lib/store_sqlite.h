/*
 * store_sqlite.h: what only the SQLite backend of the store can do: the
 * file-level operations of blindsync-admin (online backup into a file,
 * restore from one, inspecting a file, PRAGMA integrity_check, telling
 * whether another process has the store open). Everything a second backend
 * (PostgreSQL) could also implement is in store.h; only fcgi/admin.c
 * includes this header. Implemented in store_admin.c.
 */
#ifndef BLINDSYNC_STORE_SQLITE_H
#define BLINDSYNC_STORE_SQLITE_H

#include <stddef.h>

#include "store.h"

/*
 * PRAGMA integrity_check: fn is called with each line it answers ("ok" alone
 * when the file is sound); a non-zero return from fn stops. ERR_UNAVAILABLE
 * when the store cannot be read at all.
 */
enum err store_integrity_check(struct store *s, int (*fn)(void *ctx, const char *line), void *ctx);

/*
 * A consistent online copy of the store into the new file `path` (refused if
 * it exists) with SQLite's backup API: one read snapshot of the source (so
 * writers go on committing, in WAL mode they are never blocked), copied
 * 256 pages a step, sleeping briefly when the destination is busy. The copy
 * is a self-contained file (rollback journal mode, no -wal). On failure the
 * partial file is removed. 0, or -1 with errbuf filled.
 */
int store_backup_to(struct store *s, const char *path, char *errbuf, size_t errlen);

/*
 * Look at the SQLite file `path` without changing it (opened read-only):
 * *user_version is its PRAGMA user_version; if integrity is not NULL, the
 * first line of PRAGMA integrity_check goes there ("ok" when sound, else
 * the first problem, with " (and more)" when there are several); *ours is 1
 * if its meta table says it is a blindsync store. 0, or -1 with errbuf
 * filled when it cannot be read as an SQLite database at all.
 */
int store_file_inspect(const char *path, int *user_version, int *ours, char *integrity, size_t ilen,
    char *errbuf, size_t errlen);

/*
 * 1 if some process other than this one has the store `path` open (it holds
 * SQLite's shared "dead man switch" lock on path-shm, which every open
 * connection of a WAL store keeps while it is open, idle or not), 0 if none
 * does, -1 with errbuf filled when that cannot be told.
 */
int store_in_use(const char *path, char *errbuf, size_t errlen);

/*
 * Replace the content of the store `path` with that of the SQLite file
 * `from` using the backup API in the other direction: one write transaction
 * on the live store, so its readers see either the old or the new content,
 * never a mix; the live store stays in WAL mode. The caller checks `from`
 * first (store_file_inspect) and runs store_migrate afterwards. 0, or -1
 * with errbuf filled.
 */
int store_restore_from(const char *path, const char *from, char *errbuf, size_t errlen);

#endif
