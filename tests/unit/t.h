/*
 * t.h: the unit-test harness, a header only. Each tests/unit/test_*.c is one
 * program: it includes this, calls T_OK/T_EQ_* in functions, runs them with
 * T_RUN and ends main with `return t_done();`, which prints
 * "<prog>: N passed, N failed" and returns non-zero on any failure.
 */
#ifndef BLINDSYNC_T_H
#define BLINDSYNC_T_H
#include <stdio.h>
#include <string.h>

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
#endif
