/*
 * metrics.h: request metrics shared by every worker process of every
 * handler, for GET /v1/metrics (Prometheus text format).
 *
 * A fixed table in a shared memory-mapped file ("<database>-metrics"):
 * per route name (registered on first use), request counts by status and a
 * latency histogram; a count of rate-limit refusals; and per process the
 * number of long-polls waiting (counted only for live processes, so a
 * killed worker does not leave a stale gauge). Updates are lock-free
 * atomic adds. Holds no personal data: route names and numbers only.
 */
#ifndef BLINDSYNC_METRICS_H
#define BLINDSYNC_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct metrics;

/* Open or create the table at path. 0, or -1 with errbuf filled. */
int metrics_open(const char *path, struct metrics **out, char *errbuf, size_t errlen);
void metrics_close(struct metrics *m);

/* Count one answered request (route may be NULL: "-"). No-op when m is NULL. */
void metrics_observe(struct metrics *m, const char *route, int status, double ms);
/* This process's long-polls waiting: +1 / -1. */
void metrics_waiting(struct metrics *m, int delta);

/*
 * Write the Prometheus text exposition of the shared counters into out.
 * The caller appends gauges it reads elsewhere (store size, accounts, ...).
 */
void metrics_write(struct metrics *m, struct buf *out);

#endif
