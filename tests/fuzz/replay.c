/*
 * replay.c: replays a fuzz corpus through a target without libFuzzer, so the
 * committed corpora run as regression tests on any compiler.
 *
 * Usage: fuzz_NAME DIR. Every regular file in DIR (not subdirectories,
 * symlinks or devices; files over 1 MiB skipped with a note) is read into a
 * buffer of exactly its size, so ASan catches a read past the end, and
 * passed to LLVMFuzzerTestOneInput() in name order. A bug shows as a crash
 * or abort() in the target; an unreadable file counts as failed. Prints
 * "fuzz_replay DIR: N passed, N failed" and exits 0 only if nothing failed.
 * An unreadable directory is an error too: a missing corpus must not pass.
 *
 * Compiled out under -DBLINDSYNC_LIBFUZZER, where libFuzzer supplies main().
 */
#ifndef BLINDSYNC_LIBFUZZER

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

#define REPLAY_MAX_FILE (1024 * 1024)

/*
 * Read the regular file name (relative to dirfd) into a malloc'd buffer of
 * exactly its size, stored in *buf (owned by the caller) with the size in
 * *len. Returns 1 on success, 0 if the entry is skipped (not a regular file,
 * or too big), -1 on an error, with a message on stderr.
 */
static int
read_entry(int dirfd, const char *dir, const char *name, uint8_t **buf, size_t *len)
{
	struct stat st;
	uint8_t *p = NULL;
	size_t size, got = 0;
	ssize_t r;
	int fd, rc = -1;

	*buf = NULL;
	*len = 0;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		fprintf(stderr, "fuzz_replay: %s/%s: %s\n", dir, name, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode))
		return 0;
	/* O_NONBLOCK: never hang on a FIFO swapped in after the fstatat. */
	if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) == -1) {
		fprintf(stderr, "fuzz_replay: %s/%s: %s\n", dir, name, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "fuzz_replay: %s/%s: not a regular file\n", dir, name);
		goto out;
	}
	if (st.st_size > REPLAY_MAX_FILE) {
		fprintf(stderr, "fuzz_replay: %s/%s: over 1 MiB, skipped\n", dir, name);
		rc = 0;
		goto out;
	}
	size = (size_t)st.st_size;
	/* malloc(0) may return NULL; an empty input still gets a valid pointer */
	if ((p = malloc(size ? size : 1)) == NULL) {
		fprintf(stderr, "fuzz_replay: %s/%s: out of memory\n", dir, name);
		goto out;
	}
	while (got < size) {
		r = read(fd, p + got, size - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "fuzz_replay: %s/%s: %s\n", dir, name,
			    r == 0 ? "file shrank while reading" : strerror(errno));
			goto out;
		}
		got += (size_t)r;
	}
	*buf = p;
	*len = size;
	p = NULL;
	rc = 1;
out:
	free(p);
	close(fd);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct dirent **ents = NULL;
	int n, i, dirfd = -1, passed = 0, failed = 0, skipped = 0, rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s corpus-dir\n", argc > 0 ? argv[0] : "fuzz_replay");
		return 2;
	}
	if ((dirfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "fuzz_replay: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	/* sorted, so a failure reproduces in the same order on every machine */
	if ((n = scandir(argv[1], &ents, NULL, alphasort)) == -1) {
		fprintf(stderr, "fuzz_replay: %s: %s\n", argv[1], strerror(errno));
		goto out;
	}
	for (i = 0; i < n; i++) {
		uint8_t *buf;
		size_t len;
		int r;

		if (strcmp(ents[i]->d_name, ".") == 0 || strcmp(ents[i]->d_name, "..") == 0)
			continue;
		r = read_entry(dirfd, argv[1], ents[i]->d_name, &buf, &len);
		if (r == -1)
			failed++;
		else if (r == 0)
			skipped++;
		else {
			/* The return value carries no meaning (libFuzzer reserves -1
			 * for "do not add to corpus"); a bug is a crash. */
			(void)LLVMFuzzerTestOneInput(buf, len);
			free(buf);
			passed++;
		}
	}
	if (skipped)
		fprintf(stderr, "fuzz_replay: %s: %d entries skipped\n", argv[1], skipped);
	printf("fuzz_replay %s: %d passed, %d failed\n", argv[1], passed, failed);
	rc = failed ? 1 : 0;
out:
	if (ents != NULL) {
		for (i = 0; i < n; i++)
			free(ents[i]);
		free(ents);
	}
	close(dirfd);
	return rc;
}

#else
/* ISO C wants at least one declaration in a translation unit. */
typedef int fuzz_replay_unused;
#endif
