/*
 * limit.h: rate limits as token buckets shared by every process and thread
 * of every handler program on the machine.
 *
 * The buckets live in a fixed-size table in a memory-mapped file (the caller
 * names it, e.g. "<database>-limits"), guarded by one process-shared robust
 * mutex, so a request is counted once whichever worker serves it. A bucket
 * holds `limit` tokens and refills at limit/window tokens per second; each
 * request takes one token from every rule that applies, all or nothing.
 *
 * This module must never touch the SQLite store (rate limiting may not take
 * its write lock), never store a key (IP, username, account id) in clear
 * (only a keyed 64-bit hash of it), never log (it reports failures to the
 * caller, who logs), and never block a request for long: when the table
 * cannot be used (not open, lock not taken within 100 ms) the check fails
 * OPEN, i.e. lets the request through and says why.
 *
 * Requirements on the deployment: every process that opens the same file
 * runs as the same user (the file is 0600 and must be owned by that user)
 * and in the same PID namespace (robust mutexes record thread ids).
 */
#ifndef BLINDSYNC_LIMIT_H
#define BLINDSYNC_LIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"

/* Number of buckets in the shared table (sets of 8; 32 bytes each). */
#define LIMIT_SLOTS 65536

struct limiter;

/*
 * Open (creating if needed) the shared table at `path` and map it. Safe to
 * call from several processes at once: the first one creates and initialises
 * the file under flock(LOCK_EX), the others wait for it and map it. A file of
 * an older layout is replaced (processes still using it keep their mapping);
 * a file that is not a limits file at all is refused, never overwritten.
 * After a reboot (new /proc/sys/kernel/random/boot_id) the file is replaced
 * by an empty table.
 * On success stores a new limiter in *out (free it with limit_close()) and
 * returns 0. On failure returns -1, sets *out to NULL and writes one line
 * into errbuf (always NUL-terminated when errlen > 0). The limiter is
 * thread-safe and stays valid in a child after fork().
 */
int limit_open(const char *path, struct limiter **out, char *errbuf, size_t errlen);

/* Unmap and free `l`. NULL is fine. Buckets stay in the file. */
void limit_close(struct limiter *l);

/*
 * 1 if rate rule route `rule_route` applies to the route named `route`, else
 * 0. "*" matches every route; a rule ending in ".*" (such as "account.*")
 * matches every route that starts with the part before the "*" and has
 * something after it ("account.get", not "account."), except that
 * "account.*" never matches the routes that come before a token exists
 * (account.register, account.prelogin, account.login, account.refresh,
 * account.recover: RNF_PUBLIC in routes.h), as
 * config.md defines it; anything else must be equal. NULL arguments never
 * match.
 */
int limit_route_matches(const char *rule_route, const char *route);

/*
 * 1 if a rule with this limit and window can be enforced exactly (limit >= 1,
 * window >= 1, limit fits 32 bits, limit * window * 1000 fits 63 bits), else
 * 0. Every rule config.c accepts (limit <= 1e9, window <= 31 days) is valid.
 */
int limit_rule_valid(int64_t limit, int64_t window);

/*
 * The request-time check. For every rule of cfg->rate_limits whose route
 * matches `route` (limit_route_matches) and whose key is known, take one
 * token from the bucket of (rule, key): the key is `ip` for per = ip (skipped
 * when NULL or empty; the caller resolves X-Forwarded-For), `username` for
 * per = username (skipped when NULL or empty; the caller lowercases it),
 * the decimal `account_id` for per = account (skipped when account_id <= 0).
 * All buckets are checked and taken under one lock: either every one gives
 * a token, or none is touched.
 *
 * Returns ERR_OK with *retry_after = 0 when the request may proceed, or
 * ERR_RATE_LIMITED with *retry_after = the whole seconds until every empty
 * bucket holds a token again (>= 1; the caller sends 429 with Retry-After).
 * *why (when why is not NULL) is set to NULL when the limiter worked, or to
 * a static sentence when it failed open (l is NULL, the lock timed out, a
 * rule is out of range, ...): the result is then ERR_OK and the caller
 * should log the sentence. Thread-safe.
 */
enum err limit_check(struct limiter *l, const struct config *cfg, const char *route,
    const char *ip, const char *username, int64_t account_id, int *retry_after,
    const char **why);

/* One bucket to take from: a rule and the key text (NUL-terminated). */
struct limit_key {
	const struct rate_rule *rule;
	const char *key;
};

/*
 * The engine under limit_check(), exposed for tests and tools: take one token
 * from each of the n buckets keys[0..n) at time `now_ms` (milliseconds of
 * CLOCK_MONOTONIC, see limit_now_ms()), all or nothing, under one lock. The
 * bucket of a key is identified by (rule route, rule per, rule limit, rule
 * window, key text): changing a rule's limit or window gives it fresh, full
 * buckets; two identical entries count once. n is at most
 * CONFIG_MAX_RATE_RULES. Return value, *retry_after and *why as for
 * limit_check(); an entry whose rule is not limit_rule_valid() is skipped
 * and reported through *why.
 */
enum err limit_take(struct limiter *l, const struct limit_key *keys, int n, int64_t now_ms,
    int *retry_after, const char **why);

/*
 * The pieces of limit_check(), for buckets kept elsewhere (the store of
 * several machines, store_pg_limit.c, through core.c):
 *
 * limit_keys() fills keys[] (CONFIG_MAX_RATE_RULES of them) with the
 * buckets limit_check would charge for this request and returns their
 * number; account is the caller's buffer for the decimal account id, which
 * keys may point into.
 *
 * limit_identity() writes the identity of the bucket of `key` under `rule`
 * (what limit.c hashes: per, limit, window, route and key, each length- or
 * size-prefixed) into buf and returns its length, or 0 when it does not
 * fit in len bytes.
 *
 * limit_units_at() is the bucket arithmetic: the units (tokens x window x
 * 1000) a bucket of limit/window holds at now_ms when it held `units` at
 * last_ms (clamped to its capacity; no refill when the clock went back),
 * or -1 when limit/window is not a valid rule. A request costs
 * window x 1000 units; a bucket gains `limit` units a millisecond.
 */
int limit_keys(const struct config *cfg, const char *route, const char *ip, const char *username,
    int64_t account_id, char account[24], struct limit_key keys[]);
size_t limit_identity(const struct rate_rule *rule, const char *key, unsigned char *buf, size_t len);
int64_t limit_units_at(int64_t limit, int64_t window, int64_t units, int64_t last_ms, int64_t now_ms);

/* The limiter's clock: CLOCK_MONOTONIC in milliseconds (same in every
 * process of the machine). */
int64_t limit_now_ms(void);

/*
 * TESTS ONLY: take the table's lock and return 0 without releasing it (-1 if
 * it cannot be taken), so that a test can kill the process holding it and
 * check that the others recover. Never call it in the server.
 */
int limit_test_hold_lock(struct limiter *l);

#endif
