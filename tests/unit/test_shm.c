/*
 * test_shm.c: unit tests of fcgi/lib/shm.c, the one shared-table primitive
 * (the write queue, the rate limits, the metrics and the notifications are
 * built on it).
 *
 * Two processes map one table and see each other's writes; one of them is
 * killed with SIGKILL while it holds the mutex, and the other recovers it;
 * processes racing to create a table initialise it exactly once; a table of
 * another boot or layout is replaced by a new file while an old mapping
 * stays usable; a file that is not ours is refused and left alone; a bare
 * table is grown in place. Each test uses its own file in a fresh directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shm.h"
#include "t.h"

static char tmpdir[64];
static int nfiles;
static char initlog[128]; /* one line per initialisation, from any process */

static const char *newpath(char *buf, size_t len)
{
	snprintf(buf, len, "%s/table-%d", tmpdir, nfiles++);
	return buf;
}

struct data {
	uint64_t stamp;   /* set by init */
	uint64_t value;   /* written by the tests */
};

/* init: stamp the data and append a line to initlog (O_APPEND: atomic). */
static const char *test_init(void *data)
{
	struct data *d = data;
	d->stamp = 0x5eed;
	int fd = open(initlog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return "cannot log the initialisation";
	if (write(fd, "i\n", 2) != 2) {
		close(fd);
		return "cannot log the initialisation";
	}
	close(fd);
	return NULL;
}

static const struct shm_spec spec = {
	.what = "test table",
	.magic = "BSTEST1",
	.version = 3,
	.size = SHM_HEADER_SIZE + sizeof(struct data),
	.legacy_size = 24,
	.init = test_init,
};

static int inits(void)
{
	struct stat st;
	return stat(initlog, &st) == 0 ? (int)(st.st_size / 2) : 0;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Two processes, one killed holding the mutex; the other recovers it. */
static void test_dead_holder(void)
{
	char path[128], err[256], c = 0;
	int fds[2];
	newpath(path, sizeof path);
	void *t = shm_open_table(&spec, path, err, sizeof err);
	T_OK(t != NULL);
	if (!t) {
		fprintf(stderr, "shm_open_table: %s\n", err);
		return;
	}
	struct shm_header *h = t;
	struct data *d = shm_data(t);
	T_EQ_INT(d->stamp, 0x5eed);
	T_EQ_INT(pipe(fds), 0);
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	T_OK(pid >= 0);
	if (pid == 0) {
		/* a mapping of its own, by name */
		close(fds[0]);
		void *ct = shm_open_table(&spec, path, err, sizeof err);
		if (!ct || shm_lock(ct, 1000) != 0)
			_exit(1);
		((struct data *)shm_data(ct))->value = 42;
		if (write(fds[1], "L", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(fds[1]);
	T_EQ_INT(read(fds[0], &c, 1), 1);
	close(fds[0]);
	T_EQ_INT(c, 'L');
	T_EQ_INT(d->value, 42); /* one table */

	/* the holder is alive: the wait ends at the timeout */
	double t0 = now_ms();
	T_EQ_INT(shm_lock(h, 100), ETIMEDOUT);
	double waited = now_ms() - t0;
	T_OK(waited >= 90 && waited < 5000);

	int st;
	T_EQ_INT(kill(pid, SIGKILL), 0);
	T_EQ_INT(waitpid(pid, &st, 0), pid);
	T_OK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

	/* the holder died: recovered, counted, and an ordinary mutex again */
	T_EQ_INT(h->recovered, 0);
	T_EQ_INT(shm_lock(h, 1000), 0);
	T_EQ_INT(h->recovered, 1);
	shm_unlock(h);
	T_EQ_INT(shm_lock(h, 1000), 0);
	T_EQ_INT(h->recovered, 1);
	shm_unlock(h);
	T_EQ_INT(inits(), 1);
	shm_close(&spec, t);
	shm_close(&spec, NULL);
}

/* Processes racing to create one table: it is initialised once. */
static void test_init_once(void)
{
	char path[128], err[256];
	int go[2], n = 6;
	pid_t kids[6];
	newpath(path, sizeof path);
	unlink(initlog);
	T_EQ_INT(pipe(go), 0);
	fflush(stdout);
	fflush(stderr);
	for (int i = 0; i < n; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			char ch;
			close(go[1]);
			if (read(go[0], &ch, 1) < 0)
				_exit(2);
			void *t = shm_open_table(&spec, path, err, sizeof err);
			_exit(t && ((struct data *)shm_data(t))->stamp == 0x5eed ? 0 : 1);
		}
	}
	close(go[0]);
	close(go[1]); /* EOF: every child starts at once */
	int ok = 0;
	for (int i = 0; i < n; i++) {
		int st;
		if (waitpid(kids[i], &st, 0) == kids[i] && WIFEXITED(st) && WEXITSTATUS(st) == 0)
			ok++;
	}
	T_EQ_INT(ok, n);
	T_EQ_INT(inits(), 1);
}

/* Another boot or layout: a new file, the old mapping still usable. */
static void test_replaced(void)
{
	char path[128], err[256];
	struct stat a, b;
	newpath(path, sizeof path);
	unlink(initlog);
	void *old = shm_open_table(&spec, path, err, sizeof err);
	T_OK(old != NULL);
	if (!old)
		return;
	T_EQ_INT(stat(path, &a), 0);
	T_EQ_INT(a.st_mode & 0777, 0600);
	T_EQ_INT(a.st_size, spec.size);
	((struct data *)shm_data(old))->value = 7;

	/* the same boot: the same table */
	void *same = shm_open_table(&spec, path, err, sizeof err);
	T_OK(same != NULL);
	if (same)
		T_EQ_INT(((struct data *)shm_data(same))->value, 7);
	shm_close(&spec, same);
	T_EQ_INT(inits(), 1);

	/* a reboot: the boot id is at byte 40 */
	int fd = open(path, O_WRONLY);
	T_OK(fd >= 0);
	if (fd >= 0) {
		T_EQ_INT(pwrite(fd, "old-boot", 9, 40), 9);
		close(fd);
	}
	void *fresh = shm_open_table(&spec, path, err, sizeof err);
	T_OK(fresh != NULL);
	T_EQ_INT(stat(path, &b), 0);
	T_OK(a.st_ino != b.st_ino);
	T_EQ_INT(inits(), 2);
	if (fresh)
		T_EQ_INT(((struct data *)shm_data(fresh))->value, 0);
	/* whoever still maps the old inode goes on without SIGBUS */
	((struct data *)shm_data(old))->value = 8;
	T_EQ_INT(((struct data *)shm_data(old))->value, 8);
	shm_close(&spec, fresh);
	shm_close(&spec, old);

	/* another version of our layout */
	struct shm_spec v4 = spec;
	v4.version = 4;
	void *t = shm_open_table(&v4, path, err, sizeof err);
	T_OK(t != NULL);
	T_EQ_INT(inits(), 3);
	shm_close(&v4, t);

	/* the legacy size, without our magic: an older layout, replaced */
	newpath(path, sizeof path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	T_OK(fd >= 0);
	if (fd >= 0) {
		T_EQ_INT(write(fd, "old layout, 24 bytes....", 24), 24);
		close(fd);
	}
	t = shm_open_table(&spec, path, err, sizeof err);
	T_OK(t != NULL);
	T_EQ_INT(inits(), 4);
	T_EQ_INT(stat(path, &b), 0);
	T_EQ_INT(b.st_size, spec.size);
	shm_close(&spec, t);

	/* an initialiser that died before the magic: initialised now */
	newpath(path, sizeof path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	T_OK(fd >= 0);
	if (fd >= 0) {
		T_EQ_INT(ftruncate(fd, (off_t)spec.size), 0);
		close(fd);
	}
	t = shm_open_table(&spec, path, err, sizeof err);
	T_OK(t != NULL);
	T_EQ_INT(inits(), 5);
	shm_close(&spec, t);
}

/* Files that are not ours, modes, bare tables, bad paths. */
static void test_refused_and_bare(void)
{
	char path[128], err[256];
	struct stat st;

	/* not ours: refused and left as it was */
	newpath(path, sizeof path);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	T_OK(fd >= 0);
	if (fd >= 0) {
		T_EQ_INT(write(fd, "SQLite format 3", 16), 16);
		close(fd);
	}
	err[0] = '\0';
	T_OK(shm_open_table(&spec, path, err, sizeof err) == NULL);
	T_OK(strstr(err, "not a blindsync test table") != NULL);
	T_EQ_INT(stat(path, &st), 0);
	T_EQ_INT(st.st_size, 16);

	/* a file of ours readable by others is made 0600; strict refuses it */
	newpath(path, sizeof path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	T_OK(fd >= 0);
	if (fd >= 0) {
		T_EQ_INT(fchmod(fd, 0644), 0);
		close(fd);
	}
	struct shm_spec strict = spec;
	strict.strict = 1;
	T_OK(shm_open_table(&strict, path, err, sizeof err) == NULL);
	T_OK(strstr(err, "mode 0600") != NULL);
	void *t = shm_open_table(&spec, path, err, sizeof err);
	T_OK(t != NULL);
	T_EQ_INT(stat(path, &st), 0);
	T_EQ_INT(st.st_mode & 0777, 0600);
	shm_close(&spec, t);

	/* a bare table: grown, keeping its content */
	const struct shm_spec bare = {.what = "bare table", .size = 4096};
	newpath(path, sizeof path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	T_OK(fd >= 0);
	if (fd >= 0) {
		T_EQ_INT(write(fd, "abc", 3), 3);
		close(fd);
	}
	char *b = shm_open_table(&bare, path, err, sizeof err);
	T_OK(b != NULL);
	if (b) {
		T_OK(memcmp(b, "abc", 3) == 0);
		T_EQ_INT(b[4095], 0);
	}
	T_EQ_INT(stat(path, &st), 0);
	T_EQ_INT(st.st_size, 4096);
	shm_close(&bare, b);

	/* a symlink is never followed; a directory, a missing one, "" */
	char link[160];
	snprintf(link, sizeof link, "%s/link", tmpdir);
	T_EQ_INT(symlink(path, link), 0);
	T_OK(shm_open_table(&bare, link, err, sizeof err) == NULL);
	T_OK(shm_open_table(&spec, tmpdir, err, sizeof err) == NULL);
	snprintf(path, sizeof path, "%s/none/table", tmpdir);
	err[0] = '\0';
	T_OK(shm_open_table(&spec, path, err, sizeof err) == NULL);
	T_OK(strstr(err, "open") != NULL);
	T_OK(shm_open_table(&spec, "", err, sizeof err) == NULL);
}

int main(void)
{
	if (t_tmpdir(tmpdir, sizeof tmpdir, "shm") != 0)
		return 1;
	snprintf(initlog, sizeof initlog, "%s/inits", tmpdir);
	T_RUN(test_dead_holder);
	T_RUN(test_init_once);
	T_RUN(test_replaced);
	T_RUN(test_refused_and_bare);
	t_tmpdir_remove(tmpdir);
	return t_done();
}
