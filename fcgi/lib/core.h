/*
 * core.h: what the core library needs from whoever drives it, with no
 * FastCGI and no HTTP in sight: byte readers and writers (a request body, a
 * file, a socket, a test buffer), and struct core, the context a program
 * shares between its threads: the rate limiter, the long-poll notifier and
 * the request metrics, each a table shared by every process of every
 * program that opened the same store.
 *
 * The handlers pass adapters over struct req and use the one context of
 * serve.c; blindsync-live and the unit tests build their own. Must never:
 * include http.h or name struct req.
 */
#ifndef BLINDSYNC_CORE_H
#define BLINDSYNC_CORE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "err.h"

/* Read up to n bytes into buf: the count read (> 0), 0 at the end, -1 on an error. */
typedef long (*core_read_fn)(void *ctx, void *buf, size_t n);
/* Write the n bytes of data: 0, or -1 when the other side is gone (then stop). */
typedef int (*core_write_fn)(void *ctx, const void *data, size_t n);

/* A source of bytes: fn(ctx, ...). */
struct core_reader {
	core_read_fn fn;
	void *ctx;
};

/* A destination of bytes: fn(ctx, ...). */
struct core_writer {
	core_write_fn fn;
	void *ctx;
};

struct limiter;
struct store;
struct notifier;
struct metrics;
struct relay;

/*
 * The shared context of one program. Zeroed, it is a valid context with
 * nothing mapped: no limits, no wake-ups (a long-poll sleeps in short
 * steps), no metrics; core_open() maps the three tables.
 */
struct core {
	struct limiter *limiter;    /* "<database>-limits"; NULL: no limits */
	struct notifier *notifier;  /* "<database>-notify"; NULL: no wake-ups */
	struct metrics *metrics;    /* "<database>-metrics"; NULL: none kept */
	struct relay *relay;        /* wake-ups to and from other machines; NULL: none */
	atomic_int waiting;         /* requests of this process in a long-poll */
	int wait_max;               /* how many may wait at once (< 1: one) */
	atomic_int *stopping;       /* set when the program stops; NULL: never */
	int shared_limits;          /* the store is shared by several machines: core_limit_store
	                               keeps the login and registration limits in it */
	int has_limit_key;          /* limit_key is set (core_limit_key) */
	uint8_t limit_key[32];      /* keys the names of the buckets kept in the store */
};

/*
 * Map the three shared tables beside the store `database` into c (which
 * should be zeroed first). 0, or -1 with errbuf filled (naming the table)
 * and nothing left open.
 */
int core_open(struct core *c, const char *database, char *errbuf, size_t errlen);
/* Unmap what core_open() mapped; c is zeroed tables again. NULL is fine. */
void core_close(struct core *c);

/*
 * Start the relay of long-poll wake-ups across the machines that share the
 * store `database` (relay.h; nothing for a store on one machine), in this
 * process: after any fork, and before core_close. 0, or -1 with errbuf
 * filled. core_relay_stop() stops it (NULL or none is fine).
 */
int core_relay_start(struct core *c, const char *database, char *errbuf, size_t errlen);
void core_relay_stop(struct core *c);

/*
 * Rate limits of config.md for `route`, charging only the rules of one
 * phase: per = ip when ip is set, per = username when username is set, per =
 * account when account_id > 0. ERR_RATE_LIMITED with *retry_after (seconds,
 * >= 1). A limiter that fails is logged and lets the request through.
 */
enum err core_limit(struct core *c, const struct config *cfg, const char *route, const char *ip,
    const char *username, int64_t account_id, int *retry_after);

/*
 * core_limit, for a request that has a store s: on a store shared by
 * several machines (PostgreSQL) the rules of the login and registration
 * routes (account.register, account.prelogin, account.login: what guards
 * against password guessing and mass registration) are charged in the
 * store (store_limit_take), so that they hold across every node, and the
 * others in this machine's table. Without s, a shared store or a key
 * (core_limit_key), it is core_limit. The store's buckets are charged
 * first; a store that fails is logged and lets the request through.
 */
enum err core_limit_store(struct core *c, struct store *s, const struct config *cfg, const char *route,
    const char *ip, const char *username, int64_t account_id, int *retry_after);
/* Derive the key of the buckets' names in the store from the server secret
 * (every node has the same: then they name the same buckets). */
void core_limit_key(struct core *c, const uint8_t secret[32]);

/*
 * Long-polls. core_changed() tells waiters of every process that an account
 * changed (and its collection `name`, when not NULL); call it after the
 * commit. core_seq() is the sequence to read before a query that may find
 * nothing new. core_wait_begin() admits one more waiter of this process (0)
 * or refuses (-1: wait_max reached), then core_wait_end() once.
 * core_watch() below waits until a sequence moves or the deadline passes.
 */
void core_changed(struct core *c, int64_t account_id, const char *collection);
uint32_t core_seq(struct core *c, int64_t account_id, const char *collection);
int core_wait_begin(struct core *c);
void core_wait_end(struct core *c);

/*
 * A long-poll that also watches its caller's session. Whatever ends a
 * device's session (logout, a device deleted, logout-all, a new password,
 * an account disabled or deleted, by a handler or blindsync-admin) bumps the
 * caller's account slot after its commit, the signal blindsync-live closes
 * its sockets on. core_watch_init() reads the sequences of what the request
 * waits for (account_id's collection, or the account itself when collection
 * is NULL) and of the caller's account; core_watch() sleeps on the first
 * (in the notifier's futex, woken at once by a bump) and returns 0 (time up or stopping) or a mask: CORE_WATCH_DATA (query
 * again) and CORE_WATCH_SESSION (the caller's account moved: check its
 * token before anything else). A caller's slot other than the one slept on
 * is looked at on every wake-up, at least once a second. deadline_ms is on
 * core_now_ms()'s clock.
 */
#define CORE_WATCH_DATA 1
#define CORE_WATCH_SESSION 2
struct core_watch {
	uint32_t slot, seq;           /* what the request waits for */
	uint32_t caller_slot, caller_seq; /* the caller's account */
};
void core_watch_init(struct core *c, struct core_watch *w, int64_t account_id, const char *collection,
    int64_t caller_id);
int core_watch(struct core *c, struct core_watch *w, int64_t deadline_ms);
/* Monotonic milliseconds (the limiter's and the long-polls' clock). */
int64_t core_now_ms(void);

/* Count one answered request of `route` (metrics), and write them all (Prometheus text). */
void core_observe(struct core *c, const char *route, int status, double ms);
void core_metrics(struct core *c, struct buf *out);

#endif
