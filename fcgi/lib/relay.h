/*
 * relay.h: long-poll wake-ups across the machines that share one store
 * (PostgreSQL). notify.c wakes every process of one machine; the relay
 * carries the same wake-ups to the other machines.
 *
 * One process per machine relays (the holder of an flock on the side file
 * "relay"; any process of any handler may take over when it dies): a sender
 * thread sleeps on the notifier's outbox, takes every slot bumped since its
 * last look and sends them in one message (store_bus_send), however many
 * writers bumped them: writers never wait for it and never NOTIFY in their
 * own transactions. A listener thread receives the other machines'
 * messages and bumps those slots here. After a lost connection it bumps
 * every slot once (a spurious wake-up makes waiters query again; a missed
 * one would make them wait out their timeout).
 *
 * For a store on one machine (SQLite) nothing is started. Must never:
 * block a writer, or send anything but slot numbers.
 */
#ifndef BLINDSYNC_RELAY_H
#define BLINDSYNC_RELAY_H

#include <stddef.h>

struct notifier;
struct relay;

/*
 * Start the relay threads of this process for the store at `location`,
 * using the notifier n (which must outlive the relay) and the lock file
 * `lockpath` (core.c: the store's side file "relay", beside the notifier's):
 * 0 with *out set (stop with relay_stop), or 0 with *out NULL when the store
 * needs no relay (not shared, or n is NULL); -1 with errbuf filled when the
 * threads cannot be started. The threads relay only while this process
 * holds the lock; they retry the lock and the database every second.
 */
int relay_start(struct notifier *n, const char *location, const char *lockpath, struct relay **out, char *errbuf,
    size_t errlen);

/* Stop the threads (within about a second) and free the relay. NULL is fine. */
void relay_stop(struct relay *r);

/*
 * The text of one message: this machine's node id (16 hex digits), a
 * space, and each slot as 3 hex digits. Exposed for the unit test:
 * relay_encode writes at most STORE_BUS_MSG_MAX bytes + NUL into buf and
 * returns how many of the n slots it holds; relay_decode calls fn with each
 * slot of a message not from `self`, and returns the count, or -1 for a
 * message that is not one of ours.
 */
size_t relay_encode(unsigned long long node, const unsigned short *slots, size_t n, char *buf, size_t len);
int relay_decode(unsigned long long self, const char *msg, void (*fn)(void *ctx, unsigned slot), void *ctx);

#endif
