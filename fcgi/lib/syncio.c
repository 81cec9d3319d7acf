/*
 * syncio.c: the JSON shapes of records and collections (api.md §4).
 */
#include "syncio.h"

void syncio_payload(struct jw *w, const struct store_record *r)
{
	jw_key(w, "deleted"); jw_bool(w, r->deleted);
	jw_key(w, "payload");
	if (r->deleted || !r->payload)
		jw_null(w);
	else
		jw_b64(w, r->payload, r->payload_len);
}

void syncio_version(struct jw *w, const struct store_record *r)
{
	jw_key(w, "version"); jw_int(w, r->version);
	jw_key(w, "modified_at"); jw_time(w, r->modified_at);
	syncio_payload(w, r);
}

void syncio_record(struct jw *w, const struct store_record *r)
{
	jw_obj_begin(w);
	jw_key(w, "id"); jw_str(w, r->rid ? r->rid : "");
	syncio_version(w, r);
	jw_obj_end(w);
}

void syncio_collection(struct jw *w, const struct store_collection *c, int with_meta)
{
	jw_obj_begin(w);
	jw_key(w, "name"); jw_str(w, c->name);
	jw_key(w, "version"); jw_int(w, c->version);
	jw_key(w, "key_version"); jw_int(w, c->key_version);
	jw_key(w, "rotate_due"); jw_bool(w, c->rotate_due);
	jw_key(w, "records"); jw_int(w, c->records);
	jw_key(w, "bytes"); jw_int(w, c->bytes);
	jw_key(w, "modified_at"); jw_time(w, c->modified_at);
	if (with_meta) {
		jw_key(w, "meta");
		if (c->meta)
			jw_b64(w, c->meta, c->meta_len);
		else
			jw_null(w);
	}
	jw_obj_end(w);
}

int syncio_backup(void *ctx, const struct store_backup *b)
{
	struct jw *w = ctx;
	jw_obj_begin(w);
	jw_key(w, "name"); jw_str(w, b->name);
	jw_key(w, "version"); jw_int(w, b->version);
	jw_key(w, "bytes"); jw_int(w, b->bytes);
	jw_key(w, "modified_at"); jw_time(w, b->modified_at);
	jw_obj_end(w);
	return 0;
}
