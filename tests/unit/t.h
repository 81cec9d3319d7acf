/*
 * t.h: the unit-test harness, a header only. Each tests/unit/test_*.c is one
 * program: it includes this, calls T_OK/T_EQ_* in functions, runs them with
 * T_RUN and ends main with `return t_done();`, which prints
 * "<prog>: N passed, N failed" and returns non-zero on any failure.
 * Tests that need files make a flat scratch directory with t_tmpdir() and
 * remove it with t_tmpdir_remove() before t_done().
 */
#ifndef BLINDSYNC_T_H
#define BLINDSYNC_T_H
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int t_pass, t_fail;

#define T_OK(cond) do { \
	if (cond) t_pass++; \
	else { t_fail++; fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define T_EQ_INT(a, b) do { \
	long long t_a_ = (long long)(a), t_b_ = (long long)(b); \
	if (t_a_ == t_b_) t_pass++; \
	else { t_fail++; fprintf(stderr, "FAIL %s:%d: %s == %s (%lld != %lld)\n", \
	    __FILE__, __LINE__, #a, #b, t_a_, t_b_); } \
} while (0)

#define T_EQ_STR(a, b) do { \
	const char *t_a_ = (a), *t_b_ = (b); \
	if (t_a_ && t_b_ && strcmp(t_a_, t_b_) == 0) t_pass++; \
	else { t_fail++; fprintf(stderr, "FAIL %s:%d: %s == %s (\"%s\" != \"%s\")\n", \
	    __FILE__, __LINE__, #a, #b, t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)"); } \
} while (0)

#define T_RUN(fn) do { fn(); } while (0)

static inline int t_done_named(const char *prog)
{
	printf("%s: %d passed, %d failed\n", prog, t_pass, t_fail);
	return t_fail ? 1 : 0;
}
#define t_done() t_done_named(__FILE__)

/* Milliseconds of CLOCK_MONOTONIC, for tests that time a wait. */
static inline double t_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/*
 * Make a fresh directory /tmp/bs-test-<name>-XXXXXX and write its path
 * into dir (len bytes). Returns 0, or -1 after perror() when it cannot.
 */
static inline int t_tmpdir(char *dir, size_t len, const char *name)
{
	if ((size_t)snprintf(dir, len, "/tmp/bs-test-%s-XXXXXX", name) >= len) {
		fprintf(stderr, "t_tmpdir: name too long\n");
		return -1;
	}
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return -1;
	}
	return 0;
}

/*
 * Remove a directory made by t_tmpdir() and the files in it (flat: no
 * subdirectories); says on stderr when the directory stays behind.
 */
static inline void t_tmpdir_remove(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	if (rmdir(dir) != 0)
		fprintf(stderr, "rmdir %s: %s\n", dir, strerror(errno));
}
#endif
