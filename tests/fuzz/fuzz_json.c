/*
 * fuzz_json.c: fuzz target for json.c: the strict parser, the field table,
 * the typed getters and the writer.
 *
 * Properties checked (a violation is an abort()):
 *   1. json_parse() either succeeds with a non-NULL value or fails with
 *      *out NULL; its message is always a terminated string.
 *   2. On any parsed value, json_check_fields() and every getter (string,
 *      integer, boolean, base64) run on every name of a small table, so each
 *      one also meets each wrong type. A getter that succeeds respects its
 *      bounds, and one whose member is absent leaves the caller's default.
 *   3. A string json_get_b64() accepts is canonical: jw_b64() of the decoded
 *      bytes writes exactly the same text back.
 *   4. Every top-level string (member names and values of an object, the
 *      elements of an array), written with the jw writer (jw_key, jw_strn,
 *      jw_b64) next to the other jw value kinds, gives JSON that json_parse()
 *      accepts and that holds the very same bytes.
 * json-c's own serialiser runs on the value too, for crashes and leaks only:
 * it is not ours, and it writes non-finite doubles (1e999) as Infinity,
 * which is not JSON, so its output is not required to parse again.
 *
 * Must never: leak (the replay runs under LeakSanitizer in `make test`).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "err.h"
#include "fuzz.h"
#include "json.h"

/* Inputs this large add nothing but time; libFuzzer keeps them far smaller. */
#define FUZZ_JSON_MAX (1024 * 1024)
/* Top-level strings and integers given to the writer; the rest is skipped. */
#define FUZZ_JSON_MAX_ITEMS 256

/* The names the getters and the field table look at. */
static const char *const names[] = {"name", "n", "ok", "data", "list", "obj", ""};
#define NNAMES (sizeof names / sizeof names[0])

static const struct jfield fields[] = {
	{"name", JT_STRING, 1},
	{"n", JT_INT, 0},
	{"ok", JT_BOOL, 0},
	{"data", JT_NULLABLE_STRING, 0},
	{"list", JT_ARRAY, 0},
	{"obj", JT_OBJECT, 0},
};
#define NFIELDS (sizeof fields / sizeof fields[0])

/* A message buffer must hold a terminated string after any call. */
static void check_msg(const char *msg)
{
	if (memchr(msg, '\0', ERR_MSG_MAX) == NULL)
		abort();
}

/* An enum err must be one of the table's values. */
static void check_err(enum err e)
{
	if ((int)e < 0 || e >= ERR__MAX)
		abort();
}

/* Property 3: jw_b64() of what was decoded gives the accepted text back. */
static void check_b64_canonical(const struct json_object *obj, const char *name, const uint8_t *dec,
    size_t declen)
{
	struct json_object *v = NULL;
	struct buf b;
	struct jw w;
	const char *s;
	size_t n;

	if (!json_object_object_get_ex(obj, name, &v) || !json_object_is_type(v, json_type_string))
		abort();
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	buf_init(&b, 0);
	jw_init(&w, &b);
	jw_b64(&w, dec, declen);
	if (buf_error(&b) || b.len != n + 2 || b.p[0] != '"' || b.p[n + 1] != '"' ||
	    memcmp(b.p + 1, s, n) != 0)
		abort();
	buf_free(&b);
}

/* Property 2 for one name: every getter, with loose and with tight bounds. */
static void run_getters(const struct json_object *obj, const char *name)
{
	char msg[ERR_MSG_MAX];
	const char *s;
	size_t len;
	int64_t i;
	int bv;
	uint8_t *dec;
	enum err e;
	/* a distinct pointer that no getter could return */
	static const char unset_str[] = "unset";

	msg[0] = '\0';
	s = unset_str;
	len = SIZE_MAX;
	e = json_get_str(obj, name, 0, 0, 64, &s, &len, msg);
	check_err(e);
	check_msg(msg);
	if (e == ERR_OK && s != unset_str) {
		if (s == NULL || len > 64 || strlen(s) != len)
			abort();
	} else if (s != unset_str || len != SIZE_MAX) {
		abort(); /* absent or refused: the caller's values stay */
	}
	s = unset_str;
	e = json_get_str(obj, name, 1, 1, 16, &s, NULL, msg);
	check_err(e);
	check_msg(msg);
	if (e == ERR_OK && (s == unset_str || s == NULL || strlen(s) < 1 || strlen(s) > 16))
		abort();

	i = 42;
	e = json_get_int(obj, name, 0, -1000, 1000, &i, msg);
	check_err(e);
	check_msg(msg);
	if (e == ERR_OK && (i < -1000 || i > 1000))
		abort();
	if (e != ERR_OK && i != 42)
		abort();
	i = 42;
	e = json_get_int(obj, name, 1, INT64_MIN, INT64_MAX, &i, msg);
	check_err(e);
	check_msg(msg);
	/* json-c clamps out-of-range numbers to the extremes: never accepted */
	if (e == ERR_OK && (i == INT64_MIN || i == INT64_MAX))
		abort();

	bv = 7;
	e = json_get_bool(obj, name, 0, &bv, msg);
	check_err(e);
	check_msg(msg);
	if (e == ERR_OK && bv != 7 && bv != 0 && bv != 1)
		abort();
	if (e != ERR_OK && bv != 7)
		abort();
	e = json_get_bool(obj, name, 1, &bv, msg);
	check_err(e);
	check_msg(msg);

	dec = NULL;
	len = SIZE_MAX;
	e = json_get_b64(obj, name, 0, 0, 1024, &dec, &len, msg);
	check_err(e);
	check_msg(msg);
	if (e == ERR_OK && dec != NULL) {
		if (len > 1024)
			abort();
		check_b64_canonical(obj, name, dec, len);
	} else if (dec != NULL || len != 0) {
		abort(); /* absent or refused: NULL and 0, nothing to free */
	}
	free(dec);
	dec = NULL;
	e = json_get_b64(obj, name, 1, 1, 32, &dec, &len, msg);
	check_err(e);
	check_msg(msg);
	if (e == ERR_OK && (dec == NULL || len < 1 || len > 32))
		abort();
	free(dec);
}

/* Property 2: the field table on the value and on its nested objects. */
static void run_fields(const struct json_object *obj)
{
	char msg[ERR_MSG_MAX];
	struct json_object *v = NULL;
	enum err e;
	size_t k, n;

	msg[0] = '\0';
	e = json_check_fields(obj, fields, NFIELDS, "body", msg);
	check_err(e);
	check_msg(msg);
	e = json_check_fields(obj, fields, 0, "body", msg);
	check_err(e);
	check_msg(msg);
	if (json_object_object_get_ex(obj, "obj", &v)) {
		e = json_check_fields(v, fields, NFIELDS, "body.obj", msg);
		check_err(e);
		check_msg(msg);
		for (k = 0; k < NNAMES; k++)
			run_getters(v, names[k]);
	}
	if (json_object_object_get_ex(obj, "list", &v) && json_object_is_type(v, json_type_array)) {
		n = json_object_array_length(v);
		for (k = 0; k < n && k < 8; k++) {
			e = json_check_fields(json_object_array_get_idx(v, k), fields, NFIELDS, "list[]", msg);
			check_err(e);
			check_msg(msg);
		}
	}
}

/* One top-level string: its bytes and, for an object member, its name. */
struct item {
	const char *key;  /* NULL for an array element */
	const char *s;    /* NULL for an integer */
	size_t n;
	int64_t i;
};

/* Collect the top-level members (strings with their bytes, others as an
 * integer, 0 unless a JSON integer) or array strings of obj into items[]. */
static size_t collect(struct json_object *obj, struct item *items)
{
	size_t n = 0, k, len;
	struct json_object *v;

	if (json_object_is_type(obj, json_type_object)) {
		json_object_object_foreach(obj, key, val) {
			if (n == FUZZ_JSON_MAX_ITEMS)
				break;
			items[n].key = key;
			items[n].s = NULL;
			items[n].n = 0;
			items[n].i = 0;
			if (json_object_is_type(val, json_type_string)) {
				items[n].s = json_object_get_string(val);
				items[n].n = (size_t)json_object_get_string_len(val);
			} else if (json_object_is_type(val, json_type_int)) {
				items[n].i = json_object_get_int64(val);
			}
			n++;
		}
	} else if (json_object_is_type(obj, json_type_array)) {
		len = json_object_array_length(obj);
		for (k = 0; k < len && n < FUZZ_JSON_MAX_ITEMS; k++) {
			v = json_object_array_get_idx(obj, k);
			if (!json_object_is_type(v, json_type_string))
				continue;
			items[n].key = NULL;
			items[n].s = json_object_get_string(v);
			items[n].n = (size_t)json_object_get_string_len(v);
			items[n].i = 0;
			n++;
		}
	} else if (json_object_is_type(obj, json_type_string)) {
		items[0].key = NULL;
		items[0].s = json_object_get_string(obj);
		items[0].n = (size_t)json_object_get_string_len(obj);
		items[0].i = 0;
		n = 1;
	}
	return n;
}

/* 1 if v is a string holding exactly s[0..n). */
static int same_string(struct json_object *v, const char *s, size_t n)
{
	return json_object_is_type(v, json_type_string) &&
	    (size_t)json_object_get_string_len(v) == n && memcmp(json_object_get_string(v), s, n) == 0;
}

/*
 * Property 4. Writes
 *   {"keys":[...],"vals":[...],"b64":[...],"ints":[...],"misc":[...],"obj":{k:v,...}}
 * and parses it back: keys[] and vals[] must hold the original bytes.
 */
static void run_writer(struct json_object *obj)
{
	struct item *items = NULL;
	struct json_object *back = NULL, *keys = NULL, *vals = NULL;
	struct buf b;
	struct jw w;
	char msg[ERR_MSG_MAX];
	size_t n, k, nk = 0, nv = 0;

	buf_init(&b, 0);
	if ((items = calloc(FUZZ_JSON_MAX_ITEMS, sizeof *items)) == NULL)
		goto out;
	n = collect(obj, items);

	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_key(&w, "keys");
	jw_arr_begin(&w);
	for (k = 0; k < n; k++)
		if (items[k].key != NULL)
			jw_str(&w, items[k].key);
	jw_arr_end(&w);
	jw_key(&w, "vals");
	jw_arr_begin(&w);
	for (k = 0; k < n; k++)
		if (items[k].s != NULL)
			jw_strn(&w, items[k].s, items[k].n);
	jw_arr_end(&w);
	jw_key(&w, "b64");
	jw_arr_begin(&w);
	for (k = 0; k < n; k++)
		if (items[k].s != NULL)
			jw_b64(&w, items[k].s, items[k].n);
	jw_arr_end(&w);
	jw_key(&w, "ints");
	jw_arr_begin(&w);
	for (k = 0; k < n; k++) {
		if (items[k].s != NULL)
			continue;
		jw_int(&w, items[k].i);
		jw_time(&w, items[k].i); /* any int64: json_time() clamps to years 0000..9999 */
	}
	jw_arr_end(&w);
	jw_key(&w, "misc");
	jw_arr_begin(&w);
	jw_bool(&w, 1);
	jw_bool(&w, 0);
	jw_null(&w);
	jw_int(&w, INT64_MIN);
	jw_int(&w, INT64_MAX);
	jw_raw(&w, "{}", 2);
	jw_arr_begin(&w);
	jw_arr_end(&w);
	jw_obj_begin(&w);
	jw_obj_end(&w);
	jw_time(&w, 0);
	jw_time(&w, INT64_MIN);
	jw_time(&w, INT64_MAX);
	jw_b64(&w, "", 0);
	jw_arr_end(&w);
	jw_key(&w, "obj");
	jw_obj_begin(&w);
	for (k = 0; k < n; k++) {
		if (items[k].key == NULL || items[k].s == NULL)
			continue;
		jw_key(&w, items[k].key);
		jw_strn(&w, items[k].s, items[k].n);
	}
	jw_obj_end(&w);
	jw_obj_end(&w);
	if (buf_error(&b) || w.depth != 0)
		abort();

	msg[0] = '\0';
	if (json_parse(b.p, b.len, &back, msg) != ERR_OK || back == NULL)
		abort();
	if (!json_object_object_get_ex(back, "keys", &keys) || !json_object_object_get_ex(back, "vals", &vals))
		abort();
	for (k = 0; k < n; k++) {
		if (items[k].key != NULL) {
			if (!same_string(json_object_array_get_idx(keys, nk), items[k].key, strlen(items[k].key)))
				abort();
			nk++;
		}
		if (items[k].s != NULL) {
			if (!same_string(json_object_array_get_idx(vals, nv), items[k].s, items[k].n))
				abort();
			nv++;
		}
	}
	if (json_object_array_length(keys) != nk || json_object_array_length(vals) != nv)
		abort();
out:
	json_object_put(back);
	free(items);
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *obj = (struct json_object *)1; /* must become NULL or a value */
	char msg[ERR_MSG_MAX];
	const char *text;
	size_t k, tlen;
	enum err e;

	if (size > FUZZ_JSON_MAX)
		return 0;
	msg[0] = '\0';
	e = json_parse((const char *)data, size, &obj, msg);
	check_err(e);
	check_msg(msg);
	if (e != ERR_OK) {
		if (obj != NULL)
			abort();
		return 0;
	}
	if (obj == NULL)
		abort();

	run_fields(obj);
	for (k = 0; k < NNAMES; k++)
		run_getters(obj, names[k]);

	text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
	tlen = text != NULL ? strlen(text) : 0;
	if (tlen == 0)
		abort(); /* a value always serialises to something */
	text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text == NULL)
		abort();

	run_writer(obj);
	json_object_put(obj);
	return 0;
}
