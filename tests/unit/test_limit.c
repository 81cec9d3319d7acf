/*
 * test_limit.c: unit tests of fcgi/lib/limit.c, the shared token buckets.
 *
 * Bucket arithmetic runs at explicit times through limit_take(); the rest
 * goes through limit_check() as a handler would. Several processes (fork)
 * and threads share one file, a process is killed with SIGKILL while it
 * holds the table's lock, and the last test prints (never asserts) the cost
 * of one check. Every test uses its own file in a fresh temporary directory.
 *
 * Needs only config.h (the struct, not config.c), limit.h and t.h.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "limit.h"
#include "t.h"

static char tmpdir[64];
static int nfiles;

/* A new file name in the test's directory (the file does not exist yet). */
static const char *
newpath(void)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/limits-%d", tmpdir, nfiles++);
	return path;
}

/* A fresh limiter on a new file; NULL (and a failure) if it cannot open. */
static struct limiter *
fresh(void)
{
	struct limiter *l = NULL;
	char err[256];

	T_EQ_INT(limit_open(newpath(), &l, err, sizeof(err)), 0);
	if (l == NULL)
		fprintf(stderr, "limit_open: %s\n", err);
	return l;
}

static struct rate_rule
rule(const char *route, enum rate_per per, int64_t limit, int64_t window)
{
	struct rate_rule r;

	memset(&r, 0, sizeof(r));
	snprintf(r.route, sizeof(r.route), "%s", route);
	r.per = per;
	r.limit = limit;
	r.window = window;
	return r;
}

/* Take one token from the bucket (rule, key) at now_ms; *ra gets Retry-After. */
static enum err
take1(struct limiter *l, const struct rate_rule *r, const char *key, int64_t now_ms, int *ra)
{
	struct limit_key k = { r, key };
	const char *why = "unset";
	enum err e;

	e = limit_take(l, &k, 1, now_ms, ra, &why);
	T_OK(why == NULL);
	return e;
}

static void
test_bucket_math(void)
{
	struct limiter *l = fresh();
	struct rate_rule r = rule("account.login", PER_IP, 5, 60);
	struct rate_rule day = rule("slots.create", PER_IP, 1, 86400);
	int64_t t0 = 1000000;
	int i, ra = -1;

	if (l == NULL)
		return;
	for (i = 0; i < 5; i++) {
		T_EQ_INT(take1(l, &r, "192.0.2.1", t0, &ra), ERR_OK);
		T_EQ_INT(ra, 0);
	}
	T_EQ_INT(take1(l, &r, "192.0.2.1", t0, &ra), ERR_RATE_LIMITED);
	T_EQ_INT(ra, 12);
	/* half way: 6 s to go; 1 ms before: still refused, 1 s to go */
	T_EQ_INT(take1(l, &r, "192.0.2.1", t0 + 6000, &ra), ERR_RATE_LIMITED);
	T_EQ_INT(ra, 6);
	T_EQ_INT(take1(l, &r, "192.0.2.1", t0 + 11999, &ra), ERR_RATE_LIMITED);
	T_EQ_INT(ra, 1);
	/* after 12 s exactly one more */
	T_EQ_INT(take1(l, &r, "192.0.2.1", t0 + 12000, &ra), ERR_OK);
	T_EQ_INT(take1(l, &r, "192.0.2.1", t0 + 12000, &ra), ERR_RATE_LIMITED);
	T_EQ_INT(ra, 12);
	/* a long pause fills the bucket, never beyond its capacity */
	for (i = 0; i < 5; i++)
		T_EQ_INT(take1(l, &r, "192.0.2.1", t0 + 86400000, &ra), ERR_OK);
	T_EQ_INT(take1(l, &r, "192.0.2.1", t0 + 86400000, &ra), ERR_RATE_LIMITED);
	/* the clock going backwards refills nothing and breaks nothing */
	T_EQ_INT(take1(l, &r, "192.0.2.1", t0, &ra), ERR_RATE_LIMITED);
	T_EQ_INT(ra, 12);
	T_EQ_INT(take1(l, &r, "192.0.2.1", t0 + 12000, &ra), ERR_OK);
	/* long windows: Retry-After is the whole window */
	T_EQ_INT(take1(l, &day, "192.0.2.1", t0, &ra), ERR_OK);
	T_EQ_INT(take1(l, &day, "192.0.2.1", t0 + 1, &ra), ERR_RATE_LIMITED);
	T_EQ_INT(ra, 86400);
	limit_close(l);
}

static void
test_route_matches(void)
{
	T_EQ_INT(limit_route_matches("*", "push"), 1);
	T_EQ_INT(limit_route_matches("*", "account.login"), 1);
	T_EQ_INT(limit_route_matches("push", "push"), 1);
	T_EQ_INT(limit_route_matches("push", "pull"), 0);
	T_EQ_INT(limit_route_matches("push", "pushx"), 0);
	T_EQ_INT(limit_route_matches("account.login", "account.login"), 1);
	T_EQ_INT(limit_route_matches("account.login", "account.register"), 0);
	/* config.md: account.* is the authenticated routes only */
	T_EQ_INT(limit_route_matches("account.*", "account.login"), 0);
	T_EQ_INT(limit_route_matches("account.*", "account.register"), 0);
	T_EQ_INT(limit_route_matches("account.*", "account.prelogin"), 0);
	T_EQ_INT(limit_route_matches("account.*", "account.refresh"), 0);
	T_EQ_INT(limit_route_matches("account.*", "account.get"), 1);
	T_EQ_INT(limit_route_matches("account.*", "account.password"), 1);
	T_EQ_INT(limit_route_matches("account.*", "account."), 0);
	T_EQ_INT(limit_route_matches("account.*", "account"), 0);
	T_EQ_INT(limit_route_matches("account.*", "accounts.x"), 0);
	T_EQ_INT(limit_route_matches("account.*", "push"), 0);
	T_EQ_INT(limit_route_matches(NULL, "push"), 0);
	T_EQ_INT(limit_route_matches("*", NULL), 0);
}

static void
test_independent_keys(void)
{
	struct limiter *l = fresh();
	struct rate_rule ip = rule("account.login", PER_IP, 2, 60);
	struct rate_rule user = rule("account.login", PER_USERNAME, 2, 60);
	struct rate_rule other = rule("account.register", PER_IP, 2, 60);
	int ra;

	if (l == NULL)
		return;
	T_EQ_INT(take1(l, &ip, "198.51.100.7", 0, &ra), ERR_OK);
	T_EQ_INT(take1(l, &ip, "198.51.100.7", 0, &ra), ERR_OK);
	T_EQ_INT(take1(l, &ip, "198.51.100.7", 0, &ra), ERR_RATE_LIMITED);
	/* another address, the same text under another `per`, another rule */
	T_EQ_INT(take1(l, &ip, "198.51.100.8", 0, &ra), ERR_OK);
	T_EQ_INT(take1(l, &user, "198.51.100.7", 0, &ra), ERR_OK);
	T_EQ_INT(take1(l, &other, "198.51.100.7", 0, &ra), ERR_OK);
	/* keys are compared whole: a prefix is another key */
	T_EQ_INT(take1(l, &ip, "198.51.100.70", 0, &ra), ERR_OK);
	limit_close(l);
}

static void
test_all_or_nothing(void)
{
	struct limiter *l = fresh();
	struct rate_rule a = rule("account.login", PER_IP, 1, 60);
	struct rate_rule b = rule("account.login", PER_USERNAME, 3, 60);
	struct rate_rule c = rule("*", PER_ACCOUNT, 1, 3600);
	struct limit_key ab[2] = { { &a, "203.0.113.1" }, { &b, "alice" } };
	struct limit_key bc[2] = { { &b, "carol" }, { &c, "42" } };
	struct limit_key dup[2] = { { &b, "dave" }, { &b, "dave" } };
	const char *why;
	int ra;

	if (l == NULL)
		return;
	T_EQ_INT(limit_take(l, ab, 2, 0, &ra, &why), ERR_OK);
	T_EQ_INT(limit_take(l, ab, 2, 0, &ra, &why), ERR_RATE_LIMITED);
	T_EQ_INT(ra, 60);
	/* the refused call took nothing from b: alice still has 2 */
	T_EQ_INT(take1(l, &b, "alice", 0, &ra), ERR_OK);
	T_EQ_INT(take1(l, &b, "alice", 0, &ra), ERR_OK);
	T_EQ_INT(take1(l, &b, "alice", 0, &ra), ERR_RATE_LIMITED);
	T_EQ_INT(ra, 20);
	/* Retry-After is the largest wait of the empty buckets */
	T_EQ_INT(limit_take(l, bc, 2, 0, &ra, &why), ERR_OK);
	T_EQ_INT(take1(l, &b, "carol", 0, &ra), ERR_OK);
	T_EQ_INT(take1(l, &b, "carol", 0, &ra), ERR_OK);
	T_EQ_INT(limit_take(l, bc, 2, 0, &ra, &why), ERR_RATE_LIMITED);
	T_EQ_INT(ra, 3600);
	/* the same bucket twice in one call counts once */
	T_EQ_INT(limit_take(l, dup, 2, 0, &ra, &why), ERR_OK);
	T_EQ_INT(limit_take(l, dup, 2, 0, &ra, &why), ERR_OK);
	T_EQ_INT(limit_take(l, dup, 2, 0, &ra, &why), ERR_OK);
	T_EQ_INT(limit_take(l, dup, 2, 0, &ra, &why), ERR_RATE_LIMITED);
	limit_close(l);
}

static void
test_check_keys(void)
{
	static struct config cfg;   /* large: not on the stack */
	struct limiter *l = fresh();
	const char *why = "unset";
	int i, ra;

	if (l == NULL)
		return;
	memset(&cfg, 0, sizeof(cfg));
	cfg.rate_limits[0] = rule("account.login", PER_IP, 2, 3600);
	cfg.rate_limits[1] = rule("account.login", PER_USERNAME, 3, 3600);
	cfg.rate_limits[2] = rule("*", PER_ACCOUNT, 1, 3600);
	cfg.rate_limits[3] = rule("account.*", PER_IP, 100, 3600);
	cfg.n_rate_limits = 4;

	/* ip + username (+ account.* by ip); no account: that rule is skipped */
	T_EQ_INT(limit_check(l, &cfg, "account.login", "a", "bob", 0, &ra, &why), ERR_OK);
	T_OK(why == NULL);
	T_EQ_INT(limit_check(l, &cfg, "account.login", "a", "bob", 0, &ra, &why), ERR_OK);
	T_EQ_INT(limit_check(l, &cfg, "account.login", "a", "bob", 0, &ra, &why), ERR_RATE_LIMITED);
	T_EQ_INT(ra, 1800);
	T_EQ_INT(limit_check(l, &cfg, "account.login", "b", "bob", 0, &ra, &why), ERR_OK);
	T_EQ_INT(limit_check(l, &cfg, "account.login", "c", "bob", 0, &ra, &why), ERR_RATE_LIMITED);
	T_EQ_INT(ra, 1200);
	/* ... and that refusal took nothing from ip c */
	T_EQ_INT(limit_check(l, &cfg, "account.login", "c", "carol", 0, &ra, &why), ERR_OK);
	T_EQ_INT(limit_check(l, &cfg, "account.login", "c", "carol", 0, &ra, &why), ERR_OK);
	T_EQ_INT(limit_check(l, &cfg, "account.login", "c", "carol", 0, &ra, &why), ERR_RATE_LIMITED);
	/* no username: the username rule does not apply */
	T_EQ_INT(limit_check(l, &cfg, "account.login", "d", NULL, 0, &ra, &why), ERR_OK);
	T_EQ_INT(limit_check(l, &cfg, "account.login", "d", "", 0, &ra, &why), ERR_OK);
	/* account_id 0: the per-account rule never applies */
	for (i = 0; i < 10; i++)
		T_EQ_INT(limit_check(l, &cfg, "push", "e", NULL, 0, &ra, &why), ERR_OK);
	T_EQ_INT(limit_check(l, &cfg, "push", "e", NULL, 7, &ra, &why), ERR_OK);
	T_EQ_INT(limit_check(l, &cfg, "pull", "f", NULL, 7, &ra, &why), ERR_RATE_LIMITED);
	T_EQ_INT(ra, 3600);
	T_EQ_INT(limit_check(l, &cfg, "push", "e", NULL, 8, &ra, &why), ERR_OK);
	/* a route no rule names */
	cfg.n_rate_limits = 2;
	for (i = 0; i < 10; i++)
		T_EQ_INT(limit_check(l, &cfg, "status", "a", "bob", 7, &ra, &why), ERR_OK);
	T_OK(why == NULL);
	limit_close(l);
}

static void
test_fail_open(void)
{
	static struct config cfg;
	struct limiter *l = fresh();
	struct rate_rule bad = rule("push", PER_IP, 0, 60);
	struct rate_rule huge = rule("push", PER_IP, 4000000000LL, 4000000000LL);
	struct limit_key k = { &bad, "x" };
	const char *why = NULL;
	int ra = -1;

	memset(&cfg, 0, sizeof(cfg));
	cfg.rate_limits[0] = rule("push", PER_IP, 1, 60);
	cfg.n_rate_limits = 1;
	/* no limiter: every request passes, and the caller is told why */
	T_EQ_INT(limit_check(NULL, &cfg, "push", "a", NULL, 0, &ra, &why), ERR_OK);
	T_OK(why != NULL);
	T_EQ_INT(ra, 0);
	if (l == NULL)
		return;
	why = NULL;
	T_EQ_INT(limit_take(l, &k, 1, 0, &ra, &why), ERR_OK);
	T_OK(why != NULL);
	k.rule = &huge;
	why = NULL;
	T_EQ_INT(limit_take(l, &k, 1, 0, &ra, &why), ERR_OK);
	T_OK(why != NULL);
	T_EQ_INT(limit_rule_valid(1000000000, 31 * 86400), 1);
	T_EQ_INT(limit_rule_valid(1, 1), 1);
	T_EQ_INT(limit_rule_valid(0, 1), 0);
	T_EQ_INT(limit_rule_valid(1, 0), 0);
	T_EQ_INT(limit_rule_valid(-5, 60), 0);
	T_EQ_INT(limit_rule_valid(4000000000LL, 4000000000LL), 0);
	limit_close(l);
}

static void
test_config_change(void)
{
	struct limiter *l = fresh();
	struct rate_rule r5 = rule("account.login", PER_IP, 5, 60);
	struct rate_rule r10 = rule("account.login", PER_IP, 10, 60);
	struct rate_rule w120 = rule("account.login", PER_IP, 5, 120);
	int i, ra;

	if (l == NULL)
		return;
	for (i = 0; i < 5; i++)
		T_EQ_INT(take1(l, &r5, "k", 0, &ra), ERR_OK);
	T_EQ_INT(take1(l, &r5, "k", 0, &ra), ERR_RATE_LIMITED);
	/* a new limit: a fresh, full bucket of the new size */
	for (i = 0; i < 10; i++)
		T_EQ_INT(take1(l, &r10, "k", 0, &ra), ERR_OK);
	T_EQ_INT(take1(l, &r10, "k", 0, &ra), ERR_RATE_LIMITED);
	T_EQ_INT(ra, 6);
	/* a new window too */
	for (i = 0; i < 5; i++)
		T_EQ_INT(take1(l, &w120, "k", 0, &ra), ERR_OK);
	T_EQ_INT(take1(l, &w120, "k", 0, &ra), ERR_RATE_LIMITED);
	T_EQ_INT(ra, 24);
	/* back to the old rule (a process still on the old config): its own
	 * bucket, not a full one */
	T_EQ_INT(take1(l, &r5, "k", 0, &ra), ERR_RATE_LIMITED);
	T_EQ_INT(ra, 12);
	limit_close(l);
}

static void
test_eviction(void)
{
	struct limiter *l = fresh();
	struct rate_rule r = rule("account.register", PER_IP, 1, 3600);
	int64_t i, n = 3 * (int64_t)LIMIT_SLOTS, ok = 0, kept = 0;
	struct limit_key k = { &r, NULL };
	char key[32];
	int ra;

	if (l == NULL)
		return;
	/* three times as many keys as slots, one ms apart: no crash, and each
	 * new key gets a bucket (by evicting the least recently used) */
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "10.%d.%d.%d", (int)(i >> 16) & 255,
		    (int)(i >> 8) & 255, (int)i & 255);
		k.key = key;
		if (limit_take(l, &k, 1, i, &ra, NULL) == ERR_OK)
			ok++;
	}
	T_EQ_INT(ok, n);
	/* the most recent keys are still there: still empty, refused */
	for (i = n - 1000; i < n; i++) {
		snprintf(key, sizeof(key), "10.%d.%d.%d", (int)(i >> 16) & 255,
		    (int)(i >> 8) & 255, (int)i & 255);
		k.key = key;
		if (limit_take(l, &k, 1, n, &ra, NULL) == ERR_RATE_LIMITED)
			kept++;
	}
	T_EQ_INT(kept, 1000);
	limit_close(l);
}

/* Same file opened twice, by name, in one process: one table. */
static void
test_shared_and_files(void)
{
	struct limiter *a = NULL, *b = NULL, *c = NULL;
	struct rate_rule r = rule("push", PER_IP, 1, 60);
	char path[128], err[256];
	struct stat st;
	int fd, ra;

	snprintf(path, sizeof(path), "%s", newpath());
	T_EQ_INT(limit_open(path, &a, err, sizeof(err)), 0);
	T_EQ_INT(limit_open(path, &b, err, sizeof(err)), 0);
	if (a != NULL && b != NULL) {
		T_EQ_INT(take1(a, &r, "x", 0, &ra), ERR_OK);
		T_EQ_INT(take1(b, &r, "x", 0, &ra), ERR_RATE_LIMITED);
	}
	T_EQ_INT(stat(path, &st), 0);
	T_EQ_INT(st.st_mode & 0777, 0600);
	limit_close(a);
	limit_close(b);
	limit_close(NULL);

	/* a reboot (another boot id in the header) resets the table; the
	 * header keeps boot_id at byte 40 (magic 8, four uint32, key 16) */
	fd = open(path, O_WRONLY);
	T_OK(fd >= 0);
	if (fd >= 0) {
		T_EQ_INT(pwrite(fd, "old-boot", 9, 40), 9);
		close(fd);
	}
	T_EQ_INT(limit_open(path, &a, err, sizeof(err)), 0);
	if (a != NULL)
		T_EQ_INT(take1(a, &r, "x", 0, &ra), ERR_OK);
	limit_close(a);

	/* a file that is not ours is refused and left alone */
	snprintf(path, sizeof(path), "%s", newpath());
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	T_OK(fd >= 0);
	if (fd >= 0) {
		T_EQ_INT(write(fd, "SQLite format 3", 16), 16);
		close(fd);
	}
	err[0] = '\0';
	T_EQ_INT(limit_open(path, &c, err, sizeof(err)), -1);
	T_OK(c == NULL);
	T_OK(strstr(err, "not a blindsync limits file") != NULL);
	T_EQ_INT(stat(path, &st), 0);
	T_EQ_INT(st.st_size, 16);

	/* readable by others: refused */
	snprintf(path, sizeof(path), "%s", newpath());
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	T_OK(fd >= 0);
	if (fd >= 0) {
		T_EQ_INT(fchmod(fd, 0644), 0);
		close(fd);
	}
	T_EQ_INT(limit_open(path, &c, err, sizeof(err)), -1);

	/* an older layout (our magic, another version) is replaced */
	snprintf(path, sizeof(path), "%s", newpath());
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	T_OK(fd >= 0);
	if (fd >= 0) {
		T_EQ_INT(write(fd, "BSLIMIT\0\x00\x00\x00\x00", 12), 12);
		close(fd);
	}
	T_EQ_INT(limit_open(path, &c, err, sizeof(err)), 0);
	T_OK(c != NULL);
	limit_close(c);
	c = NULL;

	/* bad arguments */
	T_EQ_INT(limit_open("", &c, err, sizeof(err)), -1);
	T_EQ_INT(limit_open(NULL, &c, err, sizeof(err)), -1);
	snprintf(path, sizeof(path), "%s/no/such/dir/limits", tmpdir);
	T_EQ_INT(limit_open(path, &c, err, sizeof(err)), -1);
	T_OK(strstr(err, "open") != NULL);
}

/* ---- several processes and threads ---- */

static const char *mp_path;

/*
 * Child: wait for the start signal on fd `go`, open the shared file (all
 * children at once, so creation races), call limit_check 50 times; exit
 * status = the number of requests let through. exit(), not _exit(): the
 * stdio buffers were flushed before fork, and OpenSSL's exit handler must
 * run for valgrind to see every block freed.
 */
static void
mp_child(int go)
{
	static struct config cfg;
	struct limiter *l = NULL;
	char err[256], c;
	const char *why;
	int i, ok = 0, ra;

	if (read(go, &c, 1) < 0)
		exit(255);
	if (limit_open(mp_path, &l, err, sizeof(err)) != 0)
		exit(254);
	memset(&cfg, 0, sizeof(cfg));
	cfg.rate_limits[0] = rule("push", PER_IP, 37, 3600);
	cfg.n_rate_limits = 1;
	for (i = 0; i < 50; i++) {
		if (limit_check(l, &cfg, "push", "192.0.2.99", NULL, 0, &ra, &why) == ERR_OK &&
		    why == NULL)
			ok++;
	}
	limit_close(l);
	exit(ok);
}

static void
test_multi_process(void)
{
	pid_t pids[4];
	int fds[2], i, st, total = 0, good = 1;

	mp_path = newpath();
	T_EQ_INT(pipe(fds), 0);
	fflush(stdout);
	fflush(stderr);
	for (i = 0; i < 4; i++) {
		pids[i] = fork();
		T_OK(pids[i] >= 0);
		if (pids[i] == 0) {
			close(fds[1]);
			mp_child(fds[0]);
		}
	}
	close(fds[0]);
	close(fds[1]);   /* EOF: every child starts now */
	for (i = 0; i < 4; i++) {
		if (pids[i] < 0 || waitpid(pids[i], &st, 0) != pids[i] || !WIFEXITED(st) ||
		    WEXITSTATUS(st) > 50) {
			good = 0;
			continue;
		}
		total += WEXITSTATUS(st);
	}
	T_OK(good);
	T_EQ_INT(total, 37);
}

struct mt_arg {
	struct limiter *l;
	const struct config *cfg;
	int n;          /* calls */
	int id;         /* for distinct keys in the benchmark */
	int distinct;   /* 1: keys vary per call (benchmark) */
	int ok;
	double ns;
};

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Keys for the benchmark, made before timing: 1024 per thread. */
#define BENCH_KEYS 1024
#define BENCH_ROUNDS 5
static char bench_ip[4][BENCH_KEYS][32], bench_user[4][BENCH_KEYS][32];

static void *
mt_run(void *p)
{
	struct mt_arg *a = p;
	const char *why, *ip = "192.0.2.250", *user = "user";
	double t0 = now_ns();
	int i, ra;

	for (i = 0; i < a->n; i++) {
		int k = i & (BENCH_KEYS - 1);

		if (a->distinct) {
			ip = bench_ip[a->id][k];
			user = bench_user[a->id][k];
		}
		/* the benchmark counts what was let through: on a loaded machine
		 * (sanitizers, CI) a lock wait may pass 100 ms and fail open,
		 * which is still a pass; the exactness tests are elsewhere */
		if (limit_check(a->l, a->cfg, "account.login", ip, user,
		    a->distinct ? 1 + a->id * BENCH_KEYS + k : 0, &ra, &why) == ERR_OK)
			a->ok++;
	}
	a->ns = now_ns() - t0;
	return NULL;
}

static void
test_multi_thread(void)
{
	static struct config cfg;
	struct limiter *l = fresh();
	struct mt_arg args[4];
	pthread_t th[4];
	int i, total = 0;

	if (l == NULL)
		return;
	memset(&cfg, 0, sizeof(cfg));
	cfg.rate_limits[0] = rule("account.login", PER_IP, 37, 3600);
	cfg.n_rate_limits = 1;
	for (i = 0; i < 4; i++) {
		memset(&args[i], 0, sizeof(args[i]));
		args[i].l = l;
		args[i].cfg = &cfg;
		args[i].n = 50;
		T_EQ_INT(pthread_create(&th[i], NULL, mt_run, &args[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		T_EQ_INT(pthread_join(th[i], NULL), 0);
		total += args[i].ok;
	}
	T_EQ_INT(total, 37);
	limit_close(l);
}

/* Thread: SIGKILL the process *arg after 30 ms. */
static void *
kill_later(void *arg)
{
	struct timespec ms30 = { 0, 30 * 1000000L };

	nanosleep(&ms30, NULL);
	if (kill(*(pid_t *)arg, SIGKILL) != 0)
		perror("kill");
	return NULL;
}

/*
 * Fork a child that opens the limiter at path, takes its lock and holds it
 * until it is killed; return its pid once it holds the lock. The caller
 * kills and reaps it.
 */
static pid_t
spawn_holder(const char *path)
{
	struct limiter *cl = NULL;
	char err[256], c = 0;
	int fds[2];
	pid_t pid;

	T_EQ_INT(pipe(fds), 0);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	T_OK(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		if (limit_open(path, &cl, err, sizeof(err)) != 0 || limit_test_hold_lock(cl) != 0)
			_exit(1);
		if (write(fds[1], "L", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(fds[1]);
	T_EQ_INT(read(fds[0], &c, 1), 1);
	close(fds[0]);
	T_EQ_INT(c, 'L');
	return pid;
}

/*
 * A process takes the lock and is killed with SIGKILL while holding it.
 * While it is alive (and stuck), checks fail open after the lock timeout;
 * once it is dead, the next locker recovers the lock and counting goes on.
 */
static void
test_killed_holder(void)
{
	struct rate_rule r = rule("push", PER_IP, 2, 60);
	struct limit_key k = { &r, "192.0.2.5" };
	struct limiter *l = NULL;
	char path[128], err[256];
	const char *why = NULL;
	int st, ra;
	double t0, waited;
	pthread_t killer;
	pid_t pid;

	snprintf(path, sizeof(path), "%s", newpath());
	T_EQ_INT(limit_open(path, &l, err, sizeof(err)), 0);
	if (l == NULL)
		return;
	T_EQ_INT(take1(l, &r, "192.0.2.5", 0, &ra), ERR_OK);
	pid = spawn_holder(path);

	/* holder alive: fail open, after about the lock timeout, with a reason */
	t0 = now_ns();
	T_EQ_INT(limit_take(l, &k, 1, 1, &ra, &why), ERR_OK);
	waited = (now_ns() - t0) / 1e6;
	T_OK(why != NULL);
	T_OK(waited >= 90 && waited < 2000);

	T_EQ_INT(kill(pid, SIGKILL), 0);
	T_EQ_INT(waitpid(pid, &st, 0), pid);
	T_OK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

	/* holder dead: the lock is recovered and the bucket still counts */
	T_EQ_INT(limit_take(l, &k, 1, 2, &ra, &why), ERR_OK);
	T_OK(why == NULL);
	T_EQ_INT(limit_take(l, &k, 1, 3, &ra, &why), ERR_RATE_LIMITED);
	T_OK(why == NULL);
	T_EQ_INT(ra, 30);
	/* and the lock is an ordinary lock again */
	T_EQ_INT(take1(l, &r, "192.0.2.6", 4, &ra), ERR_OK);

	/* a holder that dies while we are waiting for the lock: the wait ends
	 * with the lock recovered, not with the timeout. A thread of ours
	 * kills it (not raise(): valgrind would run its leak check, slowly,
	 * while the dying child still holds the lock) */
	pid = spawn_holder(path);
	T_EQ_INT(pthread_create(&killer, NULL, kill_later, &pid), 0);
	T_EQ_INT(take1(l, &r, "192.0.2.6", 5, &ra), ERR_OK);
	T_EQ_INT(take1(l, &r, "192.0.2.6", 6, &ra), ERR_RATE_LIMITED);
	T_EQ_INT(pthread_join(killer, NULL), 0);
	T_EQ_INT(waitpid(pid, &st, 0), pid);
	T_OK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	limit_close(l);
}

/* ---- cost ---- */

static void
bench(void)
{
	static struct config cfg;
	struct limiter *l = fresh();
	struct mt_arg one, args[4];
	pthread_t th[4];
	const char *env = getenv("LIMIT_BENCH_N");
	int i, r, n = env != NULL ? atoi(env) : 100000;
	double best1 = -1, best4 = -1, best4_thread = 0;

	if (l == NULL || n <= 0)
		return;
	memset(&cfg, 0, sizeof(cfg));
	/* three rules that apply (never exhausted) among the default ones */
	cfg.rate_limits[0] = rule("account.register", PER_IP, 5, 3600);
	cfg.rate_limits[1] = rule("account.login", PER_IP, 1000000000, 1);
	cfg.rate_limits[2] = rule("account.login", PER_USERNAME, 1000000000, 1);
	cfg.rate_limits[3] = rule("slots.create", PER_IP, 3, 86400);
	cfg.rate_limits[4] = rule("*", PER_ACCOUNT, 1000000000, 1);
	cfg.n_rate_limits = 5;

	for (i = 0; i < 4; i++) {
		int k;

		for (k = 0; k < BENCH_KEYS; k++) {
			snprintf(bench_ip[i][k], sizeof(bench_ip[i][k]), "198.51.%d.%d", i, k);
			snprintf(bench_user[i][k], sizeof(bench_user[i][k]), "user%d-%d", i, k);
		}
	}
	/* best of BENCH_ROUNDS: the machine may be busy with other work */
	for (r = 0; r < BENCH_ROUNDS; r++) {
		memset(&one, 0, sizeof(one));
		one.l = l;
		one.cfg = &cfg;
		one.n = n;
		one.distinct = 1;
		mt_run(&one);
		T_EQ_INT(one.ok, n);
		if (best1 < 0 || one.ns / n < best1)
			best1 = one.ns / n;
	}
	for (r = 0; r < BENCH_ROUNDS; r++) {
		double per_thread = 0, wall = now_ns();

		for (i = 0; i < 4; i++) {
			memset(&args[i], 0, sizeof(args[i]));
			args[i].l = l;
			args[i].cfg = &cfg;
			args[i].n = n;
			args[i].id = i;
			args[i].distinct = 1;
			T_EQ_INT(pthread_create(&th[i], NULL, mt_run, &args[i]), 0);
		}
		for (i = 0; i < 4; i++) {
			T_EQ_INT(pthread_join(th[i], NULL), 0);
			T_EQ_INT(args[i].ok, n);
			per_thread += args[i].ns / n / 4;
		}
		wall = (now_ns() - wall) / (4.0 * n);
		if (best4 < 0 || wall < best4) {
			best4 = wall;
			best4_thread = per_thread;
		}
	}
	printf("bench: limit_check, 3 rules apply, best of %d: %.0f ns/check (1 thread); "
	    "4 threads on %ld CPUs: %.0f ns wall per check, %.0f ns per check seen by a thread\n",
	    BENCH_ROUNDS, best1, sysconf(_SC_NPROCESSORS_ONLN), best4, best4_thread);
	limit_close(l);
}

int
main(void)
{
	if (t_tmpdir(tmpdir, sizeof tmpdir, "limit") != 0)
		return 1;
	T_RUN(test_bucket_math);
	T_RUN(test_route_matches);
	T_RUN(test_independent_keys);
	T_RUN(test_all_or_nothing);
	T_RUN(test_check_keys);
	T_RUN(test_fail_open);
	T_RUN(test_config_change);
	T_RUN(test_eviction);
	T_RUN(test_shared_and_files);
	T_RUN(test_multi_process);
	T_RUN(test_multi_thread);
	T_RUN(test_killed_holder);
	T_RUN(bench);
	t_tmpdir_remove(tmpdir);
	return t_done();
}
