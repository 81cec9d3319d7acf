/*
 * shm.c: tables shared by every process through a mapped file (see shm.h).
 *
 * Must never: write into a file it did not recognise as its own (the path
 * may be misconfigured to the store itself), follow a symlink, map a header
 * before it was seen complete under the flock, or truncate a file that
 * another process may still map (it would die of SIGBUS): a stale table is
 * unlinked and a new file made in its place.
 */
#include "shm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "deadline.h"

#define SHM_OPEN_TRIES 8   /* files replaced under us before giving up */
#define SHM_SPINS 200      /* trylocks before sleeping on the mutex */
#define SHM_BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"

static void seterr(char *errbuf, size_t errlen, const struct shm_spec *spec, const char *path, const char *what,
    int e)
{
	if (!errbuf || !errlen)
		return;
	if (e)
		snprintf(errbuf, errlen, "%s %s: %s: %s", spec->what, path, what, strerror(e));
	else
		snprintf(errbuf, errlen, "%s %s: %s", spec->what, path, what);
}

/* This boot's id into buf (NUL-terminated), or "" when unreadable. */
static void read_boot_id(char buf[SHM_BOOT_ID_MAX])
{
	buf[0] = '\0';
	int fd = open(SHM_BOOT_ID_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, SHM_BOOT_ID_MAX - 1);
	close(fd);
	if (n <= 0) {
		buf[0] = '\0';
		return;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

/*
 * Give the file (flocked by the caller) a fresh table: empty it, reserve its
 * size on disk (so that a full disk fails here and never as SIGBUS on a
 * later write through the mapping), map it, write the header and the
 * caller's data, the magic last. Returns the mapping, or MAP_FAILED with
 * errbuf set.
 */
static void *init_table(const struct shm_spec *spec, int fd, const char *path, const char *boot,
    char *errbuf, size_t errlen)
{
	pthread_mutexattr_t attr;
	const char *why;
	int r;
	if (ftruncate(fd, 0) != 0) {
		seterr(errbuf, errlen, spec, path, "ftruncate", errno);
		return MAP_FAILED;
	}
	r = posix_fallocate(fd, 0, (off_t)spec->size);
	if (r == EOPNOTSUPP || r == EINVAL) {
		if (ftruncate(fd, (off_t)spec->size) != 0) {
			seterr(errbuf, errlen, spec, path, "ftruncate", errno);
			return MAP_FAILED;
		}
	} else if (r != 0) {
		seterr(errbuf, errlen, spec, path, "posix_fallocate", r);
		return MAP_FAILED;
	}
	void *map = mmap(NULL, spec->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		seterr(errbuf, errlen, spec, path, "mmap", errno);
		return MAP_FAILED;
	}
	struct shm_header *h = map;
	/* the file was just emptied: everything reads as zeros */
	h->version = spec->version;
	h->mutex_size = sizeof(pthread_mutex_t);
	h->size = spec->size;
	snprintf(h->boot_id, sizeof h->boot_id, "%s", boot);
	if ((r = pthread_mutexattr_init(&attr)) != 0) {
		seterr(errbuf, errlen, spec, path, "pthread_mutexattr_init", r);
		goto fail;
	}
	if ((r = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED)) != 0 ||
	    (r = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST)) != 0 ||
	    (r = pthread_mutex_init(&h->lock, &attr)) != 0) {
		pthread_mutexattr_destroy(&attr);
		seterr(errbuf, errlen, spec, path, "shared robust mutex", r);
		goto fail;
	}
	pthread_mutexattr_destroy(&attr);
	if (spec->init && (why = spec->init(shm_data(map))) != NULL) {
		seterr(errbuf, errlen, spec, path, why, 0);
		goto fail;
	}
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memcpy(h->magic, spec->magic, SHM_MAGIC_LEN); /* last: the table is valid */
	return map;
fail:
	munmap(map, spec->size);
	return MAP_FAILED;
}

/* What an existing file holds, judged from its first bytes and size. */
enum shm_kind { KIND_EMPTY, KIND_OURS, KIND_STALE_BOOT, KIND_OLD_LAYOUT, KIND_HALF_INIT, KIND_FOREIGN };

static enum shm_kind classify(const struct shm_spec *spec, int fd, off_t size, const char *boot, int *err)
{
	static const char zeros[SHM_MAGIC_LEN];
	struct shm_header h;
	*err = 0;
	if (size == 0)
		return KIND_EMPTY;
	memset(&h, 0, sizeof h);
	ssize_t n = pread(fd, &h, sizeof h, 0);
	if (n < 0) {
		*err = errno;
		return KIND_FOREIGN;
	}
	if ((size_t)n >= SHM_MAGIC_LEN && memcmp(h.magic, spec->magic, SHM_MAGIC_LEN) == 0) {
		if ((size_t)n < sizeof h || (size_t)size != spec->size || h.size != spec->size ||
		    h.version != spec->version || h.mutex_size != sizeof(pthread_mutex_t))
			return KIND_OLD_LAYOUT;
		h.boot_id[sizeof h.boot_id - 1] = '\0';
		if (boot[0] && strcmp(h.boot_id, boot) != 0)
			return KIND_STALE_BOOT;
		return KIND_OURS;
	}
	if (spec->legacy_size && (size_t)size == spec->legacy_size)
		return KIND_OLD_LAYOUT;
	/* an initialiser died between sizing the file and writing the magic */
	if ((size_t)size == spec->size && (size_t)n >= SHM_MAGIC_LEN && memcmp(h.magic, zeros, SHM_MAGIC_LEN) == 0)
		return KIND_HALF_INIT;
	return KIND_FOREIGN;
}

/* 1 if fd is still the file at path (not replaced or unlinked since it was
 * opened), 0 if not, -1 on error (errno set). */
static int still_linked(int fd, const char *path, struct stat *st)
{
	struct stat ps;
	if (fstat(fd, st) != 0)
		return -1;
	if (lstat(path, &ps) != 0)
		return errno == ENOENT ? 0 : -1;
	return ps.st_dev == st->st_dev && ps.st_ino == st->st_ino;
}

/* Grow a bare table to its size (keeping what it holds) and map it. */
static void *map_bare(const struct shm_spec *spec, int fd, const struct stat *st, const char *path,
    char *errbuf, size_t errlen)
{
	if ((size_t)st->st_size < spec->size && ftruncate(fd, (off_t)spec->size) != 0) {
		seterr(errbuf, errlen, spec, path, "cannot size it", errno);
		return MAP_FAILED;
	}
	void *map = mmap(NULL, spec->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		seterr(errbuf, errlen, spec, path, "cannot map it", errno);
	return map;
}

void *shm_open_table(const struct shm_spec *spec, const char *path, char *errbuf, size_t errlen)
{
	char boot[SHM_BOOT_ID_MAX];
	void *map = MAP_FAILED;
	struct stat st;
	int fd = -1, r, e;
	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (!path || !path[0]) {
		seterr(errbuf, errlen, spec, path ? path : "(null)", "bad arguments", EINVAL);
		return NULL;
	}
	read_boot_id(boot);
	for (int tries = 0;; tries++) {
		if (tries == SHM_OPEN_TRIES) {
			seterr(errbuf, errlen, spec, path, "replaced by others while opening", 0);
			goto out;
		}
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0) {
			seterr(errbuf, errlen, spec, path, "open", errno);
			goto out;
		}
		/* one process initialises, the others wait for it */
		while ((r = flock(fd, LOCK_EX)) != 0 && errno == EINTR)
			;
		if (r != 0) {
			seterr(errbuf, errlen, spec, path, "flock", errno);
			goto out;
		}
		r = still_linked(fd, path, &st);
		if (r < 0) {
			seterr(errbuf, errlen, spec, path, "stat", errno);
			goto out;
		}
		if (r == 0) { /* someone replaced it: start over */
			close(fd);
			fd = -1;
			continue;
		}
		if (!S_ISREG(st.st_mode)) {
			seterr(errbuf, errlen, spec, path, "not a regular file", 0);
			goto out;
		}
		if (spec->strict && (st.st_uid != geteuid() || (st.st_mode & 077) != 0)) {
			seterr(errbuf, errlen, spec, path, "must be a regular file owned by this user with mode 0600", 0);
			goto out;
		}
		/* the store's files are for its owner alone */
		if ((st.st_mode & 077) != 0 && st.st_uid == geteuid() && fchmod(fd, 0600) != 0) {
			seterr(errbuf, errlen, spec, path, "chmod 0600", errno);
			goto out;
		}
		if (!spec->magic) {
			map = map_bare(spec, fd, &st, path, errbuf, errlen);
			break;
		}
		switch (classify(spec, fd, st.st_size, boot, &e)) {
		case KIND_OURS:
			map = mmap(NULL, spec->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			if (map == MAP_FAILED)
				seterr(errbuf, errlen, spec, path, "mmap", errno);
			break;
		case KIND_EMPTY:
		case KIND_HALF_INIT:
			/* nobody maps it: a table is mapped only after its
			 * header was seen complete under the flock */
			map = init_table(spec, fd, path, boot, errbuf, errlen);
			break;
		case KIND_STALE_BOOT:
		case KIND_OLD_LAYOUT:
			/* someone may still map it (an older build, a process
			 * that cannot read the boot id): leave the inode to
			 * them and make a new one. After a reboot this also
			 * drops a lock word naming a thread of the last boot */
			if (unlink(path) != 0) {
				seterr(errbuf, errlen, spec, path, "unlink of a stale table", errno);
				goto out;
			}
			close(fd);
			fd = -1;
			continue;
		case KIND_FOREIGN:
			if (e)
				seterr(errbuf, errlen, spec, path, "read", e);
			else if (errbuf && errlen)
				snprintf(errbuf, errlen, "%s %s: not a blindsync %s; refusing to overwrite it", spec->what,
				    path, spec->what);
			goto out;
		}
		break;
	}
out:
	if (fd >= 0) {
		/* unlock explicitly: the mapping keeps the open file, and with
		 * it the flock, alive after close() */
		flock(fd, LOCK_UN);
		close(fd);
	}
	return map == MAP_FAILED ? NULL : map;
}

void shm_close(const struct shm_spec *spec, void *table)
{
	if (table)
		munmap(table, spec->size);
}

/* A hint to the CPU inside a spin loop (lets the sibling thread run). */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

int shm_lock(struct shm_header *h, int timeout_ms)
{
	pthread_mutex_t *m = &h->lock;
	int r, spins;
	/* a short critical section costs less to wait for spinning than
	 * sleeping in the kernel */
	for (spins = 0; (r = pthread_mutex_trylock(m)) == EBUSY && spins < SHM_SPINS; spins++)
		cpu_relax();
	if (r == EBUSY) {
		struct timespec dl;
		if (deadline_in(CLOCK_MONOTONIC, timeout_ms, &dl) != 0)
			return errno;
		r = pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &dl);
	}
	if (r == EOWNERDEAD) {
		r = pthread_mutex_consistent(m);
		if (r != 0) {
			/* cannot happen for a robust mutex we own: release it */
			pthread_mutex_unlock(m);
			return r;
		}
		h->recovered++;
		return 0;
	}
	return r;
}

void shm_unlock(struct shm_header *h)
{
	/* fails only for a mutex not owned, which the callers rule out */
	pthread_mutex_unlock(&h->lock);
}
