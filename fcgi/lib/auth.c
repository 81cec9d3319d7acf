/*
 * auth.c: auth key hashing, tokens, the server secret, usernames and the
 * token check. Never logs a credential; knows nothing of HTTP (the request
 * side, auth_require(), is auth_http.c), so that a program with no FastCGI
 * links it alone.
 */
#include "auth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

int auth_token_new(struct auth_token *t)
{
	uint8_t raw[AUTH_TOKEN_BYTES];
	int rc = -1;
	if (bsc_random(raw, sizeof raw) != 0)
		goto out;
	if (bsc_b64_encode(raw, sizeof raw, t->text, sizeof t->text, BSC_B64_URL) != AUTH_TOKEN_LEN)
		goto out;
	if (bsc_sha256(raw, sizeof raw, t->hash) != 0)
		goto out;
	rc = 0;
out:
	bsc_wipe(raw, sizeof raw);
	return rc;
}

int auth_token_hash(const char *text, size_t len, uint8_t hash[BSC_SHA256_LEN])
{
	uint8_t raw[AUTH_TOKEN_BYTES];
	if (len != AUTH_TOKEN_LEN)
		return -1;
	long n = bsc_b64_decode(text, len, raw, sizeof raw, BSC_B64_URL);
	int rc = n == AUTH_TOKEN_BYTES && bsc_sha256(raw, sizeof raw, hash) == 0 ? 0 : -1;
	bsc_wipe(raw, sizeof raw);
	return rc;
}

int auth_public_id(char *out, size_t outlen)
{
	uint8_t raw[AUTH_PUBLIC_ID_BYTES];
	if (bsc_random(raw, sizeof raw) != 0)
		return -1;
	return bsc_b64_encode(raw, sizeof raw, out, outlen, BSC_B64_URL) > 0 ? 0 : -1;
}

int auth_hash_key(const uint8_t *key, size_t keylen, const uint8_t salt[STORE_SALT_LEN], int64_t iterations,
    uint8_t out[STORE_HASH_LEN])
{
	if (iterations < 1 || iterations > UINT32_MAX)
		return -1;
	return bsc_pbkdf2_sha256(key, keylen, salt, STORE_SALT_LEN, (uint32_t)iterations, out, STORE_HASH_LEN);
}

int auth_verify_key(const struct store_account *a, const uint8_t *key, size_t keylen, int64_t iterations)
{
	static const uint8_t dummy_salt[STORE_SALT_LEN] = {0};
	uint8_t got[STORE_HASH_LEN];
	int ok = 0;
	if (!a) {
		/* the same work as a real check, thrown away */
		if (auth_hash_key(key, keylen, dummy_salt, iterations, got) != 0)
			return 0;
		bsc_wipe(got, sizeof got);
		return 0;
	}
	if (auth_hash_key(key, keylen, a->auth_salt, a->auth_iterations, got) == 0)
		ok = bsc_equal(got, a->auth_hash, STORE_HASH_LEN);
	bsc_wipe(got, sizeof got);
	return ok;
}

static int read_secret(const char *path, uint8_t secret[AUTH_SECRET_LEN], char *errbuf, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		snprintf(errbuf, errlen, "%s: cannot read the server secret: %s", path, strerror(errno));
		return -1;
	}
	ssize_t n = read(fd, secret, AUTH_SECRET_LEN);
	uint8_t extra;
	ssize_t more = n == AUTH_SECRET_LEN ? read(fd, &extra, 1) : 0;
	close(fd);
	if (n != AUTH_SECRET_LEN || more != 0) {
		snprintf(errbuf, errlen, "%s: the server secret must be exactly %d bytes", path, AUTH_SECRET_LEN);
		return -1;
	}
	return 0;
}

int auth_secret_load(const char *path, uint8_t secret[AUTH_SECRET_LEN], char *errbuf, size_t errlen)
{
	if (access(path, F_OK) == 0)
		return read_secret(path, secret, errbuf, errlen);
	/* create: a private temp file beside it, then link() it into place, which
	 * fails if another process won the race; then read whatever is there */
	/* a random temp name: a file left by a crash (same pid after a
	 * container restart) can never block the creation */
	char tmp[4200], suffix[17];
	uint8_t rnd[8];
	uint8_t fresh[AUTH_SECRET_LEN];
	if (bsc_random(rnd, sizeof rnd) != 0 || bsc_hex(rnd, sizeof rnd, suffix, sizeof suffix) != 0) {
		snprintf(errbuf, errlen, "cannot generate a temporary name");
		return -1;
	}
	snprintf(tmp, sizeof tmp, "%s.tmp.%s", path, suffix);
	if (bsc_random(fresh, sizeof fresh) != 0) {
		snprintf(errbuf, errlen, "cannot generate the server secret");
		return -1;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(errbuf, errlen, "%s: cannot create the server secret: %s", path, strerror(errno));
		bsc_wipe(fresh, sizeof fresh);
		return -1;
	}
	int ok = write(fd, fresh, sizeof fresh) == (ssize_t)sizeof fresh && fsync(fd) == 0;
	close(fd);
	bsc_wipe(fresh, sizeof fresh);
	if (!ok) {
		unlink(tmp);
		snprintf(errbuf, errlen, "%s: cannot write the server secret", path);
		return -1;
	}
	if (link(tmp, path) != 0 && errno != EEXIST) {
		snprintf(errbuf, errlen, "%s: cannot create the server secret: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	unlink(tmp);
	return read_secret(path, secret, errbuf, errlen);
}

int auth_username(const char *s, size_t n, char *out)
{
	if (n < 3 || n > STORE_USERNAME_MAX)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || !(c == '.' || c == '_' || c == '-' || c == '@' || c == '+')))
			return -1;
		out[i] = c;
	}
	out[n] = '\0';
	return 0;
}

int auth_bearer_token(const char *header, const char **tok, size_t *len)
{
	if (!header || strncasecmp(header, "Bearer ", 7) != 0)
		return -1;
	const char *t = header + 7;
	while (*t == ' ')
		t++;
	size_t n = strlen(t);
	while (n > 0 && t[n - 1] == ' ')
		n--;
	*tok = t;
	*len = n;
	return 0;
}

enum err auth_token_check(struct store *s, const char *tok, size_t len, struct auth *a)
{
	return auth_token_check_early(s, tok, len, a, NULL, NULL);
}

enum err auth_token_check_early(struct store *s, const char *tok, size_t len, struct auth *a,
    void (*early)(struct req *r, const uint8_t hash[BSC_SHA256_LEN]), struct req *r)
{
	memset(a, 0, sizeof *a);
	uint8_t hash[BSC_SHA256_LEN];
	if (auth_token_hash(tok, len, hash) != 0)
		return ERR_UNAUTHORIZED;
	if (early)
		early(r, hash);
	struct store_token t;
	enum err e = store_token_find(s, hash, STORE_TOKEN_ACCESS, &t);
	if (e)
		return e == ERR_NOT_FOUND ? ERR_UNAUTHORIZED : e;
	int64_t now = (int64_t)time(NULL);
	if (t.disabled)
		return ERR_UNAUTHORIZED;
	if (t.expires_at <= now)
		return ERR_TOKEN_EXPIRED;
	a->account_id = t.account_id;
	a->device_id = t.device_id;
	snprintf(a->device_public_id, sizeof a->device_public_id, "%s", t.device_public_id);
	/* lazily, so that reads stay reads: at most one write a minute per device */
	if (now - t.last_seen_at >= 60 && store_is_writable(s))
		store_device_touch(s, t.device_id, now);
	return ERR_OK;
}
