/*
 * relay.c: long-poll wake-ups across machines (relay.h): the election by
 * flock, the sender and the listener threads, the message text.
 *
 * Must never: block a writer (writers only mark slots in the notifier's
 * outbox), hold the relay lock without relaying, or trust a message (one
 * that does not parse is ignored; a slot is always taken modulo the table).
 */
#include "relay.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "bsc.h"
#include "log.h"
#include "notify.h"
#include "store.h"

#define RELAY_TICK_MS 1000  /* the longest sleep: a stop, the lock and the database are looked at as often */
#define RELAY_BATCH 2048    /* slots per message: 17 + 3 x 2048 bytes, under STORE_BUS_MSG_MAX */
/* at most one message this often: the writes of that time share it. Each
 * message is a commit that takes PostgreSQL's notification lock and wakes
 * every listener (a node's own included); sent as soon as there was
 * something, a push load of 1,000 a second made 670 of them. A wake-up
 * across machines waits up to this much longer. */
#define RELAY_GAP_MS 5

_Static_assert(17 + 3 * RELAY_BATCH < STORE_BUS_MSG_MAX, "a batch fits one message");
_Static_assert(NOTIFY_SLOTS <= 4096, "a slot is 3 hex digits");

struct relay {
	struct notifier *n;
	char location[STORE_LOCATION_MAX];
	char lockpath[STORE_LOCATION_MAX + 16];
	unsigned long long node;     /* random, per relay: our own messages come back to us */
	atomic_int stop;
	atomic_int leading;          /* this process holds the relay lock */
	pthread_t sender, listener;
	int have_sender, have_listener;
};

/* ---- the message text ---- */

static const char hexd[] = "0123456789abcdef";

size_t relay_encode(unsigned long long node, const unsigned short *slots, size_t n, char *buf, size_t len)
{
	size_t off = 0, done = 0;
	if (len < 18)
		return 0;
	for (int i = 15; i >= 0; i--)
		buf[off++] = hexd[(node >> (4 * i)) & 15];
	buf[off++] = ' ';
	size_t cap = len - 1 < STORE_BUS_MSG_MAX ? len - 1 : STORE_BUS_MSG_MAX;
	for (; done < n && off + 3 <= cap; done++) {
		unsigned s = slots[done] % NOTIFY_SLOTS;
		buf[off++] = hexd[(s >> 8) & 15];
		buf[off++] = hexd[(s >> 4) & 15];
		buf[off++] = hexd[s & 15];
	}
	buf[off] = '\0';
	return done;
}

/* The value of hex digit c, or -1. */
static int unhex(char c)
{
	const char *p = c ? strchr(hexd, c) : NULL;
	return p ? (int)(p - hexd) : -1;
}

int relay_decode(unsigned long long self, const char *msg, void (*fn)(void *ctx, unsigned slot), void *ctx)
{
	unsigned long long node = 0;
	size_t len = strlen(msg);
	if (len < 17 || msg[16] != ' ' || (len - 17) % 3 != 0)
		return -1;
	for (int i = 0; i < 16; i++) {
		int d = unhex(msg[i]);
		if (d < 0)
			return -1;
		node = node << 4 | (unsigned)d;
	}
	for (size_t i = 17; i < len; i++)
		if (unhex(msg[i]) < 0)
			return -1;
	if (node == self)
		return 0;
	int count = 0;
	for (size_t i = 17; i < len; i += 3) {
		unsigned s = (unsigned)(unhex(msg[i]) << 8 | unhex(msg[i + 1]) << 4 | unhex(msg[i + 2]));
		fn(ctx, s % NOTIFY_SLOTS);
		count++;
	}
	return count;
}

/* ---- the threads ---- */

/* Sleep ms milliseconds, or less when the relay stops. */
static void nap(struct relay *r, int ms)
{
	for (int left = ms; left > 0 && !atomic_load(&r->stop); left -= 100) {
		struct timespec ts = {0, (long)(left < 100 ? left : 100) * 1000000L};
		nanosleep(&ts, NULL);
	}
}

/* Open a bus until it works or the relay stops; NULL when stopping. */
static struct store_bus *bus_connect(struct relay *r, int listen, const char *who)
{
	char err[512];
	int logged = 0;
	while (!atomic_load(&r->stop)) {
		struct store_bus *b = NULL;
		if (store_bus_open(r->location, listen, &b, err, sizeof err) == 0 && b) {
			if (logged)
				log_msg(LOG_INFO, "relay: %s connected again", who);
			return b;
		}
		if (!logged++)
			log_msg(LOG_WARN, "relay: %s: %s; retrying every second", who, err);
		nap(r, RELAY_TICK_MS);
	}
	return NULL;
}

/* relay_decode callback: bump one slot of another machine here. */
static void bump_slot(void *ctx, unsigned slot)
{
	notify_bump_remote(ctx, slot);
}

/* store_bus_wait callback: a message from the bus. */
static void on_message(void *ctx, const char *msg)
{
	struct relay *r = ctx;
	(void)relay_decode(r->node, msg, bump_slot, r->n);
}

/* Wake every waiter of this machine once: what we may have missed. */
static void bump_all(struct relay *r)
{
	for (unsigned s = 0; s < NOTIFY_SLOTS; s++)
		notify_bump_remote(r->n, s);
}

/* The listener thread: while leading, receive and bump. */
static void *listener_main(void *arg)
{
	struct relay *r = arg;
	struct store_bus *b = NULL;
	while (!atomic_load(&r->stop)) {
		if (!atomic_load(&r->leading)) {
			store_bus_close(b);
			b = NULL;
			nap(r, 100);
			continue;
		}
		if (!b) {
			if (!(b = bus_connect(r, 1, "listener")))
				break;
			/* messages sent while nobody here listened are lost */
			bump_all(r);
		}
		if (store_bus_wait(b, RELAY_TICK_MS, on_message, r) != 0) {
			log_msg(LOG_WARN, "relay: listener: the database connection was lost; reconnecting");
			store_bus_close(b);
			b = NULL;
			nap(r, 100);
		}
	}
	store_bus_close(b);
	return NULL;
}

/*
 * Take the machine's relay lock if it is free (the holder died or there was
 * none): 1 when held. fd is the open lock file.
 */
static int try_lead(int fd) { return fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0; }

/* The sender thread: the election, then the outbox into messages. */
static void *sender_main(void *arg)
{
	struct relay *r = arg;
	struct store_bus *b = NULL;
	uint16_t slots[RELAY_BATCH];
	char msg[STORE_BUS_MSG_MAX + 1];
	size_t pending = 0; /* slots taken and not sent yet */
	int fd = open(r->lockpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		log_msg(LOG_ERROR, "relay: %s: %s; no wake-ups across machines from here", r->lockpath, strerror(errno));
	while (!atomic_load(&r->stop) && !try_lead(fd))
		nap(r, RELAY_TICK_MS);
	if (atomic_load(&r->stop))
		goto out;
	log_msg(LOG_INFO, "relay: this process relays the long-poll wake-ups of this machine");
	atomic_store(&r->leading, 1);
	uint32_t seen = 0;
	while (!atomic_load(&r->stop)) {
		if (!b && !(b = bus_connect(r, 0, "sender")))
			break;
		if (pending == 0) {
			seen = notify_outbox_seq(r->n); /* before the take: a bump after it moves it */
			pending = notify_outbox_take(r->n, slots, RELAY_BATCH);
		}
		if (pending == 0) {
			notify_outbox_wait(r->n, seen, RELAY_TICK_MS);
			continue;
		}
		size_t sent = relay_encode(r->node, slots, pending, msg, sizeof msg);
		if (store_bus_send(b, msg) != 0) {
			log_msg(LOG_WARN, "relay: sender: the database connection was lost; reconnecting");
			store_bus_close(b);
			b = NULL;
			nap(r, 100);
			continue; /* the slots stay pending */
		}
		memmove(slots, slots + sent, (pending - sent) * sizeof *slots);
		pending -= sent;
		if (pending == 0)
			nap(r, RELAY_GAP_MS);
	}
out:
	store_bus_close(b);
	atomic_store(&r->leading, 0);
	if (fd >= 0)
		close(fd); /* releases the lock for another process */
	return NULL;
}

int relay_start(struct notifier *n, const char *location, const char *lockpath, struct relay **out, char *errbuf,
    size_t errlen)
{
	*out = NULL;
	if (!n || !store_location_shared(location))
		return 0;
	struct relay *r = calloc(1, sizeof *r);
	if (!r) {
		snprintf(errbuf, errlen, "relay: out of memory");
		return -1;
	}
	r->n = n;
	snprintf(r->location, sizeof r->location, "%s", location);
	snprintf(r->lockpath, sizeof r->lockpath, "%s", lockpath);
	if (bsc_random(&r->node, sizeof r->node) != 0) {
		snprintf(errbuf, errlen, "relay: no random bytes for the node id");
		free(r);
		return -1;
	}
	if (pthread_create(&r->sender, NULL, sender_main, r) == 0)
		r->have_sender = 1;
	if (r->have_sender && pthread_create(&r->listener, NULL, listener_main, r) == 0)
		r->have_listener = 1;
	if (!r->have_listener) {
		snprintf(errbuf, errlen, "relay: cannot start its threads");
		relay_stop(r);
		return -1;
	}
	*out = r;
	return 0;
}

void relay_stop(struct relay *r)
{
	if (!r)
		return;
	atomic_store(&r->stop, 1);
	if (r->have_sender)
		pthread_join(r->sender, NULL);
	if (r->have_listener)
		pthread_join(r->listener, NULL);
	free(r);
}
