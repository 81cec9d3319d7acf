/*
 * serve_proc.c: the process of a handler program: worker threads, each a
 * FastCGI accept loop; prefork and supervision of worker processes; waiting
 * for signals (stop, reload); and the CGI fallbacks of serve_main().
 *
 * fatal() style exits happen only before the accept loop. Inside a request
 * every failure becomes a response and the worker lives on. This file must
 * never: shut down the listening socket (sibling processes share it), or
 * open anything that talks to SQLite before a fork.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "http.h"
#include "log.h"
#include "serve.h"
#include "serve_impl.h"
#include "store.h"

#define SERVE_STACK_BYTES (512 * 1024)

struct worker {
	pthread_t tid;
	int listen_fd;
	const struct handler *h;
	const char *dbpath;
	int started;
	int joined;
	atomic_int in_accept;  /* blocked in accept(): safe to interrupt */
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	FCGX_Request fr;
	struct req r;
	struct store *st = NULL;
	char err[512];
	if (FCGX_InitRequest(&fr, w->listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		log_msg(LOG_ERROR, "cannot initialise a FastCGI request");
		return NULL;
	}
	if (store_open(w->dbpath, w->h->mode, &st, err, sizeof err) != 0) {
		log_msg(LOG_ERROR, "%s", err);
		FCGX_Free(&fr, 0);
		return NULL;
	}
	http_req_init(&r, &fr);
	r.store = st;
	while (!atomic_load(&serve_stopping)) {
		atomic_store(&w->in_accept, 1);
		int arc = atomic_load(&serve_stopping) ? -1 : FCGX_Accept_r(&fr);
		atomic_store(&w->in_accept, 0);
		if (arc < 0) {
			if (atomic_load(&serve_stopping))
				break;
			if (errno == EINTR)
				continue;
			log_msg(LOG_ERROR, "accept failed: %s", strerror(errno));
			usleep(100 * 1000);
			continue;
		}
		serve_one(&r, w->h);
		FCGX_Finish_r(&fr);
		serve_run_after(&r);
	}
	http_req_free(&r);
	store_close(st);
	FCGX_Free(&fr, 1);
	return NULL;
}

int serve_is_child;

/*
 * Wait for signals in the main thread: SIGHUP and a changed file reload the
 * config; SIGTERM/SIGINT return. Used by each worker process.
 */
static void wait_for_stop(sigset_t *set)
{
	char err[1024];
	for (;;) {
		struct timespec ts = {1, 0};
		int sig = sigtimedwait(set, NULL, &ts);
		if (sig == SIGTERM || sig == SIGINT)
			return;
		if (sig == SIGHUP) {
			if (config_reload(err, sizeof err) != 0)
				log_msg(LOG_ERROR, "config reload failed, keeping the old one: %s", err);
			else
				log_msg(LOG_INFO, "config reloaded");
		}
		int rr = sig == SIGHUP ? 1 : config_reload_if_changed(err, sizeof err);
		if (rr < 0)
			log_msg(LOG_ERROR, "config changed but is invalid, keeping the old one: %s", err);
		else if (rr > 0 && sig != SIGHUP)
			log_msg(LOG_INFO, "config file changed: reloaded");
		if (rr > 0) {
			const struct config *nc = config_acquire();
			log_set_level(nc->log.level);
			config_release(nc);
		}
	}
}

/* One process: `threads` accept loops until SIGTERM/SIGINT. */
int serve_run_threads(int listen_fd, int threads, const struct handler *h, const char *dbpath, sigset_t *set)
{
	struct worker *ws = calloc((size_t)threads, sizeof *ws);
	if (!ws) {
		log_msg(LOG_ERROR, "out of memory");
		return 1;
	}
	int started = 0;
	serve_core.wait_max = threads / 2 > 0 ? threads / 2 : 1;
	serve_nthreads = threads;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, SERVE_STACK_BYTES);
	for (int i = 0; i < threads; i++) {
		ws[i].listen_fd = listen_fd;
		ws[i].h = h;
		ws[i].dbpath = dbpath;
		if (pthread_create(&ws[i].tid, &attr, worker_main, &ws[i]) == 0) {
			ws[i].started = 1;
			started++;
		}
	}
	if (started == 0) {
		log_msg(LOG_ERROR, "cannot start worker threads");
		free(ws);
		return 1;
	}
	pthread_attr_destroy(&attr);
	log_msg(LOG_INFO, "serving with %d threads", started);
	/* after the fork: a store shared by several machines relays wake-ups */
	char err[512];
	if (core_relay_start(&serve_core, dbpath, err, sizeof err) != 0)
		log_msg(LOG_ERROR, "%s; long-polls will not wake for other machines' writes", err);
	wait_for_stop(set);
	log_msg(LOG_INFO, "stopping");
	atomic_store(&serve_stopping, 1);
	/*
	 * Wake the threads idle in accept() with SIGUSR1 (installed without
	 * SA_RESTART, so accept fails with EINTR); threads busy with a request
	 * finish it and then see the flag. The listening socket may be shared
	 * with sibling processes, so it is never shut down here. Signals are
	 * repeated because one may land just before a thread blocks.
	 */
	for (;;) {
		int alive = 0;
		for (int i = 0; i < threads; i++) {
			if (!ws[i].started || ws[i].joined)
				continue;
			if (pthread_tryjoin_np(ws[i].tid, NULL) == 0) {
				ws[i].joined = 1;
				continue;
			}
			alive++;
			if (atomic_load(&ws[i].in_accept))
				pthread_kill(ws[i].tid, SIGUSR1);
		}
		if (!alive)
			break;
		usleep(20 * 1000);
	}
	/* after the workers: its threads notice the stop within a second */
	core_relay_stop(&serve_core);
	free(ws);
	return 0;
}

/*
 * Fork one worker process of serve_supervise(): the child drops the
 * parent's kids array and runs threads until it exits. Returns the child's
 * pid to the parent, or -1 (logged) when fork fails; that slot then stays
 * empty and the other processes serve on.
 */
static pid_t spawn_worker(pid_t *kids, int listen_fd, int threads, const struct handler *h, const char *dbpath,
    sigset_t *set)
{
	pid_t p = fork();
	if (p == 0) {
		serve_is_child = 1;
		free(kids);
		_exit(serve_run_threads(listen_fd, threads, h, dbpath, set));
	}
	if (p < 0)
		log_msg(LOG_ERROR, "fork of a worker failed: %s", strerror(errno));
	return p;
}

/*
 * Several processes on one socket: fork `processes` children that each run
 * threads; restart one that dies unexpectedly (at most once a second); on
 * SIGTERM/SIGINT stop them all and wait.
 */
int serve_supervise(int listen_fd, int threads, int processes, const struct handler *h, const char *dbpath,
    sigset_t *set)
{
	pid_t *kids = calloc((size_t)processes, sizeof *kids);
	if (!kids) {
		log_msg(LOG_ERROR, "out of memory");
		return 1;
	}
	int rc = 0;
	for (int i = 0; i < processes; i++)
		kids[i] = spawn_worker(kids, listen_fd, threads, h, dbpath, set);
	log_msg(LOG_INFO, "supervising %d processes", processes);
	for (;;) {
		int sig = sigwaitinfo(set, NULL);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGHUP) {
			for (int i = 0; i < processes; i++)
				if (kids[i] > 0)
					kill(kids[i], SIGHUP);
			continue;
		}
		if (sig == SIGCHLD) {
			pid_t p;
			int st;
			while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
				for (int i = 0; i < processes; i++) {
					if (kids[i] != p)
						continue;
					log_msg(LOG_ERROR, "worker %d exited (status %d); restarting it", (int)p, st);
					sleep(1);
					kids[i] = spawn_worker(kids, listen_fd, threads, h, dbpath, set);
				}
			}
		}
	}
	for (int i = 0; i < processes; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGTERM);
	for (int i = 0; i < processes; i++)
		if (kids[i] > 0 && waitpid(kids[i], NULL, 0) < 0)
			rc = 1;
	free(kids);
	return rc;
}

/*
 * CGI: read and drop what the request declared but the handler left unread;
 * a body without CONTENT_LENGTH (chunked) is read to its end, up to 1 GiB.
 */
void serve_drain_cgi_body(void)
{
	const char *cl = getenv("CONTENT_LENGTH");
	int64_t left = 1LL << 30;
	if (cl && *cl && http_parse_u63(cl, &left) != 0)
		return;
	char sink[65536];
	while (left > 0) {
		size_t want = left < (int64_t)sizeof sink ? (size_t)left : sizeof sink;
		size_t got = fread(sink, 1, want, stdin);
		if (got == 0)
			break;
		left -= (int64_t)got;
	}
}

/* CGI: the store cannot be used; answer 503 through the one error writer. */
void serve_cgi_unavailable(void)
{
	const struct config *cfg = config_acquire();
	struct req r;
	http_req_init(&r, NULL);
	http_begin(&r, cfg);
	http_add_header(&r, "Retry-After", "5");
	http_error(&r, http_fail(&r, ERR_UNAVAILABLE, "The store cannot be used; retry later."));
	fflush(stdout);
	serve_drain_cgi_body();
	http_req_free(&r);
	config_release(cfg);
}
