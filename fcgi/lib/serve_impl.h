/*
 * serve_impl.h: private to the serve module (serve*.c); nothing else may
 * include it.
 *
 * serve.c is the dispatcher, the long-poll and rate-limit glue and
 * serve_main(); serve_proc.c runs the process (worker threads, prefork and
 * supervision, waiting for signals, the CGI fallbacks); serve_addr.c parses
 * addresses and finds the client's (trusted proxies, X-Forwarded-For). This
 * header holds what they share.
 */
#ifndef BLINDSYNC_SERVE_IMPL_H
#define BLINDSYNC_SERVE_IMPL_H

#include <signal.h>
#include <stdatomic.h>

#include "core.h"
#include "http.h"
#include "serve.h"

/* serve.c: set once the process stops; read by every worker thread */
extern atomic_int serve_stopping;
/* serve.c: the process's limiter, notifier and metrics; serve_proc.c sets
 * wait_max, the long-polls it lets wait at once (half its threads, >= 1) */
extern struct core serve_core;
/* serve.c: the worker threads of this process (serve_threads()) */
extern int serve_nthreads;
/* serve_proc.c: 1 in a worker process forked by serve_supervise() */
extern int serve_is_child;

/*
 * The client address of r (serve_addr.c): REMOTE_ADDR, unless that is a
 * trusted proxy; then the right-most address of X-Forwarded-For that is not
 * itself a trusted proxy. Rewrites r->remote_addr in place.
 */
void serve_resolve_client(struct req *r);

/*
 * One process (serve_proc.c): `threads` accept loops on listen_fd, each
 * with its own store connection to dbpath, until SIGTERM/SIGINT arrive in
 * `set` (blocked by the caller); SIGHUP and a changed file reload the
 * config. Returns the process exit status.
 */
int serve_run_threads(int listen_fd, int threads, const struct handler *h, const char *dbpath, sigset_t *set);
/*
 * Several processes on one socket (serve_proc.c): forks `processes`
 * children that each run serve_run_threads(), restarts one that dies and
 * forwards SIGHUP; on SIGTERM/SIGINT stops them all and waits. Returns the
 * exit status.
 */
int serve_supervise(int listen_fd, int threads, int processes, const struct handler *h, const char *dbpath,
    sigset_t *set);
/* serve.c: run the work serve_after() left for after r's answer, if any. */
void serve_run_after(struct req *r);
/* CGI (serve_proc.c): read and drop what is left of the request body. */
void serve_drain_cgi_body(void);
/* CGI (serve_proc.c): answer 503 through the one error writer. */
void serve_cgi_unavailable(void);

#endif
