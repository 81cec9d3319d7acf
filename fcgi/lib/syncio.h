/*
 * syncio.h: JSON writing shared by the sync handlers: record objects
 * (payload base64-encoded in place, streamed), collection and backup objects.
 */
#ifndef BLINDSYNC_SYNCIO_H
#define BLINDSYNC_SYNCIO_H

#include "http.h"
#include "json.h"
#include "store.h"

/* The members "deleted","payload" of a record version (payload null when deleted or absent). */
void syncio_payload(struct jw *w, const struct store_record *r);
/* The members "version","modified_at","deleted","payload" of a record version. */
void syncio_version(struct jw *w, const struct store_record *r);
/* {"id","version","modified_at","deleted","payload"} */
void syncio_record(struct jw *w, const struct store_record *r);
/*
 * The ?owner= of a collection route (docs/API-sharing.md): *owner NULL
 * when absent, else the name, valid and lowercased, in buf. A malformed
 * name answers the 404 of a missing collection.
 */
enum err syncio_owner(struct req *r, char buf[STORE_USERNAME_MAX + 1], const char **owner);
/*
 * The answer to a share_access() refusal (404 as for a missing collection,
 * 403 for a member without the role); other errors pass through.
 */
enum err syncio_access_fail(struct req *r, enum err e);
/* {"name","version","key_version","rotate_due","records","bytes","modified_at"[,"meta"]} */
void syncio_collection(struct jw *w, const struct store_collection *c, int with_meta);
/* {"name","version","bytes","modified_at"}: a store_backup_list callback, ctx a struct jw */
int syncio_backup(void *ctx, const struct store_backup *b);

#endif
