/*
 * metrics.c: shared request counters (see metrics.h). Writers never block:
 * a route is registered with one compare-and-swap, counters are atomic adds.
 */
#include "metrics.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shm.h"

#define M_MAGIC "BSMETRIC"
#define M_VERSION 2   /* 2: the header of shm.h */
#define M_ROUTES 64
#define M_NAME 40
#define M_PROCS 256

static const int m_statuses[] = {200, 201, 204, 304, 400, 401, 403, 404, 405, 409, 410, 411, 412, 413, 415,
    428, 429, 500, 503, 507, 0 /* other */};
#define M_NSTATUS ((int)(sizeof m_statuses / sizeof m_statuses[0]))
/* histogram bucket bounds in milliseconds (+Inf implied) */
static const double m_bounds[] = {1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000};
#define M_NBUCKET ((int)(sizeof m_bounds / sizeof m_bounds[0]))

struct m_route {
	_Atomic uint32_t state; /* 0 free, 1 being named, 2 ready */
	char name[M_NAME];
	_Atomic uint64_t count[M_NSTATUS];
	_Atomic uint64_t bucket[M_NBUCKET + 1];
	_Atomic uint64_t sum_us;
};

struct m_proc {
	_Atomic int32_t pid;
	_Atomic int32_t waiting;
};

struct m_table {
	_Atomic uint64_t rate_limited;
	struct m_route routes[M_ROUTES];
	struct m_proc procs[M_PROCS];
};

/* Counters start at zero in a new file and again after a reboot; version 1
 * (a bare table with a magic of its own, 8 bytes longer than the data) is
 * replaced. */
static const struct shm_spec metrics_spec = {
	.what = "metrics table",
	.magic = M_MAGIC,
	.version = M_VERSION,
	.size = SHM_HEADER_SIZE + sizeof(struct m_table),
	.legacy_size = sizeof(uint64_t) + sizeof(struct m_table),
};

struct metrics {
	void *map;
	struct m_table *t;
	struct m_proc *me; /* this process's slot, taken lazily (after fork) */
	pid_t me_pid;
};

int metrics_open(const char *path, struct metrics **out, char *errbuf, size_t errlen)
{
	*out = NULL;
	void *p = shm_open_table(&metrics_spec, path, errbuf, errlen);
	if (!p)
		return -1;
	struct metrics *m = calloc(1, sizeof *m);
	if (!m) {
		shm_close(&metrics_spec, p);
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	m->map = p;
	struct m_table *t = shm_data(p);
	m->t = t;
	*out = m;
	return 0;
}

void metrics_close(struct metrics *m)
{
	if (!m)
		return;
	if (m->me && m->me_pid == getpid()) {
		atomic_store(&m->me->waiting, 0);
		atomic_store(&m->me->pid, 0);
	}
	shm_close(&metrics_spec, m->map);
	free(m);
}

static struct m_route *route_of(struct m_table *t, const char *name)
{
	for (int i = 0; i < M_ROUTES; i++) {
		struct m_route *r = &t->routes[i];
		uint32_t st = atomic_load(&r->state);
		if (st == 2 && strncmp(r->name, name, M_NAME - 1) == 0)
			return r;
		if (st == 0) {
			uint32_t want = 0;
			if (atomic_compare_exchange_strong(&r->state, &want, 1)) {
				snprintf(r->name, sizeof r->name, "%s", name);
				atomic_store(&r->state, 2);
				return r;
			}
			/* lost the race for this slot: look at it again */
			i--;
			continue;
		}
		if (st == 1)
			return NULL; /* being named right now: skip this one sample */
	}
	return NULL; /* full: routes beyond 64 names are not counted */
}

void metrics_observe(struct metrics *m, const char *route, int status, double ms)
{
	if (!m)
		return;
	struct m_route *r = route_of(m->t, route ? route : "-");
	if (status == 429)
		atomic_fetch_add(&m->t->rate_limited, 1);
	if (!r)
		return;
	int si = M_NSTATUS - 1;
	for (int i = 0; i < M_NSTATUS - 1; i++)
		if (m_statuses[i] == status)
			si = i;
	atomic_fetch_add(&r->count[si], 1);
	int b = M_NBUCKET;
	for (int i = 0; i < M_NBUCKET; i++)
		if (ms <= m_bounds[i]) {
			b = i;
			break;
		}
	atomic_fetch_add(&r->bucket[b], 1);
	atomic_fetch_add(&r->sum_us, (uint64_t)(ms * 1000.0));
}

void metrics_waiting(struct metrics *m, int delta)
{
	if (!m)
		return;
	pid_t pid = getpid();
	if (!m->me || m->me_pid != pid) {
		m->me = NULL;
		m->me_pid = pid;
		for (int i = 0; i < M_PROCS && !m->me; i++) {
			struct m_proc *p = &m->t->procs[i];
			int32_t cur = atomic_load(&p->pid);
			/* a free slot, or one left by a process that is gone */
			if (cur == 0 || (cur != pid && kill(cur, 0) != 0 && errno == ESRCH)) {
				if (atomic_compare_exchange_strong(&p->pid, &cur, (int32_t)pid)) {
					atomic_store(&p->waiting, 0);
					m->me = p;
				}
			} else if (cur == pid) {
				m->me = p;
			}
		}
		if (!m->me)
			return;
	}
	atomic_fetch_add(&m->me->waiting, delta);
}

static void label_escape(struct buf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			buf_addc(out, '\\');
		if (*s == '\n')
			buf_adds(out, "\\n");
		else
			buf_addc(out, *s);
	}
}

/* The start of one sample line, up to the route label's value: METRIC{route="NAME */
static void series(struct buf *out, const char *metric, const char *route)
{
	buf_printf(out, "%s{route=\"", metric);
	label_escape(out, route);
}

void metrics_write(struct metrics *m, struct buf *out)
{
	if (!m)
		return;
	struct m_table *t = m->t;
	buf_adds(out, "# HELP blindsync_requests_total Requests answered, by route and status.\n"
	              "# TYPE blindsync_requests_total counter\n");
	for (int i = 0; i < M_ROUTES; i++) {
		struct m_route *r = &t->routes[i];
		if (atomic_load(&r->state) != 2)
			continue;
		for (int s = 0; s < M_NSTATUS; s++) {
			uint64_t n = atomic_load(&r->count[s]);
			if (!n)
				continue;
			series(out, "blindsync_requests_total", r->name);
			if (m_statuses[s])
				buf_printf(out, "\",status=\"%d\"} %llu\n", m_statuses[s], (unsigned long long)n);
			else
				buf_printf(out, "\",status=\"other\"} %llu\n", (unsigned long long)n);
		}
	}
	buf_adds(out, "# HELP blindsync_request_duration_seconds Time from the request's start to its answer, by route.\n"
	              "# TYPE blindsync_request_duration_seconds histogram\n");
	for (int i = 0; i < M_ROUTES; i++) {
		struct m_route *r = &t->routes[i];
		if (atomic_load(&r->state) != 2)
			continue;
		uint64_t cum = 0;
		for (int b = 0; b <= M_NBUCKET; b++) {
			cum += atomic_load(&r->bucket[b]);
			series(out, "blindsync_request_duration_seconds_bucket", r->name);
			if (b < M_NBUCKET)
				buf_printf(out, "\",le=\"%g\"} %llu\n", m_bounds[b] / 1000.0, (unsigned long long)cum);
			else
				buf_printf(out, "\",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
		}
		series(out, "blindsync_request_duration_seconds_sum", r->name);
		buf_printf(out, "\"} %.6f\n", (double)atomic_load(&r->sum_us) / 1e6);
		series(out, "blindsync_request_duration_seconds_count", r->name);
		buf_printf(out, "\"} %llu\n", (unsigned long long)cum);
	}
	buf_printf(out, "# HELP blindsync_rate_limited_total Requests refused by a rate limit (429).\n"
	                "# TYPE blindsync_rate_limited_total counter\nblindsync_rate_limited_total %llu\n",
	    (unsigned long long)atomic_load(&t->rate_limited));
	long waiting = 0;
	for (int i = 0; i < M_PROCS; i++) {
		int32_t pid = atomic_load(&t->procs[i].pid);
		if (pid > 0 && (kill(pid, 0) == 0 || errno != ESRCH))
			waiting += atomic_load(&t->procs[i].waiting);
	}
	buf_printf(out, "# HELP blindsync_longpolls_waiting Long-polls waiting for a change now.\n"
	                "# TYPE blindsync_longpolls_waiting gauge\nblindsync_longpolls_waiting %ld\n", waiting);
}
