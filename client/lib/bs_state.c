/*
 * bs_state.c: the local state of a client session, one SQLite file
 * (blindsync.db, mode 0600, in a home directory of mode 0700). It holds
 * the session (server, username, tokens, device id, data key), the
 * collections with their last pulled version, the records as plaintext
 * (the data key sits in the same file, so sealing them again would protect
 * nothing; the file's mode is the protection, and logout deletes them),
 * the queue of local changes and the conflicts set aside. Every change is
 * a transaction; secure_delete overwrites what is deleted.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "bs_impl.h"

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=FULL;"
	"PRAGMA secure_delete=ON;"
	"PRAGMA foreign_keys=ON;"
	"CREATE TABLE IF NOT EXISTS settings (k TEXT PRIMARY KEY, v BLOB NOT NULL);"
	"CREATE TABLE IF NOT EXISTS collections (sname TEXT PRIMARY KEY, name TEXT,"
	"  version INTEGER NOT NULL DEFAULT 0, meta_sent INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS records (sname TEXT NOT NULL, rid TEXT NOT NULL,"
	"  app_id TEXT, version INTEGER NOT NULL, deleted INTEGER NOT NULL, data BLOB,"
	"  PRIMARY KEY (sname, rid));"
	"CREATE TABLE IF NOT EXISTS queue (sname TEXT NOT NULL, rid TEXT NOT NULL,"
	"  app_id TEXT NOT NULL, deleted INTEGER NOT NULL, data BLOB,"
	"  base_version INTEGER NOT NULL, PRIMARY KEY (sname, rid));"
	"CREATE TABLE IF NOT EXISTS conflicts (seq INTEGER PRIMARY KEY, sname TEXT NOT NULL,"
	"  rid TEXT NOT NULL, app_id TEXT NOT NULL, server_version INTEGER NOT NULL, data BLOB);"
	/* sharing: the collections shared with this account (one grant each,
	 * its keys by version), the own collections' key versions, the pins */
	"CREATE TABLE IF NOT EXISTS shared (sname TEXT PRIMARY KEY, owner TEXT NOT NULL,"
	"  name TEXT NOT NULL, role TEXT NOT NULL, id_key BLOB NOT NULL);"
	"CREATE TABLE IF NOT EXISTS share_keys (sname TEXT NOT NULL, kv INTEGER NOT NULL,"
	"  key BLOB NOT NULL, PRIMARY KEY (sname, kv));"
	"CREATE TABLE IF NOT EXISTS key_versions (sname TEXT PRIMARY KEY, kv INTEGER NOT NULL);"
	/* own collections the server marked rotate_due (a member removed or
	 * left): rotated before the next push into them (bs__rotate_due) */
	"CREATE TABLE IF NOT EXISTS rotate_due (sname TEXT PRIMARY KEY);"
	"CREATE TABLE IF NOT EXISTS pins (username TEXT PRIMARY KEY, x25519 BLOB NOT NULL,"
	"  ed25519 BLOB NOT NULL);"
	"PRAGMA user_version=1;";

sqlite3_stmt *
bs__prep(struct bs_client *c, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
		bs__fail(c, BS_LOCAL, "state", "the local state: %s", sqlite3_errmsg(c->db));
		return NULL;
	}
	return st;
}

int
bs__run(struct bs_client *c, sqlite3_stmt *st)
{
	int r = st ? sqlite3_step(st) : SQLITE_ERROR;

	sqlite3_finalize(st);
	if (r != SQLITE_DONE && r != SQLITE_ROW)
		return bs__fail(c, BS_LOCAL, "state", "cannot write the local state: %s",
		    sqlite3_errmsg(c->db));
	return BS_OK;
}

int64_t
bs__state_int(struct bs_client *c, const char *sql, const char *arg)
{
	sqlite3_stmt *st = bs__prep(c, sql);
	int64_t v = 0;

	if (!st)
		return 0;
	sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

int
bs__begin(struct bs_client *c)
{
	if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return bs__fail(c, BS_LOCAL, "state", "the local state is busy: %s", sqlite3_errmsg(c->db));
	return BS_OK;
}

int
bs__commit(struct bs_client *c)
{
	if (sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		bs__rollback(c);
		return bs__fail(c, BS_LOCAL, "state", "cannot write the local state: %s",
		    sqlite3_errmsg(c->db));
	}
	return BS_OK;
}

void
bs__rollback(struct bs_client *c)
{
	if (!sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

int
bs__set(struct bs_client *c, const char *k, const void *v, size_t n)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = v ? sqlite3_prepare_v2(c->db, "INSERT OR REPLACE INTO settings (k, v) VALUES (?1, ?2)",
	    -1, &st, NULL) : sqlite3_prepare_v2(c->db, "DELETE FROM settings WHERE k = ?1", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
		if (v)
			sqlite3_bind_blob(st, 2, v, (int)n, SQLITE_STATIC);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return bs__fail(c, BS_LOCAL, "state", "cannot write the local state: %s",
		    sqlite3_errmsg(c->db));
	return BS_OK;
}

int
bs__get_setting(struct bs_client *c, const char *k, void **v, size_t *n)
{
	sqlite3_stmt *st = NULL;
	int rc = BS_OK;

	*v = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(c->db, "SELECT v FROM settings WHERE k = ?1", -1, &st, NULL) != SQLITE_OK)
		return bs__fail(c, BS_LOCAL, "state", "cannot read the local state");
	sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		size_t len = (size_t)sqlite3_column_bytes(st, 0);
		const void *p = sqlite3_column_blob(st, 0);
		if (!(*v = malloc(len + 1)))
			rc = bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
		else {
			if (len)
				memcpy(*v, p, len);
			((char *)*v)[len] = '\0';
			*n = len;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

/* Load a text setting into *dst (malloc'd, NULL when absent). */
static int
load_str(struct bs_client *c, const char *k, char **dst)
{
	void *v;
	size_t n;
	int rc = bs__get_setting(c, k, &v, &n);

	if (rc == BS_OK) {
		free(*dst);
		*dst = v;
	}
	return rc;
}

int
bs__save_tokens(struct bs_client *c)
{
	int rc;

	if ((rc = bs__begin(c)))
		return rc;
	if ((rc = bs__set(c, "access", c->access, c->access ? strlen(c->access) : 0)) ||
	    (rc = bs__set(c, "refresh", c->refresh, c->refresh ? strlen(c->refresh) : 0))) {
		bs__rollback(c);
		return rc;
	}
	return bs__commit(c);
}

int
bs__state_open(struct bs_client *c)
{
	char *path = NULL;
	size_t n = strlen(c->home) + 16;
	int fd, rc = BS_OK;
	void *k = NULL;
	size_t kn = 0;
	struct stat sb;

	if (mkdir(c->home, 0700) != 0 && errno != EEXIST)
		return bs__fail(c, BS_LOCAL, "home", "cannot create %s: %s", c->home, strerror(errno));
	if (stat(c->home, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return bs__fail(c, BS_LOCAL, "home", "%s is not a directory", c->home);
	if (!(path = malloc(n)))
		return bs__fail(c, BS_LOCAL, "no_memory", "out of memory");
	snprintf(path, n, "%s/blindsync.db", c->home);
	/* create the file 0600 before SQLite does, whatever the umask */
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		rc = bs__fail(c, BS_LOCAL, "home", "cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	if (fchmod(fd, 0600) != 0) {
		close(fd);
		rc = bs__fail(c, BS_LOCAL, "home", "cannot chmod %s: %s", path, strerror(errno));
		goto out;
	}
	close(fd);
	umask(077);   /* the WAL and shm files SQLite makes beside it */
	if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		rc = bs__fail(c, BS_LOCAL, "state", "cannot open %s", path);
		goto out;
	}
	sqlite3_busy_timeout(c->db, 10000);
	if (sqlite3_exec(c->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
		rc = bs__fail(c, BS_LOCAL, "state", "cannot set up %s: %s", path, sqlite3_errmsg(c->db));
		goto out;
	}
	if (!c->server && (rc = load_str(c, "server", &c->server)))
		goto out;
	if ((rc = load_str(c, "user", &c->user)) || (rc = load_str(c, "access", &c->access)) ||
	    (rc = load_str(c, "refresh", &c->refresh)) || (rc = load_str(c, "device_id", &c->device_id)))
		goto out;
	if ((rc = bs__get_setting(c, "data_key", &k, &kn)))
		goto out;
	if (k && kn == sizeof c->data_key.b) {
		memcpy(c->data_key.b, k, kn);
		if (bs1_id_key(&c->data_key, &c->id_key) == BS1_OK)
			c->have_key = 1;
	}
out:
	if (k) {
		bs1_wipe(k, kn);
		free(k);
	}
	free(path);
	return rc;
}

void
bs__state_close(struct bs_client *c)
{
	if (c->db)
		sqlite3_close(c->db);
	c->db = NULL;
}

int
bs__state_clear_data(struct bs_client *c)
{
	if (sqlite3_exec(c->db, "DELETE FROM records; DELETE FROM queue; DELETE FROM conflicts;"
	    "DELETE FROM collections; DELETE FROM settings WHERE k = 'status_etag';"
	    "DELETE FROM shared; DELETE FROM share_keys; DELETE FROM key_versions; DELETE FROM pins;", NULL, NULL, NULL) != SQLITE_OK)
		return bs__fail(c, BS_LOCAL, "state", "cannot clear the local state: %s",
		    sqlite3_errmsg(c->db));
	return BS_OK;
}

/* Wipe and free a secret string. */
static void
free_secret(char **s)
{
	if (*s) {
		bs1_wipe(*s, strlen(*s));
		free(*s);
	}
	*s = NULL;
}

int
bs__state_forget(struct bs_client *c)
{
	int rc;

	free_secret(&c->access);
	free_secret(&c->refresh);
	free(c->device_id);
	c->device_id = NULL;
	bs1_wipe(&c->data_key, sizeof c->data_key);
	bs1_wipe(&c->id_key, sizeof c->id_key);
	c->have_key = 0;
	if ((rc = bs__begin(c)))
		return rc;
	if (sqlite3_exec(c->db, "DELETE FROM settings WHERE k IN ('access', 'refresh', 'device_id',"
	    "'data_key', 'keyring_key', 'identity')", NULL, NULL, NULL) != SQLITE_OK) {
		bs__rollback(c);
		return bs__fail(c, BS_LOCAL, "state", "cannot clear the session");
	}
	if ((rc = bs__state_clear_data(c))) {
		bs__rollback(c);
		return rc;
	}
	if ((rc = bs__commit(c)))
		return rc;
	/* push what was deleted out of the WAL into the (overwritten) main file */
	sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	return BS_OK;
}
