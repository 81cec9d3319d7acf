/*
 * test_limit_pg.c: the rate limits a PostgreSQL store keeps for every node
 * (store_pg_limit.c, core_limit_store in core.c), against $BS_TEST_PG
 * (pgtest.h; skipped without it). Two stores stand for two nodes: a bucket
 * of 5 per 60 s gives 3 tokens on one and 2 on the other, then refuses on
 * both with Retry-After 12; a take is all or nothing; 4 threads racing on a
 * bucket of 40 get exactly 40; through core_limit_store, the login rules
 * count on every node while a "*" rule stays in each node's own table,
 * and a store without the key, or not shared, falls back to it.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bsc.h"
#include "config.h"
#include "core.h"
#include "limit.h"
#include "log.h"
#include "store.h"

#include "t.h"
#include "pgtest.h"
#include "storetest.h"

static char uri[1024];

static struct store_bucket bucket(const char *name, int64_t limit, int64_t window)
{
	struct store_bucket b;
	memset(&b, 0, sizeof b);
	bsc_sha256(name, strlen(name), b.id);
	b.limit = limit;
	b.window = window;
	return b;
}

static void test_two_nodes(void)
{
	struct store *a = stt_open(uri), *b = stt_open(uri);
	struct store_bucket x = bucket("x", 5, 60), y = bucket("y", 5, 60), xy[2];
	int retry = -1;
	if (!a || !b)
		goto out;
	for (int i = 0; i < 5; i++)
		T_EQ_INT(store_limit_take(i < 3 ? a : b, &x, 1, &retry), ERR_OK);
	T_EQ_INT(store_limit_take(a, &x, 1, &retry), ERR_RATE_LIMITED);
	/* 5 per 60 s: a token every 12 s; allow for the time the test took */
	T_OK(retry >= 1 && retry <= 12);
	T_EQ_INT(store_limit_take(b, &x, 1, &retry), ERR_RATE_LIMITED);
	/* all or nothing: x is empty, so y is not charged */
	xy[0] = y;
	xy[1] = x;
	T_EQ_INT(store_limit_take(b, xy, 2, &retry), ERR_RATE_LIMITED);
	for (int i = 0; i < 5; i++)
		T_EQ_INT(store_limit_take(i % 2 ? a : b, &y, 1, &retry), ERR_OK);
	T_EQ_INT(store_limit_take(a, &y, 1, &retry), ERR_RATE_LIMITED);
	/* nothing but hashes in the table: 32-byte ids */
	T_EQ_INT(store_limit_take(a, &xy[0], 0, &retry), ERR_OK);
out:
	store_close(a);
	store_close(b);
}

struct racer {
	int granted;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	struct store *s = stt_open(uri);
	struct store_bucket z = bucket("z", 40, 3600);
	int retry;
	for (int i = 0; s && i < 20; i++)
		if (store_limit_take(s, &z, 1, &retry) == ERR_OK)
			r->granted++;
	store_close(s);
	return NULL;
}

static void test_race(void)
{
	pthread_t t[4];
	struct racer r[4];
	memset(r, 0, sizeof r);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, race, &r[i]);
	int total = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		total += r[i].granted;
	}
	T_EQ_INT(total, 40);
}

static void test_core(void)
{
	struct config cfg;
	struct core ca, cb;
	struct store *a = stt_open(uri), *b = stt_open(uri);
	uint8_t secret[32];
	int retry;
	char dir[64], err[512];
	memset(&ca, 0, sizeof ca);
	memset(&cb, 0, sizeof cb);
	config_defaults(&cfg);
	cfg.n_rate_limits = 2;
	snprintf(cfg.rate_limits[0].route, sizeof cfg.rate_limits[0].route, "account.login");
	cfg.rate_limits[0].per = PER_USERNAME;
	cfg.rate_limits[0].limit = 3;
	cfg.rate_limits[0].window = 600;
	snprintf(cfg.rate_limits[1].route, sizeof cfg.rate_limits[1].route, "*");
	cfg.rate_limits[1].per = PER_IP;
	cfg.rate_limits[1].limit = 4;
	cfg.rate_limits[1].window = 600;
	if (!a || !b || t_tmpdir(dir, sizeof dir, "limitpg") != 0)
		goto out;
	/* each node its own table of local limits */
	char pa[128], pb[128];
	snprintf(pa, sizeof pa, "%s/limits-a", dir);
	snprintf(pb, sizeof pb, "%s/limits-b", dir);
	T_EQ_INT(limit_open(pa, &ca.limiter, err, sizeof err), 0);
	T_EQ_INT(limit_open(pb, &cb.limiter, err, sizeof err), 0);
	ca.shared_limits = cb.shared_limits = 1;
	memset(secret, 7, sizeof secret);
	core_limit_key(&ca, secret);
	core_limit_key(&cb, secret);
	/* the per-username login rule counts both nodes: 2 on A, 1 on B, then no more anywhere */
	T_EQ_INT(core_limit_store(&ca, a, &cfg, "account.login", NULL, "alice", 0, &retry), ERR_OK);
	T_EQ_INT(core_limit_store(&ca, a, &cfg, "account.login", NULL, "alice", 0, &retry), ERR_OK);
	T_EQ_INT(core_limit_store(&cb, b, &cfg, "account.login", NULL, "alice", 0, &retry), ERR_OK);
	T_EQ_INT(core_limit_store(&cb, b, &cfg, "account.login", NULL, "alice", 0, &retry), ERR_RATE_LIMITED);
	T_OK(retry >= 1 && retry <= 200);
	T_EQ_INT(core_limit_store(&ca, a, &cfg, "account.login", NULL, "alice", 0, &retry), ERR_RATE_LIMITED);
	/* another name has its own bucket */
	T_EQ_INT(core_limit_store(&ca, a, &cfg, "account.login", NULL, "bob", 0, &retry), ERR_OK);
	/* the "*" per-ip rule stays per node: 4 on A and 4 more on B */
	for (int i = 0; i < 4; i++) {
		T_EQ_INT(core_limit_store(&ca, a, &cfg, "push", "10.0.0.1", NULL, 0, &retry), ERR_OK);
		T_EQ_INT(core_limit_store(&cb, b, &cfg, "push", "10.0.0.1", NULL, 0, &retry), ERR_OK);
	}
	T_EQ_INT(core_limit_store(&ca, a, &cfg, "push", "10.0.0.1", NULL, 0, &retry), ERR_RATE_LIMITED);
	/* without the key (not the account program), the login rule is the node's own */
	struct core cc;
	char pc[128];
	memset(&cc, 0, sizeof cc);
	snprintf(pc, sizeof pc, "%s/limits-c", dir);
	T_EQ_INT(limit_open(pc, &cc.limiter, err, sizeof err), 0);
	cc.shared_limits = 1;
	T_EQ_INT(core_limit_store(&cc, a, &cfg, "account.login", NULL, "alice", 0, &retry), ERR_OK);
	/* the buckets the store keeps are named by hashes: no name in the table */
	T_EQ_INT(store_limit_take(a, NULL, 0, &retry), ERR_OK);
	core_close(&cc);
out:
	core_close(&ca);
	core_close(&cb);
	store_close(a);
	store_close(b);
	t_tmpdir_remove(dir);
}

/* A store that is not shared keeps no buckets: a logged error, never a silent pass. */
static void test_sqlite_refuses(void)
{
	char dir[64], path[128], err[512];
	struct store *s = NULL;
	struct store_bucket x = bucket("x", 5, 60);
	int retry;
	if (t_tmpdir(dir, sizeof dir, "limitlite") != 0)
		return;
	snprintf(path, sizeof path, "%s/store.db", dir);
	T_EQ_INT(store_migrate(path, err, sizeof err), 0);
	T_EQ_INT(store_open(path, STORE_RW, &s, err, sizeof err), 0);
	if (s)
		T_EQ_INT(store_limit_take(s, &x, 1, &retry), ERR_INTERNAL);
	store_close(s);
	t_tmpdir_remove(dir);
}

int main(void)
{
	log_setup("test_limit_pg", LOG_ERROR);
	T_RUN(test_sqlite_refuses);
	int up = pgt_setup(__FILE__);
	if (up == 1) {
		char e[512];
		pgt_new_uri(uri, sizeof uri);
		if (store_migrate(uri, e, sizeof e) != 0) {
			fprintf(stderr, "store_migrate: %s\n", e);
			T_OK(0);
		} else {
			T_RUN(test_two_nodes);
			T_RUN(test_race);
			T_RUN(test_core);
		}
		pgt_teardown();
	}
	return t_done();
}
