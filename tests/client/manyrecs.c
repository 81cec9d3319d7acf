/*
 * manyrecs.c: a test helper on libblindsync-client for
 * tests/client/crash.bats. "put N" logs in and writes records r0..r(N-1)
 * of collection "many" (1 KiB each, derived from i) then syncs; "verify N"
 * reads every one from the local copy and checks it byte for byte, and
 * that no other live record exists. Usage: manyrecs SERVER HOME USER
 * PASSWORD-FILE put|verify N.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blindsync.h"

/* The content of record i: its number, then a filler pattern to 1 KiB. */
static void
content(int i, char *buf, size_t n)
{
	int k = snprintf(buf, n, "record %d ", i);

	for (size_t j = (size_t)k; j < n; j++)
		buf[j] = (char)('a' + (int)((j * 7u + (unsigned)i) % 26));
}

static void
count(void *arg, const char *name, int64_t version, size_t bytes)
{
	(*(int *)arg)++;
}

int
main(int argc, char **argv)
{
	struct bs_client *c = NULL;
	char pw[256], buf[1024], id[32];
	int n, rc = 0, live = 0;
	FILE *f;

	if (argc != 7 || !(f = fopen(argv[4], "r")) || !fgets(pw, sizeof pw, f))
		return fprintf(stderr, "usage: manyrecs SERVER HOME USER PWFILE put|verify N\n"), 1;
	fclose(f);
	pw[strcspn(pw, "\n")] = '\0';
	n = atoi(argv[6]);
	if ((rc = bs_open(argv[2], argv[1], &c)))
		goto out;
	if (strcmp(argv[5], "put") == 0) {
		if ((rc = bs_login(c, argv[3], pw, "manyrecs")))
			goto out;
		for (int i = 0; i < n && !rc; i++) {
			content(i, buf, sizeof buf);
			snprintf(id, sizeof id, "r%d", i);
			rc = bs_put(c, "many", id, buf, sizeof buf);
		}
		if (!rc)
			rc = bs_sync(c, NULL, 0, NULL);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		uint8_t *data = NULL;
		size_t len = 0;
		snprintf(id, sizeof id, "r%d", i);
		content(i, buf, sizeof buf);
		if ((rc = bs_get(c, "many", id, &data, &len)))
			goto out;
		if (len != sizeof buf || memcmp(data, buf, len) != 0) {
			fprintf(stderr, "manyrecs: %s differs\n", id);
			rc = 1;
		}
		bs_free(data, len);
		if (rc)
			goto out;
	}
	if ((rc = bs_list(c, "many", count, &live)))
		goto out;
	if (live != n) {
		fprintf(stderr, "manyrecs: %d live records, expected %d\n", live, n);
		rc = 1;
	}
	printf("verified %d\n", n);
out:
	memset(pw, 0, sizeof pw);
	if (rc && c && bs_error_message(c)[0])
		fprintf(stderr, "manyrecs: %s\n", bs_error_message(c));
	bs_close(c);
	return rc;
}
