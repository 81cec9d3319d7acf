/*
 * notify.c: shared sequence counters with futex wake-ups (see notify.h).
 * Uses non-private futexes on a MAP_SHARED file mapping, which the kernel
 * keys by the file page, so processes mapping the same file meet.
 */
#include "notify.h"

#include <linux/futex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "shm.h"

#define OUTBOX_WORDS (NOTIFY_SLOTS / 32) /* one mark bit per slot */

/*
 * The file: NOTIFY_SLOTS counters, then the outbox: its counter, a word of
 * padding, and the marks. All of it reads as zeros when new.
 */
struct notify_table {
	_Atomic uint32_t seq[NOTIFY_SLOTS];
	_Atomic uint32_t outbox;
	uint32_t pad;
	_Atomic uint32_t marks[OUTBOX_WORDS];
};

_Static_assert(sizeof(struct notify_table) == NOTIFY_FILE_BYTES, "notify.h says the file's size");

struct notifier {
	_Atomic uint32_t *seq;    /* NOTIFY_SLOTS counters */
	struct notify_table *t;
};

/* A bare table: counters alone, no header and no lock (futexes need none);
 * a file of an older size (counters only) is grown and keeps its counters. */
static const struct shm_spec notify_spec = {
	.what = "notification table",
	.size = sizeof(struct notify_table),
};

int notify_open(const char *path, struct notifier **out, char *errbuf, size_t errlen)
{
	*out = NULL;
	void *p = shm_open_table(&notify_spec, path, errbuf, errlen);
	if (!p)
		return -1;
	struct notifier *n = calloc(1, sizeof *n);
	if (!n) {
		shm_close(&notify_spec, p);
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	n->t = p;
	n->seq = n->t->seq;
	*out = n;
	return 0;
}

void notify_close(struct notifier *n)
{
	if (!n)
		return;
	shm_close(&notify_spec, (void *)n->seq);
	free(n);
}

static uint32_t fnv(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return (uint32_t)(h ^ (h >> 32));
}

uint32_t notify_slot_collection(int64_t account_id, const char *name)
{
	uint64_t h = 14695981039346656037ULL;
	uint32_t x = fnv(h, &account_id, sizeof account_id);
	x = fnv(x, name, strlen(name));
	return x % NOTIFY_SLOTS;
}

uint32_t notify_slot_account(int64_t account_id)
{
	uint64_t h = 14695981039346656037ULL ^ 0x5bd1e995;
	return fnv(h, &account_id, sizeof account_id) % NOTIFY_SLOTS;
}

uint32_t notify_seq(struct notifier *n, uint32_t slot)
{
	if (!n)
		return 0;
	return atomic_load(&n->seq[slot % NOTIFY_SLOTS]);
}

/* Advance a counter and wake whoever sleeps on it. */
static void advance(_Atomic uint32_t *w)
{
	atomic_fetch_add(w, 1);
	syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
}

void notify_bump(struct notifier *n, uint32_t slot)
{
	if (!n)
		return;
	slot %= NOTIFY_SLOTS;
	advance(&n->seq[slot]);
	/* the mark before the outbox counter: a relay woken by the counter
	 * finds the mark (a mark it takes early is only sent early) */
	uint32_t bit = 1u << (slot % 32);
	if (!(atomic_load_explicit(&n->t->marks[slot / 32], memory_order_relaxed) & bit))
		atomic_fetch_or(&n->t->marks[slot / 32], bit);
	advance(&n->t->outbox);
}

void notify_bump_remote(struct notifier *n, uint32_t slot)
{
	if (n)
		advance(&n->seq[slot % NOTIFY_SLOTS]);
}

uint32_t notify_outbox_seq(struct notifier *n) { return n ? atomic_load(&n->t->outbox) : 0; }

/* Sleep on the counter w while it holds `seen`, at most timeout_ms. */
static void sleep_on(_Atomic uint32_t *w, uint32_t seen, int timeout_ms)
{
	struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
	/* returns at once (EAGAIN) when the value already moved on */
	syscall(SYS_futex, (uint32_t *)w, FUTEX_WAIT, seen, &ts, NULL, 0);
}

void notify_outbox_wait(struct notifier *n, uint32_t seen, int timeout_ms)
{
	if (n && timeout_ms > 0)
		sleep_on(&n->t->outbox, seen, timeout_ms);
}

size_t notify_outbox_take(struct notifier *n, uint16_t *slots, size_t max)
{
	size_t got = 0;
	if (!n)
		return 0;
	for (int w = 0; w < OUTBOX_WORDS && got < max; w++) {
		if (!atomic_load_explicit(&n->t->marks[w], memory_order_relaxed))
			continue;
		uint32_t bits = atomic_exchange(&n->t->marks[w], 0);
		while (bits) {
			int b = __builtin_ctz(bits);
			bits &= bits - 1;
			if (got == max) {
				/* no room: leave the rest marked for the next take */
				atomic_fetch_or(&n->t->marks[w], bits | (1u << b));
				break;
			}
			slots[got++] = (uint16_t)(w * 32 + b);
		}
	}
	return got;
}

void notify_wait(struct notifier *n, uint32_t slot, uint32_t seen, int timeout_ms)
{
	if (timeout_ms <= 0)
		return;
	if (!n) {
		struct timespec ts = {0, (timeout_ms < 50 ? timeout_ms : 50) * 1000000L};
		nanosleep(&ts, NULL);
		return;
	}
	sleep_on(&n->seq[slot % NOTIFY_SLOTS], seen, timeout_ms);
}
