/* pbkdf2.c: time one server-side auth key hash (PBKDF2-HMAC-SHA256) alone,
 * for `make bench`: prints the median of 9 runs in milliseconds. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "auth.h"

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 100000;
	uint8_t key[32] = {1}, salt[STORE_SALT_LEN] = {2}, out[STORE_HASH_LEN];
	double t[9];
	for (int i = 0; i < 9; i++) {
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		if (auth_hash_key(key, sizeof key, salt, iters, out) != 0)
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &b);
		t[i] = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
	}
	qsort(t, 9, sizeof t[0], cmp);
	printf("%.2f\n", t[4]);
	return 0;
}
