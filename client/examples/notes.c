/*
 * notes.c: an application on libblindsync-client, as docs/CLIENT.md shows
 * it: log in, write a note, sync with a merge function of its own, read the
 * note back. tests/client/example.bats compiles and runs it against the
 * real stack. Usage: notes SERVER HOME USER PASSWORD-FILE TEXT
 * (the password is read from a file, never from the command line).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blindsync.h"

/* Merge by keeping both texts, the server's first. */
static int
concat(void *arg, const char *coll, const char *id, const uint8_t *local, size_t ln,
    const uint8_t *remote, size_t rn, uint8_t **out, size_t *outlen)
{
	if (!local || !remote)
		return BS_MERGE_SERVER;         /* a deletion on either side: the server's */
	if (!(*out = malloc(rn + 1 + ln)))
		return BS_MERGE_SERVER;
	memcpy(*out, remote, rn);
	(*out)[rn] = '\n';
	memcpy(*out + rn + 1, local, ln);
	*outlen = rn + 1 + ln;
	return BS_MERGE_NEW;
}

int
main(int argc, char **argv)
{
	struct bs_client *c = NULL;
	struct bs_sync_result res;
	char pw[256];
	uint8_t *data = NULL;
	size_t n = 0;
	FILE *f;
	int rc;

	if (argc != 6 || !(f = fopen(argv[4], "r")) || !fgets(pw, sizeof pw, f))
		return fprintf(stderr, "usage: notes SERVER HOME USER PASSWORD-FILE TEXT\n"), 1;
	fclose(f);
	pw[strcspn(pw, "\n")] = '\0';
	if ((rc = bs_open(argv[2], argv[1], &c)) ||
	    (rc = bs_login(c, argv[3], pw, "notes-example")))
		goto out;
	bs_set_merge(c, concat, NULL);
	if ((rc = bs_put(c, "notes", "today", argv[5], strlen(argv[5]))) ||
	    (rc = bs_sync(c, (const char *const[]){"notes"}, 1, &res)) ||
	    (rc = bs_get(c, "notes", "today", &data, &n)))
		goto out;
	printf("%.*s\n", (int)n, (const char *)data);
	printf("pushed %zu, pulled %zu, conflicts %zu\n", res.pushed, res.pulled, res.conflicts);
out:
	memset(pw, 0, sizeof pw);
	if (rc)
		fprintf(stderr, "notes: %s (%s)\n", bs_error_message(c), bs_error_code(c));
	bs_free(data, n);
	bs_close(c);
	return rc;
}
