/*
 * auth_http.c: the FastCGI side of authentication, auth_require(): the
 * Authorization header in, the sentence of a refusal and the per-account
 * rate limits out. The check itself is auth_token_check() in auth.c; this
 * file is apart so that programs without FastCGI (the unit tests, the live
 * daemon) link auth.c without http.c and serve.c.
 */
#include <string.h>

#include "auth.h"
#include "http.h"
#include "serve.h"

/* Check r's bearer token into *a, answering the sentence of a refusal. */
static enum err check(struct req *r, struct auth *a, void (*early)(struct req *r, const uint8_t hash[BSC_SHA256_LEN]))
{
	const char *tok;
	size_t len;
	memset(a, 0, sizeof *a);
	if (auth_bearer_token(http_param(r, "HTTP_AUTHORIZATION"), &tok, &len) != 0)
		return http_fail(r, ERR_UNAUTHORIZED, "An Authorization: Bearer access token is required.");
	enum err e = auth_token_check_early(r->store, tok, len, a, early, r);
	if (e == ERR_UNAUTHORIZED)
		return http_fail(r, e, "The access token is not valid.");
	if (e == ERR_TOKEN_EXPIRED)
		return http_fail(r, e, "The access token has expired; refresh it.");
	return e;
}

enum err auth_require(struct req *r, struct auth *a, void (*early)(struct req *r, const uint8_t hash[BSC_SHA256_LEN]))
{
	enum err e = check(r, a, early);
	if (e)
		return e;
	r->account_id = a->account_id;
	return serve_limit(r, NULL, a->account_id);
}

enum err auth_recheck(struct req *r)
{
	struct auth a;
	return check(r, &a, NULL);
}
