/*
 * syncio_http.c: the request side of the sync handlers' shapes (syncio.h):
 * the ?owner= parameter and the answers to a refused share_access(). A file
 * of its own so that programs without a request (the unit tests, the admin
 * tool) never link the FastCGI layer through syncio.c.
 */
#include "syncio.h"

#include <string.h>

#include "auth.h"

enum err syncio_owner(struct req *r, char buf[STORE_USERNAME_MAX + 1], const char **owner)
{
	const char *q = http_query(r, "owner");
	*owner = NULL;
	if (!q)
		return ERR_OK;
	if (auth_username(q, strlen(q), buf) != 0)
		return http_fail(r, ERR_NOT_FOUND, "No such collection.");
	*owner = buf;
	return ERR_OK;
}

enum err syncio_access_fail(struct req *r, enum err e)
{
	if (e == ERR_NOT_FOUND)
		return http_fail(r, e, "No such collection.");
	if (e == ERR_FORBIDDEN)
		return http_fail(r, e, "Your role in this collection does not allow this.");
	return e;
}

