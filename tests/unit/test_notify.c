/*
 * test_notify.c: unit tests of fcgi/lib/notify.c, the shared sequence
 * counters with futex wake-ups.
 *
 * Two notifiers on one file (in one process, and a forked child with its
 * own mapping) see each other's bumps; a waiter wakes, well before its
 * timeout, when a thread or another process bumps its slot, returns at once when the
 * slot already moved, and otherwise sleeps about its timeout; slots spread
 * names and accounts; the NULL notifier is a harmless fallback. Each test
 * uses its own file in a fresh temporary directory.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "notify.h"
#include "t.h"

static char tmpdir[64];
static int nfiles;

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

static const char *
newpath(char *buf, size_t len)
{
	snprintf(buf, len, "%s/notify-%d", tmpdir, nfiles++);
	return buf;
}

static struct notifier *
open_at(const char *path)
{
	struct notifier *n = NULL;
	char err[256];

	if (notify_open(path, &n, err, sizeof err) != 0) {
		fprintf(stderr, "notify_open: %s\n", err);
		T_OK(0);
	}
	return n;
}

static void
test_open(void)
{
	char path[128], err[256];
	struct notifier *n = NULL;
	struct stat st;

	n = open_at(newpath(path, sizeof path));
	T_OK(n != NULL);
	T_EQ_INT(stat(path, &st), 0);
	T_EQ_INT(st.st_size, NOTIFY_FILE_BYTES);
	T_EQ_INT(st.st_mode & 0777, 0600);
	/* a fresh table is all zeros */
	int zero = 1;
	for (uint32_t i = 0; i < NOTIFY_SLOTS; i++)
		if (notify_seq(n, i) != 0)
			zero = 0;
	T_OK(zero);
	notify_close(n);
	notify_close(NULL);

	/* a short file is grown to size; the counters it had are kept */
	FILE *f = fopen(newpath(path, sizeof path), "w");
	T_OK(f != NULL);
	if (f) {
		uint32_t v = 7;
		fwrite(&v, sizeof v, 1, f);
		fclose(f);
	}
	n = open_at(path);
	T_EQ_INT(stat(path, &st), 0);
	T_EQ_INT(st.st_size, NOTIFY_FILE_BYTES);
	T_EQ_INT(notify_seq(n, 0), 7);
	notify_close(n);

	/* refused: a directory, a missing directory; errbuf says why */
	static int not_null;
	n = (struct notifier *)(void *)&not_null;
	err[0] = '\0';
	T_EQ_INT(notify_open(tmpdir, &n, err, sizeof err), -1);
	T_OK(n == NULL);
	T_OK(err[0] != '\0');
	char missing[160];
	snprintf(missing, sizeof missing, "%s/none/notify", tmpdir);
	err[0] = '\0';
	T_EQ_INT(notify_open(missing, &n, err, sizeof err), -1);
	T_OK(err[0] != '\0');
}

static void
test_two_notifiers(void)
{
	char path[128];
	struct notifier *a, *b;
	uint32_t s1 = notify_slot_collection(42, "notes"), s2 = notify_slot_account(42);

	newpath(path, sizeof path);
	a = open_at(path);
	b = open_at(path);
	if (!a || !b)
		goto out;
	T_EQ_INT(notify_seq(a, s1), 0);
	notify_bump(a, s1);
	T_EQ_INT(notify_seq(a, s1), 1);
	T_EQ_INT(notify_seq(b, s1), 1);
	notify_bump(b, s1);
	notify_bump(b, s1);
	T_EQ_INT(notify_seq(a, s1), 3);
	if (s2 != s1)
		T_EQ_INT(notify_seq(a, s2), 0);
	/* slot numbers wrap rather than overflow */
	T_EQ_INT(notify_seq(b, s1 + NOTIFY_SLOTS), 3);
	notify_bump(a, s1 + NOTIFY_SLOTS);
	T_EQ_INT(notify_seq(b, s1), 4);
	/* the counters live in the file: a new mapping sees them */
	notify_close(a);
	a = open_at(path);
	T_EQ_INT(notify_seq(a, s1), 4);
	/* another file is another table */
	char other[128];
	struct notifier *c = open_at(newpath(other, sizeof other));
	T_EQ_INT(notify_seq(c, s1), 0);
	notify_close(c);
out:
	notify_close(a);
	notify_close(b);
}

static void
test_fork_bump(void)
{
	char path[128];
	struct notifier *n;
	uint32_t slot = notify_slot_collection(7, "fork");

	newpath(path, sizeof path);
	n = open_at(path);
	if (!n)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		/* the child maps the file itself, as another worker process would */
		char err[256];
		struct notifier *m = NULL;
		if (notify_open(path, &m, err, sizeof err) != 0)
			_exit(2);
		for (int i = 0; i < 5; i++)
			notify_bump(m, slot);
		notify_close(m);
		_exit(0);
	}
	T_OK(pid > 0);
	int st = -1;
	if (pid > 0)
		waitpid(pid, &st, 0);
	T_OK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	T_EQ_INT(notify_seq(n, slot), 5);
	notify_close(n);
}

struct bumper {
	struct notifier *n;
	uint32_t slot;
	int delay_ms;
};

static void *
bump_later(void *p)
{
	struct bumper *b = p;

	sleep_ms(b->delay_ms);
	notify_bump(b->n, b->slot);
	return NULL;
}

static void
test_wait_thread(void)
{
	char path[128];
	struct notifier *a, *b;
	pthread_t th;

	newpath(path, sizeof path);
	a = open_at(path);
	b = open_at(path);
	if (!a || !b)
		goto out;
	uint32_t slot = notify_slot_collection(1, "wake");
	uint32_t seen = notify_seq(a, slot);
	struct bumper bp = { b, slot, 50 };
	T_EQ_INT(pthread_create(&th, NULL, bump_later, &bp), 0);
	double t0 = t_now_ms();
	/* a long timeout, so that the bound below tells "woken" from "timed
	 * out" with room for a busy machine */
	notify_wait(a, slot, seen, 20000);
	double el = t_now_ms() - t0;
	pthread_join(th, NULL);
	if (el >= 10000)
		fprintf(stderr, "woken after %.1f ms\n", el);
	T_OK(el < 10000);
	T_OK(el >= 40); /* it did wait for the bump */
	T_EQ_INT(notify_seq(a, slot), seen + 1);

	/* a bump of another slot does not wake it */
	uint32_t other = (slot + 1) % NOTIFY_SLOTS;
	seen = notify_seq(a, slot);
	bp.slot = other;
	T_EQ_INT(pthread_create(&th, NULL, bump_later, &bp), 0);
	t0 = t_now_ms();
	notify_wait(a, slot, seen, 300);
	el = t_now_ms() - t0;
	pthread_join(th, NULL);
	T_OK(el >= 240);
	T_EQ_INT(notify_seq(a, slot), seen);
out:
	notify_close(a);
	notify_close(b);
}

static void
test_wait_timeout(void)
{
	char path[128];
	struct notifier *n = open_at(newpath(path, sizeof path));

	if (!n)
		return;
	uint32_t slot = notify_slot_account(99);
	uint32_t seen = notify_seq(n, slot);
	double t0 = t_now_ms();
	notify_wait(n, slot, seen, 300);
	double el = t_now_ms() - t0;
	T_OK(el >= 0.8 * 300);
	T_OK(el < 5000); /* it ends: the bound only needs to catch "never" */
	/* over a second: the seconds part of the timeout counts too */
	t0 = t_now_ms();
	notify_wait(n, slot, seen, 1100);
	el = t_now_ms() - t0;
	T_OK(el >= 0.8 * 1100);
	T_OK(el < 6000);
	/* already moved on: at once */
	notify_bump(n, slot);
	t0 = t_now_ms();
	notify_wait(n, slot, seen, 20000);
	el = t_now_ms() - t0;
	T_OK(el < 10000);
	/* no time: at once */
	t0 = t_now_ms();
	notify_wait(n, slot, seen + 1, 0);
	notify_wait(n, slot, seen + 1, -5);
	T_OK(t_now_ms() - t0 < 5000);
	notify_close(n);
}

static void
test_wait_process(void)
{
	char path[128];
	struct notifier *n;
	int ready[2];

	newpath(path, sizeof path);
	n = open_at(path);
	if (!n)
		return;
	T_EQ_INT(pipe(ready), 0);
	uint32_t slot = notify_slot_collection(5, "proc");
	pid_t pid = fork();
	if (pid == 0) {
		/* the waiter is the child; it reports how long it waited */
		char err[256];
		struct notifier *m = NULL;
		close(ready[0]);
		if (notify_open(path, &m, err, sizeof err) != 0)
			_exit(2);
		uint32_t seen = notify_seq(m, slot);
		if (write(ready[1], "r", 1) != 1)
			_exit(3);
		double t0 = t_now_ms();
		notify_wait(m, slot, seen, 30000);
		double el = t_now_ms() - t0;
		uint32_t after = notify_seq(m, slot);
		notify_close(m);
		_exit(after == seen + 1 && el < 15000 ? 0 : el >= 15000 ? 4 : 5);
	}
	T_OK(pid > 0);
	close(ready[1]);
	char c;
	T_EQ_INT(read(ready[0], &c, 1), 1);
	close(ready[0]);
	sleep_ms(50);
	notify_bump(n, slot);
	int st = -1;
	if (pid > 0)
		waitpid(pid, &st, 0);
	T_OK(WIFEXITED(st));
	T_EQ_INT(WEXITSTATUS(st), 0);
	notify_close(n);
}

static void
test_slots(void)
{
	static unsigned char seen_c[NOTIFY_SLOTS], seen_a[NOTIFY_SLOTS];
	char name[32];
	int distinct_c = 0, distinct_a = 0, in_range = 1, same = 0;

	T_EQ_INT(notify_slot_collection(1, "notes"), notify_slot_collection(1, "notes"));
	T_EQ_INT(notify_slot_account(1), notify_slot_account(1));
	T_OK(notify_slot_collection(1, "notes") != notify_slot_collection(1, "notez") ||
	    notify_slot_collection(1, "a") != notify_slot_collection(1, "b"));
	T_OK(notify_slot_collection(1, "notes") != notify_slot_collection(2, "notes") ||
	    notify_slot_collection(3, "notes") != notify_slot_collection(4, "notes"));
	/* 1000 names of one account and 1000 accounts: random placement would
	 * give about 885 distinct slots of 4096 */
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof name, "collection-%d", i);
		uint32_t c = notify_slot_collection(1, name);
		uint32_t a = notify_slot_account(i + 1);
		if (c >= NOTIFY_SLOTS || a >= NOTIFY_SLOTS) {
			in_range = 0;
			continue;
		}
		distinct_c += !seen_c[c];
		distinct_a += !seen_a[a];
		seen_c[c] = seen_a[a] = 1;
		/* an account's own slot and one of its collections should differ */
		same += notify_slot_collection(i + 1, "notes") == a;
	}
	T_OK(in_range);
	T_OK(distinct_c > 800);
	T_OK(distinct_a > 800);
	T_OK(same < 10);
	/* the same name under many accounts */
	memset(seen_c, 0, sizeof seen_c);
	distinct_c = 0;
	for (int i = 0; i < 1000; i++) {
		uint32_t c = notify_slot_collection(i + 1, "notes");
		if (c < NOTIFY_SLOTS) {
			distinct_c += !seen_c[c];
			seen_c[c] = 1;
		}
	}
	T_OK(distinct_c > 800);
}

static void
test_null_notifier(void)
{
	T_EQ_INT(notify_seq(NULL, 3), 0);
	notify_bump(NULL, 3);
	T_EQ_INT(notify_seq(NULL, 3), 0);
	/* the fallback sleeps one step of at most 50 ms: the caller loops */
	double t0 = t_now_ms();
	notify_wait(NULL, 3, 0, 20000);
	double el = t_now_ms() - t0;
	T_OK(el >= 40 && el < 10000); /* one step, not the whole 20 s */
	t0 = t_now_ms();
	notify_wait(NULL, 3, 0, 10);
	el = t_now_ms() - t0;
	T_OK(el >= 8 && el < 5000);
}

int
main(void)
{
	if (t_tmpdir(tmpdir, sizeof tmpdir, "notify") != 0)
		return 1;
	T_RUN(test_open);
	T_RUN(test_two_notifiers);
	T_RUN(test_fork_bump);
	T_RUN(test_wait_thread);
	T_RUN(test_wait_timeout);
	T_RUN(test_wait_process);
	T_RUN(test_slots);
	T_RUN(test_null_notifier);
	t_tmpdir_remove(tmpdir);
	return t_done();
}
