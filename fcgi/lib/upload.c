/*
 * upload.c: staging binary bodies to a temporary file with bounded memory,
 * and the version preconditions of backups and slots.
 */
#include "upload.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bsc.h"
#include "log.h"
#include "store.h"

#define UPLOAD_CHUNK (64 * 1024)

enum err upload_length(struct req *r, int64_t min, int64_t max, int64_t *len)
{
	const char *cl = http_param(r, "CONTENT_LENGTH");
	if (!cl || !*cl)
		return http_fail(r, ERR_LENGTH_REQUIRED, "Content-Length is required for this upload.");
	enum err e = http_content_length(r, INT64_MAX / 2, len);
	if (e)
		return e;
	if (*len < min)
		return http_fail(r, ERR_TOO_SMALL, "The body has %" PRId64 " bytes; at least %" PRId64 " are required.", *len,
		    min);
	if (*len > max)
		return http_fail(r, ERR_BODY_TOO_LARGE, "The body has %" PRId64 " bytes; at most %" PRId64 " are allowed.",
		    *len, max);
	return ERR_OK;
}

void upload_dir(const char *database, char *out, size_t outlen)
{
	/* where the store says: for SQLite the database's directory */
	if (store_location_spool(database, out, outlen) != 0 && outlen)
		out[0] = '\0';
}

enum err upload_tmpfile(const char *dir, const char *what, int *fd)
{
	*fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (*fd < 0) {
		log_msg(LOG_ERROR, "%s: cannot create a temporary file in the store's directory: %s", what, strerror(errno));
		return ERR_UNAVAILABLE;
	}
	return ERR_OK;
}

enum err upload_stage(struct req *r, const char *dir, int64_t len, int *fd_out, uint8_t sha256[32])
{
	*fd_out = -1;
	enum err e = ERR_INTERNAL;
	char *chunk = NULL;
	struct bsc_sha256_ctx *h = NULL;
	int fd;
	enum err te = upload_tmpfile(dir, "upload", &fd);
	if (te)
		return te;
	if (!(chunk = malloc(UPLOAD_CHUNK)) || !(h = bsc_sha256_new()))
		goto out;
	int64_t have = 0;
	while (have < len) {
		size_t want = (size_t)(len - have < UPLOAD_CHUNK ? len - have : UPLOAD_CHUNK);
		long got = http_read(r, chunk, want);
		if (got <= 0)
			break;
		if (write(fd, chunk, (size_t)got) != got || bsc_sha256_update(h, chunk, (size_t)got) != 0) {
			log_msg(LOG_ERROR, "upload: cannot write the temporary file: %s", strerror(errno));
			e = ERR_UNAVAILABLE;
			goto out;
		}
		have += got;
	}
	if (have != len) {
		e = http_fail(r, ERR_INVALID_REQUEST,
		    "The body ended after %" PRId64 " of %" PRId64 " bytes; nothing was stored.", have, len);
		goto out;
	}
	int rc = bsc_sha256_final(h, sha256);
	h = NULL;
	if (rc != 0)
		goto out;
	*fd_out = fd;
	fd = -1;
	e = ERR_OK;
out:
	bsc_sha256_free(h);
	free(chunk);
	if (fd >= 0)
		close(fd);
	return e;
}

/* Parse one entity tag `"N"` (N a version number). */
static int parse_tag(const char *t, size_t n, int64_t *v)
{
	if (n < 3 || t[0] != '"' || t[n - 1] != '"' || n > 21)
		return -1;
	int64_t x = 0;
	for (size_t i = 1; i + 1 < n; i++) {
		if (t[i] < '0' || t[i] > '9')
			return -1;
		x = x * 10 + (t[i] - '0');
	}
	*v = x;
	return 0;
}

static const char *trim(const char *s, size_t *n)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t l = strlen(s);
	while (l && (s[l - 1] == ' ' || s[l - 1] == '\t'))
		l--;
	*n = l;
	return s;
}

int upload_if_match(struct req *r, int64_t *version)
{
	const char *h = http_header(r, "If-Match");
	if (!h)
		return 0;
	size_t n;
	const char *t = trim(h, &n);
	if (n == 1 && t[0] == '*')
		return 2;
	return parse_tag(t, n, version) == 0 ? 1 : -1;
}

int upload_none_match(struct req *r, int64_t version)
{
	const char *h = http_header(r, "If-None-Match");
	if (!h || strlen(h) > 1024)
		return 0;
	char buf[1025];
	snprintf(buf, sizeof buf, "%s", h);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t n;
		const char *t = trim(tok, &n);
		if (n == 1 && t[0] == '*')
			return 1;
		if (n > 2 && strncmp(t, "W/", 2) == 0) {
			t += 2;
			n -= 2;
		}
		int64_t v;
		if (parse_tag(t, n, &v) == 0 && v == version)
			return 1;
	}
	return 0;
}
