/*
 * notify.h: cross-process change notification for long-polls.
 *
 * A table of 32-bit sequence counters in a small shared memory-mapped file
 * ("<database>-notify"). A writer, after its transaction committed, bumps
 * the counter of what it changed (a collection, an account) and wakes the
 * futex waiters on it; a long-poll reads the counter, runs its query, and if
 * it found nothing sleeps in FUTEX_WAIT until the counter moves or its time
 * is up. Idle waiting costs nothing (no polling) and a wake-up is immediate,
 * on any worker of any handler. Counters are shared by hash: a collision
 * only causes a spurious wake-up, after which the waiter queries again.
 *
 * The file holds no data: losing it loses nothing. Never blocks a writer.
 *
 * The outbox (after the counters) is for a store shared by several machines
 * (PostgreSQL): every bump also marks its slot in a bitmap and advances one
 * outbox counter, on which the machine's relay (relay.c) sleeps; the relay
 * takes the marked slots, many bumps at once, and sends them to the other
 * machines, whose relays bump them there with notify_bump_remote (unmarked,
 * so nothing echoes back). A writer never waits for the relay.
 */
#ifndef BLINDSYNC_NOTIFY_H
#define BLINDSYNC_NOTIFY_H

#include <stdint.h>
#include <stddef.h>

#define NOTIFY_SLOTS 4096
/* the file: the counters, then the outbox (its counter, padding, a mark bit per slot) */
#define NOTIFY_FILE_BYTES (NOTIFY_SLOTS * 4 + 8 + NOTIFY_SLOTS / 8)

struct notifier;

/* Open or create the table at path. 0, or -1 with errbuf filled. */
int notify_open(const char *path, struct notifier **out, char *errbuf, size_t errlen);
/* Unmap. NULL is fine. */
void notify_close(struct notifier *n);

/* The slot of a collection of an account, and of the account as a whole. */
uint32_t notify_slot_collection(int64_t account_id, const char *name);
uint32_t notify_slot_account(int64_t account_id);

/* The current sequence of a slot (0 when n is NULL). */
uint32_t notify_seq(struct notifier *n, uint32_t slot);
/* Advance a slot and wake everyone waiting on it (no-op when n is NULL). */
void notify_bump(struct notifier *n, uint32_t slot);
/*
 * Sleep until the slot's sequence differs from `seen` or timeout_ms passed
 * (or a signal arrives). Returns at once if it already differs. With n NULL
 * it sleeps up to timeout_ms in 50 ms steps checking nothing (a fallback).
 */
void notify_wait(struct notifier *n, uint32_t slot, uint32_t seen, int timeout_ms);

/* ---- the outbox, for relay.c ---- */

/* The outbox counter: it moves after every notify_bump (0 when n is NULL). */
uint32_t notify_outbox_seq(struct notifier *n);
/* Sleep until the outbox counter differs from `seen` or timeout_ms passed. */
void notify_outbox_wait(struct notifier *n, uint32_t seen, int timeout_ms);
/*
 * Take the slots marked by notify_bump since the last take, clearing their
 * marks: at most max of them into slots[] (those left stay marked for the
 * next take), in slot order. Returns how many were taken.
 */
size_t notify_outbox_take(struct notifier *n, uint16_t *slots, size_t max);
/* Advance a slot and wake its waiters, without marking it for the relay
 * (a bump that came from another machine). No-op when n is NULL. */
void notify_bump_remote(struct notifier *n, uint32_t slot);

#endif
