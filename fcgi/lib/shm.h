/*
 * shm.h: a small table shared by every process of the machine, as a
 * MAP_SHARED mapping of a file beside the store (the metrics and the
 * long-poll notifications).
 */
#ifndef BLINDSYNC_SHM_H
#define BLINDSYNC_SHM_H

#include <stddef.h>

/*
 * Map size bytes of the file at path read-write and shared; the file is
 * created (0600, never through a symlink) and grown to size if it is
 * shorter, which is idempotent across racing processes, so a new table
 * reads as zeroes. Returns the mapping (the caller munmap()s it), or NULL
 * with errbuf filled ("PATH: cannot size the WHAT: reason").
 */
void *shm_map(const char *path, size_t size, const char *what, char *errbuf, size_t errlen);

#endif
