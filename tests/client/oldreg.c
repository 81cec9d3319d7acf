/*
 * oldreg.c: a test helper for tests/client/sharing.bats. It prints the body
 * of POST /v1/account/register for an account as a client from before
 * sharing made it: the keyring holds the data key and no "identity". The
 * password comes from the environment (OLDREG_PASSWORD), never argv.
 * Usage: OLDREG_PASSWORD=... oldreg USER > body.json
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bs1.h"
#include "bsc.h"

/* Print "name":"b64" of p[0..n). */
static int
b64(const char *name, const uint8_t *p, size_t n, const char *sep)
{
	size_t len = bsc_b64_enclen(n, BSC_B64_STD) + 1;
	char *s = malloc(len);

	if (!s || bsc_b64_encode(p, n, s, len, BSC_B64_STD) < 0)
		return -1;
	printf("\"%s\":\"%s\"%s", name, s, sep);
	free(s);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *pw = getenv("OLDREG_PASSWORD");
	struct bs1_kdf kdf;
	struct bs1_key master, auth, kk, dk;
	uint8_t *pt = NULL, *env = NULL;
	size_t ptlen = 0, envlen = 0;
	char kdfjson[1024], *user;

	if (argc != 2 || !pw || !(user = strdup(argv[1])))
		return fprintf(stderr, "usage: OLDREG_PASSWORD=... oldreg USER\n"), 2;
	for (char *u = user; *u; u++)
		if (*u >= 'A' && *u <= 'Z')
			*u = (char)(*u - 'A' + 'a');
	if (bs1_kdf_new(&kdf) || bs1_kdf_json(&kdf, kdfjson, sizeof kdfjson) ||
	    bs1_master(pw, strlen(pw), &kdf, &master) || bs1_account_keys(&master, &auth, &kk) ||
	    bs1_data_key_new(&dk) || bs1_keyring_new(&dk, &pt, &ptlen) ||
	    bs1_keyring_seal(&kk, user, 1, pt, ptlen, &env, &envlen))
		return fprintf(stderr, "oldreg: the bs1 suite failed\n"), 1;
	printf("{\"username\":\"%s\",\"kdf\":%s,", user, kdfjson);
	if (b64("auth_key", auth.b, 32, ",") || b64("keyring", env, envlen, "}\n"))
		return 1;
	bs1_free(pt, ptlen);
	free(env);
	free(user);
	return 0;
}
