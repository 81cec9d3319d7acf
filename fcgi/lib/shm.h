/*
 * shm.h: the one way to share a table between every process of the
 * machine: a MAP_SHARED mapping of a file beside the store. Used by the
 * store's write queue (store.c), the rate limits (limit.c), the metrics
 * (metrics.c) and the long-poll wake-ups (notify.c).
 *
 * A table with a header (spec->magic set) starts with struct shm_header:
 * its kind and layout, the boot id of the machine that initialised it and a
 * robust process-shared mutex. It is initialised exactly once, under
 * flock(LOCK_EX) on the file, and replaced by a fresh one (a new inode, so
 * that a process still mapping the old one is never cut short) when it was
 * initialised in another boot or holds another layout. A file that is not
 * ours is refused, never overwritten. A bare table (spec->magic NULL) is
 * only grown to its size and mapped: it reads as zeros when new.
 */
#ifndef BLINDSYNC_SHM_H
#define BLINDSYNC_SHM_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define SHM_MAGIC_LEN 8
#define SHM_BOOT_ID_MAX 40
#define SHM_HEADER_SIZE 128  /* the caller's data starts here */

struct shm_header {
	char magic[SHM_MAGIC_LEN];  /* the table's kind; written last at initialisation */
	uint32_t version;           /* the caller's layout version */
	uint32_t mutex_size;        /* a 32-bit and a 64-bit process must not share */
	uint64_t size;              /* the whole file */
	uint64_t recovered;         /* locks recovered from dead owners (under the lock) */
	uint64_t reserved;
	char boot_id[SHM_BOOT_ID_MAX]; /* at byte 40: tests fake a reboot by writing there */
	pthread_mutex_t lock;
};

_Static_assert(sizeof(struct shm_header) <= SHM_HEADER_SIZE, "the header fits its place");

/* What a table is; a const table of these lives beside each user. */
struct shm_spec {
	const char *what;     /* "limits file": names it in messages */
	const char *magic;    /* SHM_MAGIC_LEN bytes; NULL for a bare table */
	uint32_t version;     /* layout version, for a header */
	size_t size;          /* the whole file, header included */
	size_t legacy_size;   /* a file of exactly this size without our magic is
	                         an older headerless layout and is replaced; 0: none */
	int strict;           /* refuse a file that is not owned by this user with
	                         mode 0600 (it holds a secret); otherwise a file of
	                         ours is made 0600 */
	/* fill the data of a fresh zeroed table (under the flock, before the
	 * magic is written); NULL or a reason for the failure */
	const char *(*init)(void *data);
};

/*
 * Open (creating, 0600, never through a symlink) the file at path and map
 * spec->size bytes of it read-write and shared, as described above. Safe to
 * call from several processes at once. Returns the mapping (release it with
 * shm_close), or NULL with one line in errbuf ("WHAT PATH: reason").
 */
void *shm_open_table(const struct shm_spec *spec, const char *path, char *errbuf, size_t errlen);

/* Unmap a table of spec->size bytes. NULL is fine. */
void shm_close(const struct shm_spec *spec, void *table);

/* The caller's data in a table with a header. */
static inline void *shm_data(void *table) { return (char *)table + SHM_HEADER_SIZE; }

/*
 * Take the table's mutex, waiting at most timeout_ms (a short spin first:
 * the critical sections are short). When its owner died holding it
 * (EOWNERDEAD) it is made consistent and counted in h->recovered: whoever
 * uses the table must cope with a half-done update. Returns 0 with the lock
 * held, else ETIMEDOUT, ENOTRECOVERABLE or another errno value.
 */
int shm_lock(struct shm_header *h, int timeout_ms);

/* Release the mutex taken by shm_lock. */
void shm_unlock(struct shm_header *h);

#endif
