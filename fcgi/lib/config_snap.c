/*
 * config_snap.c: the current config of a threaded handler, as a
 * reference-counted snapshot (config_init, config_acquire/config_release,
 * config_reload, config_reload_if_changed, config_shutdown).
 *
 * A request takes a reference for its whole life, so a reload never changes
 * a config under a request; a snapshot is freed when it is no longer current
 * and its last holder releases it. A file that fails to load leaves the
 * current snapshot in place.
 *
 * This file must never: hand out a config that did not validate, free a
 * snapshot someone holds, or load the file with a lock held that requests
 * take (snap_mu guards only the pointer and the counts).
 */
#include <pthread.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "config.h"
#include "config_impl.h"

/* ---------------------------------------------------------------------- */
/* snapshots */

struct snap {
	struct config cfg;   /* first: config_release() gets back to the snap */
	int refs;            /* the current pointer holds one */
};

static pthread_mutex_t snap_mu = PTHREAD_MUTEX_INITIALIZER;   /* cur, refs */
static pthread_mutex_t reload_mu = PTHREAD_MUTEX_INITIALIZER; /* the rest */
static struct snap *cur;
static char snap_path[sizeof(((struct config *)0)->path)];
static int snap_has_path;
static struct fileid snap_seen;        /* the file as last read (good or bad) */
static struct timespec snap_checked;   /* last stat, CLOCK_MONOTONIC */
static int snap_has_checked;

static void
snap_drop(struct snap *s)
{
	int last;

	if (!s)
		return;
	pthread_mutex_lock(&snap_mu);
	last = --s->refs == 0;
	pthread_mutex_unlock(&snap_mu);
	if (last)
		free(s);
}

/* Makes `s` current (its one reference moves to `cur`); drops the old one. */
static void
snap_swap(struct snap *s)
{
	struct snap *old;

	pthread_mutex_lock(&snap_mu);
	old = cur;
	cur = s;
	pthread_mutex_unlock(&snap_mu);
	snap_drop(old);
}

/* With reload_mu held: loads snap_path and swaps it in when valid. */
static int
snap_reload_locked(char *errbuf, size_t errlen)
{
	struct snap *s;
	struct fileid id;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (!cur) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "config: not initialised");
		return -1;
	}
	if (!snap_has_path)
		return 0;
	if (!(s = malloc(sizeof *s))) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s: out of memory", snap_path);
		return -1;
	}
	s->refs = 1;
	if (cfg_load_file(snap_path, &s->cfg, errbuf, errlen, &id) != 0) {
		snap_seen = id;
		free(s);
		return -1;
	}
	snap_seen = id;
	snap_swap(s);
	return 0;
}

/*
 * Loads the config at `path` (built-in defaults when path is NULL) and makes
 * it the current snapshot, replacing any earlier one. Returns 0, or -1 with
 * errbuf filled (the current snapshot, if any, is kept).
 */
int
config_init(const char *path, char *errbuf, size_t errlen)
{
	struct snap *s;
	struct fileid id;
	int rc = -1;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	pthread_mutex_lock(&reload_mu);
	if (path && strlen(path) >= sizeof snap_path) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%.64s...: path too long", path);
		goto out;
	}
	if (!(s = malloc(sizeof *s))) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "config: out of memory");
		goto out;
	}
	s->refs = 1;
	memset(&id, 0, sizeof id);
	if (path) {
		if (cfg_load_file(path, &s->cfg, errbuf, errlen, &id) != 0) {
			free(s);
			goto out;
		}
		cfg_copy_str(snap_path, sizeof snap_path, path);
	} else {
		config_defaults(&s->cfg);
		snap_path[0] = '\0';
	}
	snap_has_path = path != NULL;
	snap_seen = id;
	snap_has_checked = 0;
	snap_swap(s);
	rc = 0;
out:
	pthread_mutex_unlock(&reload_mu);
	return rc;
}

/*
 * The current snapshot with a reference held, or NULL before config_init().
 * The caller must config_release() it; the snapshot never changes.
 */
const struct config *
config_acquire(void)
{
	struct snap *s;

	pthread_mutex_lock(&snap_mu);
	s = cur;
	if (s)
		s->refs++;
	pthread_mutex_unlock(&snap_mu);
	return s ? &s->cfg : NULL;
}

/*
 * Drops a reference taken by config_acquire(); the snapshot is freed when it
 * is no longer current and nobody holds it. NULL is a no-op.
 */
void
config_release(const struct config *c)
{
	if (!c)
		return;
	snap_drop((struct snap *)(void *)((char *)(uintptr_t)c - offsetof(struct snap, cfg)));
}

/*
 * Loads the file again and makes it current if it validates. Returns 0 (also
 * when running on built-in defaults, which never change), or -1 with errbuf
 * filled and the old snapshot kept.
 */
int
config_reload(char *errbuf, size_t errlen)
{
	int rc;

	pthread_mutex_lock(&reload_mu);
	rc = snap_reload_locked(errbuf, errlen);
	pthread_mutex_unlock(&reload_mu);
	return rc;
}

/*
 * Reloads when the file changed (device, inode, size or mtime differ from
 * the last read, good or bad), looking at most once a second. Returns 1
 * after a reload, 0 if nothing changed or it is too soon, -1 if the reload
 * failed (errbuf filled; reported once per change of the file).
 */
int
config_reload_if_changed(char *errbuf, size_t errlen)
{
	struct timespec now;
	struct stat st;
	struct fileid id;
	int rc = 0;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	pthread_mutex_lock(&reload_mu);
	if (!cur || !snap_has_path)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (snap_has_checked && (now.tv_sec - snap_checked.tv_sec) * 1000000000LL +
	    (now.tv_nsec - snap_checked.tv_nsec) < 1000000000LL)
		goto out;
	snap_checked = now;
	snap_has_checked = 1;
	memset(&id, 0, sizeof id);
	if (stat(snap_path, &st) == 0)
		cfg_fileid_of(&id, &st);
	else
		id.err = errno;
	if (cfg_fileid_same(&id, &snap_seen))
		goto out;
	rc = snap_reload_locked(errbuf, errlen) == 0 ? 1 : -1;
out:
	pthread_mutex_unlock(&reload_mu);
	return rc;
}

/*
 * Drops the current snapshot (freed once the last holder releases it) and
 * forgets the path; config_acquire() returns NULL until config_init().
 */
void
config_shutdown(void)
{
	pthread_mutex_lock(&reload_mu);
	snap_swap(NULL);
	snap_path[0] = '\0';
	snap_has_path = 0;
	memset(&snap_seen, 0, sizeof snap_seen);
	snap_has_checked = 0;
	pthread_mutex_unlock(&reload_mu);
}

