/*
 * transfer_http.c: the FastCGI side of export and import: adapters from a
 * request to the reader and writer of transfer.c, the headers, the
 * sentences and the answer. Apart from transfer.c so that a program
 * without FastCGI links the core alone.
 */
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "serve.h"
#include "transfer.h"
#include "upload.h"

/* The export's begin(): the headers and the status line; no document for HEAD. */
static int export_begin(void *ctx, const char *username)
{
	struct req *r = ctx;
	/* usernames are a-z 0-9 . _ - @ +: safe inside the quoted file name */
	http_add_header(r, "Content-Disposition", "attachment; filename=\"blindsync-export-%s.json\"", username);
	http_begin_stream(r, 200, "application/json", -1);
	return r->method == M_HEAD ? 0 : 1;
}

static int export_write(void *ctx, const void *data, size_t n) { return http_write(ctx, data, n); }

enum err transfer_export(struct req *r, const struct auth *a)
{
	struct transfer_reply rp = {export_begin, {export_write, r}, r};
	int started = 0;
	enum err e = transfer_export_write(r->store, a->account_id, &rp, &started);
	/* once the status line is out, a failure can only cut the document short (logged) */
	return started ? ERR_OK : e;
}

enum err transfer_import(struct req *r, const struct auth *a)
{
	struct transfer_import_in in = {a, 0, {upload_read, r}, serve_changed};
	char msg[ERR_MSG_MAX];
	enum err e;
	/* limits and cheap refusals before the body is read */
	if ((e = upload_length(r, 0, r->cfg->limits.max_import_bytes, &in.len)))
		return e;
	if (!http_is_json(r))
		return http_fail(r, ERR_UNSUPPORTED_MEDIA, "This route takes Content-Type: application/json.");
	if ((e = upload_begin(r)))
		return e;
	msg[0] = '\0';
	e = upload_end(r, transfer_import_read(r->store, r->cfg, &in, msg, sizeof msg));
	if (e == ERR_REQUEST_TIMEOUT)
		return e;
	if (e)
		return msg[0] ? http_fail(r, e, "%s", msg) : e;
	http_respond(r, 204, NULL);
	return ERR_OK;
}
