/*
 * request.h: the request half of the whole-request fuzz targets
 * (fuzz_request.c over a test route table, fuzz_account.c over the real
 * account handler): the input format, the run through serve_one() in CGI
 * mode, and the invariants every response must keep. Included by one
 * target each (static functions, no object of its own).
 *
 * Input format, readable in the seed corpora:
 *   line 1   REQUEST_METHOD
 *   line 2   REQUEST_URI; QUERY_STRING is what follows its first '?'.
 *            An empty line leaves REQUEST_URI unset (then SCRIPT_NAME and
 *            PATH_INFO are used).
 *   line 3   CONTENT_TYPE (unset if empty)
 *   then optional lines until an empty line, each "KEY:VALUE" with KEY one of
 *     id      REQUEST_ID
 *     cl      CONTENT_LENGTH instead of the body length ("cl:-" unsets it)
 *     pi      PATH_INFO (with SCRIPT_NAME=/cgi-bin/blindsync)
 *     https   HTTPS
 *     origin  HTTP_ORIGIN
 *     auth    HTTP_AUTHORIZATION; "auth:T" is "Bearer " and the target's
 *             own valid access token (when it has one)
 *   then the body: every remaining byte, given on stdin.
 * Bytes after a NUL in a line are dropped (an environment cannot hold them).
 * Missing lines are empty.
 *
 * The request runs in CGI mode (r.fcgx NULL), so http.c reads the body with
 * fread(stdin) and writes with fwrite(stdout). The run swaps the stdin and
 * stdout FILE pointers for an fmemopen() stream over the body and an
 * open_memstream() for the response, and puts them back after the request.
 * The GNU C library documents stdin and stdout as ordinary variables that
 * may be assigned; unlike dup2() on fds 0 and 1 this leaves no stdio
 * buffers or EOF flags behind between runs, and never touches the real
 * stdout libFuzzer reports on.
 *
 * Invariants of every response (a violation is an abort()):
 *   - it starts with "Status: NNN " and has a header block ending in CRLF CRLF
 *     that holds X-Request-Id with a plain id, and no bare CR, LF or NUL;
 *   - the body has the Content-Length the headers announce (none for HEAD,
 *     204 or 304; a streamed answer, an export, announces none);
 *   - a JSON body parses with json_parse(); an error (4xx/5xx) body is
 *     {"error":{"code":"...",...}}.
 */
#ifndef BLINDSYNC_FUZZ_REQUEST_H
#define BLINDSYNC_FUZZ_REQUEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "err.h"
#include "http.h"
#include "json.h"
#include "serve.h"

/* Inputs this large add nothing but time; libFuzzer keeps them far smaller. */
#define FUZZ_REQ_MAX (1024 * 1024)

/* ---- the input ---- */

struct span {
	const uint8_t *p;
	size_t n;
};

/* Take the next line of *in (without its LF); an exhausted input gives "". */
static struct span next_line(struct span *in)
{
	struct span s = {in->p, 0};
	const uint8_t *lf = in->n ? memchr(in->p, '\n', in->n) : NULL;

	if (lf == NULL) {
		s.n = in->n;
		in->p += in->n;
		in->n = 0;
	} else {
		s.n = (size_t)(lf - in->p);
		in->p = lf + 1;
		in->n -= s.n + 1;
	}
	return s;
}

/* setenv(name, the span up to a NUL); 0 or -1. */
static int setenv_span(const char *name, const uint8_t *p, size_t n)
{
	char *v;
	int rc;

	if ((v = malloc(n + 1)) == NULL)
		return -1;
	memcpy(v, p, n);
	v[n] = '\0';
	rc = setenv(name, v, 1);
	free(v);
	return rc;
}

/* The variables a run may set, cleared before each run. */
static const char *const env_vars[] = {
	"REQUEST_METHOD", "REQUEST_URI", "QUERY_STRING", "CONTENT_TYPE", "CONTENT_LENGTH",
	"REQUEST_ID", "PATH_INFO", "SCRIPT_NAME", "HTTPS", "HTTP_ORIGIN", "REMOTE_ADDR",
	"HTTP_AUTHORIZATION",
};

/*
 * Set the environment from the input; the body is stored in *body. Returns
 * 1 if the method is HEAD (the response then has no body), 0 otherwise.
 */
static int set_request(const uint8_t *data, size_t size, struct span *body, const char *token)
{
	struct span in = {data, size}, line, uri;
	const uint8_t *q;
	char cl[32];
	int cl_set = 0, head;
	size_t i;

	for (i = 0; i < sizeof env_vars / sizeof env_vars[0]; i++)
		unsetenv(env_vars[i]);
	setenv("REMOTE_ADDR", "127.0.0.1", 1);

	line = next_line(&in);
	setenv_span("REQUEST_METHOD", line.p, line.n);
	/* what the server sees: the line up to a NUL */
	head = (line.n == 4 || (line.n > 4 && line.p[4] == '\0')) && memcmp(line.p, "HEAD", 4) == 0;
	uri = next_line(&in);
	if (uri.n > 0)
		setenv_span("REQUEST_URI", uri.p, uri.n);
	if ((q = memchr(uri.p, '?', uri.n)) != NULL)
		setenv_span("QUERY_STRING", q + 1, uri.n - (size_t)(q + 1 - uri.p));
	line = next_line(&in);
	if (line.n > 0)
		setenv_span("CONTENT_TYPE", line.p, line.n);
	while (in.n > 0) {
		line = next_line(&in);
		if (line.n == 0)
			break;
		if (line.n >= 3 && memcmp(line.p, "id:", 3) == 0) {
			setenv_span("REQUEST_ID", line.p + 3, line.n - 3);
		} else if (line.n >= 3 && memcmp(line.p, "cl:", 3) == 0) {
			if (!(line.n == 4 && line.p[3] == '-'))
				setenv_span("CONTENT_LENGTH", line.p + 3, line.n - 3);
			cl_set = 1;
		} else if (line.n >= 3 && memcmp(line.p, "pi:", 3) == 0) {
			setenv_span("PATH_INFO", line.p + 3, line.n - 3);
			setenv("SCRIPT_NAME", "/cgi-bin/blindsync", 1);
		} else if (line.n >= 6 && memcmp(line.p, "https:", 6) == 0) {
			setenv_span("HTTPS", line.p + 6, line.n - 6);
		} else if (line.n >= 7 && memcmp(line.p, "origin:", 7) == 0) {
			setenv_span("HTTP_ORIGIN", line.p + 7, line.n - 7);
		} else if (line.n == 6 && memcmp(line.p, "auth:T", 6) == 0 && token != NULL) {
			char bearer[128];
			snprintf(bearer, sizeof bearer, "Bearer %s", token);
			setenv("HTTP_AUTHORIZATION", bearer, 1);
		} else if (line.n >= 5 && memcmp(line.p, "auth:", 5) == 0) {
			setenv_span("HTTP_AUTHORIZATION", line.p + 5, line.n - 5);
		}
	}
	*body = in;
	if (!cl_set) {
		snprintf(cl, sizeof cl, "%zu", in.n);
		setenv("CONTENT_LENGTH", cl, 1);
	}
	return head;
}

/* ---- the response ---- */

/* The value of header `name` ("Content-Length: ") in hdr[0..n), or NULL. */
static const char *find_header(const char *hdr, size_t n, const char *name)
{
	size_t nl = strlen(name);
	const char *p = hdr, *end = hdr + n;

	while (p < end) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (eol == NULL)
			return NULL;
		if ((size_t)(eol - p) >= nl && strncasecmp(p, name, nl) == 0)
			return p + nl;
		p = eol + 2;
	}
	return NULL;
}

/* Check the invariants of the response out[0..n); abort() on a violation. */
static void check_response(const char *out, size_t n, int head)
{
	const char *end, *v, *body;
	struct json_object *j = NULL, *err = NULL, *code = NULL;
	char msg[ERR_MSG_MAX];
	size_t hlen, blen, i;
	int status, nobody;
	int64_t clen = -1;

	if (out == NULL || n < 13 || memcmp(out, "Status: ", 8) != 0)
		abort();
	for (i = 8; i < 11; i++)
		if (out[i] < '0' || out[i] > '9')
			abort();
	if (out[11] != ' ')
		abort();
	status = (out[8] - '0') * 100 + (out[9] - '0') * 10 + (out[10] - '0');
	if (status < 200 || status > 599)
		abort();
	if ((end = memmem(out, n, "\r\n\r\n", 4)) == NULL)
		abort();
	hlen = (size_t)(end - out) + 2; /* the header lines with their CRLFs */
	body = end + 4;
	blen = n - (size_t)(body - out);

	/* no header line may be split or smuggled in: CR and LF only as CRLF */
	for (i = 0; i < hlen; i++) {
		if (out[i] == '\0')
			abort();
		if (out[i] == '\r' && out[i + 1] != '\n')
			abort();
		if (out[i] == '\n' && (i == 0 || out[i - 1] != '\r'))
			abort();
	}
	if ((v = find_header(out, hlen, "X-Request-Id: ")) == NULL)
		abort();
	for (i = 0; v[i] != '\r'; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
		    (v[i] >= '0' && v[i] <= '9') || v[i] == '-' || v[i] == '_'))
			abort();
	if (i == 0 || i > HTTP_REQUEST_ID_MAX)
		abort();

	nobody = status == 204 || status == 304;
	if ((v = find_header(out, hlen, "Content-Length: ")) != NULL) {
		clen = 0;
		for (i = 0; v[i] != '\r'; i++) {
			if (v[i] < '0' || v[i] > '9' || i >= 18)
				abort();
			clen = clen * 10 + (v[i] - '0');
		}
		if (i == 0 || nobody)
			abort();
	}
	if (head || nobody) {
		if (blen != 0)
			abort();
		return;
	}
	/* a streamed answer (an export) has no Content-Length */
	if (clen >= 0 && (size_t)clen != blen)
		abort();
	if ((v = find_header(out, hlen, "Content-Type: ")) == NULL ||
	    strncmp(v, "application/json\r\n", 18) != 0)
		return;
	msg[0] = '\0';
	if (json_parse(body, blen, &j, msg) != ERR_OK || !json_object_is_type(j, json_type_object))
		abort();
	if (status >= 400) {
		if (!json_object_object_get_ex(j, "error", &err) ||
		    !json_object_object_get_ex(err, "code", &code) ||
		    !json_object_is_type(code, json_type_string) || json_object_get_string_len(code) == 0)
			abort();
	}
	json_object_put(j);
}

/* ---- the run ---- */

/*
 * Run one input through serve_one() with handler h and store st (NULL for a
 * table that never touches the store); token is what "auth:T" stands for
 * (NULL: none). If status is not NULL it receives the response's status
 * (0 if there was none to check). Aborts on a broken invariant.
 */
static void fuzz_request_run(const uint8_t *data, size_t size, const struct handler *h, struct store *st,
    const char *token, int *status)
{
	static char empty[1]; /* fmemopen wants a buffer even for 0 bytes */
	struct span body;
	struct req r;
	FILE *in = NULL, *out = NULL, *save_in = stdin, *save_out = stdout;
	char *bodycopy = NULL, *resp = NULL;
	size_t resp_len = 0;
	int head;

	if (status != NULL)
		*status = 0;
	if (size > FUZZ_REQ_MAX)
		return;
	head = set_request(data, size, &body, token);

	/* a copy of exactly the body's size, so ASan sees a read past its end */
	if (body.n > 0) {
		if ((bodycopy = malloc(body.n)) == NULL)
			goto out;
		memcpy(bodycopy, body.p, body.n);
	}
	in = fmemopen(bodycopy != NULL ? bodycopy : empty, body.n, "r");
	out = open_memstream(&resp, &resp_len);
	if (in == NULL || out == NULL)
		goto out;

	fflush(stdout);
	stdin = in;
	stdout = out;
	http_req_init(&r, NULL);
	r.store = st;
	serve_one(&r, h);
	http_req_free(&r);
	stdin = save_in;
	stdout = save_out;

	fclose(out); /* resp and resp_len are final now */
	out = NULL;
	check_response(resp, resp_len, head);
	if (status != NULL && resp_len > 11)
		*status = atoi(resp + 8);
out:
	if (in != NULL)
		fclose(in);
	if (out != NULL)
		fclose(out);
	free(resp);
	free(bodycopy);
}

#endif
