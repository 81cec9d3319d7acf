/*
 * json.h: the one JSON helper of blindsync.
 *
 * Parsing: json_parse() runs json-c's tokener in strict mode with UTF-8
 * validation and a depth limit, and requires the whole buffer to be one JSON
 * value (trailing white space allowed) with no repeated member names and at
 * most a given number of values (counted before json-c allocates). Handlers then read fields only
 * through a field table (json_check_fields: unknown, missing or mistyped
 * fields are a 400 naming the field) and typed getters with bounds.
 *
 * Writing: struct jw emits JSON text straight into a struct buf (which may
 * stream to the response), escaping strings and base64-encoding bytes in
 * place, without building a json-c tree (three times cheaper, and bounded in
 * memory for large pulls).
 *
 * Every function that can fail on input returns an enum err and writes a
 * sentence naming the field into `msg` (ERR_MSG_MAX bytes).
 */
#ifndef BLINDSYNC_JSON_H
#define BLINDSYNC_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "bsc.h"
#include "buf.h"
#include "err.h"

#define JSON_MAX_DEPTH 16

/*
 * The cap on the number of values in one request body (every object, array,
 * string and bare token counts one; member names do not). A push record is
 * an object of at most 5 members (6 values): JSON_VALUES_PER_RECORD per
 * record of limits.max_push_records, plus JSON_VALUES_BASE for the rest of
 * any body. json-c spends at most ~0.8 KiB on one value (an empty object;
 * a number ~64 bytes), so the cap bounds the tree: see docs/ARCHITECTURE.md
 * "Request bodies and memory" for the measured bound.
 */
#define JSON_VALUES_PER_RECORD 8
#define JSON_VALUES_BASE 1024
#define JSON_VALUES_CAP_MAX ((size_t)1 << 22)

/* The value cap for a config's limits.max_push_records (at most JSON_VALUES_CAP_MAX). */
size_t json_values_cap(int64_t max_push_records);

/*
 * Parse data[0..len) into *out (caller frees with json_object_put). The
 * document must be exactly one JSON value, and no object may repeat a member
 * name. A pre-scan counts the values before json-c allocates anything: a
 * document of more than max_values is refused with ERR_BODY_TOO_LARGE and
 * nothing built. Returns ERR_OK, ERR_INVALID_JSON (msg says where),
 * ERR_BODY_TOO_LARGE or ERR_INTERNAL (allocation).
 */
enum err json_parse_max(const char *data, size_t len, size_t max_values, struct json_object **out,
    char *msg);
/* json_parse_max() with the largest cap, JSON_VALUES_CAP_MAX. */
enum err json_parse(const char *data, size_t len, struct json_object **out, char *msg);

struct jstream_opts;
/*
 * The exact text of member `name` of the object data[0..len) (a body that
 * json_parse_max() accepted), which must itself be an object: its offset in
 * *off and its length in *n, borrowed from data. The text must also pass the
 * strict streaming parser (jstream.h) with the bounds `check`, as the
 * import of an export would read it (no U+0000, no lone surrogate, bounded
 * strings, numbers and depth), so that what is stored can be carried out
 * and back in. Returns ERR_OK, ERR_INVALID_REQUEST ("NAME: ..." in msg) or
 * ERR_INTERNAL (allocation).
 */
enum err json_member_text(const char *data, size_t len, const char *name, const struct jstream_opts *check,
    size_t *off, size_t *n, char *msg);

enum jtype { JT_STRING, JT_INT, JT_BOOL, JT_OBJECT, JT_ARRAY, JT_NULLABLE_STRING };

struct jfield {
	const char *name;
	enum jtype type;
	int required;
};

/*
 * Check that `obj` is an object whose members are all listed in
 * fields[0..n), that every required one is present and that each has its
 * type. `what` names the object in messages ("body", "device", "records[3]").
 */
enum err json_check_fields(const struct json_object *obj, const struct jfield *fields, size_t n,
    const char *what, char *msg);

/*
 * Typed getters. Each returns ERR_OK and sets *out; ERR_INVALID_REQUEST if
 * the member is absent (and required), of the wrong type or out of bounds.
 * When the member is absent and not required, returns ERR_OK and leaves *out
 * (and *len) untouched so the caller's default stays.
 */
/* A string of min..max bytes without NUL; *out borrows from obj. */
enum err json_get_str(const struct json_object *obj, const char *name, int required,
    size_t min, size_t max, const char **out, size_t *len, char *msg);
enum err json_get_int(const struct json_object *obj, const char *name, int required,
    int64_t min, int64_t max, int64_t *out, char *msg);
enum err json_get_bool(const struct json_object *obj, const char *name, int required,
    int *out, char *msg);
/*
 * A standard padded base64 string whose decoded length is min..max bytes,
 * decoded into a new allocation *out (caller frees; NULL when absent) of
 * *len bytes. A JSON null is treated as absent.
 */
enum err json_get_b64(const struct json_object *obj, const char *name, int required,
    size_t min, size_t max, uint8_t **out, size_t *len, char *msg);

/* The JSON writer. */
#define JW_MAX_DEPTH 32
struct jw {
	struct buf *b;
	int depth;
	unsigned char first[JW_MAX_DEPTH]; /* 1 = no member written yet at this depth */
	int after_key;
};

void jw_init(struct jw *w, struct buf *b);
void jw_obj_begin(struct jw *w);
void jw_obj_end(struct jw *w);
void jw_arr_begin(struct jw *w);
void jw_arr_end(struct jw *w);
void jw_key(struct jw *w, const char *key);
/* A key of n bytes, which may hold any byte (escaped as a JSON string). */
void jw_keyn(struct jw *w, const char *key, size_t n);
void jw_str(struct jw *w, const char *s);
void jw_strn(struct jw *w, const char *s, size_t n);
void jw_int(struct jw *w, int64_t v);
void jw_bool(struct jw *w, int v);
void jw_null(struct jw *w);
/* Insert already-valid JSON text (e.g. a stored kdf object) as a value. */
void jw_raw(struct jw *w, const char *json, size_t n);
/* Write data[0..n) as a standard base64 string value. */
void jw_b64(struct jw *w, const void *data, size_t n);
/* Write a time as an RFC 3339 UTC string value. */
void jw_time(struct jw *w, int64_t unix_seconds);

/*
 * Streaming base64, for a value whose bytes arrive in pieces (a backup read
 * from the store chunk by chunk): jw_b64_begin() opens the string value,
 * jw_b64_part() encodes each piece through bsc_b64_enc_update(), which
 * carries the last 0 to 2 bytes over to the next so that the text is exactly
 * what one jw_b64() of the whole would give, and jw_b64_end() writes the tail with its padding and closes the
 * string. The state lives in the caller's struct jw_b64s; nothing else may
 * be written to the jw between begin and end.
 */
struct jw_b64s {
	struct jw *w;
	struct bsc_b64_enc enc; /* the one streaming encoder, of libbscrypto */
};
void jw_b64_begin(struct jw *w, struct jw_b64s *s);
void jw_b64_part(struct jw_b64s *s, const void *data, size_t n);
void jw_b64_end(struct jw_b64s *s);

/* Format t as "2026-11-22T10:04:05Z" into out (at least 21 bytes). */
void json_time(int64_t unix_seconds, char out[21]);

#endif
