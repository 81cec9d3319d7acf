/*
 * test_relay.c: unit tests of the long-poll relay across machines: the
 * notifier's outbox (notify.c), the relay's message text and, when
 * BS_TEST_PG names a PostgreSQL database (a URI), two relays of two
 * "machines" (two notification tables, two relay locks, one database): a
 * bump on one wakes a waiter on the other within a second, many bumps are
 * coalesced into few messages, and nothing echoes back.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "notify.h"
#include "relay.h"
#include "store.h"
#include "t.h"

static char tmpdir[64];

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct notifier *
open_table(const char *name)
{
	char path[160], err[256];
	struct notifier *n = NULL;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	if (notify_open(path, &n, err, sizeof err) != 0)
		fprintf(stderr, "notify_open: %s\n", err);
	return n;
}

static void
test_outbox(void)
{
	struct notifier *n = open_table("outbox");
	uint16_t got[8];

	T_OK(n != NULL);
	if (!n)
		return;
	T_EQ_INT(notify_outbox_take(n, got, 8), 0);
	uint32_t seen = notify_outbox_seq(n);
	notify_bump(n, 4095);
	notify_bump(n, 7);
	notify_bump(n, 7);     /* marked once */
	notify_bump(n, 4096 + 33);
	T_OK(notify_outbox_seq(n) != seen);
	/* a waiter on the outbox returns at once: it moved */
	int64_t t0 = now_ms();
	notify_outbox_wait(n, seen, 5000);
	T_OK(now_ms() - t0 < 2500);
	/* two at a time, in slot order; the rest stays for the next take */
	T_EQ_INT(notify_outbox_take(n, got, 2), 2);
	T_EQ_INT(got[0], 7);
	T_EQ_INT(got[1], 33);
	T_EQ_INT(notify_outbox_take(n, got, 8), 1);
	T_EQ_INT(got[0], 4095);
	T_EQ_INT(notify_outbox_take(n, got, 8), 0);
	/* a bump from another machine wakes here but is not sent back */
	uint32_t before = notify_seq(n, 99);
	notify_bump_remote(n, 99);
	T_EQ_INT(notify_seq(n, 99), before + 1);
	T_EQ_INT(notify_outbox_take(n, got, 8), 0);
	/* a quiet outbox: the wait lasts about its timeout */
	seen = notify_outbox_seq(n);
	t0 = now_ms();
	notify_outbox_wait(n, seen, 100);
	T_OK(now_ms() - t0 >= 90);
	notify_close(n);
	/* the NULL notifier has no outbox */
	T_EQ_INT(notify_outbox_seq(NULL), 0);
	T_EQ_INT(notify_outbox_take(NULL, got, 8), 0);
	notify_bump_remote(NULL, 1);
}

static unsigned decoded[4096];
static int ndecoded;

static void
collect(void *ctx, unsigned slot)
{
	(void)ctx;
	if (ndecoded < 4096)
		decoded[ndecoded++] = slot;
}

static void
test_message(void)
{
	unsigned short slots[3000];
	static char buf[STORE_BUS_MSG_MAX + 1];

	for (int i = 0; i < 3000; i++)
		slots[i] = (unsigned short)(i * 7 % NOTIFY_SLOTS);
	size_t n = relay_encode(0x0123456789abcdefULL, slots, 3, buf, sizeof buf);
	T_EQ_INT(n, 3);
	T_EQ_STR(buf, "0123456789abcdef 00000700e");
	ndecoded = 0;
	T_EQ_INT(relay_decode(0x1ULL, buf, collect, NULL), 3);
	T_EQ_INT(ndecoded, 3);
	T_EQ_INT(decoded[2], 14);
	/* our own message is ignored */
	ndecoded = 0;
	T_EQ_INT(relay_decode(0x0123456789abcdefULL, buf, collect, NULL), 0);
	T_EQ_INT(ndecoded, 0);
	/* a long list is cut to one message; the count says how much went */
	n = relay_encode(42, slots, 3000, buf, sizeof buf);
	T_OK(n > 2000 && n < 3000);
	T_OK(strlen(buf) <= STORE_BUS_MSG_MAX);
	ndecoded = 0;
	T_EQ_INT(relay_decode(1, buf, collect, NULL), (int)n);
	T_EQ_INT(decoded[n - 1], slots[n - 1]);
	/* what is not ours is refused whole */
	const char *bad[] = {"", "hello", "0123456789abcdef", "0123456789abcdefX000", "0123456789abcdef 00",
	    "0123456789abcdef 00g", "0123456789ABCDEF 000", "0123456789abcdef-000"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ndecoded = 0;
		T_EQ_INT(relay_decode(1, bad[i], collect, NULL), -1);
		T_EQ_INT(ndecoded, 0);
	}
	/* an empty list is a message too */
	T_EQ_INT(relay_decode(1, "0123456789abcdef ", collect, NULL), 0);
	/* a store on one machine needs no relay */
	struct relay *r = (struct relay *)(void *)&ndecoded;
	char err[256];
	struct notifier *nt = open_table("lite");
	T_EQ_INT(relay_start(nt, "/var/lib/blindsync/blindsync.db", "/nonexistent/relay", &r, err, sizeof err), 0);
	T_OK(r == NULL);
	notify_close(nt);
}

/* Wait until slot's counter leaves `seen` or ms pass: the time taken, or -1. */
static int64_t
wake_time(struct notifier *n, uint32_t slot, uint32_t seen, int ms)
{
	int64_t t0 = now_ms();

	while (now_ms() - t0 < ms) {
		if (notify_seq(n, slot) != seen)
			return now_ms() - t0;
		notify_wait(n, slot, seen, 100);
	}
	return notify_seq(n, slot) != seen ? now_ms() - t0 : -1;
}

static void
test_two_machines(const char *uri)
{
	struct notifier *a = open_table("node-a"), *b = open_table("node-b");
	struct relay *ra = NULL, *rb = NULL;
	char err[512], la[160], lb[160];

	snprintf(la, sizeof la, "%s/relay-a", tmpdir);
	snprintf(lb, sizeof lb, "%s/relay-b", tmpdir);
	T_OK(a && b);
	if (!a || !b)
		return;
	T_EQ_INT(relay_start(a, uri, la, &ra, err, sizeof err), 0);
	T_EQ_INT(relay_start(b, uri, lb, &rb, err, sizeof err), 0);
	T_OK(ra && rb);
	/* let both connect and LISTEN: the first wake proves it */
	uint32_t slot = notify_slot_collection(7, "notes");
	int64_t took = -1;
	for (int i = 0; i < 30 && took < 0; i++) {
		uint32_t seen = notify_seq(b, slot);
		notify_bump(a, slot);
		took = wake_time(b, slot, seen, 1000);
	}
	T_OK(took >= 0);
	/* now every bump on A wakes B within a second, and B's waiter sees it */
	int slow = 0;
	for (int i = 0; i < 20; i++) {
		uint32_t s = notify_slot_account(1000 + i), seen = notify_seq(b, s);
		notify_bump(a, s);
		took = wake_time(b, s, seen, 1000);
		if (took < 0 || took >= 1000)
			slow++;
	}
	T_EQ_INT(slow, 0);
	/* and the other way round */
	uint32_t s2 = notify_slot_account(4242), seen2 = notify_seq(a, s2);
	notify_bump(b, s2);
	T_OK(wake_time(a, s2, seen2, 1000) >= 0);
	/* a burst of bumps on A: all of them reach B (coalesced: a slot bumped
	 * many times is sent once per message) */
	uint32_t before[64];
	for (int i = 0; i < 64; i++)
		before[i] = notify_seq(b, notify_slot_account(5000 + i));
	for (int k = 0; k < 50; k++)
		for (int i = 0; i < 64; i++)
			notify_bump(a, notify_slot_account(5000 + i));
	int missing = 64;
	for (int64_t t0 = now_ms(); missing && now_ms() - t0 < 3000;) {
		missing = 0;
		for (int i = 0; i < 64; i++)
			if (notify_seq(b, notify_slot_account(5000 + i)) == before[i])
				missing++;
		if (missing)
			usleep(10000);
	}
	T_EQ_INT(missing, 0);
	/* nothing echoes: a quiet A sends nothing, so B's outbox stays empty */
	uint16_t got[8];
	usleep(300000);
	T_EQ_INT(notify_outbox_take(b, got, 8), 0);
	relay_stop(ra);
	relay_stop(rb);
	notify_close(a);
	notify_close(b);
}

int
main(void)
{
	const char *uri = getenv("BS_TEST_PG");

	if (t_tmpdir(tmpdir, sizeof tmpdir, "relay") != 0)
		return 1;
	T_RUN(test_outbox);
	T_RUN(test_message);
	if (uri && *uri)
		test_two_machines(uri);
	else
		fprintf(stderr, "test_relay: BS_TEST_PG not set: the two-machine test is skipped\n");
	t_tmpdir_remove(tmpdir);
	return t_done();
}
