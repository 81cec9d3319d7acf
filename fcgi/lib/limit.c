/*
 * limit.c: token-bucket rate limits in a table shared by every process of
 * the machine through a memory-mapped file. The contract is in limit.h;
 * docs/ARCHITECTURE.md ("Rate limits") explains the choices.
 *
 * Must never: touch SQLite or any blindsync module other than crypto (for
 * the random hash key) and shm (the shared file); write a key (IP,
 * username, account id) into the file or anywhere else, only its keyed
 * hash; log; call exit(); block a
 * request for more than LIM_LOCK_TIMEOUT_MS; trust anything read from the
 * file (another process may have died in the middle of a write, so every
 * field read is range-checked before use).
 *
 * Layout of the file (LIM_FILE_SIZE bytes, created 0600), opened, locked
 * and replaced after a reboot by the shared-table primitive of shm.c:
 *   [0, 128)     struct shm_header: magic, layout version, the boot id of
 *                the machine that initialised it, the robust mutex
 *   [128, 4096)  struct lim_meta: layout numbers, the 128-bit hash key, the
 *                sweeper's position
 *   [4096, ...)  LIMIT_SLOTS struct lim_slot of 32 bytes, in sets of
 *                LIM_WAYS: a bucket lives in the set chosen by its hash
 *                (8 ways, 256 bytes, 4 cache lines).
 *
 * Bucket arithmetic is exact integer arithmetic: a bucket holds `units`,
 * where one token is window * 1000 units. In one millisecond the bucket
 * gains exactly `limit` units (limit tokens per window * 1000 ms), capacity
 * is limit * window * 1000 units, and a request costs window * 1000 units.
 * So "5 per 60 s" refuses the 6th request with exactly 12 s to wait.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bsc.h"
#include "limit.h"
#include "routes.h"
#include "shm.h"

#define LIM_MAGIC "BSLIMIT"              /* 7 chars + NUL = 8 bytes */
#define LIM_VERSION 2                    /* 2: the header of shm.h */
#define LIM_WAYS 8
#define LIM_SETS (LIMIT_SLOTS / LIM_WAYS)
#define LIM_HEADER_SIZE 4096
#define LIM_FILE_SIZE ((size_t)LIM_HEADER_SIZE + (size_t)LIMIT_SLOTS * sizeof(struct lim_slot))
#define LIM_LOCK_TIMEOUT_MS 100

struct lim_slot {
	uint64_t hash;       /* keyed hash of (rule, key); 0 = empty */
	int64_t units;       /* tokens * window * 1000, at last_ms */
	int64_t last_ms;     /* limit_now_ms() when units was brought up to date */
	uint32_t limit;      /* the rule's limit and window, for the arithmetic */
	uint32_t window;     /* and for scoring eviction candidates */
};

struct lim_meta {
	uint32_t nslots;
	uint32_t slot_size;
	uint8_t key[16];      /* SipHash key, random per file */
	uint64_t sweep;       /* next set the sweeper visits (under lock) */
};

_Static_assert(sizeof(struct lim_slot) == 32, "a slot is 32 bytes, a set 4 cache lines");
_Static_assert(SHM_HEADER_SIZE + sizeof(struct lim_meta) <= LIM_HEADER_SIZE, "header fits its page");
_Static_assert(LIMIT_SLOTS % LIM_WAYS == 0, "whole sets");
_Static_assert((LIM_SETS & (LIM_SETS - 1)) == 0, "the number of sets is a power of two");
_Static_assert(sizeof(LIM_MAGIC) == SHM_MAGIC_LEN, "magic is 8 bytes");
_Static_assert(offsetof(struct shm_header, boot_id) == 40,
    "tests/unit/test_limit.c fakes a reboot by writing at byte 40");

struct limiter {
	struct shm_header *hdr;   /* the mapping starts here */
	struct lim_meta *meta;
	struct lim_slot *slots;   /* LIMIT_SLOTS of them */
	size_t maplen;
	uint64_t k0, k1;          /* copy of meta->key, read once at open */
};

/* ---- SipHash-2-4 (Aumasson and Bernstein), incremental ---- */

struct sip {
	uint64_t v0, v1, v2, v3;
	uint64_t tail;   /* pending bytes, little-endian */
	uint64_t len;    /* bytes absorbed */
};

static uint64_t
rotl64(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static inline void
sip_round(struct sip *s)
{
	s->v0 += s->v1; s->v1 = rotl64(s->v1, 13); s->v1 ^= s->v0; s->v0 = rotl64(s->v0, 32);
	s->v2 += s->v3; s->v3 = rotl64(s->v3, 16); s->v3 ^= s->v2;
	s->v0 += s->v3; s->v3 = rotl64(s->v3, 21); s->v3 ^= s->v0;
	s->v2 += s->v1; s->v1 = rotl64(s->v1, 17); s->v1 ^= s->v2; s->v2 = rotl64(s->v2, 32);
}

static inline void
sip_block(struct sip *s, uint64_t m)
{
	s->v3 ^= m;
	sip_round(s);
	sip_round(s);
	s->v0 ^= m;
}

static void
sip_init(struct sip *s, uint64_t k0, uint64_t k1)
{
	s->v0 = k0 ^ 0x736f6d6570736575ULL;
	s->v1 = k1 ^ 0x646f72616e646f6dULL;
	s->v2 = k0 ^ 0x6c7967656e657261ULL;
	s->v3 = k1 ^ 0x7465646279746573ULL;
	s->tail = 0;
	s->len = 0;
}

static void
sip_update(struct sip *s, const void *data, size_t n)
{
	const unsigned char *p = data;
	unsigned fill = (unsigned)(s->len & 7);

	s->len += n;
	while (fill != 0 && n > 0) {
		s->tail |= (uint64_t)*p++ << (8 * fill);
		n--;
		fill = (fill + 1) & 7;
		if (fill == 0) {
			sip_block(s, s->tail);
			s->tail = 0;
		}
	}
	while (n >= 8) {
		uint64_t m;

		memcpy(&m, p, 8);
		sip_block(s, le64toh(m));
		p += 8;
		n -= 8;
	}
	for (fill = 0; fill < n; fill++)
		s->tail |= (uint64_t)p[fill] << (8 * fill);
}

static uint64_t
sip_final(struct sip *s)
{
	sip_block(s, (s->len << 56) | s->tail);
	s->v2 ^= 0xff;
	sip_round(s);
	sip_round(s);
	sip_round(s);
	sip_round(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

/* Append v as 8 little-endian bytes at buf + off; returns the new offset. */
static size_t
put_u64(unsigned char *buf, size_t off, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		buf[off + (size_t)i] = (unsigned char)(v >> (8 * i));
	return off + 8;
}

/*
 * The identity of the bucket of `key` under `rule`: every field is length-
 * or size-prefixed so no two different identities share an encoding. The
 * route that the request used is not part of it: a "*" rule has one bucket
 * per key across all routes. The message is assembled in one buffer (keys up
 * to a few hundred bytes) so SipHash reads whole words. Never returns 0 (the
 * empty-slot mark).
 */
/* See limit.h. */
size_t
limit_identity(const struct rate_rule *rule, const char *key, unsigned char *buf, size_t len)
{
	size_t rlen = strnlen(rule->route, sizeof(rule->route));
	size_t klen = strlen(key), off = 0;

	if (len < 5 * 8 + rlen || klen > len - 5 * 8 - rlen)
		return 0;
	off = put_u64(buf, off, (uint64_t)rule->per);
	off = put_u64(buf, off, (uint64_t)rule->limit);
	off = put_u64(buf, off, (uint64_t)rule->window);
	off = put_u64(buf, off, rlen);
	memcpy(buf + off, rule->route, rlen);
	off += rlen;
	off = put_u64(buf, off, klen);
	memcpy(buf + off, key, klen);
	return off + klen;
}

static uint64_t
bucket_hash(const struct limiter *l, const struct rate_rule *rule, const char *key)
{
	unsigned char buf[512];
	struct sip s;
	size_t rlen = strnlen(rule->route, sizeof(rule->route));
	size_t klen = strlen(key), off = 0;
	uint64_t h;

	_Static_assert(sizeof(buf) > 5 * 8 + sizeof(rule->route), "room for the rule");
	sip_init(&s, l->k0, l->k1);
	off = limit_identity(rule, key, buf, sizeof(buf));
	if (off != 0) {
		sip_update(&s, buf, off);
	} else {
		/* a long key: the same bytes in two pieces */
		off = put_u64(buf, 0, (uint64_t)rule->per);
		off = put_u64(buf, off, (uint64_t)rule->limit);
		off = put_u64(buf, off, (uint64_t)rule->window);
		off = put_u64(buf, off, rlen);
		memcpy(buf + off, rule->route, rlen);
		off += rlen;
		off = put_u64(buf, off, klen);
		sip_update(&s, buf, off);
		sip_update(&s, key, klen);
	}
	h = sip_final(&s);
	return h != 0 ? h : 1;
}

/* ---- bucket arithmetic ---- */

/* See limit.h. */
int
limit_rule_valid(int64_t limit, int64_t window)
{
	if (limit < 1 || window < 1 || limit > UINT32_MAX || window > UINT32_MAX)
		return 0;
	return window <= INT64_MAX / 1000 / limit;
}

/*
 * The units slot `s` holds at now_ms: its stored units clamped to
 * [0, capacity] (the file may hold a half-written slot) plus the refill since
 * last_ms (none when the clock is behind last_ms), capped at capacity.
 * Returns -1 when the slot's limit/window are not a valid rule (garbage).
 */
static int64_t
slot_units_now(const struct lim_slot *s, int64_t now_ms)
{
	return limit_units_at(s->limit, s->window, s->units, s->last_ms, now_ms);
}

/* See limit.h. */
int64_t
limit_units_at(int64_t limit, int64_t window, int64_t units, int64_t last_ms, int64_t now_ms)
{
	int64_t cost, cap, elapsed;

	if (!limit_rule_valid(limit, window))
		return -1;
	cost = window * 1000;
	cap = limit * cost;
	if (units < 0)
		units = 0;
	if (units > cap)
		units = cap;
	/* compared before subtracting: last_ms may be garbage */
	if (last_ms >= now_ms)
		elapsed = 0;           /* the clock is behind: no refill */
	else if (last_ms < now_ms - cost)
		elapsed = cost;        /* a whole window refills any bucket */
	else
		elapsed = now_ms - last_ms;
	if (elapsed * limit >= cap - units)
		return cap;
	return units + elapsed * limit;
}

/* ---- the lock and the shared file ---- */

/*
 * Take the table's lock, waiting at most LIM_LOCK_TIMEOUT_MS. When the
 * previous owner died holding it, shm_lock recovers it: the slot it may
 * have half-written is sanitised by every reader (slot_units_now), so no
 * repair is needed. Returns 0 with the lock held, or -1 with *why set and
 * the lock not held.
 */
static int
lim_lock(struct limiter *l, const char **why)
{
	int r = shm_lock(l->hdr, LIM_LOCK_TIMEOUT_MS);

	if (r == 0)
		return 0;
	if (r == ETIMEDOUT)
		*why = "rate limiter: lock not free within 100 ms (a holder stopped?)";
	else if (r == ENOTRECOVERABLE)
		*why = "rate limiter: lock not recoverable (delete the limits file)";
	else
		*why = "rate limiter: lock failed";
	return -1;
}

static void
lim_unlock(struct limiter *l)
{
	shm_unlock(l->hdr);
}

/* A fresh table's metadata: its layout and a random hash key. */
static const char *
lim_init(void *data)
{
	struct lim_meta *m = data;

	m->nslots = LIMIT_SLOTS;
	m->slot_size = sizeof(struct lim_slot);
	if (bsc_random(m->key, sizeof(m->key)) != 0)
		return "no random bytes for the hash key";
	return NULL;
}

static const struct shm_spec lim_spec = {
	.what = "limits file",
	.magic = LIM_MAGIC,
	.version = LIM_VERSION,
	.size = LIM_FILE_SIZE,
	.strict = 1,   /* the hash key is a secret */
	.init = lim_init,
};

/* See limit.h. */
int
limit_open(const char *path, struct limiter **out, char *errbuf, size_t errlen)
{
	struct limiter *l;
	void *map;

	if (errbuf != NULL && errlen > 0)
		errbuf[0] = '\0';
	if (out != NULL)
		*out = NULL;
	if (path == NULL || path[0] == '\0' || out == NULL) {
		if (errbuf != NULL && errlen > 0)
			snprintf(errbuf, errlen, "limits file %s: bad arguments", path ? path : "(null)");
		return -1;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		if (errbuf != NULL && errlen > 0)
			snprintf(errbuf, errlen, "limits file %s: out of memory", path);
		return -1;
	}
	map = shm_open_table(&lim_spec, path, errbuf, errlen);
	if (map == NULL) {
		free(l);
		return -1;
	}
	l->hdr = map;
	l->meta = shm_data(map);
	l->slots = (struct lim_slot *)((char *)map + LIM_HEADER_SIZE);
	l->maplen = LIM_FILE_SIZE;
	memcpy(&l->k0, l->meta->key, 8);
	memcpy(&l->k1, l->meta->key + 8, 8);
	l->k0 = le64toh(l->k0);
	l->k1 = le64toh(l->k1);
	*out = l;
	return 0;
}

/* See limit.h. */
void
limit_close(struct limiter *l)
{
	if (l == NULL)
		return;
	shm_close(&lim_spec, l->hdr);
	free(l);
}

/* ---- the check ---- */

/* See limit.h. */
int64_t
limit_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return -1;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* See limit.h. */
int
limit_route_matches(const char *rule_route, const char *route)
{
	size_t n;

	if (rule_route == NULL || route == NULL)
		return 0;
	if (strcmp(rule_route, "*") == 0)
		return 1;
	/* config.md: "account.*" is the authenticated account routes, not
	 * those that come before a token exists (RNF_PUBLIC in routes.h) */
	if (strcmp(rule_route, "account.*") == 0 && routes_flags(route) >= 0 &&
	    (routes_flags(route) & (int)RNF_PUBLIC))
		return 0;
	n = strlen(rule_route);
	if (n >= 2 && rule_route[n - 1] == '*' && rule_route[n - 2] == '.')
		return strncmp(route, rule_route, n - 1) == 0 && route[n - 1] != '\0';
	return strcmp(rule_route, route) == 0;
}

/* One bucket of a limit_take() call, from hashing to writing back. */
struct pick {
	uint64_t hash;
	int64_t limit, window;
	size_t slot;       /* index into l->slots */
	int64_t units;     /* at now, before the take */
	int existing;      /* the slot already held this bucket */
	int skip;          /* no slot could be had: not limited this time */
};

/*
 * Choose the slot of picks[i] in its set: the slot that holds its bucket, or
 * else an empty one, or else evict the bucket that is fullest now (a full
 * bucket carries no information; ties: least recently used). Slots chosen by
 * picks[0..i) are never taken. Fills slot, units and existing; returns -1
 * when every way of the set is taken by this call (skip it). Lock held.
 */
static int
pick_slot(struct limiter *l, struct pick *picks, int i, int64_t now_ms)
{
	struct pick *p = &picks[i];
	size_t base = (size_t)(p->hash & (LIM_SETS - 1)) * LIM_WAYS, victim = SIZE_MAX;
	double best = -1.0;
	int64_t best_last = INT64_MAX;
	int w, j;

	for (w = 0; w < LIM_WAYS; w++) {
		size_t idx = base + (size_t)w;
		const struct lim_slot *s = &l->slots[idx];
		double score;
		int64_t u;
		int pinned = 0;

		for (j = 0; j < i; j++)
			if (!picks[j].skip && picks[j].slot == idx)
				pinned = 1;
		if (pinned)
			continue;
		if (s->hash == p->hash) {
			p->slot = idx;
			u = s->limit == p->limit && s->window == p->window ?
			    slot_units_now(s, now_ms) : -1;
			p->existing = u >= 0;
			p->units = u >= 0 ? u : p->limit * p->window * 1000;
			return 0;
		}
		if (s->hash == 0) {
			score = 3.0;
		} else if ((u = slot_units_now(s, now_ms)) < 0) {
			score = 2.0;    /* garbage */
		} else {
			score = (double)u / ((double)s->limit * (double)s->window * 1000.0);
		}
		if (score > best || (score == best && s->last_ms < best_last)) {
			best = score;
			best_last = s->last_ms;
			victim = idx;
		}
	}
	if (victim == SIZE_MAX)
		return -1;
	p->slot = victim;
	p->existing = 0;
	p->units = p->limit * p->window * 1000;
	return 0;
}

/*
 * Visit the next set of the table and empty the slots whose bucket is full
 * at now_ms (or garbage), so that a key's hash stays in the file no longer
 * than it carries information. One set per call: the whole table is swept
 * every LIM_SETS calls. Lock held.
 */
static void
sweep(struct limiter *l, int64_t now_ms)
{
	size_t base = (size_t)(l->meta->sweep++ & (LIM_SETS - 1)) * LIM_WAYS;
	int w;

	for (w = 0; w < LIM_WAYS; w++) {
		struct lim_slot *s = &l->slots[base + (size_t)w];
		int64_t u;

		if (s->hash == 0)
			continue;
		u = slot_units_now(s, now_ms);
		if (u < 0 || u == (int64_t)s->limit * (int64_t)s->window * 1000)
			memset(s, 0, sizeof(*s));
	}
}

/*
 * Start loading the set of hash h into the cache (4 lines of 64 bytes) while
 * the other hashes are computed and the lock taken: the table is 2 MiB and
 * cold, and these loads are most of the time spent under the lock.
 */
static inline void
prefetch_set(const struct limiter *l, uint64_t h)
{
	const char *p = (const char *)&l->slots[(size_t)(h & (LIM_SETS - 1)) * LIM_WAYS];
	size_t off;

	for (off = 0; off < LIM_WAYS * sizeof(struct lim_slot); off += 64)
		__builtin_prefetch(p + off, 1, 3);
}

/* See limit.h. */
enum err
limit_take(struct limiter *l, const struct limit_key *keys, int n, int64_t now_ms,
    int *retry_after, const char **why)
{
	struct pick picks[CONFIG_MAX_RATE_RULES];
	const char *fail = NULL, *lockwhy = NULL;
	int64_t wait = 0;
	int i, j, np = 0, refused = 0;

	if (retry_after != NULL)
		*retry_after = 0;
	if (why != NULL)
		*why = NULL;
	if (n <= 0)
		return ERR_OK;
	if (l == NULL) {
		fail = "rate limiter not open";
		goto out;
	}
	if (n > CONFIG_MAX_RATE_RULES || keys == NULL || retry_after == NULL || now_ms < 0) {
		fail = "rate limiter: bad arguments";
		goto out;
	}

	/* hash outside the lock */
	for (i = 0; i < n; i++) {
		const struct rate_rule *rule = keys[i].rule;
		uint64_t h;

		if (rule == NULL || keys[i].key == NULL ||
		    !limit_rule_valid(rule->limit, rule->window)) {
			fail = "rate limiter: a rule is out of range and was not enforced";
			continue;
		}
		h = bucket_hash(l, rule, keys[i].key);
		for (j = 0; j < np && picks[j].hash != h; j++)
			;
		if (j < np)
			continue;  /* the same bucket twice counts once */
		memset(&picks[np], 0, sizeof(picks[np]));
		prefetch_set(l, h);
		picks[np].hash = h;
		picks[np].limit = rule->limit;
		picks[np].window = rule->window;
		np++;
	}
	if (np == 0)
		goto out;

	if (lim_lock(l, &lockwhy) != 0) {
		fail = lockwhy;
		goto out;
	}
	for (i = 0; i < np; i++) {
		struct pick *p = &picks[i];
		int64_t cost = p->window * 1000;

		if (pick_slot(l, picks, i, now_ms) != 0) {
			p->skip = 1;
			fail = "rate limiter: more rules than ways in a set; one not enforced";
			continue;
		}
		if (p->units < cost) {
			int64_t secs = 1 + (cost - p->units - 1) / (p->limit * 1000);

			refused = 1;
			if (secs > wait)
				wait = secs;
		}
	}
	for (i = 0; i < np; i++) {
		struct pick *p = &picks[i];
		struct lim_slot *s = &l->slots[p->slot];

		if (p->skip)
			continue;
		if (!refused) {
			s->hash = p->hash;
			s->limit = (uint32_t)p->limit;
			s->window = (uint32_t)p->window;
			s->units = p->units - p->window * 1000;
			s->last_ms = now_ms;
		} else if (p->existing) {
			/* write the refill back: exact, and it rebases last_ms
			 * if the clock went backwards */
			s->units = p->units;
			s->last_ms = now_ms;
		}
	}
	sweep(l, now_ms);
	lim_unlock(l);

out:
	if (why != NULL)
		*why = fail;
	if (refused) {
		*retry_after = wait > INT_MAX ? INT_MAX : (int)wait;
		return ERR_RATE_LIMITED;
	}
	return ERR_OK;
}

/* v in decimal into buf (NUL-terminated); snprintf costs more than a check. */
static void
decimal(char buf[24], size_t len, uint64_t v)
{
	char tmp[24];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0 && n < sizeof(tmp));
	for (i = 0; i < n && i + 1 < len; i++)
		buf[i] = tmp[n - 1 - i];
	buf[i] = '\0';
}

/* See limit.h. */
int
limit_keys(const struct config *cfg, const char *route, const char *ip, const char *username,
    int64_t account_id, char account[24], struct limit_key keys[])
{
	int i, n = 0, nrules;

	if (cfg == NULL || route == NULL)
		return 0;
	if (account_id > 0)
		decimal(account, 24, (uint64_t)account_id);
	nrules = cfg->n_rate_limits;
	if (nrules > CONFIG_MAX_RATE_RULES)
		nrules = CONFIG_MAX_RATE_RULES;
	for (i = 0; i < nrules; i++) {
		const struct rate_rule *rule = &cfg->rate_limits[i];
		const char *key = NULL;

		if (memchr(rule->route, '\0', sizeof(rule->route)) == NULL ||
		    !limit_route_matches(rule->route, route))
			continue;
		switch (rule->per) {
		case PER_IP:
			key = ip != NULL && ip[0] != '\0' ? ip : NULL;
			break;
		case PER_USERNAME:
			key = username != NULL && username[0] != '\0' ? username : NULL;
			break;
		case PER_ACCOUNT:
			key = account_id > 0 ? account : NULL;
			break;
		}
		if (key == NULL)
			continue;
		keys[n].rule = rule;
		keys[n].key = key;
		n++;
	}
	return n;
}

/* See limit.h. */
enum err
limit_check(struct limiter *l, const struct config *cfg, const char *route,
    const char *ip, const char *username, int64_t account_id, int *retry_after,
    const char **why)
{
	struct limit_key keys[CONFIG_MAX_RATE_RULES];
	char account[24];
	int n;
	int64_t now;

	if (retry_after != NULL)
		*retry_after = 0;
	if (why != NULL)
		*why = NULL;
	n = limit_keys(cfg, route, ip, username, account_id, account, keys);
	if (n == 0)
		return ERR_OK;
	now = limit_now_ms();
	if (now < 0) {
		if (why != NULL)
			*why = "rate limiter: clock_gettime failed";
		return ERR_OK;
	}
	return limit_take(l, keys, n, now, retry_after, why);
}

/* See limit.h. */
int
limit_test_hold_lock(struct limiter *l)
{
	const char *why = NULL;

	if (l == NULL)
		return -1;
	return lim_lock(l, &why);
}
