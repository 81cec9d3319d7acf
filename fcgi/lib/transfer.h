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
 * It is written from one read snapshot, row by row, straight into the
 * response (backups chunk by chunk, base64-encoded across the chunk
 * boundaries), so memory does not grow with the account.
 *
 * The import takes that document into an account that has no collections
 * and no backups, all or nothing. The body is staged to an unnamed
 * temporary file first (the client's speed never holds the store's lock),
 * then read twice with the streaming parser of jstream.h: a first pass,
 * without any lock, checks everything and decodes the backups into
 * temporary files; the second pass inserts, inside one write transaction,
 * re-checking everything. Memory stays bounded by the largest record (two
 * payloads) whatever the document's size.
 *
 * Must never: hold a record set, a backup or the document in memory, write
 * anything when a check fails, or change the account's kdf (it belongs to
 * the credentials the account was registered with).
 */
#ifndef BLINDSYNC_TRANSFER_H
#define BLINDSYNC_TRANSFER_H

#include "auth.h"
#include "http.h"
#include "sync.h"

#define TRANSFER_FORMAT "blindsync-export-1"
#define TRANSFER_META_MAX SYNC_META_MAX /* a collection's meta, as PUT /v1/collections/{c} */
#define TRANSFER_BLOB_MAX 1000000000LL /* SQLite's largest blob, the ceiling of any backup */
#define TRANSFER_MAX_DEPTH 32          /* nesting of the document, kdf included */
#define TRANSFER_MAX_STRING 4096       /* a name, id, time or kdf member; payloads stream */

/*
 * GET /v1/account/export for the authenticated account a: answers 200 and
 * streams the document (headers only for HEAD). Returns an error only
 * before anything was sent; a store failure in the middle is logged and
 * leaves the document unterminated, which no import accepts.
 */
enum err transfer_export(struct req *r, const struct auth *a);

/*
 * POST /v1/account/import for the authenticated account a, reading the body
 * itself (an RB_STREAM route). Answers 204 after the commit, or returns
 * the error: 411/413 (Content-Length missing or over
 * limits.max_import_bytes), 415, 409 (the account has collections or
 * backups), 400 (invalid_json, invalid_request naming the path such as
 * "collections[2].records[5].id", too_small), 403 (collection_limit,
 * backup_limit), 413 (record_too_large, body_too_large for a backup),
 * 507 (quota_exceeded). Nothing is imported on any error.
 */
enum err transfer_import(struct req *r, const struct auth *a);

#endif
