/*
 * test_serve.c: the dispatcher and the response/error writers, driven as a
 * CGI request through environment variables, stdin and stdout, with a test
 * route table: routing, 404/405/415/413/400, JSON parsing, headers, and
 * the route contract (credentials and caps checked before any body is
 * read, field tables, the route-name list).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "json.h"
#include "serve.h"
#include "t.h"

static char out[65536];

static const struct jfield echo_fields[] = {{"name", JT_STRING, 1}};

/* The dispatcher checked echo_fields: only the getter is left. */
static enum err echo(struct req *r)
{
	const char *name = "none";
	enum err e;
	if ((e = json_get_str(r->json, "name", 1, 1, 16, &name, NULL, r->errmsg)))
		return e;
	struct jw w;
	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	jw_key(&w, "name"); jw_str(&w, name);
	jw_key(&w, "param"); jw_str(&w, r->params[0] ? r->params[0] : "");
	jw_obj_end(&w);
	http_respond_json(r, 200);
	return ERR_OK;
}

static enum err item(struct req *r)
{
	int64_t limit;
	enum err e = http_query_int(r, "limit", 1, 100, 10, &limit);
	if (e)
		return e;
	struct jw w;
	jw_init(&w, &r->out);
	jw_obj_begin(&w);
	jw_key(&w, "id"); jw_str(&w, r->params[0]);
	jw_key(&w, "limit"); jw_int(&w, limit);
	jw_obj_end(&w);
	http_respond_json(r, 200);
	return ERR_OK;
}

static enum err silent(struct req *r) { (void)r; return ERR_OK; }
static enum err conflict(struct req *r)
{
	buf_adds(&r->err_extra, "\"current_version\":7");
	return http_fail(r, ERR_PRECONDITION_FAILED, "Stale.");
}

/* Reached only when the dispatcher let the request through: counts it. */
static int reached;
static enum err guarded(struct req *r)
{
	reached++;
	http_respond(r, 204, NULL);
	return ERR_OK;
}

/* A path check: the id "bad" names nothing. */
static enum err check_id(struct req *r)
{
	return strcmp(r->params[0], "bad") == 0 ? http_fail(r, ERR_NOT_FOUND, "No such thing.") : ERR_OK;
}

static const struct route routes[] = {
	{.method = M_POST, .pattern = "/things/*/echo", .fn = echo, .name = "t.echo", .body = RB_JSON,
	 FIELDS(echo_fields)},
	{.method = M_GET, .pattern = "/things/*", .fn = item, .name = "t.item"},
	{.method = M_DELETE, .pattern = "/things/*", .fn = silent, .name = "t.silent"},
	{.method = M_PUT, .pattern = "/things/*", .fn = conflict, .name = "t.conflict"},
	/* what the dispatcher enforces before a handler runs */
	{.method = M_POST, .pattern = "/private/*", .fn = guarded, .name = "t.private", .auth = RA_BEARER,
	 .body = RB_JSON, FIELDS(echo_fields)},
	{.method = M_POST, .pattern = "/small", .fn = guarded, .name = "t.small", .body = RB_JSON, .max_body = 64,
	 FIELDS(echo_fields)},
	{.method = M_PUT, .pattern = "/keyed/*", .fn = guarded, .name = "t.keyed", .auth = RA_SLOT,
	 .body = RB_STREAM, .check = check_id},
};
static const struct handler handler = {"test", routes, sizeof routes / sizeof *routes, STORE_RO, NULL, NULL, 0};

/*
 * Serve one CGI request whose stdin is the file `in` (environment already
 * set); the raw response lands in out[]. Returns how far the request moved
 * the file offset of `in`, that is how many of its bytes were read
 * (stdio may have buffered ahead of the handler).
 */
static long serve_stdin(int in)
{
	char outpath[] = "/tmp/bs-test-out-XXXXXX";
	int o = mkstemp(outpath);
	if (o < 0)
		abort();
	fflush(stdout);
	int save_in = dup(0), save_out = dup(1);
	dup2(in, 0);
	dup2(o, 1);
	clearerr(stdin);
	struct req r;
	http_req_init(&r, NULL);
	serve_one(&r, &handler);
	fflush(stdout);
	http_req_free(&r);
	long consumed = (long)lseek(0, 0, SEEK_CUR);
	dup2(save_in, 0);
	dup2(save_out, 1);
	close(save_in);
	close(save_out);
	clearerr(stdin);
	lseek(o, 0, SEEK_SET);
	ssize_t n = read(o, out, sizeof out - 1);
	out[n > 0 ? n : 0] = '\0';
	close(o);
	unlink(outpath);
	return consumed;
}

/* Run one CGI request; the raw response lands in out[]. */
static void run(const char *method, const char *uri, const char *ctype, const char *body)
{
	char inpath[] = "/tmp/bs-test-in-XXXXXX";
	int in = mkstemp(inpath);
	if (in < 0)
		abort();
	size_t blen = body ? strlen(body) : 0;
	if (blen && write(in, body, blen) != (ssize_t)blen)
		abort();
	lseek(in, 0, SEEK_SET);
	char cl[32];
	snprintf(cl, sizeof cl, "%zu", blen);
	setenv("REQUEST_METHOD", method, 1);
	setenv("REQUEST_URI", uri, 1);
	const char *q = strchr(uri, '?');
	setenv("QUERY_STRING", q ? q + 1 : "", 1);
	setenv("REMOTE_ADDR", "127.0.0.1", 1);
	if (body)
		setenv("CONTENT_LENGTH", cl, 1);
	else
		unsetenv("CONTENT_LENGTH");
	if (ctype)
		setenv("CONTENT_TYPE", ctype, 1);
	else
		unsetenv("CONTENT_TYPE");
	serve_stdin(in);
	close(in);
	unlink(inpath);
}

#define HAS(s) T_OK(strstr(out, (s)) != NULL)

static void test_ok(void)
{
	run("POST", "/prefix/v1/things/abc/echo", "application/json; charset=utf-8", "{\"name\":\"x\"}");
	T_OK(strncmp(out, "Status: 200 OK\r\n", 16) == 0);
	HAS("Cache-Control: no-store\r\n");
	HAS("X-Content-Type-Options: nosniff\r\n");
	HAS("X-Request-Id: ");
	HAS("Content-Type: application/json\r\n");
	HAS("\r\n\r\n{\"name\":\"x\",\"param\":\"abc\"}");
	run("GET", "/v1/things/x%2Dy?limit=5", NULL, NULL);
	HAS("{\"id\":\"x-y\",\"limit\":5}");
	run("HEAD", "/v1/things/x", NULL, NULL);
	HAS("Status: 200 OK");
	HAS("Content-Length: 21\r\n");
	T_OK(strstr(out, "{\"id\"") == NULL);
}

static void test_errors(void)
{
	run("GET", "/v1/nothing", NULL, NULL);
	HAS("Status: 404 Not Found\r\n");
	HAS("\r\n\r\n{\"error\":{\"code\":\"not_found\",\"message\":\"Not found.\"}}");
	run("GET", "/things/x", NULL, NULL); /* no /v1 */
	HAS("Status: 404 Not Found\r\n");
	run("POST", "/v1/things/x", "application/json", "{}");
	HAS("Status: 405 Method Not Allowed\r\n");
	HAS("Allow: GET, HEAD, PUT, DELETE, OPTIONS\r\n");
	HAS("\"code\":\"method_not_allowed\"");
	run("POST", "/v1/things/x/echo", "text/plain", "{\"name\":\"x\"}");
	HAS("Status: 415 Unsupported Media Type\r\n");
	HAS("\"code\":\"unsupported_media_type\"");
	run("POST", "/v1/things/x/echo", "application/jsonx", "{\"name\":\"x\"}");
	HAS("Status: 415");
	run("POST", "/v1/things/x/echo", "application/json", "{\"name\":");
	HAS("Status: 400 Bad Request\r\n");
	HAS("\"code\":\"invalid_json\"");
	run("POST", "/v1/things/x/echo", "application/json", "{\"nam\":\"x\"}");
	HAS("\"code\":\"invalid_request\"");
	HAS("unknown field 'nam'");
	run("POST", "/v1/things/x/echo", "application/json", "{\"name\":\"much too long for sixteen\"}");
	HAS("\"code\":\"invalid_request\"");
	HAS("name: expected 1 to 16 characters.");
	run("GET", "/v1/things/x?limit=1000", NULL, NULL);
	HAS("Status: 400");
	HAS("limit: expected an integer from 1 to 100.");
	run("GET", "/v1/things/x?limit=-1", NULL, NULL);
	HAS("Status: 400");
	run("DELETE", "/v1/things/x", NULL, NULL);
	HAS("Status: 500 Internal Server Error\r\n");
	HAS("\"code\":\"internal\"");
	run("PUT", "/v1/things/x", NULL, NULL);
	HAS("Status: 412 Precondition Failed\r\n");
	HAS("{\"error\":{\"code\":\"precondition_failed\",\"message\":\"Stale.\"},\"current_version\":7}");
}

static void test_body_limits(void)
{
	run("POST", "/v1/things/x/echo", "application/json", "{\"name\":\"x\"}");
	HAS("Status: 200");
	/* a short body: Content-Length says more than arrives */
	{
		char inpath[] = "/tmp/bs-test-in-XXXXXX";
		int in = mkstemp(inpath);
		if (in < 0 || write(in, "{\"na", 4) != 4)
			abort();
		lseek(in, 0, SEEK_SET);
		setenv("REQUEST_METHOD", "POST", 1);
		setenv("REQUEST_URI", "/v1/things/x/echo", 1);
		setenv("CONTENT_TYPE", "application/json", 1);
		setenv("CONTENT_LENGTH", "40", 1);
		serve_stdin(in);
		close(in);
		unlink(inpath);
		HAS("Status: 400");
		HAS("shorter than its Content-Length");
	}
	{
		/* too large by Content-Length: 413 without reading */
		setenv("REQUEST_METHOD", "POST", 1);
		setenv("REQUEST_URI", "/v1/things/x/echo", 1);
		setenv("CONTENT_TYPE", "application/json", 1);
		setenv("CONTENT_LENGTH", "8388609", 1);
		char outpath[] = "/tmp/bs-test-out-XXXXXX";
		int o = mkstemp(outpath);
		fflush(stdout);
		int so = dup(1);
		dup2(o, 1);
		struct req r;
		http_req_init(&r, NULL);
		serve_one(&r, &handler);
		fflush(stdout);
		http_req_free(&r);
		dup2(so, 1);
		close(so);
		lseek(o, 0, SEEK_SET);
		ssize_t n = read(o, out, sizeof out - 1);
		out[n > 0 ? n : 0] = '\0';
		close(o);
		unlink(outpath);
		HAS("Status: 413 Content Too Large\r\n");
		HAS("{\"error\":{\"code\":\"body_too_large\",\"message\":\"The request body is larger than 8388608 bytes.\"}}");
		setenv("CONTENT_LENGTH", "12abc", 1);
		o = open(outpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
		so = dup(1);
		dup2(o, 1);
		http_req_init(&r, NULL);
		serve_one(&r, &handler);
		fflush(stdout);
		http_req_free(&r);
		dup2(so, 1);
		close(so);
		lseek(o, 0, SEEK_SET);
		n = read(o, out, sizeof out - 1);
		out[n > 0 ? n : 0] = '\0';
		close(o);
		unlink(outpath);
		HAS("Status: 400");
		HAS("Content-Length is not a valid number.");
	}
}

/*
 * Run one CGI request whose stdin is a 4 MiB file and whose Content-Length
 * says so; returns how many bytes of it the request read (the file offset).
 * `extra` is one more "NAME=value" environment variable, or NULL.
 */
static long run_big(const char *method, const char *uri, const char *extra)
{
	enum { BIG = 4 * 1024 * 1024 };
	char inpath[] = "/tmp/bs-test-in-XXXXXX";
	int in = mkstemp(inpath);
	if (in < 0 || ftruncate(in, BIG) != 0)
		abort();
	memset(out, 0, sizeof out);
	setenv("REQUEST_METHOD", method, 1);
	setenv("REQUEST_URI", uri, 1);
	setenv("QUERY_STRING", "", 1);
	setenv("CONTENT_TYPE", "application/json", 1);
	setenv("CONTENT_LENGTH", "4194304", 1);
	unsetenv("HTTP_X_SLOT_KEY");
	unsetenv("HTTP_AUTHORIZATION");
	if (extra)
		putenv((char *)extra);
	long consumed = serve_stdin(in);
	close(in);
	unlink(inpath);
	unsetenv("HTTP_X_SLOT_KEY");
	unsetenv("HTTP_AUTHORIZATION");
	return consumed;
}

static void test_route_contract(void)
{
	/* a bearer route without a token: 401, and not one byte of the 4 MiB read */
	reached = 0;
	T_EQ_INT(run_big("POST", "/v1/private/x", NULL), 0);
	T_EQ_INT(reached, 0);
	HAS("Status: 401 Unauthorized\r\n");
	HAS("\"code\":\"unauthorized\"");
	HAS("WWW-Authenticate: Bearer");
	T_EQ_INT(run_big("POST", "/v1/private/x", "HTTP_AUTHORIZATION=Bearer nonsense"), 0);
	HAS("Status: 401");
	HAS("The access token is not valid.");
	/* a route's own cap: 413 before reading, naming the cap */
	T_EQ_INT(run_big("POST", "/v1/small", NULL), 0);
	HAS("Status: 413");
	HAS("The request body is larger than 64 bytes.");
	run("POST", "/v1/small", "application/json", "{\"name\":\"x\"}");
	HAS("Status: 204");
	/* the field table is checked by the dispatcher */
	run("POST", "/v1/small", "application/json", "{\"nam\":\"x\"}");
	HAS("unknown field 'nam'");
	/* slot routes: the path check, then the key, before the body */
	reached = 0;
	T_EQ_INT(run_big("PUT", "/v1/keyed/bad", NULL), 0);
	HAS("Status: 404");
	HAS("No such thing.");
	T_EQ_INT(run_big("PUT", "/v1/keyed/x", NULL), 0);
	HAS("Status: 403");
	HAS("X-Slot-Key is required.");
	T_EQ_INT(run_big("PUT", "/v1/keyed/x", "HTTP_X_SLOT_KEY=%%%"), 0);
	HAS("Status: 400");
	T_EQ_INT(reached, 0);
	/* a good key reaches the handler, which reads nothing itself */
	T_EQ_INT(run_big("PUT", "/v1/keyed/x", "HTTP_X_SLOT_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="), 0);
	HAS("Status: 204");
	T_EQ_INT(reached, 1);
}

static void test_check_routes(void)
{
	char err[256];
	static const struct route good[] = {
		{.method = M_POST, .pattern = "/account/login", .fn = guarded, .name = "account.login", .body = RB_JSON,
		 .max_body = ROUTE_CAP_SMALL, FIELDS(echo_fields)},
		{.method = M_GET, .pattern = "/account", .fn = guarded, .name = "account.get", .auth = RA_BEARER},
	};
	static const struct route typo[] = {
		{.method = M_GET, .pattern = "/account", .fn = guarded, .name = "acount.get", .auth = RA_BEARER},
	};
	static const struct route limit_only[] = {
		{.method = M_PUT, .pattern = "/slots/*", .fn = guarded, .name = "slots.create", .auth = RA_SLOT},
	};
	static const struct route pattern[] = {
		{.method = M_GET, .pattern = "/account", .fn = guarded, .name = "account.*", .auth = RA_BEARER},
	};
	static const struct route fields_no_json[] = {
		{.method = M_GET, .pattern = "/account", .fn = guarded, .name = "account.get", FIELDS(echo_fields)},
	};
	struct handler h = {"test", good, 2, STORE_RO, NULL, NULL, 0};
	T_EQ_INT(serve_check_routes(&h, err, sizeof err), 0);
	h.routes = typo;
	h.nroutes = 1;
	T_EQ_INT(serve_check_routes(&h, err, sizeof err), -1);
	T_OK(strstr(err, "acount.get") != NULL);
	h.routes = limit_only;
	T_EQ_INT(serve_check_routes(&h, err, sizeof err), -1);
	h.routes = pattern;
	T_EQ_INT(serve_check_routes(&h, err, sizeof err), -1);
	h.routes = fields_no_json;
	T_EQ_INT(serve_check_routes(&h, err, sizeof err), -1);
	/* the list itself: unique names; the first RN__RATE are the config's */
	for (int i = 0; i < RN__MAX; i++) {
		T_OK(routes_names[i] != NULL);
		for (int j = 0; j < i; j++)
			T_OK(strcmp(routes_names[i], routes_names[j]) != 0);
	}
	T_EQ_INT(routes_flags("account.login") & (int)RNF_PUBLIC, (int)RNF_PUBLIC);
	T_EQ_INT(routes_flags("account.get"), 0);
	T_EQ_INT(routes_flags("nope"), -1);
	T_OK((int)RN__RATE < (int)RN__MAX && strcmp(routes_names[RN__RATE - 1], "*") == 0);
}

static void test_paths(void)
{
	run("GET", "/v1/things/a/", NULL, NULL);
	HAS("Status: 404");
	run("GET", "/v1/things//", NULL, NULL);
	HAS("Status: 404");
	run("GET", "/v1/things/a%00b", NULL, NULL);
	HAS("Status: 404");
	run("GET", "/v1/things/a%2Fb", NULL, NULL);
	HAS("{\"id\":\"a/b\""); /* one segment: the handler's validator refuses it */
	run("GET", "/x/v1/y/v1/things/a", NULL, NULL);
	HAS("Status: 404"); /* the first /v1 segment counts */
}

int main(void)
{
	char err[256];
	setenv("BLINDSYNC_CONFIG", "", 1);
	if (config_init(NULL, err, sizeof err) != 0) {
		fprintf(stderr, "config_init: %s\n", err);
		return 1;
	}
	T_RUN(test_ok);
	T_RUN(test_errors);
	T_RUN(test_body_limits);
	T_RUN(test_paths);
	T_RUN(test_route_contract);
	T_RUN(test_check_routes);
	config_shutdown();
	return t_done();
}
