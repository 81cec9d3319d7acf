/*
 * core.c: the shared context of a program (core.h): the rate limiter, the
 * long-poll notifier and the request metrics behind one struct, so that a
 * handler program and the live daemon drive them the same way. Knows
 * nothing of requests; never blocks longer than a long-poll's deadline.
 */
#include "core.h"

#include <stdio.h>
#include <string.h>

#include "bsc.h"
#include "limit.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "relay.h"
#include "store.h"

int core_open(struct core *c, const char *database, char *errbuf, size_t errlen)
{
	char path[STORE_LOCATION_MAX + 16], why[512];
	/* the shared tables live where the store says (beside an SQLite file) */
	store_location_side(database, "limits", path, sizeof path);
	if (limit_open(path, &c->limiter, why, sizeof why) != 0) {
		snprintf(errbuf, errlen, "rate limits: %s", why);
		goto fail;
	}
	store_location_side(database, "metrics", path, sizeof path);
	if (metrics_open(path, &c->metrics, why, sizeof why) != 0) {
		snprintf(errbuf, errlen, "metrics: %s", why);
		goto fail;
	}
	c->shared_limits = store_location_shared(database);
	store_location_side(database, "notify", path, sizeof path);
	if (notify_open(path, &c->notifier, why, sizeof why) != 0) {
		snprintf(errbuf, errlen, "long-poll notifications: %s", why);
		goto fail;
	}
	return 0;
fail:
	core_close(c);
	return -1;
}

void core_close(struct core *c)
{
	if (!c)
		return;
	core_relay_stop(c);
	limit_close(c->limiter);
	c->limiter = NULL;
	notify_close(c->notifier);
	c->notifier = NULL;
	metrics_close(c->metrics);
	c->metrics = NULL;
}

int core_relay_start(struct core *c, const char *database, char *errbuf, size_t errlen)
{
	char path[STORE_LOCATION_MAX + 16];
	if (c->relay)
		return 0;
	if (store_location_side(database, "relay", path, sizeof path) != 0) {
		snprintf(errbuf, errlen, "relay: the store's location is too long");
		return -1;
	}
	return relay_start(c->notifier, database, path, &c->relay, errbuf, errlen);
}

void core_relay_stop(struct core *c)
{
	if (!c)
		return;
	relay_stop(c->relay);
	c->relay = NULL;
}

enum err core_limit(struct core *c, const struct config *cfg, const char *route, const char *ip,
    const char *username, int64_t account_id, int *retry_after)
{
	int retry = 0;
	const char *why = NULL;
	enum err e = limit_check(c->limiter, cfg, route ? route : "-", ip, username, account_id, &retry, &why);
	if (why && c->limiter)
		log_msg(LOG_WARN, "rate limiter failed open: %s", why);
	*retry_after = retry > 0 ? retry : 1;
	return e == ERR_RATE_LIMITED ? e : ERR_OK;
}

/* 1 if rule route `r` is kept in a shared store: the login and registration ones. */
static int store_kept(const char *r)
{
	return strcmp(r, "account.register") == 0 || strcmp(r, "account.prelogin") == 0 ||
	       strcmp(r, "account.login") == 0;
}

enum err core_limit_store(struct core *c, struct store *s, const struct config *cfg, const char *route,
    const char *ip, const char *username, int64_t account_id, int *retry_after)
{
	struct limit_key keys[CONFIG_MAX_RATE_RULES], local[CONFIG_MAX_RATE_RULES];
	struct store_bucket b[STORE_BUCKETS_MAX];
	unsigned char id[512];
	char account[24];
	int n, nl = 0, nb = 0, retry = 0;
	const char *why = NULL;
	if (!s || !c->shared_limits || !c->has_limit_key || !route)
		return core_limit(c, cfg, route, ip, username, account_id, retry_after);
	*retry_after = 1;
	n = limit_keys(cfg, route, ip, username, account_id, account, keys);
	for (int i = 0; i < n; i++) {
		size_t len;
		if (!store_kept(keys[i].rule->route) || nb == STORE_BUCKETS_MAX ||
		    !(len = limit_identity(keys[i].rule, keys[i].key, id, sizeof id)) ||
		    bsc_hmac_sha256(c->limit_key, sizeof c->limit_key, id, len, b[nb].id) != 0) {
			local[nl++] = keys[i];
			continue;
		}
		b[nb].limit = keys[i].rule->limit;
		b[nb].window = keys[i].rule->window;
		nb++;
	}
	if (nb > 0) {
		enum err e = store_limit_take(s, b, nb, &retry);
		if (e == ERR_RATE_LIMITED) {
			*retry_after = retry > 0 ? retry : 1;
			return e;
		}
		if (e != ERR_OK)
			log_msg(LOG_WARN, "rate limiter failed open: the store's buckets: %s", err_code(e));
	}
	if (nl == 0)
		return ERR_OK;
	enum err e = limit_take(c->limiter, local, nl, limit_now_ms(), &retry, &why);
	if (why && c->limiter)
		log_msg(LOG_WARN, "rate limiter failed open: %s", why);
	*retry_after = retry > 0 ? retry : 1;
	return e == ERR_RATE_LIMITED ? e : ERR_OK;
}

void core_limit_key(struct core *c, const uint8_t secret[32])
{
	static const char label[] = "blindsync rate limit buckets v1";
	c->has_limit_key = bsc_hmac_sha256(secret, 32, label, sizeof label - 1, c->limit_key) == 0;
}

static uint32_t slot_of(int64_t account_id, const char *collection)
{
	return collection ? notify_slot_collection(account_id, collection) : notify_slot_account(account_id);
}

void core_changed(struct core *c, int64_t account_id, const char *collection)
{
	if (collection)
		notify_bump(c->notifier, notify_slot_collection(account_id, collection));
	notify_bump(c->notifier, notify_slot_account(account_id));
}

uint32_t core_seq(struct core *c, int64_t account_id, const char *collection)
{
	return notify_seq(c->notifier, slot_of(account_id, collection));
}

int core_wait_begin(struct core *c)
{
	int max = c->wait_max > 0 ? c->wait_max : 1;
	if (atomic_fetch_add(&c->waiting, 1) >= max) {
		atomic_fetch_sub(&c->waiting, 1);
		return -1;
	}
	metrics_waiting(c->metrics, 1);
	return 0;
}

void core_wait_end(struct core *c)
{
	atomic_fetch_sub(&c->waiting, 1);
	metrics_waiting(c->metrics, -1);
}

int64_t core_now_ms(void) { return limit_now_ms(); }

void core_watch_init(struct core *c, struct core_watch *w, int64_t account_id, const char *collection,
    int64_t caller_id)
{
	w->slot = slot_of(account_id, collection);
	w->caller_slot = notify_slot_account(caller_id);
	w->seq = notify_seq(c->notifier, w->slot);
	w->caller_seq = notify_seq(c->notifier, w->caller_slot);
}

int core_watch(struct core *c, struct core_watch *w, int64_t deadline_ms)
{
	for (;;) {
		if (c->stopping && atomic_load(c->stopping))
			return 0;
		int moved = 0;
		uint32_t seq = notify_seq(c->notifier, w->slot), caller = notify_seq(c->notifier, w->caller_slot);
		if (seq != w->seq) {
			w->seq = seq;
			moved |= CORE_WATCH_DATA;
		}
		if (caller != w->caller_seq) {
			w->caller_seq = caller;
			moved |= CORE_WATCH_SESSION;
		}
		if (moved)
			return moved;
		int64_t left = deadline_ms - core_now_ms();
		if (left <= 0)
			return 0;
		/* wake at least once a second to notice a stop or the caller's slot */
		notify_wait(c->notifier, w->slot, w->seq, (int)(left < 1000 ? left : 1000));
	}
}

void core_observe(struct core *c, const char *route, int status, double ms)
{
	metrics_observe(c->metrics, route, status, ms);
}

void core_metrics(struct core *c, struct buf *out) { metrics_write(c->metrics, out); }
