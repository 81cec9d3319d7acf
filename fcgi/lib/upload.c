/*
 * upload.c: the HTTP side of binary bodies: the declared length and the
 * If-Match / If-None-Match headers of backups and slots.
 */
#include "upload.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

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
