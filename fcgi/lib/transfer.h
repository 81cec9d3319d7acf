/*
 * transfer.h: export and import of a whole account (api.md §8).
 *
 * The export is one JSON document, "blindsync-export-1", with everything the
 * account stores, still encrypted (docs/API-transfer.md shows it):
 *
 *   {"format": "blindsync-export-1", "username", "kdf": {...}, "keyring",
 *    "collections": [{"name", "meta", "version", "purged_version",
 *      "records": [{"id", "version", "modified_at", "deleted", "payload",
 *        "history": [{"version", "modified_at", "deleted", "payload"}]}]}],
 *    "backups": [{"name", "version", "modified_at", "sha256", "data"}]}
 *
 * It is written from one read snapshot, row by row, straight to the
 * caller's writer (backups chunk by chunk, base64-encoded across the chunk
 * boundaries), so memory does not grow with the account.
 *
 * The import takes that document, from the caller's reader, into an account that has no collections
 * and no backups, all or nothing. It is read twice with the streaming
 * parser of jstream.h: a first pass, without any lock, reads the body as it
 * arrives and copies it to an unnamed temporary file (the client's speed
 * never holds the store's lock), checks everything and decodes the backups
 * into temporary files, stopping at the first error before the rest of the
 * body is read; the second pass reads the staged copy and inserts, inside
 * one write transaction, re-checking everything. Memory stays bounded by the largest record (two
 * payloads) whatever the document's size.
 *
 * The core functions take a reader and a writer (core.h) and know no HTTP;
 * transfer_export() and transfer_import() (transfer_http.c) are their
 * FastCGI adapters.
 *
 * Must never: hold a record set, a backup or the document in memory, write
 * anything when a check fails, or change the account's kdf (it belongs to
 * the credentials the account was registered with).
 */
#ifndef BLINDSYNC_TRANSFER_H
#define BLINDSYNC_TRANSFER_H

#include "auth.h"
#include "core.h"
#include "sync.h"

#define TRANSFER_FORMAT "blindsync-export-1"
#define TRANSFER_META_MAX SYNC_META_MAX /* a collection's meta, as PUT /v1/collections/{c} */
#define TRANSFER_BLOB_MAX 1000000000LL /* SQLite's largest blob, the ceiling of any backup */
#define TRANSFER_MAX_DEPTH 32          /* nesting of the document, kdf included */
#define TRANSFER_MAX_STRING 4096       /* a name, id, time or kdf member; payloads stream */

/*
 * How an export answers. begin(ctx, username) is called once, inside the
 * read snapshot, before any byte of the document: it returns 1 to have the
 * document written to out, 0 for none (a HEAD), -1 to stop.
 */
struct transfer_reply {
	int (*begin)(void *ctx, const char *username);
	struct core_writer out;
	void *ctx;
};

/*
 * Write the export document of account_id through rp, from one read
 * snapshot. *started says whether begin() was called. Before that, the
 * error (ERR_UNAUTHORIZED when the account is gone, the store's); after it,
 * ERR_OK for a whole document, else the store's error or ERR_UNAVAILABLE
 * when the writer failed, logged: the document written is then cut short,
 * which no import accepts.
 */
enum err transfer_export_write(struct store *s, int64_t account_id, const struct transfer_reply *rp,
    int *started);

/* An import: whose, how long, the bytes, and who to tell. */
struct transfer_import_in {
	const struct auth *auth;       /* the account (and the device, for its event) */
	int64_t len;                   /* the document's length, within limits.max_import_bytes */
	struct core_reader body;       /* exactly len bytes */
	/* told of the account (collection NULL) and each collection after the
	 * commit, for long-polls; NULL: nobody */
	void (*changed)(int64_t account_id, const char *collection);
};

/*
 * Import the document of in->len bytes read from in->body into the
 * account. ERR_OK after the commit, or the error with its sentence in msg
 * (msglen bytes, ERR_MSG_MAX is enough; empty for ERR_INTERNAL and
 * ERR_UNAVAILABLE): 409 (the account has collections or backups, checked
 * before the body is read), 400 (invalid_json, invalid_request naming the
 * path such as "collections[2].records[5].id", a body shorter than len,
 * too_small), 403 (collection_limit, backup_limit), 413 (record_too_large,
 * body_too_large for a backup), 507 (quota_exceeded). Nothing is imported on
 * any error.
 */
enum err transfer_import_read(struct store *s, const struct config *c, const struct transfer_import_in *in,
    char *msg, size_t msglen);

struct req;

/*
 * (transfer_http.c) GET /v1/account/export for the authenticated account
 * a: answers 200 and streams the document (headers only for HEAD). Returns
 * an error only before anything was sent.
 */
enum err transfer_export(struct req *r, const struct auth *a);

/*
 * (transfer_http.c) POST /v1/account/import for the authenticated account
 * a, reading the body itself (an RB_STREAM route): 411/413
 * (Content-Length missing or over limits.max_import_bytes) and 415 before
 * anything, then transfer_import_read(); answers 204 after the commit.
 */
enum err transfer_import(struct req *r, const struct auth *a);

#endif
