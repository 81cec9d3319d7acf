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

struct notifier {
	_Atomic uint32_t *seq; /* NOTIFY_SLOTS counters */
};

/* A bare table: counters alone, no header and no lock (futexes need none);
 * a file of an older size is grown and keeps its counters. */
static const struct shm_spec notify_spec = {
	.what = "notification table",
	.size = NOTIFY_SLOTS * sizeof(uint32_t),
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
	n->seq = p;
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

void notify_bump(struct notifier *n, uint32_t slot)
{
	if (!n)
		return;
	_Atomic uint32_t *w = &n->seq[slot % NOTIFY_SLOTS];
	atomic_fetch_add(w, 1);
	syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
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
	_Atomic uint32_t *w = &n->seq[slot % NOTIFY_SLOTS];
	struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
	/* returns at once (EAGAIN) when the value already moved on */
	syscall(SYS_futex, (uint32_t *)w, FUTEX_WAIT, seen, &ts, NULL, 0);
}
