/*
 * store_group.c: group commit, shared by both backends (store_tx_group).
 * Jobs queue in this process; one leader at a time takes the queued jobs
 * of its own location (a test process may hold several stores) and hands
 * them to its backend, which runs them in one transaction, each isolated
 * from the others (a savepoint), with one COMMIT. Each push used to pay
 * the write queue or the row locks, BEGIN, COMMIT and the WAL flush alone;
 * under load the holder of the lock was often descheduled between those
 * steps while the other pushes waited.
 *
 * Must never: acknowledge a job whose transaction did not commit, or run
 * one job twice in one transaction.
 */
#include <pthread.h>
#include <string.h>

#include "store_impl.h"

#define GROUP_MAX_JOBS 64 /* bounds one transaction's length */

static pthread_mutex_t group_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t group_cv = PTHREAD_COND_INITIALIZER;
static struct store_group_job *group_queue; /* FIFO: oldest first */
static int group_leading;                   /* a leader is running a batch */

/* Insert j into the list at *head in key order, after the jobs of its key already there. */
static void insert_by_key(struct store_group_job **head, struct store_group_job *j)
{
	while (*head && (*head)->key <= j->key)
		head = &(*head)->next;
	j->next = *head;
	*head = j;
}

enum err store_group_commit(struct store *s, int64_t key, enum err (*fn)(struct store *, void *), void *arg,
    enum err (*run)(struct store *s, struct store_group_job *batch, int n))
{
	struct store_group_job me = {key, fn, arg, s->path, ERR_OK, 0, NULL};
	struct store_group_job **tail;
	pthread_mutex_lock(&group_mu);
	for (tail = &group_queue; *tail; tail = &(*tail)->next)
		;
	*tail = &me;
	for (;;) {
		while (!me.done && group_leading)
			pthread_cond_wait(&group_cv, &group_mu);
		if (me.done)
			break;
		/* lead: take the queued jobs of this location, oldest first (a
		 * full batch may leave this one for the next round), and run
		 * them in key order: every batch takes its row locks in one
		 * order, so that two batches never wait for each other */
		group_leading = 1;
		struct store_group_job *batch = NULL;
		int n = 0;
		for (tail = &group_queue; *tail && n < GROUP_MAX_JOBS;) {
			struct store_group_job *j = *tail;
			if (strcmp(j->path, s->path) != 0) {
				tail = &j->next;
				continue;
			}
			*tail = j->next;
			insert_by_key(&batch, j);
			n++;
		}
		pthread_mutex_unlock(&group_mu);

		enum err e = run(s, batch, n);

		pthread_mutex_lock(&group_mu);
		for (struct store_group_job *j = batch, *next; j; j = next) {
			next = j->next;
			if (e != ERR_OK && j->rc == ERR_OK)
				j->rc = e; /* nothing was committed */
			j->done = 1;
		}
		group_leading = 0;
		pthread_cond_broadcast(&group_cv);
	}
	pthread_mutex_unlock(&group_mu);
	return me.rc;
}
