/*
 * client_tool.c: helpers of the client benchmark (tests/bench/client.sh),
 * on libblindsync-client.
 *   client_tool seed SERVER HOME USER PASSWORD-FILE N
 *     log in, queue N records of 1 KiB in collection "bench" in one
 *     transaction (bs_put_many) and sync them (the records the first sync
 *     of another home then pulls; record i is r%06d, byte k of it is
 *     'a' + (i + k) % 26);
 *   client_tool argon RUNS
 *     the median time of Argon2id at the default parameters (bs1_master
 *     under a fresh kdf object), in ms.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blindsync.h"
#include "bs1.h"

/* Monotonic time in ms. */
static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Queue n records of 1 KiB in one transaction (bs_put_many) and sync them. */
static int
seed(const char *server, const char *home, const char *user, const char *pwfile, long n)
{
	struct bs_client *c = NULL;
	struct bs_sync_result res;
	struct bs_put_item *items = NULL;
	unsigned char *data = NULL;
	char pw[256], (*ids)[16] = NULL;
	FILE *f;
	int rc;

	if (n < 1 || n > 1000000)
		return fprintf(stderr, "client_tool: N out of range\n"), 1;
	if (!(f = fopen(pwfile, "r")) || !fgets(pw, sizeof pw, f)) {
		if (f)
			fclose(f);
		return fprintf(stderr, "client_tool: cannot read %s\n", pwfile), 1;
	}
	fclose(f);
	pw[strcspn(pw, "\n")] = '\0';
	items = calloc((size_t)n, sizeof *items);
	ids = calloc((size_t)n, sizeof *ids);
	data = malloc((size_t)n * 1024);
	if (!items || !ids || !data) {
		free(items), free(ids), free(data);
		return fprintf(stderr, "client_tool: out of memory\n"), 1;
	}
	for (long i = 0; i < n; i++) {
		snprintf(ids[i], sizeof ids[i], "r%06ld", i);
		for (size_t k = 0; k < 1024; k++)
			data[(size_t)i * 1024 + k] = (unsigned char)('a' + (i + (long)k) % 26);
		items[i] = (struct bs_put_item){ids[i], data + (size_t)i * 1024, 1024};
	}
	if (!(rc = bs_open(home, server, &c)) && !(rc = bs_login(c, user, pw, "bench-seed")) &&
	    !(rc = bs_put_many(c, "bench", items, (size_t)n)) &&
	    !(rc = bs_sync(c, (const char *const[]){"bench"}, 1, &res)))
		printf("seeded: %zu pushed\n", res.pushed);
	memset(pw, 0, sizeof pw);
	if (rc)
		fprintf(stderr, "client_tool: %s (%s)\n", bs_error_message(c), bs_error_code(c));
	bs_close(c);
	free(items);
	free(ids);
	free(data);
	return rc ? 1 : 0;
}

/* Median ms of runs derivations at the default kdf parameters. */
static int
argon(int runs)
{
	double t[64];
	struct bs1_kdf kdf;
	struct bs1_key master;

	if (runs < 1 || runs > 64)
		runs = 3;
	if (bs1_kdf_new(&kdf) != BS1_OK)
		return 1;
	for (int i = 0; i < runs; i++) {
		double t0 = now_ms();
		if (bs1_master("correct horse battery staple", 28, &kdf, &master) != BS1_OK)
			return 1;
		t[i] = now_ms() - t0;
	}
	bs1_wipe(&master, sizeof master);
	qsort(t, (size_t)runs, sizeof t[0], cmp_double);
	printf("%.1f\n", runs % 2 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 7 && strcmp(argv[1], "seed") == 0)
		return seed(argv[2], argv[3], argv[4], argv[5], atol(argv[6]));
	if (argc == 3 && strcmp(argv[1], "argon") == 0)
		return argon(atoi(argv[2]));
	fprintf(stderr, "usage: client_tool seed SERVER HOME USER PASSWORD-FILE N | argon RUNS\n");
	return 2;
}
